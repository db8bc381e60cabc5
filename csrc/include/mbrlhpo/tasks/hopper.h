// Task "hopper": dims, bounds, trial length, reward, termination and model input (host and
// device). Its reset and observation: csrc/src/task_envs/hopper.cpp; its Python definition:
// src/mbrlhpo/envs/builtin/hopper.py; listed by its MBRLHPO_BUILTIN_TASK line
// (docs/new_task.md).
#pragma once

#include "mbrlhpo/tasks/task_common.h"

namespace mbrlhpo::tasks {

struct Hopper {
  static constexpr const char* kName = "hopper";
  static constexpr int kObsDim = 12;
  static constexpr int kActDim = 3;
  static constexpr double kActionBound = 1.0;  // actions in [-bound, bound], every dim
  static constexpr int kFrameSkip = 4;         // physics steps per action
  static constexpr int kStepsPerTrial = 1000;  // actions per trial (episode)
  static constexpr int kDefaultTrials = 300;
  using AngleDims = Dims<>;            // fed to the model as sin and cos
  using AbsoluteTargetDims = Dims<0>;  // predicted as values, not deltas
  static constexpr int kModelInputDim = kObsDim + AngleDims::kCount;

  // s'[0] - 1e-3 |a|^2 (the paper's env-only alive bonus is not part of it).
  template <typename T>
  MBRLHPO_HOST_DEVICE static T Reward(const T* action, const T* next_obs) {
    return next_obs[0] - T(1e-3) * SumSquares(action, kActDim);
  }

  // 1 while healthy (|s[2:]| < 100, height s[1] > 0.7, |s[2]| < 0.2), else 0.
  template <typename T>
  MBRLHPO_HOST_DEVICE static T AliveBonus(const T* next_obs) {
    bool healthy = next_obs[1] > T(0.7) && hd::Abs(next_obs[2]) < T(0.2);
    for (int i = 2; i < kObsDim; ++i) healthy = healthy && hd::Abs(next_obs[i]) < T(100);
    return healthy ? T(1) : T(0);
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static bool Terminated(const T* /*next_obs*/) {
    return false;
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static void ModelInput(const T* obs, T* out) {
    ModelInputWithAngles<Hopper>(obs, out);
  }
};

MBRLHPO_BUILTIN_TASK(Hopper)

}  // namespace mbrlhpo::tasks
