// Helpers shared by the task headers (host and device).
#pragma once

#include "mbrlhpo/host_device.h"

// Marks the header it stands in as a built-in task (one line, after the task struct, at
// namespace scope). CMake finds these lines in csrc/include/mbrlhpo/tasks/*.h and generates the
// list of built-in tasks from them: <build>/csrc/include/mbrlhpo/tasks/builtin.h (from
// builtin.h.in beside this file; docs/new_task.md). Here it checks the struct's basics.
#define MBRLHPO_BUILTIN_TASK(Type)                                                  \
  static_assert(Type::kObsDim > 0 && Type::kActDim > 0 && Type::kStepsPerTrial > 0, \
                #Type ": expected positive dims and steps per trial");

namespace mbrlhpo::tasks {

// Sum of squares of x[0..n).
template <typename T>
MBRLHPO_HOST_DEVICE inline T SumSquares(const T* x, int n) {
  T s = T(0);
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// out = [obs without Task's angle dims, sin(angle dims), cos(angle dims)]
// (width Task::kObsDim + Task::kNumAngleDims), as TaskSpec.model_input in Python.
template <typename Task, typename T>
MBRLHPO_HOST_DEVICE inline void ModelInputWithAngles(const T* obs, T* out) {
  int k = 0;
  for (int i = 0; i < Task::kObsDim; ++i) {
    bool is_angle = false;
    for (int j = 0; j < Task::kNumAngleDims; ++j) is_angle |= (Task::AngleDim(j) == i);
    if (!is_angle) out[k++] = obs[i];
  }
  for (int j = 0; j < Task::kNumAngleDims; ++j) out[k++] = hd::Sin(obs[Task::AngleDim(j)]);
  for (int j = 0; j < Task::kNumAngleDims; ++j) out[k++] = hd::Cos(obs[Task::AngleDim(j)]);
}

}  // namespace mbrlhpo::tasks
