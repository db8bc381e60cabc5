// The CUDA PETS planner: the same algorithm and the same counter-based noise as the CPU
// CemPlanner (cem_planner.h), run by three kernels over a whole population in every launch:
// Sample -> I x (Rollout -> RefitAndSample) (CUDA.md 5.2). The driver here owns the buffers and
// the launch order; where the kernels run is the Launcher's business (launcher.h), so the same
// driver is tested on the host emulator in CI and runs on the GPU in the module.
//
// Members are CemMember values as for the CPU planner: the model pointers (net.*) point into
// kernel-visible memory (the model's CUDA tensors on the device launcher, read in place); obs,
// init_mean, bounds, out_mean and the optional traces are host pointers. Nothing is allocated
// per call once a population shape has been seen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mbrlhpo/cem_planner.h"
#include "mbrlhpo/cuda/launcher.h"
#include "mbrlhpo/cuda/plan_args.h"  // Gemm

namespace mbrlhpo::cuda {

struct CudaMember {
  CemMember cem;
  Gemm gemm = Gemm::kTf32;
};

class CudaPlanner {
 public:
  explicit CudaPlanner(std::unique_ptr<Launcher> launcher);
  ~CudaPlanner();
  CudaPlanner(const CudaPlanner&) = delete;
  CudaPlanner& operator=(const CudaPlanner&) = delete;

  // Plans all members in one pass of launches on `stream` (a cudaStream_t; nullptr: the
  // launcher's own). Validates first (throws mbrlhpo::Error naming the member and what was
  // expected). Returns when the results are in the host outputs. Thread-safe (serialised).
  void Plan(std::vector<CudaMember>& members, void* stream = nullptr);

  const Launcher& launcher() const { return *launcher_; }
  // How many times the launch sequence was set up anew (a new population shape): tests check
  // that repeated steps of one shape reuse buffers and the graph.
  int64_t num_setups() const;

 private:
  struct State;
  std::unique_ptr<Launcher> launcher_;
  std::unique_ptr<State> state_;
};

// Tasks the CUDA planner's kernels are instantiated for.
std::vector<std::string> CudaPlannerTaskNames();

}  // namespace mbrlhpo::cuda
