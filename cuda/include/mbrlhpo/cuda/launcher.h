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

namespace mbrlhpo::cuda {

// The arguments of one launch sequence over a population, as the kernels read them. Plain data
// (no STL) so that it can live in kernel-visible memory: the driver fills one MemberArgs per
// member on the host, copies the array in before every plan (so a captured graph reads the new
// step, observation and weight pointers), and the kernels read everything from there.
// Proposed to KERNELS as the contract (briefs/driver-requests.md); plan_args.h replaces it if
// that helper's contract lands.
inline constexpr int kMaxLayers = 8;

enum class TaskId : int32_t {
  kCartpole = 0, kReacher, kPusher, kHopper, kHalfCheetah, kHexapod, kTestLinear, kTestPendulum
};

struct MemberArgs {
  // model, read in place (E x in x out weights, E x 1 x out biases, row-major)
  int32_t task = 0;  // TaskId
  int32_t gemm = 0;  // cuda_planner.h Gemm
  int32_t ensemble_size = 0;
  int32_t num_layers = 0;
  int32_t layer_sizes[kMaxLayers + 1] = {};
  const float* weights[kMaxLayers] = {};
  const float* biases[kMaxLayers] = {};
  const float* max_logvar = nullptr;  // O
  const float* min_logvar = nullptr;  // O
  const float* input_mean = nullptr;  // D
  const float* input_std = nullptr;   // D
  // CEM settings and the counters of the noise
  int32_t obs_dim = 0, act_dim = 0, model_input_dim = 0;
  int32_t horizon = 0, population = 0, num_elites = 0, iterations = 0, particles = 0;
  float alpha = 0.0f;
  uint64_t seed = 0;
  uint32_t step = 0;
  // per-plan inputs (copied in by the driver): obs (O), bounds (A each), and the warm start,
  // written into `mean` (H x A); `mean` holds the final CEM mean after the last refit
  const float* obs = nullptr;
  const float* action_low = nullptr;
  const float* action_high = nullptr;
  float* mean = nullptr;         // H x A
  float* var = nullptr;          // H x A; Sample(iteration 0) sets (high - low)^2 / 16
  float* candidates = nullptr;   // N x H x A
  float* row_returns = nullptr;  // E x (N x P / E): member-major rows, as the CPU planner
  float* returns = nullptr;      // N: mean over particles, -inf where not finite
  int32_t* elites = nullptr;     // K, best first (ties: lower index first)
  // optional traces (null: none): I x N, I x K, I x H x A, I x H x A
  float* trace_returns = nullptr;
  int32_t* trace_elites = nullptr;
  float* trace_means = nullptr;
  float* trace_vars = nullptr;
};

struct PlanLaunch {
  uint64_t shape_key = 0;  // equal keys: same shapes and same buffers (the graph is reused)
  int32_t num_members = 0;
  int32_t max_iterations = 0;
  const MemberArgs* members = nullptr;       // kernel-visible array
  const MemberArgs* host_members = nullptr;  // the same values on the host (grid sizes)
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // "device 0: NVIDIA H100 ..." or "host emulator (schedule forward)".
  virtual const char* name() const = 0;
  virtual bool on_device() const = 0;

  virtual void* Allocate(size_t bytes) = 0;  // kernel-visible memory, uninitialised
  virtual void Release(void* ptr) = 0;
  virtual void* AllocateStaging(size_t bytes) = 0;  // host memory for copies
  virtual void ReleaseStaging(void* ptr) = 0;

  // Work is ordered on `stream` (a cudaStream_t; nullptr: the launcher's own stream) until the
  // next call; the host launcher ignores it.
  virtual void SetStream(void* stream) = 0;
  virtual void CopyIn(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void CopyOut(void* host_dst, const void* src, size_t bytes) = 0;

  // Runs Sample -> iterations x (Rollout -> RefitAndSample) over all members of `launch`. The
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

// The device kernels' launch functions the device launcher calls, each covering all members
// (stream: a cudaStream_t). Defined with the kernels; DeviceKernelsBuilt() says whether this
// build has them (until the kernels land, the launches throw and the module offers no
// CudaPlanner).
bool DeviceKernelsBuilt();
void DeviceSample(const PlanLaunch& launch, int iteration, void* stream);
void DeviceRollout(const PlanLaunch& launch, int iteration, void* stream);
void DeviceRefitAndSample(const PlanLaunch& launch, int iteration, void* stream);

}  // namespace mbrlhpo::cuda
