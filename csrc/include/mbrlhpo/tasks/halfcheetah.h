// Task "halfcheetah": dims, bounds, trial length, reward, termination and model input (host and
// device). Its reset and observation: csrc/src/task_envs/halfcheetah.cpp; its Python definition:
// src/mbrlhpo/envs/builtin/halfcheetah.py; listed by its MBRLHPO_BUILTIN_TASK line
// (docs/new_task.md).
#pragma once

#include "mbrlhpo/tasks/task_common.h"

namespace mbrlhpo::tasks {

struct HalfCheetah {
  static constexpr const char* kName = "halfcheetah";
  static constexpr int kObsDim = 18;
  static constexpr int kActDim = 6;
  static constexpr double kActionBound = 1.0;  // actions in [-bound, bound], every dim
  static constexpr int kFrameSkip = 5;         // physics steps per action
  static constexpr int kStepsPerTrial = 1000;  // actions per trial (episode)
  static constexpr int kDefaultTrials = 300;
  using AngleDims = Dims<2>;           // fed to the model as sin and cos
  using AbsoluteTargetDims = Dims<0>;  // predicted as values, not deltas
  static constexpr int kModelInputDim = kObsDim + AngleDims::kCount;

  // s'[0] - 0.1 |a|^2.
  template <typename T>
  MBRLHPO_HOST_DEVICE static T Reward(const T* action, const T* next_obs) {
    return next_obs[0] - T(0.1) * SumSquares(action, kActDim);
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static bool Terminated(const T* /*next_obs*/) {
    return false;
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static void ModelInput(const T* obs, T* out) {
    ModelInputWithAngles<HalfCheetah>(obs, out);
  }
};

MBRLHPO_BUILTIN_TASK(HalfCheetah)

}  // namespace mbrlhpo::tasks
