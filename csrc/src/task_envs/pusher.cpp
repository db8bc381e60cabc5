// Pusher's reset and observation (as reset/observe in src/mbrlhpo/envs/builtin/pusher.py).
#include <algorithm>

#include "mbrlhpo/errors.h"
#include "task_env.h"

namespace mbrlhpo {
namespace {
constexpr int kTips = 0, kObject = 1;  // TaskEnvContext::body slots
}  // namespace

TaskEnvContext TaskEnv<tasks::Pusher>::Prepare(const mjModel* m) {
  TaskEnvContext ctx;
  ctx.body[kTips] = mj_name2id(m, mjOBJ_BODY, "tips_arm");
  ctx.body[kObject] = mj_name2id(m, mjOBJ_BODY, "object");
  MBRLHPO_CHECK(ctx.body[kTips] >= 0 && ctx.body[kObject] >= 0,
                "pusher model needs bodies 'tips_arm' and 'object'");
  return ctx;
}

// The object (qpos 7, 8) starts near (-0.25, 0.15); the arm at qpos0 with a small velocity.
void TaskEnv<tasks::Pusher>::Reset(const mjModel*, mjData* d, ResetRng& rng) {
  d->qpos[7] = -0.25 + rng.Normal(0.025);
  d->qpos[8] = 0.15 + rng.Normal(0.025);
  for (int i = 0; i < 7; ++i) d->qvel[i] = rng.Uniform(-0.005, 0.005);
}

// [7 qpos, 7 qvel, fingertip xyz, object xyz]; the body positions of the current qpos.
void TaskEnv<tasks::Pusher>::Observe(const TaskEnvContext& ctx, const mjModel* m, mjData* d, double,
                                     double* obs) {
  mj_kinematics(m, d);
  std::copy(d->qpos, d->qpos + 7, obs);
  std::copy(d->qvel, d->qvel + 7, obs + 7);
  const double* tips = d->xipos + 3 * ctx.body[kTips];
  const double* object = d->xipos + 3 * ctx.body[kObject];
  std::copy(tips, tips + 3, obs + 14);
  std::copy(object, object + 3, obs + 17);
}

}  // namespace mbrlhpo
