// Task "cartpole": dims, bounds, trial length, reward, termination and model input (host and
// device). Its reset and observation: csrc/src/task_envs/cartpole.cpp; its Python definition:
// src/mbrlhpo/envs/builtin/cartpole.py; listed by its MBRLHPO_BUILTIN_TASK line
// (docs/new_task.md).
#pragma once

#include "mbrlhpo/tasks/task_common.h"

namespace mbrlhpo::tasks {

struct Cartpole {
  static constexpr const char* kName = "cartpole";
  static constexpr int kObsDim = 4;
  static constexpr int kActDim = 1;
  static constexpr double kActionBound = 3.0;  // actions in [-bound, bound], every dim
  static constexpr int kFrameSkip = 2;         // physics steps per action
  static constexpr int kStepsPerTrial = 200;   // actions per trial (episode)
  static constexpr int kDefaultTrials = 15;
  using AngleDims = Dims<1>;          // fed to the model as sin and cos
  using AbsoluteTargetDims = Dims<>;  // predicted as values, not deltas
  static constexpr int kModelInputDim = kObsDim + AngleDims::kCount;

  static constexpr double kPoleLength = 0.6;

  // exp(-|ee - (0, l)|^2 / l^2) - 0.01 a^2, ee = (x - l sin theta, -l cos theta).
  template <typename T>
  MBRLHPO_HOST_DEVICE static T Reward(const T* action, const T* next_obs) {
    const T l = T(kPoleLength);
    const T ee_x = next_obs[0] - l * hd::Sin(next_obs[1]);
    const T ee_y = -l * hd::Cos(next_obs[1]);
    const T dist2 = ee_x * ee_x + (ee_y - l) * (ee_y - l);
    return hd::Exp(-dist2 / (l * l)) - T(0.01) * SumSquares(action, kActDim);
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static bool Terminated(const T* /*next_obs*/) {
    return false;
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static void ModelInput(const T* obs, T* out) {
    ModelInputWithAngles<Cartpole>(obs, out);
  }
};

MBRLHPO_BUILTIN_TASK(Cartpole)

}  // namespace mbrlhpo::tasks
