// Two small analytic tasks registered with the planner for native-vs-reference tests
// (tests/helpers/toy_tasks.py mirrors them): obs 2, action 1 (bounds come from the caller).
//   test_linear:   r = -sum (s' - 1)^2 - 0.01 a^2, terminated when s'[1] > 1.5, delta targets.
//   test_pendulum: obs [theta, thetadot], r = -cos(s'[0]) - 0.01 a^2, model input
//                  [thetadot, sin theta, cos theta], thetadot predicted as an absolute value.
// Test-only, so not installed and not in the production registry: the tests register them
// (register_planner_test_tasks.h: the C++ tests, and mbrlhpo._core_testing at import); the CUDA
// kernels (kernels/common.h, built with this folder on their include path) dispatch on them.
#pragma once

#include "mbrlhpo/host_device.h"
#include "mbrlhpo/tasks/task_common.h"

namespace mbrlhpo::tasks {

struct TestLinear {
  static constexpr int kObsDim = 2;
  static constexpr int kActDim = 1;
  using AngleDims = Dims<>;
  using AbsoluteTargetDims = Dims<>;
  static constexpr int kModelInputDim = 2;
  template <typename T>
  MBRLHPO_HOST_DEVICE static T Reward(const T* a, const T* s) {
    return -((s[0] - T(1)) * (s[0] - T(1)) + (s[1] - T(1)) * (s[1] - T(1))) - T(0.01) * a[0] * a[0];
  }
  template <typename T>
  MBRLHPO_HOST_DEVICE static bool Terminated(const T* s) {
    return s[1] > T(1.5);
  }
  template <typename T>
  MBRLHPO_HOST_DEVICE static void ModelInput(const T* s, T* out) {
    out[0] = s[0];
    out[1] = s[1];
  }
};

struct TestPendulum {
  static constexpr int kObsDim = 2;
  static constexpr int kActDim = 1;
  using AngleDims = Dims<0>;
  using AbsoluteTargetDims = Dims<1>;
  static constexpr int kModelInputDim = 3;
  template <typename T>
  MBRLHPO_HOST_DEVICE static T Reward(const T* a, const T* s) {
    return -hd::Cos(s[0]) - T(0.01) * a[0] * a[0];
  }
  template <typename T>
  MBRLHPO_HOST_DEVICE static bool Terminated(const T*) {
    return false;
  }
  template <typename T>
  MBRLHPO_HOST_DEVICE static void ModelInput(const T* s, T* out) {
    out[0] = s[1];
    out[1] = hd::Sin(s[0]);
    out[2] = hd::Cos(s[0]);
  }
};

}  // namespace mbrlhpo::tasks
