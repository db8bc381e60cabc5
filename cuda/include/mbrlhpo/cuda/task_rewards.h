// The tasks' reward and termination (csrc/include/mbrlhpo/tasks/*.h) evaluated on a CUDA device:
// the same host+device code the CPU planner and the environments use, compiled by nvcc.
#pragma once

#include "mbrlhpo/tasks.h"

namespace mbrlhpo::cuda {

// For n transitions on the device: rewards[i] = Reward(actions[i], next_obs[i]) and
// terminated[i] = Terminated(next_obs[i]) (1/0). Row-major (n x A), (n x O) float32 device
// pointers; `stream` is a cudaStream_t (nullptr: the default stream). Asynchronous.
void LaunchTaskRewards(TaskId task, const float* actions, const float* next_obs, float* rewards,
                       unsigned char* terminated, int n, void* stream);

// The same from host arrays through a device round trip (tests and checks); synchronous.
void TaskRewardsViaDevice(TaskId task, const float* actions, const float* next_obs, float* rewards,
                          unsigned char* terminated, int n);

}  // namespace mbrlhpo::cuda
