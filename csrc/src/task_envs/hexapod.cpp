// Hexapod's reset and observation (as reset/observe in src/mbrlhpo/envs/builtin/hexapod.py).
#include <algorithm>
#include <cmath>

#include "task_env.h"

namespace mbrlhpo {

TaskEnvContext TaskEnv<tasks::Hexapod>::Prepare(const mjModel*) { return {}; }

// The base (free joint, qpos 0..6) starts at qpos0; the 18 joints and all velocities move.
void TaskEnv<tasks::Hexapod>::Reset(const mjModel* m, mjData* d, ResetRng& rng) {
  for (int i = 7; i < m->nq; ++i) d->qpos[i] = m->qpos0[i] + rng.Uniform(-0.1, 0.1);
  for (int i = 0; i < m->nv; ++i) d->qvel[i] = rng.Uniform(-0.05, 0.05);
}

// [18 joint angles, forward velocity, base y, base z, roll, pitch, yaw (of the base quaternion)]
void TaskEnv<tasks::Hexapod>::Observe(const TaskEnvContext&, const mjModel*, mjData* d,
                                      double x_velocity, double* obs) {
  const double* qpos = d->qpos;
  std::copy(qpos + 7, qpos + 25, obs);
  const double w = qpos[3], x = qpos[4], y = qpos[5], z = qpos[6];
  obs[18] = x_velocity;
  obs[19] = qpos[1];
  obs[20] = qpos[2];
  obs[21] = std::atan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y));
  obs[22] = std::asin(std::max(-1.0, std::min(1.0, 2.0 * (w * y - z * x))));
  obs[23] = std::atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z));
}

}  // namespace mbrlhpo
