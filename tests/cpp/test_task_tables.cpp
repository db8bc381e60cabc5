// Every C++ table of built-in tasks agrees with the one list (mbrlhpo/tasks/builtin.h): the
// TaskId enum and DispatchTask, AllTasks(), the planner's registry and the environments. The
// Python rows are checked against these by tests/envs/test_task_tables.py.
#include <string>
#include <vector>

#include "check.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/planner_task.h"
#include "mbrlhpo/tasks.h"
#include "mbrlhpo/vec_env.h"

namespace {

// The list itself, expanded here once more: what every table must hold, in this order.
struct Expected {
  mbrlhpo::TaskId id;
  std::string name;
  int obs_dim, act_dim, model_input_dim, num_angle_dims, num_absolute_dims;
  double bound;
  int steps, trials, frame_skip;
};

std::vector<Expected> FromList() {
  std::vector<Expected> out;
#define MBRLHPO_EXPECTED(Type)                                                                  \
  out.push_back({mbrlhpo::TaskId::k##Type, mbrlhpo::tasks::Type::kName,                         \
                 mbrlhpo::tasks::Type::kObsDim, mbrlhpo::tasks::Type::kActDim,                  \
                 mbrlhpo::tasks::Type::kModelInputDim, mbrlhpo::tasks::Type::AngleDims::kCount, \
                 mbrlhpo::tasks::Type::AbsoluteTargetDims::kCount,                              \
                 mbrlhpo::tasks::Type::kActionBound, mbrlhpo::tasks::Type::kStepsPerTrial,      \
                 mbrlhpo::tasks::Type::kDefaultTrials, mbrlhpo::tasks::Type::kFrameSkip});
  MBRLHPO_BUILTIN_TASKS(MBRLHPO_EXPECTED)
#undef MBRLHPO_EXPECTED
  return out;
}

std::string ModelFile(const std::string& task) {
  return std::string(MBRLHPO_SOURCE_DIR) + "/src/mbrlhpo/envs/assets/" + task + ".xml";
}

}  // namespace

TEST(AllTasksIsTheListInOrder) {
  const auto expected = FromList();
  const auto& all = mbrlhpo::AllTasks();
  CHECK(static_cast<int>(all.size()) == mbrlhpo::kNumBuiltinTasks);
  CHECK(all.size() == expected.size());
  for (size_t i = 0; i < all.size() && i < expected.size(); ++i) {
    const auto& t = all[i];
    const auto& e = expected[i];
    CHECK(static_cast<int>(t.id) == static_cast<int>(i));
    CHECK(t.id == e.id && t.name == e.name);
    CHECK(t.obs_dim == e.obs_dim && t.act_dim == e.act_dim);
    CHECK(t.model_input_dim == e.model_input_dim);
    CHECK(t.model_input_dim == t.obs_dim + static_cast<int>(t.angle_dims.size()));
    CHECK(static_cast<int>(t.angle_dims.size()) == e.num_angle_dims);
    CHECK(static_cast<int>(t.absolute_target_dims.size()) == e.num_absolute_dims);
    for (int d : t.angle_dims) CHECK(d >= 0 && d < t.obs_dim);
    for (int d : t.absolute_target_dims) CHECK(d >= 0 && d < t.obs_dim);
    CHECK(t.action_bound == e.bound && t.action_bound > 0.0);
    CHECK(t.steps_per_trial == e.steps && t.default_trials == e.trials);
    CHECK(t.frame_skip == e.frame_skip && t.frame_skip >= 1);
    CHECK(&mbrlhpo::GetTaskInfo(t.name) == &t);
  }
}

TEST(DispatchTaskReachesTheStructOfEachId) {
  for (const auto& t : mbrlhpo::AllTasks()) {
    const std::string name =
        mbrlhpo::DispatchTask(t.id, [](auto task) { return std::string(decltype(task)::kName); });
    CHECK(name == t.name);
  }
}

TEST(PlannerRegistryHasEveryTaskWithItsDims) {
  const auto names = mbrlhpo::PlannerTaskNames();
  for (const auto& t : mbrlhpo::AllTasks()) {
    const mbrlhpo::PlannerTask& p = mbrlhpo::FindPlannerTask(t.name);
    CHECK(p.name == t.name);
    CHECK(p.obs_dim == t.obs_dim && p.act_dim == t.act_dim);
    CHECK(p.model_input_dim == t.model_input_dim);
    std::vector<int> absolute;
    for (int i = 0; i < p.obs_dim; ++i) {
      if (p.absolute_target[i]) absolute.push_back(i);
    }
    CHECK(absolute == t.absolute_target_dims);
    CHECK(p.reward != nullptr && p.terminated != nullptr && p.model_input != nullptr);
  }
  // the list's tasks, nothing else (the planner's test tasks are registered by the tests)
  CHECK(static_cast<int>(names.size()) == mbrlhpo::kNumBuiltinTasks);
}

TEST(EnvironmentsHaveEveryTaskWithItsDims) {
  for (const auto& t : mbrlhpo::AllTasks()) {
    mbrlhpo::VecEnvConfig config;
    config.task = t.name;
    config.model_file = ModelFile(t.name);
    config.num_threads = 1;
    mbrlhpo::VecEnv env(config);
    CHECK(env.obs_dim() == t.obs_dim && env.act_dim() == t.act_dim);
    std::vector<double> obs(t.obs_dim, -12345.0);
    env.Reset(0, obs.data());
    for (double v : obs) CHECK(v != -12345.0);  // the observation fills every dim
  }
}

TEST(UnknownTaskNamesTheList) {
  std::string message;
  try {
    mbrlhpo::GetTaskInfo("walker");
  } catch (const mbrlhpo::Error& e) {
    message = e.what();
  }
  for (const auto& t : mbrlhpo::AllTasks()) CHECK(message.find(t.name) != std::string::npos);
}

int main() { return mbrlhpo_test::RunAll(); }
