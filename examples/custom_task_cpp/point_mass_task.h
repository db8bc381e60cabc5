// A task defined in C++ by a program that uses mbrlhpo as an installed package: the template to
// copy for your own. Copy this struct, rename it, set the dims and write Reward / Terminated /
// ModelInput; then one call makes it known to the planner (and to exported policy files that
// name it), with no change to mbrlhpo:
//
//   mbrlhpo::RegisterPlannerTask(mbrlhpo::MakePlannerTask<PointMass>(PointMass::kName));
//
// The members are what mbrlhpo's built-in tasks define (csrc/include/mbrlhpo/tasks/*.h):
//   kName                    the name FindPlannerTask and policy files use (not a built-in's)
//   kObsDim, kActDim         observation and action sizes (O, A)
//   kModelInputDim           width of ModelInput's output (O + number of angle dims, if any)
//   AbsoluteTargetDims       obs dims the model predicts as absolute values (others as deltas
//                            from the current obs): mbrlhpo::tasks::Dims<...>, Dims<> for none
//   Reward(action, next_obs)       the planner's reward of one step (float math, no allocation)
//   Terminated(next_obs)           true ends the rollout (its reward counts, none after it)
//   ModelInput(obs, out)           obs -> model input (e.g. angles as sin/cos, see
//                                  tasks::ModelInputWithAngles)
// The planner calls these from its worker threads, concurrently: keep them pure functions.
#pragma once

#include "mbrlhpo/tasks/task_common.h"  // tasks::Dims

namespace point_mass {

struct PointMass {
  static constexpr const char* kName = "point_mass";
  static constexpr int kObsDim = 2;  // [position, velocity]
  static constexpr int kActDim = 1;  // force, in [-1, 1]
  static constexpr int kModelInputDim = kObsDim;
  using AbsoluteTargetDims = mbrlhpo::tasks::Dims<>;  // position and velocity: both deltas
  static constexpr float kGoal = 1.0f;

  // Close to the goal, with little force: -(x - goal)^2 - 0.01 a^2.
  template <typename T>
  static T Reward(const T* action, const T* next_obs) {
    const T d = next_obs[0] - T(kGoal);
    return -d * d - T(0.01) * action[0] * action[0];
  }

  // Leaving the track ends the rollout.
  template <typename T>
  static bool Terminated(const T* next_obs) {
    return next_obs[0] < T(-5) || next_obs[0] > T(5);
  }

  template <typename T>
  static void ModelInput(const T* obs, T* out) {
    for (int i = 0; i < kObsDim; ++i) out[i] = obs[i];
  }
};

}  // namespace point_mass
