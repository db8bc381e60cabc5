// VecEnv: N copies of one task stepped in parallel on MuJoCo's native batch API (mjbatch.h).
// No MuJoCo types in this header. Results do not depend on the thread count: environment i
// draws its resets from ResetRng(seed, i, episode) and steps only its own simulation.
//
// Step semantics (same as src/mbrlhpo/envs/reference_env.py): actions are clipped to the bounds
// (in float32 precision, as gymnasium's float32 Box), then ctrl = action and frame_skip physics
// steps; reward = Task::Reward(action, next_obs); the episode is truncated after
// max_episode_steps; NaN/inf or a MuJoCo bad qpos/qvel/qacc warning ends the episode with
// diverged = truncated = 1 and the last valid observation. Autoreset (gymnasium NEXT_STEP): the
// step after an episode ended resets that env and returns its first observation, reward 0.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mbrlhpo/export.h"
#include "mbrlhpo/tasks.h"

namespace mbrlhpo {

struct VecEnvConfig {
  std::string task;        // one of cartpole, reacher, pusher, hopper, halfcheetah, hexapod
  std::string model_file;  // the task's MJCF (src/mbrlhpo/envs/assets/<task>.xml)
  int num_envs = 1;
  int num_threads = 0;  // <= 0: DefaultThreadCount() (thread_pool.h)
  uint64_t seed = 0;
  int max_episode_steps = 0;  // <= 0: the task's steps per trial
};

class MBRLHPO_API VecEnv {
 public:
  explicit VecEnv(const VecEnvConfig& config);
  ~VecEnv();
  VecEnv(const VecEnv&) = delete;
  VecEnv& operator=(const VecEnv&) = delete;

  const TaskInfo& task() const;
  int num_envs() const;
  int num_threads() const;
  int obs_dim() const;
  int act_dim() const;
  int nq() const;
  int nv() const;

  // Resets every env with `seed` (episode counters restart at 0). obs: (N x O), caller-owned.
  void Reset(uint64_t seed, double* obs);
  // Resets every env to its next episode of the current seed's streams. obs: (N x O).
  void Reset(double* obs);
  // actions (N x A) must be finite (throws mbrlhpo::Error otherwise). Outputs caller-owned:
  // obs (N x O), reward (N), terminated, truncated, diverged (N, 0/1).
  void Step(const double* actions, double* obs, double* reward, uint8_t* terminated,
            uint8_t* truncated, uint8_t* diverged);
  // Overwrites env `index`'s state (qpos (nq), qvel (nv)); writes its observation (O).
  void SetState(int index, const double* qpos, const double* qvel, double* obs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mbrlhpo
