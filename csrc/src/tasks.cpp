#include "mbrlhpo/tasks.h"

#include "mbrlhpo/errors.h"

namespace mbrlhpo {
namespace {

template <typename Task>
TaskInfo MakeInfo(TaskId id, double bound, int steps, int trials, int frame_skip) {
  return TaskInfo{id, Task::kName, Task::kObsDim, Task::kActDim, bound, steps, trials, frame_skip};
}

}  // namespace

const std::vector<TaskInfo>& AllTasks() {
  static const std::vector<TaskInfo> kTasks = {
      MakeInfo<tasks::Cartpole>(TaskId::kCartpole, 3.0, 200, 15, 2),
      MakeInfo<tasks::Reacher>(TaskId::kReacher, 20.0, 150, 80, 2),
      MakeInfo<tasks::Pusher>(TaskId::kPusher, 2.0, 150, 80, 4),
      MakeInfo<tasks::Hopper>(TaskId::kHopper, 1.0, 1000, 300, 4),
      MakeInfo<tasks::HalfCheetah>(TaskId::kHalfCheetah, 1.0, 1000, 300, 5),
      MakeInfo<tasks::Hexapod>(TaskId::kHexapod, 1.0, 1000, 300, 4),
  };
  return kTasks;
}

const TaskInfo& GetTaskInfo(const std::string& name) {
  for (const TaskInfo& info : AllTasks()) {
    if (info.name == name) return info;
  }
  throw Error(internal::Concat("unknown task '", name,
                               "'; expected one of cartpole, reacher, pusher, hopper, "
                               "halfcheetah, hexapod"));
}

double TaskReward(TaskId id, const double* action, const double* next_obs) {
  return DispatchTask(id, [&](auto task) { return decltype(task)::Reward(action, next_obs); });
}

bool TaskTerminated(TaskId id, const double* next_obs) {
  return DispatchTask(id, [&](auto task) { return decltype(task)::Terminated(next_obs); });
}

}  // namespace mbrlhpo
