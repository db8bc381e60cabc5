// The native CPU PETS planner: CEM over TS-inf trajectory sampling, bit-for-bit the algorithm
// of src/mbrlhpo/planning/torch_planner.py (the reference), on counter-based noise (rng.h).
//
// One CemPlanner (the engine) owns a thread pool and per-thread scratch; Plan() runs the
// requests of any number of independent members (each its own problem: weights, task, CEM
// settings, seed; its inputs; its outputs) in one call. Work items are (member, ensemble member
// e, tile of rows); a tile walks all H steps and all layers with its activations in cache.
// Buffers grow only when a larger configuration appears; nothing is allocated per step.
// Results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "mbrlhpo/ensemble_view.h"
#include "mbrlhpo/export.h"
#include "mbrlhpo/planner_task.h"

namespace mbrlhpo {

class ThreadPool;  // csrc/src/thread_pool.h

// The thread count the planner (and the batched environments) use when asked for 0: the CPUs
// this process may run on (sched_getaffinity: taskset, cgroup cpusets, Ray's and Slurm's
// pinning), at most OMP_NUM_THREADS when that is a positive integer; at least 1.
MBRLHPO_API int DefaultThreadCount();

// Arithmetic of the hidden-to-hidden layers: float32 (default) or BF16 inputs with fp32
// accumulation (AVX512_BF16 CPUs only; Plan() throws elsewhere).
enum class Precision { kFloat32 = 0, kBfloat16 = 1 };

struct MBRLHPO_API CemSettings {
  int horizon = 30;
  int population = 500;
  int num_elites = 50;
  int iterations = 5;
  float alpha = 0.1f;
  int particles = 20;
  void Validate(int ensemble_size) const;
};

// A plan request has three parts, named by role (the same vocabulary as
// src/mbrlhpo/planning/engine.py): the problem a member poses (fixed between its calls), one
// call's inputs, and where that call's outputs go. All pointers are the caller's: the planner
// reads the problem and the inputs and writes only through the outputs.

// The problem a member poses: task, model (weights read in place), CEM settings, arithmetic,
// noise seed and action bounds.
struct PlanProblem {
  const PlannerTask* task = nullptr;
  EnsembleView net;
  CemSettings cem;
  Precision precision = Precision::kFloat32;
  uint64_t seed = 0;                   // the counter-based noise's seed (rng.h)
  const float* action_low = nullptr;   // A
  const float* action_high = nullptr;  // A
};

// One call's inputs.
struct PlanInputs {
  const float* obs = nullptr;         // O: the current observation
  const float* warm_start = nullptr;  // H x A: the initial CEM mean
  uint32_t step = 0;                  // the plan counter (the noise's step)
};

// Where one call's results go: the final CEM mean, and an optional trace (each pointer may be
// null): returns (I x N), elites (I x K, best first), means / variances after each iteration
// (I x H x A).
struct PlanOutputs {
  float* mean = nullptr;  // H x A
  float* trace_returns = nullptr;
  int32_t* trace_elites = nullptr;
  float* trace_means = nullptr;
  float* trace_vars = nullptr;
};

// One member's part of a Plan() call.
struct PlanRequest {
  PlanProblem problem;
  PlanInputs inputs;
  PlanOutputs outputs;
};

class MBRLHPO_API CemPlanner {
 public:
  // num_threads <= 0: one per hardware thread. tile_rows: most rows per work item (each
  // ensemble member's rows are split into equal tiles, at least 2). 512 measured best on a
  // 2-core AVX-512 EPYC (docs/planner.md): bigger GEMMs amortise OpenBLAS's packing.
  explicit CemPlanner(int num_threads, int tile_rows = kDefaultTileRows);
  static constexpr int kDefaultTileRows = 512;
  ~CemPlanner();
  CemPlanner(const CemPlanner&) = delete;
  CemPlanner& operator=(const CemPlanner&) = delete;
  int num_threads() const;
  int tile_rows() const { return tile_rows_; }

  // Plans every request; validates them all first (throws mbrlhpo::Error naming the member).
  // Writes each request's results through its outputs' pointers; reads nothing else but its
  // problem and inputs. Thread-safe (serialised).
  void Plan(const std::vector<PlanRequest>& requests);

 private:
  struct MemberState;
  struct Scratch;
  // A unit of parallel work: candidates [begin, end) of a member (sampling) or rows
  // [begin, end) of ensemble member e of a member (rollouts).
  struct WorkItem {
    int member, e, begin, end;
  };

  // The steps of Plan(), named like torch_planner.py's: validate and size buffers (returns the
  // most iterations of any member), start from the warm start, then per iteration sample
  // actions, roll out returns and refit the distribution; finally write the means.
  int Prepare(const std::vector<PlanRequest>& requests);
  void StartFromWarmStart(const std::vector<PlanRequest>& requests);
  void SampleActions(const std::vector<PlanRequest>& requests, int iteration);
  void RolloutReturns(const std::vector<PlanRequest>& requests, int iteration);
  void RefitDistribution(const std::vector<PlanRequest>& requests, int iteration);
  void WriteMeans(const std::vector<PlanRequest>& requests);
  void RolloutTile(const PlanRequest& r, MemberState& st, int iteration, int e, int row_begin,
                   int row_end, Scratch& s);

  std::unique_ptr<ThreadPool> pool_;
  int tile_rows_;
  int max_width_ = 0;  // widest layer of the current Plan() call (bf16 scratch stride)
  std::mutex mutex_;
  std::vector<std::unique_ptr<Scratch>> scratch_;
  std::vector<std::unique_ptr<MemberState>> states_;
  std::vector<WorkItem> items_;  // reused across iterations and calls
};

}  // namespace mbrlhpo
