// The C++ VecEnv and task API without Python: determinism over thread counts, seeds, autoreset,
// divergence, bad input, and the task table.
#include <cmath>
#include <string>
#include <vector>

#include "check.h"
#include "mbrlhpo/errors.h"
#include "mbrlhpo/tasks.h"
#include "mbrlhpo/vec_env.h"

namespace {

std::string ModelFile(const std::string& task) {
  return std::string(MBRLHPO_SOURCE_DIR) + "/src/mbrlhpo/envs/assets/" + task + ".xml";
}

struct Rollout {
  std::vector<double> obs, reward;
  std::vector<uint8_t> terminated, truncated, diverged;
};

Rollout Run(const std::string& task, int num_envs, int threads, uint64_t seed, int steps,
            int max_episode_steps = 0) {
  mbrlhpo::VecEnvConfig config;
  config.task = task;
  config.model_file = ModelFile(task);
  config.num_envs = num_envs;
  config.num_threads = threads;
  config.seed = seed;
  config.max_episode_steps = max_episode_steps;
  mbrlhpo::VecEnv env(config);
  const int n = num_envs, o = env.obs_dim(), a = env.act_dim();
  Rollout r;
  std::vector<double> obs(n * o), rew(n), act(n * a);
  std::vector<uint8_t> te(n), tr(n), dv(n);
  env.Reset(seed, obs.data());
  r.obs.insert(r.obs.end(), obs.begin(), obs.end());
  for (int t = 0; t < steps; ++t) {
    for (int i = 0; i < n * a; ++i) act[i] = 1.5 * std::sin(0.37 * t + 1.3 * i);  // some clip
    env.Step(act.data(), obs.data(), rew.data(), te.data(), tr.data(), dv.data());
    r.obs.insert(r.obs.end(), obs.begin(), obs.end());
    r.reward.insert(r.reward.end(), rew.begin(), rew.end());
    r.terminated.insert(r.terminated.end(), te.begin(), te.end());
    r.truncated.insert(r.truncated.end(), tr.begin(), tr.end());
    r.diverged.insert(r.diverged.end(), dv.begin(), dv.end());
  }
  return r;
}

}  // namespace

TEST(TaskTableAndLookup) {
  // The shipped six, among however many tasks the list holds (docs/new_task.md).
  CHECK(mbrlhpo::AllTasks().size() == static_cast<size_t>(mbrlhpo::kNumBuiltinTasks));
  for (const char* name : {"cartpole", "reacher", "pusher", "hopper", "halfcheetah", "hexapod"})
    CHECK(mbrlhpo::GetTaskInfo(name).name == name);
  CHECK(mbrlhpo::GetTaskInfo("halfcheetah").obs_dim == 18);
  CHECK(mbrlhpo::GetTaskInfo("hexapod").act_dim == 18);
  CHECK(mbrlhpo::GetTaskInfo("reacher").action_bound == 20.0);
  CHECK_THROWS(mbrlhpo::GetTaskInfo("walker"));
  CHECK(mbrlhpo::tasks::Cartpole::kModelInputDim == 5);
  CHECK(mbrlhpo::tasks::Hexapod::kModelInputDim == 27);
}

TEST(CartpoleRewardUprightIsOne) {
  const double a[1] = {0.0};
  const double s[4] = {0.0, M_PI, 0.0, 0.0};  // pole tip at (0, 0.6)
  CHECK_NEAR(mbrlhpo::tasks::Cartpole::Reward(a, s), 1.0, 1e-15);
  const float af[1] = {1.0f};
  const float sf[4] = {0.0f, static_cast<float>(M_PI), 0.0f, 0.0f};
  CHECK_NEAR(mbrlhpo::tasks::Cartpole::Reward(af, sf), 0.99, 1e-6);
}

TEST(ReacherEndEffectorAtZeroPose) {
  const double q[7] = {0, 0, 0, 0, 0, 0, 0};
  double ee[3];
  mbrlhpo::tasks::Reacher::EndEffector(q, ee);
  CHECK_NEAR(ee[0], 0.1 + 0.4 + 0.321 + 0.16828, 1e-15);
  CHECK_NEAR(ee[1], -0.188, 1e-15);
  CHECK_NEAR(ee[2], 0.0, 1e-15);
}

TEST(SameResultsForAnyThreadCount) {
  for (const char* task : {"halfcheetah", "pusher", "hexapod"}) {
    const Rollout one = Run(task, 6, 1, 7, 30);
    const Rollout two = Run(task, 6, 2, 7, 30);
    const Rollout three = Run(task, 6, 3, 7, 30);
    CHECK(one.obs == two.obs && one.obs == three.obs);
    CHECK(one.reward == two.reward && one.reward == three.reward);
  }
}

TEST(EnvIndependentOfBatchSizeAndSeedMatters) {
  const Rollout small = Run("hopper", 2, 1, 3, 20);
  const Rollout big = Run("hopper", 5, 2, 3, 20);
  const int o = 12;
  // env 0 and 1 of the 5-env batch equal the 2-env batch, step by step.
  for (int t = 0; t <= 20; ++t) {
    for (int i = 0; i < 2 * o; ++i) CHECK(small.obs[t * 2 * o + i] == big.obs[t * 5 * o + i]);
  }
  const Rollout other = Run("hopper", 2, 1, 4, 0);
  CHECK(other.obs[0] != small.obs[0] || other.obs[1] != small.obs[1]);
}

TEST(RewardEqualsTaskFunctionAndFinite) {
  const Rollout r = Run("reacher", 3, 2, 1, 20);
  for (double x : r.obs) CHECK(std::isfinite(x));
  for (uint8_t d : r.diverged) CHECK(d == 0);
  // Reward of the last step recomputed from the clipped action (|1.5 sin| < 20: unclipped).
  const int n = 3, a = 7, o = 17, t = 19;
  for (int i = 0; i < n; ++i) {
    double act[7];
    for (int k = 0; k < a; ++k)
      act[k] =
          static_cast<double>(static_cast<float>(1.5 * std::sin(0.37 * t + 1.3 * (i * a + k))));
    const double* next = &r.obs[(t + 1) * n * o + i * o];
    CHECK_NEAR(r.reward[t * n + i], mbrlhpo::tasks::Reacher::Reward(act, next), 1e-12);
  }
}

TEST(TruncationAndAutoreset) {
  const Rollout r = Run("cartpole", 2, 1, 0, 7, 3);
  // steps 0..6: truncated at steps 2 and 6 (3rd step of each episode), reset at step 3.
  CHECK(r.truncated[2 * 2] == 1 && r.truncated[6 * 2] == 1 && r.truncated[1 * 2] == 0);
  CHECK(r.reward[3 * 2] == 0.0 && r.truncated[3 * 2] == 0);
  // The reset observation starts a new episode: it differs from the first episode's.
  CHECK(r.obs[4 * 2 * 4] != r.obs[0]);
}

TEST(DivergenceIsReportedNotThrown) {
  mbrlhpo::VecEnvConfig config;
  config.task = "halfcheetah";
  config.model_file = ModelFile("halfcheetah");
  config.num_envs = 2;
  mbrlhpo::VecEnv env(config);
  std::vector<double> obs(2 * 18), rew(2), act(2 * 6, 0.0), qpos(9, 0.0), qvel(9, 1e300);
  std::vector<uint8_t> te(2), tr(2), dv(2);
  env.Reset(0, obs.data());
  std::vector<double> before(18);
  env.SetState(1, qpos.data(), qvel.data(), before.data());
  env.Step(act.data(), obs.data(), rew.data(), te.data(), tr.data(), dv.data());
  CHECK(dv[0] == 0 && dv[1] == 1 && tr[1] == 1 && tr[0] == 0);
  CHECK(std::isfinite(obs[0]));
}

TEST(BadInputThrows) {
  mbrlhpo::VecEnvConfig config;
  config.task = "hopper";
  config.model_file = ModelFile("hopper");
  config.num_envs = 1;
  mbrlhpo::VecEnv env(config);
  std::vector<double> obs(12), rew(1), act(3, 0.0);
  std::vector<uint8_t> te(1), tr(1), dv(1);
  env.Reset(0, obs.data());
  act[1] = std::nan("");
  CHECK_THROWS(env.Step(act.data(), obs.data(), rew.data(), te.data(), tr.data(), dv.data()));
  config.task = "nope";
  CHECK_THROWS(mbrlhpo::VecEnv bad(config));
  config.task = "hopper";
  config.model_file = ModelFile("cartpole");
  CHECK_THROWS(mbrlhpo::VecEnv bad(config));
  config.model_file = "/no/such/file.xml";
  CHECK_THROWS(mbrlhpo::VecEnv bad(config));
}

int main() { return mbrlhpo_test::RunAll(); }
