// The CUDA PETS planner: the same algorithm and the same counter-based noise as the CPU
// CemPlanner (cem_planner.h), run by four kernels over a whole population in every launch:
// PackWeights -> Sample -> I x (Rollout -> RefitAndSample) (CUDA.md 5.2). The driver here owns the
// buffers and the launch order; where the kernels run is the Launcher's business (launcher.h), so
// the same driver is tested on the host emulator in CI and runs on the GPU in the module.
//
// Each member's part of a call is a PlanRequest as for the CPU planner (problem, inputs,
// outputs) plus its GEMM precision: the model pointers (problem.net.*) point into kernel-visible
// memory (the model's CUDA tensors on the device launcher, read in place); the bounds, the
// inputs (obs, warm start) and the outputs (final mean, optional trace) are host pointers.
// Nothing is allocated per call once a population shape has been seen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mbrlhpo/cem_planner.h"
#include "mbrlhpo/cuda/launcher.h"
#include "mbrlhpo/cuda/plan_args.h"  // Gemm

namespace mbrlhpo::cuda {

// One member's part of a CudaPlanner::Plan() call.
struct CudaPlanRequest {
  PlanRequest request;      // problem, inputs, outputs: as for the CPU planner
  Gemm gemm = Gemm::kTf32;  // part of the problem: the rollout GEMMs' precision
};

class CudaPlanner {
 public:
  explicit CudaPlanner(std::unique_ptr<Launcher> launcher);
  ~CudaPlanner();
  CudaPlanner(const CudaPlanner&) = delete;
  CudaPlanner& operator=(const CudaPlanner&) = delete;

  // Plans every request in one pass of launches on `stream` (a cudaStream_t; nullptr: the
  // launcher's own). Validates first (throws mbrlhpo::Error naming the member and what was
  // expected). Returns when the results are in the host outputs; reads nothing else but the
  // problems and inputs. Thread-safe (serialised).
  void Plan(const std::vector<CudaPlanRequest>& requests, void* stream = nullptr);

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
