#include "mbrlhpo/vec_env.h"

#include <mujoco/mjbatch.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "mbrlhpo/errors.h"
#include "mujoco_model.h"
#include "reset_rng.h"
#include "task_env.h"
#include "thread_pool.h"

namespace mbrlhpo {
namespace {

constexpr int kDivergenceWarnings[3] = {mjWARN_BADQACC, mjWARN_BADQPOS, mjWARN_BADQVEL};

int DivergenceWarnings(const mjData* d) {
  int n = 0;
  for (int w : kDivergenceWarnings) n += d->warning[w].number;
  return n;
}

struct BatchDeleter {
  void operator()(mjBatch* b) const { mjb_deleteBatch(b); }
};

// The host-only functions of one task (task_env.h), chosen once per VecEnv.
struct TaskEnvFns {
  TaskEnvContext (*prepare)(const mjModel*);
  void (*reset)(const mjModel*, mjData*, ResetRng&);
  void (*observe)(const TaskEnvContext&, const mjModel*, mjData*, double, double*);
};

TaskEnvFns TaskEnvFnsOf(TaskId id) {
  return DispatchTask(id, [](auto task) {
    using Env = TaskEnv<decltype(task)>;
    return TaskEnvFns{&Env::Prepare, &Env::Reset, &Env::Observe};
  });
}

}  // namespace

struct VecEnv::Impl {
  TaskInfo info;
  TaskEnvFns fns{};
  TaskEnvContext ctx;
  MjModelPtr model;
  std::unique_ptr<mjBatch, BatchDeleter> batch;
  int num_envs = 0;
  int max_episode_steps = 0;
  uint64_t seed = 0;
  double dt = 0.0;
  float action_low = 0.0f, action_high = 0.0f;
  std::vector<uint64_t> episode;  // next episode index per env
  std::vector<int> elapsed;       // steps in the current episode
  std::vector<uint8_t> done;      // the last step ended the episode
  std::vector<double> last_obs;   // N x O

  // Arguments of one mjb_apply call.
  struct Call {
    Impl* self;
    const double* actions;
    double* obs;
    double* reward;
    uint8_t* terminated;
    uint8_t* truncated;
    uint8_t* diverged;
    const double* qpos;  // SetState
    const double* qvel;
  };

  void Apply(mjfBatchFunc fn, Call* call, const int* ids, int nid) {
    const int failed = mjb_apply(batch.get(), ids, nid, fn, call, 1);
    if (failed > 0) {
      const int* status = mjb_status(batch.get());
      for (int i = 0; i < num_envs; ++i) {
        if (status[i]) {
          throw Error(
              internal::Concat("MuJoCo failed in env ", i, ": ", mjb_error(batch.get(), i)));
        }
      }
      throw Error("MuJoCo batch call failed");
    }
  }

  void ResetOne(const mjModel* m, mjData* d, int sim, double* obs) {
    mj_resetData(m, d);
    ResetRng rng(seed, static_cast<uint64_t>(sim), episode[sim]);
    fns.reset(m, d, rng);
    mj_forward(m, d);
    ++episode[sim];
    elapsed[sim] = 0;
    done[sim] = 0;
    fns.observe(ctx, m, d, d->qvel[0], obs);
    std::copy(obs, obs + info.obs_dim, last_obs.begin() + sim * info.obs_dim);
  }

  static void ResetFn(const mjModel* m, mjData* d, int sim, void* arg) {
    Call* c = static_cast<Call*>(arg);
    c->self->ResetOne(m, d, sim, c->obs + sim * c->self->info.obs_dim);
  }

  static void StepFn(const mjModel* m, mjData* d, int sim, void* arg) {
    Call* c = static_cast<Call*>(arg);
    Impl& s = *c->self;
    const int obs_dim = s.info.obs_dim;
    const int act_dim = s.info.act_dim;
    double* obs = c->obs + sim * obs_dim;
    c->reward[sim] = 0.0;
    c->terminated[sim] = c->truncated[sim] = c->diverged[sim] = 0;
    if (s.done[sim]) {
      s.ResetOne(m, d, sim, obs);
      return;
    }
    double action[32];
    for (int i = 0; i < act_dim; ++i) {
      const float a = static_cast<float>(c->actions[sim * act_dim + i]);
      action[i] = static_cast<double>(std::min(std::max(a, s.action_low), s.action_high));
      d->ctrl[i] = action[i];
    }
    const double x_before = d->qpos[0];
    const int warnings_before = DivergenceWarnings(d);
    for (int k = 0; k < s.info.frame_skip; ++k) mj_step(m, d);
    s.fns.observe(s.ctx, m, d, (d->qpos[0] - x_before) / s.dt, obs);
    bool diverged = DivergenceWarnings(d) > warnings_before;
    for (int i = 0; i < obs_dim && !diverged; ++i) diverged = !std::isfinite(obs[i]);
    double* last = s.last_obs.data() + sim * obs_dim;
    if (diverged) {
      std::copy(last, last + obs_dim, obs);
    } else {
      std::copy(obs, obs + obs_dim, last);
    }
    ++s.elapsed[sim];
    c->reward[sim] = TaskReward(s.info.id, action, obs);
    c->terminated[sim] = TaskTerminated(s.info.id, obs);
    c->truncated[sim] = diverged || s.elapsed[sim] >= s.max_episode_steps;
    c->diverged[sim] = diverged;
    s.done[sim] = c->terminated[sim] || c->truncated[sim];
  }

  static void SetStateFn(const mjModel* m, mjData* d, int sim, void* arg) {
    Call* c = static_cast<Call*>(arg);
    std::copy(c->qpos, c->qpos + m->nq, d->qpos);
    std::copy(c->qvel, c->qvel + m->nv, d->qvel);
    mj_forward(m, d);
    c->self->fns.observe(c->self->ctx, m, d, d->qvel[0], c->obs);
    std::copy(c->obs, c->obs + c->self->info.obs_dim,
              c->self->last_obs.begin() + sim * c->self->info.obs_dim);
  }
};

VecEnv::VecEnv(const VecEnvConfig& config) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.info = GetTaskInfo(config.task);
  MBRLHPO_CHECK(config.num_envs >= 1, "expected num_envs >= 1, got ", config.num_envs);
  MBRLHPO_CHECK(s.info.act_dim <= 32, "internal: action dim above 32");
  s.num_envs = config.num_envs;
  s.max_episode_steps =
      config.max_episode_steps > 0 ? config.max_episode_steps : s.info.steps_per_trial;
  s.seed = config.seed;
  s.model = LoadModelFromXmlFile(config.model_file);
  const mjModel* m = s.model.get();
  MBRLHPO_CHECK(m->nu == s.info.act_dim, "model file ", config.model_file, " has ", m->nu,
                " actuators; task ", s.info.name, " expects ", s.info.act_dim);
  s.dt = m->opt.timestep * s.info.frame_skip;
  s.action_low = static_cast<float>(-s.info.action_bound);
  s.action_high = static_cast<float>(s.info.action_bound);
  s.fns = TaskEnvFnsOf(s.info.id);
  s.ctx = s.fns.prepare(m);
  mjBatchConfig batch_config;
  mjb_defaultConfig(&batch_config);
  // MuJoCo's own default is one thread per core of the node: resolve 0 here instead, so the
  // environments keep to this process's CPU affinity and OMP_NUM_THREADS like the planner.
  batch_config.nthread = config.num_threads > 0 ? config.num_threads : DefaultThreadCount();
  batch_config.persistent = 1;
  char error[1000] = "";
  s.batch.reset(mjb_makeBatch(m, s.num_envs, &batch_config, error, sizeof(error)));
  MBRLHPO_CHECK(s.batch != nullptr, "mjb_makeBatch failed: ", error);
  s.episode.assign(s.num_envs, 0);
  s.elapsed.assign(s.num_envs, 0);
  s.done.assign(s.num_envs, 0);
  s.last_obs.assign(static_cast<size_t>(s.num_envs) * s.info.obs_dim, 0.0);
}

VecEnv::~VecEnv() = default;

const TaskInfo& VecEnv::task() const { return impl_->info; }
int VecEnv::num_envs() const { return impl_->num_envs; }
int VecEnv::num_threads() const { return mjb_nthread(impl_->batch.get()); }
int VecEnv::obs_dim() const { return impl_->info.obs_dim; }
int VecEnv::act_dim() const { return impl_->info.act_dim; }
int VecEnv::nq() const { return impl_->model->nq; }
int VecEnv::nv() const { return impl_->model->nv; }

void VecEnv::Reset(uint64_t seed, double* obs) {
  impl_->seed = seed;
  std::fill(impl_->episode.begin(), impl_->episode.end(), 0);
  Reset(obs);
}

void VecEnv::Reset(double* obs) {
  Impl& s = *impl_;
  Impl::Call call{&s, nullptr, obs, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  s.Apply(&Impl::ResetFn, &call, nullptr, s.num_envs);
}

void VecEnv::Step(const double* actions, double* obs, double* reward, uint8_t* terminated,
                  uint8_t* truncated, uint8_t* diverged) {
  Impl& s = *impl_;
  const int n = s.num_envs * s.info.act_dim;
  for (int i = 0; i < n; ++i) {
    MBRLHPO_CHECK(std::isfinite(actions[i]), "expected finite actions, got ", actions[i],
                  " for env ", i / s.info.act_dim);
  }
  Impl::Call call{&s, actions, obs, reward, terminated, truncated, diverged, nullptr, nullptr};
  s.Apply(&Impl::StepFn, &call, nullptr, s.num_envs);
}

void VecEnv::SetState(int index, const double* qpos, const double* qvel, double* obs) {
  Impl& s = *impl_;
  MBRLHPO_CHECK(index >= 0 && index < s.num_envs, "expected an env index in [0, ", s.num_envs,
                "), got ", index);
  Impl::Call call{&s, nullptr, obs, nullptr, nullptr, nullptr, nullptr, qpos, qvel};
  s.Apply(&Impl::SetStateFn, &call, &index, 1);
  s.done[index] = 0;
}

}  // namespace mbrlhpo
