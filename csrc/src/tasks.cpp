#include "mbrlhpo/tasks.h"

#include "mbrlhpo/errors.h"

namespace mbrlhpo {
namespace {

template <typename Task>
TaskInfo MakeInfo(TaskId id) {
  TaskInfo info{id,
                Task::kName,
                Task::kObsDim,
                Task::kActDim,
                Task::kActionBound,
                Task::kStepsPerTrial,
                Task::kDefaultTrials,
                Task::kFrameSkip,
                {},
                {},
                Task::kModelInputDim};
  for (int j = 0; j < Task::AngleDims::kCount; ++j) {
    info.angle_dims.push_back(Task::AngleDims::At(j));
  }
  for (int j = 0; j < Task::AbsoluteTargetDims::kCount; ++j) {
    info.absolute_target_dims.push_back(Task::AbsoluteTargetDims::At(j));
  }
  return info;
}

}  // namespace

const std::vector<TaskInfo>& AllTasks() {
#define MBRLHPO_TASK_INFO(Type) MakeInfo<tasks::Type>(TaskId::k##Type),
  static const std::vector<TaskInfo> kTasks = {MBRLHPO_BUILTIN_TASKS(MBRLHPO_TASK_INFO)};
#undef MBRLHPO_TASK_INFO
  return kTasks;
}

const TaskInfo& GetTaskInfo(const std::string& name) {
  std::string names;
  for (const TaskInfo& info : AllTasks()) {
    if (info.name == name) return info;
    names += (names.empty() ? "" : ", ") + info.name;
  }
  throw Error(internal::Concat("unknown task '", name, "'; expected one of ", names));
}

double TaskReward(TaskId id, const double* action, const double* next_obs) {
  return DispatchTask(id, [&](auto task) { return decltype(task)::Reward(action, next_obs); });
}

bool TaskTerminated(TaskId id, const double* next_obs) {
  return DispatchTask(id, [&](auto task) { return decltype(task)::Terminated(next_obs); });
}

}  // namespace mbrlhpo
