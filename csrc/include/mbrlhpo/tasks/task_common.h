// Helpers shared by the task headers (host and device).
#pragma once

#include "mbrlhpo/host_device.h"

// Marks the header it stands in as a built-in task (one line, after the task struct, at
// namespace scope). CMake finds these lines in csrc/include/mbrlhpo/tasks/*.h and generates the
// list of built-in tasks from them: <build>/csrc/include/mbrlhpo/tasks/builtin.h (from
// builtin.h.in beside this file; docs/new_task.md). Here it checks the struct's basics.
#define MBRLHPO_BUILTIN_TASK(Type)                                                  \
  static_assert(Type::kObsDim > 0 && Type::kActDim > 0 && Type::kStepsPerTrial > 0, \
                #Type ": expected positive dims and steps per trial");              \
  static_assert(Type::AngleDims::AllBelow(Type::kObsDim) &&                         \
                    Type::AbsoluteTargetDims::AllBelow(Type::kObsDim),              \
                #Type ": expected angle and absolute target dims in [0, kObsDim)");

namespace mbrlhpo::tasks {

// A set of obs dims, stated once as template arguments: a task's angle dims (`using AngleDims =
// Dims<2>;`) and absolute target dims (`Dims<>` for none). Everything is a constant expression
// callable from host and device code; there is no static member array, which CUDA device code
// cannot index at run time.
template <int... kDims>
struct Dims {
  static constexpr int kCount = sizeof...(kDims);
  // The j-th dim, 0 <= j < kCount.
  MBRLHPO_HOST_DEVICE static constexpr int At(int j) {
    constexpr int kList[] = {kDims..., -1};  // the -1 keeps an empty set's array non-empty
    return kList[j];
  }
  // Whether dim i is in the set (comparisons with constants: no array).
  MBRLHPO_HOST_DEVICE static constexpr bool Contains(int i) { return ((i == kDims) || ...); }
  // Whether every dim lies in [0, n).
  MBRLHPO_HOST_DEVICE static constexpr bool AllBelow(int n) {
    return ((kDims >= 0 && kDims < n) && ...);
  }
};

// Sum of squares of x[0..n).
template <typename T>
MBRLHPO_HOST_DEVICE inline T SumSquares(const T* x, int n) {
  T s = T(0);
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// out = [obs without Task's angle dims, sin(angle dims), cos(angle dims)]
// (width Task::kObsDim + Task::AngleDims::kCount), as TaskSpec.model_input in Python.
template <typename Task, typename T>
MBRLHPO_HOST_DEVICE inline void ModelInputWithAngles(const T* obs, T* out) {
  using Angles = typename Task::AngleDims;
  int k = 0;
  for (int i = 0; i < Task::kObsDim; ++i) {
    if (!Angles::Contains(i)) out[k++] = obs[i];
  }
  for (int j = 0; j < Angles::kCount; ++j) out[k++] = hd::Sin(obs[Angles::At(j)]);
  for (int j = 0; j < Angles::kCount; ++j) out[k++] = hd::Cos(obs[Angles::At(j)]);
}

}  // namespace mbrlhpo::tasks
