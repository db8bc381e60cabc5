// The built-in tasks (the list: mbrlhpo/tasks/builtin.h): a runtime table (TaskInfo, looked up
// by name) and a compile-time dispatch to each task's struct (tasks/<name>.h), whose
// Reward/Terminated/ModelInput are host+device code. Both are derived from the list.
#pragma once

#include <string>
#include <vector>

#include "mbrlhpo/export.h"
#include "mbrlhpo/tasks/builtin.h"

namespace mbrlhpo {

#define MBRLHPO_TASK_ID(Type) k##Type,
enum class TaskId { MBRLHPO_BUILTIN_TASKS(MBRLHPO_TASK_ID) };
#undef MBRLHPO_TASK_ID
#define MBRLHPO_COUNT_TASK(Type) +1
inline constexpr int kNumBuiltinTasks = 0 MBRLHPO_BUILTIN_TASKS(MBRLHPO_COUNT_TASK);
#undef MBRLHPO_COUNT_TASK

struct TaskInfo {
  TaskId id;
  std::string name;
  int obs_dim;
  int act_dim;
  double action_bound;  // actions lie in [-action_bound, action_bound] in every dim
  int steps_per_trial;
  int default_trials;
  int frame_skip;
  std::vector<int> angle_dims;            // fed to the model as sin/cos
  std::vector<int> absolute_target_dims;  // predicted as absolute values (others as deltas)
  int model_input_dim;                    // obs_dim + number of angle dims
};

// All built-in tasks, in the order of the list (TaskId order).
MBRLHPO_API const std::vector<TaskInfo>& AllTasks();
// Throws mbrlhpo::Error listing the names when `name` is unknown.
MBRLHPO_API const TaskInfo& GetTaskInfo(const std::string& name);

// Calls fn(TaskStruct{}) with the struct of task `id`, e.g.
//   DispatchTask(id, [&](auto task) { using Task = decltype(task); ... });
template <typename Fn>
decltype(auto) DispatchTask(TaskId id, Fn&& fn) {
  switch (id) {
#define MBRLHPO_TASK_CASE(Type) \
  case TaskId::k##Type:         \
    return fn(tasks::Type{});
    MBRLHPO_BUILTIN_TASKS(MBRLHPO_TASK_CASE)
#undef MBRLHPO_TASK_CASE
  }
  // Not reached for a valid id; the first task keeps every path returning the same type.
  return fn(tasks::Cartpole{});
}

// Reward and termination of task `id` on one transition (double), for callers without templates.
MBRLHPO_API double TaskReward(TaskId id, const double* action, const double* next_obs);
MBRLHPO_API bool TaskTerminated(TaskId id, const double* next_obs);

}  // namespace mbrlhpo
