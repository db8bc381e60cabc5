// Task "reacher": dims, bounds, trial length, reward, termination and model input (host and
// device). Its reset and observation: csrc/src/task_envs/reacher.cpp; its Python definition:
// src/mbrlhpo/envs/builtin/reacher.py; listed by its MBRLHPO_BUILTIN_TASK line
// (docs/new_task.md).
#pragma once

#include "mbrlhpo/tasks/task_common.h"

namespace mbrlhpo::tasks {

struct Reacher {
  static constexpr const char* kName = "reacher";
  static constexpr int kObsDim = 17;
  static constexpr int kActDim = 7;
  static constexpr double kActionBound = 20.0;  // actions in [-bound, bound], every dim
  static constexpr int kFrameSkip = 2;          // physics steps per action
  static constexpr int kStepsPerTrial = 150;    // actions per trial (episode)
  static constexpr int kDefaultTrials = 80;
  using AngleDims = Dims<>;           // fed to the model as sin and cos
  using AbsoluteTargetDims = Dims<>;  // predicted as values, not deltas
  static constexpr int kModelInputDim = kObsDim + AngleDims::kCount;

  // End effector by forward kinematics of joints q[0..6] (axes z y x y x y x); the shoulder
  // is at (0, -0.188, 0), link offsets along local x: 0.1, 0.4, 0.321, 0.16828.
  template <typename T>
  MBRLHPO_HOST_DEVICE static void EndEffector(const T* q, T* ee) {
    T r[3][3] = {{T(1), T(0), T(0)}, {T(0), T(1), T(0)}, {T(0), T(0), T(1)}};
    T p[3] = {T(0), T(-0.188), T(0)};
    const char axes[6] = {2, 1, 0, 1, 0, 1};  // z y x y x y
    const T links[4] = {T(0.1), T(0.4), T(0.321), T(0.16828)};
    const int link_after[6] = {0, -1, 1, -1, 2, 3};  // add link l after joint j (-1: none)
    for (int j = 0; j < 6; ++j) {
      const T c = hd::Cos(q[j]);
      const T s = hd::Sin(q[j]);
      T g[3][3];
      if (axes[j] == 0) {
        const T gx[3][3] = {{T(1), T(0), T(0)}, {T(0), c, -s}, {T(0), s, c}};
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) g[a][b] = gx[a][b];
      } else if (axes[j] == 1) {
        const T gy[3][3] = {{c, T(0), s}, {T(0), T(1), T(0)}, {-s, T(0), c}};
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) g[a][b] = gy[a][b];
      } else {
        const T gz[3][3] = {{c, -s, T(0)}, {s, c, T(0)}, {T(0), T(0), T(1)}};
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) g[a][b] = gz[a][b];
      }
      T n[3][3];
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
          n[a][b] = r[a][0] * g[0][b] + r[a][1] * g[1][b] + r[a][2] * g[2][b];
        }
      }
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) r[a][b] = n[a][b];
      if (link_after[j] >= 0) {
        for (int a = 0; a < 3; ++a) p[a] += r[a][0] * links[link_after[j]];
      }
    }
    for (int a = 0; a < 3; ++a) ee[a] = p[a];
  }

  // -|EE(s'[0:7]) - goal s'[7:10]|^2 - 0.01 |a|^2.
  template <typename T>
  MBRLHPO_HOST_DEVICE static T Reward(const T* action, const T* next_obs) {
    T ee[3];
    EndEffector(next_obs, ee);
    T d2 = T(0);
    for (int k = 0; k < 3; ++k) d2 += (ee[k] - next_obs[7 + k]) * (ee[k] - next_obs[7 + k]);
    return -d2 - T(0.01) * SumSquares(action, kActDim);
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static bool Terminated(const T* /*next_obs*/) {
    return false;
  }

  template <typename T>
  MBRLHPO_HOST_DEVICE static void ModelInput(const T* obs, T* out) {
    ModelInputWithAngles<Reacher>(obs, out);
  }
};

MBRLHPO_BUILTIN_TASK(Reacher)

}  // namespace mbrlhpo::tasks
