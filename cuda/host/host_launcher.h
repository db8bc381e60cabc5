// The host launcher: runs the CUDA planner's launch sequence on the CPU with host memory, so the
// whole driver (buffers, copies, launch order, population, traces, warm start) is tested in CI
// without a GPU. Tests and gpu_check's dry run only; never linked into the Python module.
//
// Until the kernels' host launch functions (the emulator running the kernel bodies, KERNELS'
// plan_kernels.h) are merged, each launch runs a scalar reference of that kernel (the CPU
// planner's arithmetic, one row at a time, float32 whatever the member's Gemm: TF32 rounding is
// the emulator's business); the launcher's name() says which is in use.
#pragma once

#include <memory>

#include "mbrlhpo/cuda/launcher.h"

namespace mbrlhpo::cuda {

std::unique_ptr<Launcher> MakeHostLauncher();

// One launch of the sequence, on the host (exposed for tests of a single kernel's contract).
void HostSample(const MemberArgs& m, int iteration);
void HostRollout(const MemberArgs& m, int iteration);
void HostRefitAndSample(const MemberArgs& m, int iteration);

}  // namespace mbrlhpo::cuda
