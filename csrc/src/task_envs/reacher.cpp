// Reacher's reset and observation (as reset/observe in src/mbrlhpo/envs/builtin/reacher.py).
#include <algorithm>

#include "task_env.h"

namespace mbrlhpo {

TaskEnvContext TaskEnv<tasks::Reacher>::Prepare(const mjModel*) { return {}; }

// The goal (qpos 7..9) moves; the arm starts at qpos0.
void TaskEnv<tasks::Reacher>::Reset(const mjModel* m, mjData* d, ResetRng& rng) {
  for (int i = 7; i < 10; ++i) d->qpos[i] = m->qpos0[i] + rng.Normal(0.1);
}

// [7 arm qpos, goal xyz, 7 arm qvel]
void TaskEnv<tasks::Reacher>::Observe(const TaskEnvContext&, const mjModel*, mjData* d, double,
                                      double* obs) {
  std::copy(d->qpos, d->qpos + 10, obs);
  std::copy(d->qvel, d->qvel + 7, obs + 10);
}

}  // namespace mbrlhpo
