// The six tasks: a runtime table (TaskInfo, looked up by name) and a compile-time dispatch to
// each task's struct (tasks/<name>.h), whose Reward/Terminated/ModelInput are host+device code.
#pragma once

#include <string>
#include <vector>

#include "mbrlhpo/export.h"
#include "mbrlhpo/tasks/cartpole.h"
#include "mbrlhpo/tasks/halfcheetah.h"
#include "mbrlhpo/tasks/hexapod.h"
#include "mbrlhpo/tasks/hopper.h"
#include "mbrlhpo/tasks/pusher.h"
#include "mbrlhpo/tasks/reacher.h"

namespace mbrlhpo {

enum class TaskId { kCartpole, kReacher, kPusher, kHopper, kHalfCheetah, kHexapod };

struct TaskInfo {
  TaskId id;
  std::string name;
  int obs_dim;
  int act_dim;
  double action_bound;  // actions lie in [-action_bound, action_bound] in every dim
  int steps_per_trial;
  int default_trials;
  int frame_skip;
};

// All tasks, in the order cartpole, reacher, pusher, hopper, halfcheetah, hexapod.
MBRLHPO_API const std::vector<TaskInfo>& AllTasks();
// Throws mbrlhpo::Error listing the names when `name` is unknown.
MBRLHPO_API const TaskInfo& GetTaskInfo(const std::string& name);

// Calls fn(TaskStruct{}) with the struct of task `id`, e.g.
//   DispatchTask(id, [&](auto task) { using Task = decltype(task); ... });
template <typename Fn>
decltype(auto) DispatchTask(TaskId id, Fn&& fn) {
  switch (id) {
    case TaskId::kCartpole:
      return fn(tasks::Cartpole{});
    case TaskId::kReacher:
      return fn(tasks::Reacher{});
    case TaskId::kPusher:
      return fn(tasks::Pusher{});
    case TaskId::kHopper:
      return fn(tasks::Hopper{});
    case TaskId::kHalfCheetah:
      return fn(tasks::HalfCheetah{});
    case TaskId::kHexapod:
      break;
  }
  return fn(tasks::Hexapod{});
}

// Reward and termination of task `id` on one transition (double), for callers without templates.
MBRLHPO_API double TaskReward(TaskId id, const double* action, const double* next_obs);
MBRLHPO_API bool TaskTerminated(TaskId id, const double* next_obs);

}  // namespace mbrlhpo
