// Task "pusher": dims, bounds, trial length, reward, termination and model input (host and
// device). Its reset and observation: csrc/src/task_envs/pusher.cpp; its Python definition:
// src/mbrlhpo/envs/builtin/pusher.py; listed by its MBRLHPO_BUILTIN_TASK line
// (docs/new_task.md).
#pragma once

#include "mbrlhpo/tasks/task_common.h"

namespace mbrlhpo::tasks {

struct Pusher {
  static constexpr const char* kName = "pusher";
  static constexpr int kObsDim = 20;
  static constexpr int kActDim = 7;
  static constexpr double kActionBound = 2.0;  // actions in [-bound, bound], every dim
  static constexpr int kFrameSkip = 4;         // physics steps per action
  static constexpr int kStepsPerTrial = 150;   // actions per trial (episode)
  static constexpr int kDefaultTrials = 80;
  using AngleDims = Dims<>;           // fed to the model as sin and cos
  using AbsoluteTargetDims = Dims<>;  // predicted as values, not deltas
  static constexpr int kModelInputDim = kObsDim + AngleDims::kCount;

  static constexpr double kGoal[3] = {0.45, -0.05, -0.323};
  MBRLHPO_HOST_DEVICE static constexpr double Goal(int k) {
    constexpr double kG[] = {0.45, -0.05, -0.323};
    return kG[k];
  }

  // -(0.5 |tip - obj|_1 + 1.25 |goal - obj|_1 + 0.1 |a|^2); tip = s'[14:17], obj = s'[17:20].
  template <typename T>
  MBRLHPO_HOST_DEVICE static T Reward(const T* action, const T* next_obs) {
    T near = T(0);
    T dist = T(0);
    for (int k = 0; k < 3; ++k) {
      near += hd::Abs(next_obs[17 + k] - next_obs[14 + k]);
      dist += hd::Abs(next_obs[17 + k] - T(Goal(k)));
    }
    return -(T(0.5) * near + T(1.25) * dist + T(0.1) * SumSquares(action, kActDim));
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static bool Terminated(const T* /*next_obs*/) {
    return false;
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static void ModelInput(const T* obs, T* out) {
    ModelInputWithAngles<Pusher>(obs, out);
  }
};

MBRLHPO_BUILTIN_TASK(Pusher)

}  // namespace mbrlhpo::tasks
