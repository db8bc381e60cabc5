// HalfCheetah's reset and observation (as reset/observe in
// src/mbrlhpo/envs/builtin/halfcheetah.py).
#include <algorithm>

#include "task_env.h"

namespace mbrlhpo {

TaskEnvContext TaskEnv<tasks::HalfCheetah>::Prepare(const mjModel*) { return {}; }

void TaskEnv<tasks::HalfCheetah>::Reset(const mjModel* m, mjData* d, ResetRng& rng) {
  for (int i = 0; i < m->nq; ++i) d->qpos[i] = m->qpos0[i] + rng.Uniform(-0.1, 0.1);
  for (int i = 0; i < m->nv; ++i) d->qvel[i] = rng.Normal(0.1);
}

// [x velocity, qpos[1:] (8), qvel (9)]
void TaskEnv<tasks::HalfCheetah>::Observe(const TaskEnvContext&, const mjModel* m, mjData* d,
                                          double x_velocity, double* obs) {
  obs[0] = x_velocity;
  std::copy(d->qpos + 1, d->qpos + m->nq, obs + 1);
  std::copy(d->qvel, d->qvel + m->nv, obs + m->nq);
}

}  // namespace mbrlhpo
