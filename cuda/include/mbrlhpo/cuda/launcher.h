// Where the CUDA planner's kernels run: the driver (cuda_planner.h) is written against this
// interface only, so the same driver runs on a GPU (DeviceLauncher: CUDA launches, device memory,
// one CUDA graph per population shape) and on the host emulator (HostLauncher, tests only: the
// kernel bodies on fibers, host memory), which is how the whole planner is tested in CI.
//
// Memory returned by Allocate() is what the kernels read and write (device memory on the device
// launcher); staging memory is host memory the copies read from and write to (pinned on the
// device launcher). Copies and runs are ordered on the launcher's current stream; Finish() waits
// for them. No CUDA header is needed to use this interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "mbrlhpo/cuda/plan_args.h"  // MemberArgs, PlanLaunch: what the kernels read

namespace mbrlhpo::cuda {

class Launcher {
 public:
  virtual ~Launcher() = default;
  // "device 0: NVIDIA H100 ..." or "host emulator (schedule forward)".
  virtual const char* name() const = 0;
  virtual bool on_device() const = 0;
  // Streaming multiprocessors the kernels spread over: the device's count; 0 where unknown (the
  // host emulator, unless told a count: the driver then keeps 64-row blocks). The driver picks
  // the rollout's rows per block from it, per gemm (kernels::ChooseTileRows).
  virtual int multiprocessors() const = 0;

  virtual void* Allocate(size_t bytes) = 0;  // kernel-visible memory, uninitialised
  virtual void Release(void* ptr) = 0;
  virtual void* AllocateStaging(size_t bytes) = 0;  // host memory for copies
  virtual void ReleaseStaging(void* ptr) = 0;

  // Work is ordered on `stream` (a cudaStream_t; nullptr: the launcher's own stream) until the
  // next call; the host launcher ignores it.
  virtual void SetStream(void* stream) = 0;
  virtual void CopyIn(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void CopyOut(void* host_dst, const void* src, size_t bytes) = 0;

  // Runs PackWeights -> Sample -> iterations x (Rollout -> RefitAndSample) over all members of
  // `launch`. The
  // device launcher captures this sequence into a CUDA graph when `launch.shape_key` differs
  // from the previous run's and replays it otherwise (the kernels read all per-step values from
  // kernel-visible memory, so one graph serves every step of a shape).
  virtual void Run(const PlanLaunch& launch) = 0;
  // Waits for everything queued; throws mbrlhpo::Error with CUDA's message on a failure.
  virtual void Finish() = 0;
};

// The GPU launcher on CUDA device `device` (cuda/src/device_launcher.cu). Throws mbrlhpo::Error
// when the device is not usable.
std::unique_ptr<Launcher> MakeDeviceLauncher(int device);

}  // namespace mbrlhpo::cuda
