// Task "hexapod": dims, bounds, trial length, reward, termination and model input (host and
// device). Its reset and observation: csrc/src/task_envs/hexapod.cpp; its Python definition:
// src/mbrlhpo/envs/builtin/hexapod.py; listed by its MBRLHPO_BUILTIN_TASK line
// (docs/new_task.md).
#pragma once

#include "mbrlhpo/tasks/task_common.h"

namespace mbrlhpo::tasks {

struct Hexapod {
  static constexpr const char* kName = "hexapod";
  static constexpr int kObsDim = 24;
  static constexpr int kActDim = 18;
  static constexpr double kActionBound = 1.0;  // actions in [-bound, bound], every dim
  static constexpr int kFrameSkip = 4;         // physics steps per action
  static constexpr int kStepsPerTrial = 1000;  // actions per trial (episode)
  static constexpr int kDefaultTrials = 300;
  using AngleDims = Dims<21, 22, 23>;   // fed to the model as sin and cos
  using AbsoluteTargetDims = Dims<18>;  // predicted as values, not deltas
  static constexpr int kModelInputDim = kObsDim + AngleDims::kCount;

  // Forward (x) velocity s'[18].
  template <typename T>
  MBRLHPO_HOST_DEVICE static T Reward(const T* /*action*/, const T* next_obs) {
    return next_obs[18];
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static bool Terminated(const T* /*next_obs*/) {
    return false;
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static void ModelInput(const T* obs, T* out) {
    ModelInputWithAngles<Hexapod>(obs, out);
  }
};

MBRLHPO_BUILTIN_TASK(Hexapod)

}  // namespace mbrlhpo::tasks
