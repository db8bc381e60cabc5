// The CUDA planner's launch functions: one per kernel, each covering all members of a PlanLaunch
// (plan_args.h says who writes which buffer), in two flavours with the same meaning:
//   - device (namespace mbrlhpo::cuda, cuda/src/plan_kernels.cu, nvcc): the grid is computed from
//     launch.host_members, the kernels read launch.members (device memory) on `stream`;
//     asynchronous, returns the launch's cudaError_t. Declared only where the CUDA runtime
//     headers are available (nvcc, or a TU that includes cuda_runtime.h first).
//   - host (namespace mbrlhpo::cuda::host, cuda/testing/emulator/plan_kernels_host.cpp, g++): the
//   same
//     kernel bodies on the SIMT emulator (cuda/testing/emulator/simt_host.h) with a chosen thread
//     schedule; launch.members is host memory. Throws mbrlhpo::Error with the emulator's first
//     findings (race, uninitialised shared read, divergent barrier, ...): any finding is a bug.
// The bodies are templates over the context, the task and the Gemm policy
// (kernels/{pack,sample,rollout,refit}.h).
#pragma once

#include <cstdint>

#include "mbrlhpo/cuda/plan_args.h"

#if defined(__CUDACC__) || defined(__CUDA_RUNTIME_H__)
#include <cuda_runtime.h>
#endif

namespace mbrlhpo::cuda {

// Block shapes (fixed: the bodies are written for them).
inline constexpr int kPackThreads = 256;
inline constexpr int kSampleThreads = 256;
inline constexpr int kRolloutThreads = 128;  // 4 warps
inline constexpr int kRolloutTileRows = 64;  // 4 m16 tiles; rows of one ensemble model
// launches whose 64-row grid leaves SMs idle (PlanLaunch::tf32_tile_rows, fp32_tile_rows):
inline constexpr int kRolloutTf32SmallTileRows = 48;  // TF32: 3 m16 tiles
inline constexpr int kRolloutFp32SmallTileRows = 32;  // float32: Fp32Fma tiles of 4 rows
inline constexpr int kRefitThreads = 256;
inline constexpr int kMaxPopulation = 4096;  // bitonic top-K in one block's shared memory

// UnsupportedReason(const MemberArgs&) (kernels/launch_shape.h, included below): why the kernels
// cannot plan a member (nullptr: they can).

#if defined(__CUDACC__) || defined(__CUDA_RUNTIME_H__)
cudaError_t LaunchPackWeights(const PlanLaunch& launch, cudaStream_t stream);
cudaError_t LaunchSample(const PlanLaunch& launch, int iteration, cudaStream_t stream);
cudaError_t LaunchRollout(const PlanLaunch& launch, int iteration, cudaStream_t stream);
cudaError_t LaunchRefitAndSample(const PlanLaunch& launch, int iteration, cudaStream_t stream);
// Raises the dynamic shared-memory limit (cudaFuncAttributeMaxDynamicSharedMemorySize) of the
// kernels `launch` runs to what its shape needs (kernels::ShapeOf), where it is below: call on the
// current device before capturing the launch (after checking kernels::SmemOverLimit against the
// device). Never lowers a limit (another planner's graph may need it). Returns the first error.
cudaError_t PrepareDeviceKernels(const PlanLaunch& launch);
#endif

namespace host {

enum class Order { kForward, kReverse, kShuffled };

// The order in which the emulator runs the threads of a block between synchronisation points;
// results must not depend on it (tests run all three).
struct Schedule {
  Order order = Order::kForward;
  uint64_t seed = 0;  // kShuffled: the shuffle's seed
};

void LaunchPackWeights(const PlanLaunch& launch, const Schedule& schedule);
void LaunchSample(const PlanLaunch& launch, int iteration, const Schedule& schedule);
void LaunchRollout(const PlanLaunch& launch, int iteration, const Schedule& schedule);
void LaunchRefitAndSample(const PlanLaunch& launch, int iteration, const Schedule& schedule);

}  // namespace host
}  // namespace mbrlhpo::cuda

#include "mbrlhpo/cuda/kernels/launch_shape.h"
