// The host-only half of a built-in task: how the environments reset its MuJoCo model and read an
// observation from it. Declared here for every task of the list (mbrlhpo/tasks/builtin.h); each
// task defines the three functions in csrc/src/task_envs/<name>.cpp. Not installed: MuJoCo types.
#pragma once

#include <mujoco/mujoco.h>

#include "mbrlhpo/tasks.h"
#include "reset_rng.h"

namespace mbrlhpo {

// What Observe needs from the model, looked up once by Prepare (ids of bodies, -1: unused).
struct TaskEnvContext {
  int body[4] = {-1, -1, -1, -1};
};

template <typename Task>
struct TaskEnv;

// Prepare(m): checks that model m suits the task (throws mbrlhpo::Error saying what is missing)
//   and returns what Observe needs.
// Reset(m, d, rng): draws the initial state into d (after mj_resetData; mj_forward follows).
// Observe(ctx, m, d, x_velocity, obs): writes the observation (Task::kObsDim). Called after
//   Reset and SetState (both end in mj_forward) and after the frame_skip mj_step calls of a step,
//   which leave derived quantities (xipos, ...) at the state before the last step: a task that
//   reads them refreshes them first (pusher: mj_kinematics). x_velocity: (qpos[0] after - before)
//   / dt over the step, qvel[0] after a reset.
#define MBRLHPO_DECLARE_TASK_ENV(Type)                                                             \
  template <>                                                                                      \
  struct TaskEnv<tasks::Type> {                                                                    \
    static TaskEnvContext Prepare(const mjModel* m);                                               \
    static void Reset(const mjModel* m, mjData* d, ResetRng& rng);                                 \
    static void Observe(const TaskEnvContext& ctx, const mjModel* m, mjData* d, double x_velocity, \
                        double* obs);                                                              \
  };
MBRLHPO_BUILTIN_TASKS(MBRLHPO_DECLARE_TASK_ENV)
#undef MBRLHPO_DECLARE_TASK_ENV

}  // namespace mbrlhpo
