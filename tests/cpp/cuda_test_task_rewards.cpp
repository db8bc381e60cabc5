// Task rewards and termination on the device equal the host functions (one definition, two
// compilers). Exits 77 (skipped) without a CUDA device.
#include <cstdio>
#include <random>
#include <vector>

#include "check.h"
#include "mbrlhpo/cuda/device.h"
#include "mbrlhpo/cuda/task_rewards.h"
#include "mbrlhpo/tasks.h"

TEST(DeviceRewardsEqualHostRewards) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> uni(-2.0f, 2.0f);
  for (const mbrlhpo::TaskInfo& info : mbrlhpo::AllTasks()) {
    const int n = 1000;
    std::vector<float> act(n * info.act_dim), obs(n * info.obs_dim), rew(n);
    std::vector<unsigned char> term(n);
    for (auto& v : act) v = uni(gen);
    for (auto& v : obs) v = uni(gen);
    mbrlhpo::cuda::TaskRewardsViaDevice(info.id, act.data(), obs.data(), rew.data(), term.data(),
                                        n);
    for (int i = 0; i < n; ++i) {
      mbrlhpo::DispatchTask(info.id, [&](auto task) {
        using Task = decltype(task);
        const float expected = Task::Reward(&act[i * info.act_dim], &obs[i * info.obs_dim]);
        CHECK_NEAR(rew[i], expected, 1e-5 * (1.0 + std::fabs(expected)));
        CHECK(term[i] == (Task::Terminated(&obs[i * info.obs_dim]) ? 1 : 0));
      });
    }
  }
}

int main() {
  if (mbrlhpo::cuda::DeviceCount() == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
  return ::mbrlhpo_test::RunAll();
}
