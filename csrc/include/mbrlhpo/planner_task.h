// What the CPU planner needs from a task, as a runtime table of plain C functions, built from a
// task struct (static constexpr dims, `AbsoluteTargetDims` (a tasks::Dims<...>) + templated
// static Reward/Terminated/ModelInput, see csrc/include/mbrlhpo/tasks/*.h) by
// MakePlannerTask<Task>(). The registry holds every task of
// the built-in list (mbrlhpo/tasks/builtin.h) and two analytic test tasks; a program (or
// mbrlhpo.Task in Python, through numba) adds its own at run time with RegisterPlannerTask
// (examples/custom_task_cpp).
//
// The pointers have a plain C ABI so that code compiled elsewhere (numba's cfuncs) can fill the
// table: floats in, float or int out. `terminated` returns an int (nonzero: terminal), not a
// bool, because a bool return's upper bits are not guaranteed across compilers.
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
  int (*terminated)(const float* next_obs) = nullptr;  // nonzero: terminal
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
  for (int i = 0; i < Task::kObsDim; ++i) {
    t.absolute_target[i] = Task::AbsoluteTargetDims::Contains(i) ? 1 : 0;
  }
  t.reward = [](const float* a, const float* s) { return Task::template Reward<float>(a, s); };
  t.terminated = [](const float* s) { return Task::template Terminated<float>(s) ? 1 : 0; };
  t.model_input = [](const float* s, float* out) { Task::template ModelInput<float>(s, out); };
  return t;
}

// The built-in or registered task called `name`; throws mbrlhpo::Error listing the names if
// unknown. The reference stays valid for the life of the process.
MBRLHPO_API const PlannerTask& FindPlannerTask(const std::string& name);
MBRLHPO_API std::vector<std::string> PlannerTaskNames();

// Adds `task` to the tasks FindPlannerTask knows, for the rest of the process (thread-safe).
// Registering the same definition again (same dims, absolute dims and functions) is a no-op;
// a name taken by a built-in or by a different registered task throws mbrlhpo::Error, as do
// an empty name, dims < 1, a model input narrower than the obs, an absolute_target of the wrong
// size and a null function. The functions must be callable from any thread, concurrently.
MBRLHPO_API void RegisterPlannerTask(const PlannerTask& task);

}  // namespace mbrlhpo
