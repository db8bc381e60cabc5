// The host launcher: runs the CUDA planner's launch sequence on the CPU with host memory, so the
// whole driver (buffers, copies, launch order, population, traces, warm start) is tested in CI
// without a GPU. Tests and gpu_check's dry run only; never linked into the Python module.
//
// Two kinds of launches:
//   kEmulator : the kernels' host launch functions (plan_kernels.h, namespace host): the kernel
//               bodies on the SIMT emulator with a chosen thread schedule
//               (cuda/testing/emulator/plan_kernels_host.cpp).
//   kReference: scalar loops with the CPU planner's arithmetic, one row at a time, float32
//               whatever the member's Gemm (TF32 rounding is the emulator's business): the
//               driver's own check, independent of the kernels.
// The launcher's name() says which is in use.
#pragma once

#include <memory>

#include "mbrlhpo/cuda/launcher.h"
#include "mbrlhpo/cuda/plan_kernels.h"

namespace mbrlhpo::cuda {

enum class HostKernels { kEmulator, kReference };

// kEmulator unless `kernels` says otherwise. `multiprocessors`: the SM count the driver sizes
// the launch for (0, unknown: 64-row blocks; 132, an H100's: the TF32 rollout's block size that
// GPU would get, e.g. 48 rows for a small plan).
std::unique_ptr<Launcher> MakeHostLauncher();
std::unique_ptr<Launcher> MakeHostLauncher(HostKernels kernels, host::Schedule schedule = {},
                                           int multiprocessors = 0);

// One launch of the sequence, on the host (exposed for tests of a single kernel's contract).
void HostSample(const MemberArgs& m, int iteration);
void HostRollout(const MemberArgs& m, int iteration);
void HostRefitAndSample(const MemberArgs& m, int iteration);

}  // namespace mbrlhpo::cuda
