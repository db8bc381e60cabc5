// Hopper's reset and observation (as reset/observe in src/mbrlhpo/envs/builtin/hopper.py).
#include <algorithm>

#include "task_env.h"

namespace mbrlhpo {

TaskEnvContext TaskEnv<tasks::Hopper>::Prepare(const mjModel*) { return {}; }

void TaskEnv<tasks::Hopper>::Reset(const mjModel* m, mjData* d, ResetRng& rng) {
  for (int i = 0; i < m->nq; ++i) d->qpos[i] = m->qpos0[i] + rng.Uniform(-0.005, 0.005);
  for (int i = 0; i < m->nv; ++i) d->qvel[i] = rng.Uniform(-0.005, 0.005);
}

// [x velocity, qpos[1:] (5), clip(qvel, +-10) (6)]
void TaskEnv<tasks::Hopper>::Observe(const TaskEnvContext&, const mjModel* m, mjData* d,
                                     double x_velocity, double* obs) {
  obs[0] = x_velocity;
  std::copy(d->qpos + 1, d->qpos + m->nq, obs + 1);
  for (int i = 0; i < m->nv; ++i) obs[m->nq + i] = std::min(std::max(d->qvel[i], -10.0), 10.0);
}

}  // namespace mbrlhpo
