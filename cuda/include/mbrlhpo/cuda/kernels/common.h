// Pieces shared by the kernel bodies: the task structs by TaskId, compile-time task facts that
// device code can read, and where a block's member is.
#pragma once

#include <cstdint>

#include "mbrlhpo/cuda/plan_args.h"
#include "mbrlhpo/host_device.h"
#include "mbrlhpo/tasks/builtin.h"
#include "planner_test_tasks.h"  // csrc/src (internal include path)

// Full unrolling where nvcc compiles the body (compile-time indices keep small arrays in
// registers: no local memory); nothing on the host.
// MBRLHPO_UNROLL_4: unrolled by four (a run-time trip count).
#if defined(__CUDACC__)
#define MBRLHPO_UNROLL _Pragma("unroll")
#define MBRLHPO_UNROLL_4 _Pragma("unroll 4")
#else
#define MBRLHPO_UNROLL
#define MBRLHPO_UNROLL_4
#endif

namespace mbrlhpo::cuda {

// Calls fn(TaskStruct{}) for task id `task` (host side: picks the kernel instantiation).
// Returns false for an unknown id.
template <class Fn>
bool WithTask(int32_t task, Fn&& fn) {
  switch (static_cast<TaskId>(task)) {
#define MBRLHPO_TASK_CASE(Type) \
  case TaskId::k##Type:         \
    fn(tasks::Type{});          \
    return true;
    MBRLHPO_BUILTIN_TASKS(MBRLHPO_TASK_CASE)
#undef MBRLHPO_TASK_CASE
    case TaskId::kTestLinear:
      fn(tasks::TestLinear{});
      return true;
    case TaskId::kTestPendulum:
      fn(tasks::TestPendulum{});
      return true;
  }
  return false;
}

// Whether dim `o` is predicted as an absolute value (comparisons with the task's constants).
template <class Task>
MBRLHPO_HOST_DEVICE inline bool IsAbsoluteTarget(int o) {
  return Task::AbsoluteTargetDims::Contains(o);
}

// a rounded up to a multiple of b.
MBRLHPO_HOST_DEVICE constexpr int RoundUp(int a, int b) { return (a + b - 1) / b * b; }

// The widest layer (input, hidden or output) of member m.
MBRLHPO_HOST_DEVICE inline int MaxLayerWidth(const MemberArgs& m) {
  int w = 0;
  for (int l = 0; l <= m.num_layers && l <= kMaxLayers; ++l) {
    w = m.layer_sizes[l] > w ? m.layer_sizes[l] : w;
  }
  return w;
}

// Rows of one ensemble model: population x (particles / E) (TS-inf: row i is candidate i / per,
// particle j = i % per of model e, global particle e * per + j).
MBRLHPO_HOST_DEVICE inline int RowsPerModel(const MemberArgs& m) {
  return m.population * (m.particles / m.ensemble_size);
}

}  // namespace mbrlhpo::cuda
