// Cartpole's reset and observation (as reset/observe in src/mbrlhpo/envs/builtin/cartpole.py).
#include "task_env.h"

namespace mbrlhpo {

TaskEnvContext TaskEnv<tasks::Cartpole>::Prepare(const mjModel*) { return {}; }

void TaskEnv<tasks::Cartpole>::Reset(const mjModel* m, mjData* d, ResetRng& rng) {
  for (int i = 0; i < m->nq; ++i) d->qpos[i] = m->qpos0[i] + rng.Normal(0.1);
  for (int i = 0; i < m->nv; ++i) d->qvel[i] = rng.Normal(0.1);
}

// [x, theta, xdot, thetadot]
void TaskEnv<tasks::Cartpole>::Observe(const TaskEnvContext&, const mjModel*, mjData* d, double,
                                       double* obs) {
  obs[0] = d->qpos[0], obs[1] = d->qpos[1], obs[2] = d->qvel[0], obs[3] = d->qvel[1];
}

}  // namespace mbrlhpo
