#include <cuda_runtime.h>

#include "mbrlhpo/cuda/task_rewards.h"
#include "mbrlhpo/errors.h"

namespace mbrlhpo::cuda {
namespace {

template <typename Task>
__global__ void TaskRewardsKernel(const float* actions, const float* next_obs, float* rewards,
                                  unsigned char* terminated, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float* a = actions + static_cast<size_t>(i) * Task::kActDim;
  const float* s = next_obs + static_cast<size_t>(i) * Task::kObsDim;
  rewards[i] = Task::Reward(a, s);
  terminated[i] = Task::Terminated(s) ? 1 : 0;
}

// Not launched: makes nvcc compile every task's ModelInput as device code.
template <typename Task>
__global__ void ModelInputKernel(const float* obs, float* out) {
  Task::ModelInput(obs, out);
}

void Check(cudaError_t status, const char* what) {
  MBRLHPO_CHECK(status == cudaSuccess, what, " failed: ", cudaGetErrorString(status));
}

}  // namespace

void LaunchTaskRewards(TaskId task, const float* actions, const float* next_obs, float* rewards,
                       unsigned char* terminated, int n, void* stream) {
  MBRLHPO_CHECK(n >= 0, "expected n >= 0, got ", n);
  if (n == 0) return;
  constexpr int kBlock = 256;
  const int blocks = (n + kBlock - 1) / kBlock;
  auto s = static_cast<cudaStream_t>(stream);
  DispatchTask(task, [&](auto task_struct) {
    using Task = decltype(task_struct);
    TaskRewardsKernel<Task><<<blocks, kBlock, 0, s>>>(actions, next_obs, rewards, terminated, n);
    (void)&ModelInputKernel<Task>;
  });
  Check(cudaGetLastError(), "task reward kernel launch");
}

void TaskRewardsViaDevice(TaskId task, const float* actions, const float* next_obs, float* rewards,
                          unsigned char* terminated, int n) {
  const TaskInfo* info = nullptr;
  for (const TaskInfo& t : AllTasks()) {
    if (t.id == task) info = &t;
  }
  MBRLHPO_CHECK(info != nullptr, "unknown task id");
  const size_t act_bytes = sizeof(float) * n * info->act_dim;
  const size_t obs_bytes = sizeof(float) * n * info->obs_dim;
  float *d_act = nullptr, *d_obs = nullptr, *d_rew = nullptr;
  unsigned char* d_term = nullptr;
  Check(cudaMalloc(&d_act, act_bytes), "cudaMalloc");
  Check(cudaMalloc(&d_obs, obs_bytes), "cudaMalloc");
  Check(cudaMalloc(&d_rew, sizeof(float) * n), "cudaMalloc");
  Check(cudaMalloc(&d_term, n), "cudaMalloc");
  cudaMemcpy(d_act, actions, act_bytes, cudaMemcpyHostToDevice);
  cudaMemcpy(d_obs, next_obs, obs_bytes, cudaMemcpyHostToDevice);
  LaunchTaskRewards(task, d_act, d_obs, d_rew, d_term, n, nullptr);
  const cudaError_t copy_r = cudaMemcpy(rewards, d_rew, sizeof(float) * n, cudaMemcpyDeviceToHost);
  const cudaError_t copy_t = cudaMemcpy(terminated, d_term, n, cudaMemcpyDeviceToHost);
  cudaFree(d_act);
  cudaFree(d_obs);
  cudaFree(d_rew);
  cudaFree(d_term);
  Check(copy_r, "cudaMemcpy");
  Check(copy_t, "cudaMemcpy");
}

}  // namespace mbrlhpo::cuda
