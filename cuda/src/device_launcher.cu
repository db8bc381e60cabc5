// The GPU launcher: device memory (cudaMallocAsync on the plan's stream), pinned staging, and
// one CUDA graph per population shape: PackWeights -> Sample -> I x (Rollout -> RefitAndSample) is
// captured the first time a shape key is seen (on the launcher's own stream, since the legacy
// default stream cannot be captured) and replayed on the caller's stream at every later plan. The
// kernels read every per-plan value from device memory, so replays need no graph update.
#include <cuda_runtime.h>

#include <memory>
#include <string>

#include "mbrlhpo/cuda/launcher.h"
#include "mbrlhpo/cuda/plan_kernels.h"
#include "mbrlhpo/errors.h"

namespace mbrlhpo::cuda {
namespace {

void Check(cudaError_t status, const char* what) {
  MBRLHPO_CHECK(status == cudaSuccess, "CUDA planner: ", what,
                " failed: ", cudaGetErrorString(status));
}

class DeviceLauncher final : public Launcher {
 public:
  explicit DeviceLauncher(int device) : device_(device) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      cudaGetLastError();
      count = 0;
    }
    MBRLHPO_CHECK(device >= 0 && device < count, "expected a CUDA device index in [0, ", count,
                  "), got ", device);
    Check(cudaSetDevice(device), "cudaSetDevice");
    cudaDeviceProp prop{};
    Check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    name_ = "device " + std::to_string(device) + ": " + prop.name;
    int optin = 0;
    Check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cudaDeviceGetAttribute(MaxSharedMemoryPerBlockOptin)");
    smem_optin_ = static_cast<size_t>(optin);
    multiprocessors_ = prop.multiProcessorCount;
    Check(cudaStreamCreateWithFlags(&own_, cudaStreamNonBlocking), "cudaStreamCreate");
    stream_ = cudaStreamLegacy;  // until SetStream: the legacy default stream, as for handle 0
  }

  ~DeviceLauncher() override {
    cudaSetDevice(device_);
    cudaStreamSynchronize(stream_);
    if (graph_) cudaGraphExecDestroy(graph_);
    cudaStreamDestroy(own_);
  }

  const char* name() const override { return name_.c_str(); }
  bool on_device() const override { return true; }
  int multiprocessors() const override { return multiprocessors_; }

  void* Allocate(size_t bytes) override {
    Check(cudaSetDevice(device_), "cudaSetDevice");
    void* p = nullptr;
    Check(cudaMallocAsync(&p, bytes, stream_), "cudaMallocAsync");
    return p;
  }
  void Release(void* ptr) override {
    cudaSetDevice(device_);
    cudaFreeAsync(ptr, stream_);
  }
  void* AllocateStaging(size_t bytes) override {
    void* p = nullptr;
    Check(cudaMallocHost(&p, bytes), "cudaMallocHost");
    return p;
  }
  void ReleaseStaging(void* ptr) override {
    cudaStreamSynchronize(stream_);  // copies from or into it may still be in flight
    cudaFreeHost(ptr);
  }

  void SetStream(void* stream) override {
    Check(cudaSetDevice(device_), "cudaSetDevice");
    // Handle 0 is the caller's default stream (torch's legacy default stream), not "any
    // stream": plans must be ordered after the training kernels queued on it.
    stream_ = stream ? static_cast<cudaStream_t>(stream) : cudaStreamLegacy;
  }
  void CopyIn(void* dst, const void* src, size_t bytes) override {
    Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync in");
  }
  void CopyOut(void* dst, const void* src, size_t bytes) override {
    Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync out");
  }

  void Run(const PlanLaunch& launch) override {
    // One graph at a time: a new key means the driver set up new buffers, which the old graph's
    // kernel arguments no longer point to.
    if (graph_ == nullptr || graph_key_ != launch.shape_key) {
      AllowSharedMemory(launch);
      if (graph_) {
        Check(cudaStreamSynchronize(stream_), "waiting for the previous graph");
        cudaGraphExecDestroy(graph_);
        graph_ = nullptr;
      }
      // Capture on our own stream after it has waited for the caller's work (the copies in).
      cudaEvent_t ready;
      Check(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming), "cudaEventCreate");
      Check(cudaEventRecord(ready, stream_), "cudaEventRecord");
      Check(cudaStreamWaitEvent(own_, ready, 0), "cudaStreamWaitEvent");
      cudaEventDestroy(ready);
      Check(cudaStreamBeginCapture(own_, cudaStreamCaptureModeThreadLocal), "begin capture");
      cudaGraph_t graph = nullptr;
      try {
        Check(LaunchPackWeights(launch, own_), "PackWeights launch");
        Check(LaunchSample(launch, 0, own_), "Sample launch");
        for (int i = 0; i < launch.max_iterations; ++i) {
          Check(LaunchRollout(launch, i, own_), "Rollout launch");
          Check(LaunchRefitAndSample(launch, i, own_), "RefitAndSample launch");
        }
      } catch (...) {
        cudaStreamEndCapture(own_, &graph);
        if (graph) cudaGraphDestroy(graph);
        throw;
      }
      Check(cudaStreamEndCapture(own_, &graph), "end capture");
      cudaGraphExec_t exec = nullptr;
      const cudaError_t inst = cudaGraphInstantiate(&exec, graph, 0);
      cudaGraphDestroy(graph);
      Check(inst, "cudaGraphInstantiate");
      graph_ = exec;
      graph_key_ = launch.shape_key;
    }
    Check(cudaGraphLaunch(graph_, stream_), "cudaGraphLaunch");
  }

  // Each kernel may use the dynamic shared memory this shape needs (not more), if the device
  // allows it; otherwise one line saying which kernel needs how much.
  void AllowSharedMemory(const PlanLaunch& launch) {
    const kernels::LaunchShape s = kernels::ShapeOf(launch);
    const kernels::SmemNeed over = kernels::SmemOverLimit(s, smem_optin_);
    MBRLHPO_CHECK(over.kernel == nullptr, "CUDA planner: the ", over.kernel ? over.kernel : "",
                  " kernel needs ", over.bytes, " bytes of shared memory per block (widest layer ",
                  s.max_width, ", population up to ", s.sort_size, "), but ", name_,
                  " allows at most ", smem_optin_,
                  ": expected narrower layers or a smaller population");
    Check(PrepareDeviceKernels(launch), "PrepareDeviceKernels");
  }

  void Finish() override {
    Check(cudaStreamSynchronize(stream_), "the planning kernels");
    Check(cudaGetLastError(), "the planning kernels");
  }

 private:
  int device_;
  std::string name_;
  cudaStream_t own_ = nullptr;
  cudaStream_t stream_ = nullptr;
  size_t smem_optin_ = 0;  // dynamic shared memory a block may opt in to
  int multiprocessors_ = 0;
  cudaGraphExec_t graph_ = nullptr;  // the current population shape's launch sequence
  uint64_t graph_key_ = 0;
};

}  // namespace

std::unique_ptr<Launcher> MakeDeviceLauncher(int device) {
  return std::make_unique<DeviceLauncher>(device);
}

}  // namespace mbrlhpo::cuda
