// The device flavour of the launch functions (plan_kernels.h): __global__ wrappers that run the
// kernel bodies (kernels/*.h) with DeviceCtx, and the launch functions that size the grid from
// the host copy of the members (kernels/launch_shape.h, the same shapes the emulator runs).
// Rollout is instantiated per (task, gemm, rows per block): the built-in tasks
// (mbrlhpo/tasks/builtin.h) and the two test tasks x (float32 at 64 and at 32 rows, TF32 at 64
// and at 48 rows: kernels::kFp32SmallTileRows, kTf32SmallTileRows); a launch runs one kernel per
// (task, gemm) pair present in the population (blocks of other members return at once), at the
// launch's rows for that gemm.
#include <cuda_runtime.h>

#include "mbrlhpo/cuda/kernels/pack.h"
#include "mbrlhpo/cuda/kernels/refit.h"
#include "mbrlhpo/cuda/kernels/rollout.h"
#include "mbrlhpo/cuda/kernels/sample.h"
#include "mbrlhpo/cuda/plan_kernels.h"
#include "mbrlhpo/cuda/simt.h"

namespace mbrlhpo::cuda {
namespace {

__global__ void __launch_bounds__(kPackThreads)
    PackKernel(const MemberArgs* members, int num_members, int max_layers, int max_ensemble,
               int blocks_per_matrix) {
  simt::DeviceCtx c;
  kernels::PackWeights(c, members, num_members, max_layers, max_ensemble, blocks_per_matrix);
}

__global__ void __launch_bounds__(kSampleThreads)
    SampleKernel(const MemberArgs* members, int num_members, int blocks_per_member, int iteration) {
  simt::DeviceCtx c;
  kernels::SampleCandidates(c, members, num_members, blocks_per_member, iteration);
}

// At least two Rollout blocks per SM: what the paper-size shared memory allows on sm_90 (2 x
// 109 KB), and it gives ptxas the register budget 65536 / (2 x 128) = 255. Without the minimum
// ptxas picked a lower target of its own (48-72 registers) and spilled loop-invariant values
// around the IEEE division/sqrt slow-path calls in 5 of the 32 instantiations; with it all use
// 78-108 registers and none spills (ptxas -Werror, cuda/CMakeLists.txt). 48-row blocks: also two
// (82 KB of shared memory each at the paper shape; the busiest SM of one member runs 2).
inline constexpr int kRolloutMinBlocksPerSm = 2;

template <class Task, class G, int kRows>
__global__ void __launch_bounds__(kRolloutThreads, kRolloutMinBlocksPerSm)
    RolloutKernel(const MemberArgs* members, int num_members, kernels::RolloutGrid grid,
                  int iteration) {
  simt::DeviceCtx c;
  kernels::Rollout<Task, G, kRows>(c, members, num_members, grid, iteration);
}

__global__ void __launch_bounds__(kRefitThreads)
    RefitKernel(const MemberArgs* members, int num_members, int sort_size, int iteration) {
  simt::DeviceCtx c;
  kernels::RefitAndSample(c, members, num_members, sort_size, iteration);
}

// Calls fn(kernel) for the rollout kernel of (task, gemm, rows per block: RolloutOf); false for
// an unknown task.
template <class Fn>
bool WithRolloutKernel(int32_t task, int32_t gemm, int rows, Fn&& fn) {
  return WithTask(task, [&](auto t) {
    kernels::WithRolloutVariant(gemm, rows, [&](auto g, auto r) {
      fn(&RolloutKernel<decltype(t), decltype(g), decltype(r)::value>);
    });
  });
}

cudaError_t CheckMembers(const PlanLaunch& launch) {
  if (launch.members == nullptr || launch.host_members == nullptr) return cudaErrorInvalidValue;
  for (int i = 0; i < launch.num_members; ++i) {
    if (UnsupportedReason(launch.host_members[i]) != nullptr) return cudaErrorInvalidValue;
  }
  return cudaSuccess;
}

// Raises `kernel`'s dynamic shared-memory limit to `bytes` where it is lower.
template <class Kernel>
cudaError_t AllowSmem(Kernel kernel, size_t bytes) {
  cudaFuncAttributes attr{};
  if (const cudaError_t e = cudaFuncGetAttributes(&attr, kernel); e != cudaSuccess) return e;
  if (static_cast<size_t>(attr.maxDynamicSharedSizeBytes) >= bytes) return cudaSuccess;
  return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              static_cast<int>(bytes));
}

}  // namespace

cudaError_t PrepareDeviceKernels(const PlanLaunch& launch) {
  if (const cudaError_t e = CheckMembers(launch); e != cudaSuccess) return e;
  const kernels::LaunchShape s = kernels::ShapeOf(launch);
  cudaError_t first = cudaSuccess;
  for (int i = 0; i < launch.num_members; ++i) {
    const MemberArgs& m = launch.host_members[i];
    const kernels::RolloutBlocks b = kernels::RolloutOf(s, m.gemm);
    WithRolloutKernel(m.task, m.gemm, b.rows, [&](auto kernel) {
      const cudaError_t e = AllowSmem(kernel, b.smem);
      if (first == cudaSuccess) first = e;
    });
  }
  const cudaError_t e = AllowSmem(RefitKernel, s.refit_smem);
  return first != cudaSuccess ? first : e;
}

cudaError_t LaunchPackWeights(const PlanLaunch& launch, cudaStream_t stream) {
  if (const cudaError_t e = CheckMembers(launch); e != cudaSuccess) return e;
  if (launch.num_members == 0) return cudaSuccess;
  const kernels::LaunchShape s = kernels::ShapeOf(launch);
  const int grid = launch.num_members * s.max_layers * s.max_ensemble * s.pack_blocks_per_matrix;
  PackKernel<<<grid, kPackThreads, 0, stream>>>(launch.members, launch.num_members, s.max_layers,
                                                s.max_ensemble, s.pack_blocks_per_matrix);
  return cudaGetLastError();
}

cudaError_t LaunchSample(const PlanLaunch& launch, int iteration, cudaStream_t stream) {
  if (const cudaError_t e = CheckMembers(launch); e != cudaSuccess) return e;
  if (launch.num_members == 0) return cudaSuccess;
  const kernels::LaunchShape s = kernels::ShapeOf(launch);
  const int bpm = s.sample_blocks_per_member;
  SampleKernel<<<launch.num_members * bpm, kSampleThreads, 0, stream>>>(
      launch.members, launch.num_members, bpm, iteration);
  return cudaGetLastError();
}

cudaError_t LaunchRollout(const PlanLaunch& launch, int iteration, cudaStream_t stream) {
  if (const cudaError_t e = CheckMembers(launch); e != cudaSuccess) return e;
  if (launch.num_members == 0) return cudaSuccess;
  const kernels::LaunchShape s = kernels::ShapeOf(launch);
  // One launch per (task, gemm) pair present, in member order of first appearance (as the host).
  for (int i = 0; i < launch.num_members; ++i) {
    const MemberArgs& mi = launch.host_members[i];
    bool seen = false;
    for (int j = 0; j < i; ++j) {
      seen |= launch.host_members[j].task == mi.task && launch.host_members[j].gemm == mi.gemm;
    }
    if (seen) continue;
    const kernels::RolloutBlocks b = kernels::RolloutOf(s, mi.gemm);
    const kernels::RolloutGrid grid{s.max_ensemble, b.tiles, kernels::ActStride(s.max_width),
                                    mi.task, mi.gemm};
    const int blocks = launch.num_members * s.max_ensemble * b.tiles;
    cudaError_t err = cudaSuccess;
    WithRolloutKernel(mi.task, mi.gemm, b.rows, [&](auto kernel) {
      kernel<<<blocks, kRolloutThreads, b.smem, stream>>>(launch.members, launch.num_members, grid,
                                                          iteration);
      err = cudaGetLastError();
    });
    if (err != cudaSuccess) return err;
  }
  return cudaSuccess;
}

cudaError_t LaunchRefitAndSample(const PlanLaunch& launch, int iteration, cudaStream_t stream) {
  if (const cudaError_t e = CheckMembers(launch); e != cudaSuccess) return e;
  if (launch.num_members == 0) return cudaSuccess;
  const kernels::LaunchShape s = kernels::ShapeOf(launch);
  RefitKernel<<<launch.num_members, kRefitThreads, s.refit_smem, stream>>>(
      launch.members, launch.num_members, s.sort_size, iteration);
  return cudaGetLastError();
}

}  // namespace mbrlhpo::cuda
