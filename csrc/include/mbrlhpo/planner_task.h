// What the CPU planner needs from a task, as a runtime table of plain functions, built from a
// task struct (static constexpr dims + templated static Reward/Terminated/ModelInput, see
// csrc/include/mbrlhpo/tasks/*.h) by MakePlannerTask<Task>(). The registry holds every task of
// the built-in list (mbrlhpo/tasks/builtin.h) and two analytic test tasks.
#pragma once

#include <string>
#include <vector>

#include "mbrlhpo/export.h"

namespace mbrlhpo {

struct PlannerTask {
  std::string name;
  int obs_dim = 0;
  int act_dim = 0;
  int model_input_dim = 0;            // obs_dim + number of angle dims
  std::vector<char> absolute_target;  // (obs_dim): 1 = predicted as an absolute value
  float (*reward)(const float* action, const float* next_obs) = nullptr;
  bool (*terminated)(const float* next_obs) = nullptr;
  void (*model_input)(const float* obs, float* out) = nullptr;
};

template <typename Task>
PlannerTask MakePlannerTask(const std::string& name) {
  PlannerTask t;
  t.name = name;
  t.obs_dim = Task::kObsDim;
  t.act_dim = Task::kActDim;
  t.model_input_dim = Task::kModelInputDim;
  t.absolute_target.assign(Task::kObsDim, 0);
  for (int i = 0; i < Task::kNumAbsoluteTargetDims; ++i) {
    t.absolute_target[Task::kAbsoluteTargetDims[i]] = 1;
  }
  t.reward = [](const float* a, const float* s) { return Task::template Reward<float>(a, s); };
  t.terminated = [](const float* s) { return Task::template Terminated<float>(s); };
  t.model_input = [](const float* s, float* out) { Task::template ModelInput<float>(s, out); };
  return t;
}

// The registered task called `name`; throws mbrlhpo::Error listing the names if unknown.
MBRLHPO_API const PlannerTask& FindPlannerTask(const std::string& name);
MBRLHPO_API std::vector<std::string> PlannerTaskNames();

}  // namespace mbrlhpo
