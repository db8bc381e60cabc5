// The native CPU PETS planner: CEM over TS-inf trajectory sampling, bit-for-bit the algorithm
// of src/mbrlhpo/planning/torch_planner.py (the reference), on counter-based noise (rng.h).
//
// One CemPlanner owns a thread pool and per-thread scratch; Plan() runs any number of
// independent members (own weights, task, CEM settings, seed) in one call. Work items are
// (member, ensemble member e, tile of rows); a tile walks all H steps and all layers with its
// activations in cache. Buffers grow only when a larger configuration appears; nothing is
// allocated per step. Results do not depend on the thread count.
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

// One planning problem. Pointers are the caller's; outputs are written in place.
struct CemMember {
  const PlannerTask* task = nullptr;
  EnsembleView net;
  CemSettings cem;
  uint64_t seed = 0;
  uint32_t step = 0;  // plan counter (the RNG's step)
  Precision precision = Precision::kFloat32;
  const float* obs = nullptr;          // O
  const float* init_mean = nullptr;    // H x A warm start
  const float* action_low = nullptr;   // A
  const float* action_high = nullptr;  // A
  float* out_mean = nullptr;           // H x A: the final CEM mean
  // Optional trace (may be null): returns (I x N), elites (I x K, best first),
  // means / variances after each iteration (I x H x A).
  float* trace_returns = nullptr;
  int32_t* trace_elites = nullptr;
  float* trace_means = nullptr;
  float* trace_vars = nullptr;
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

  // Plans all members; validates them first (throws mbrlhpo::Error). Writes each member's
  // outputs (out_mean, trace) through its pointers. Thread-safe (serialised).
  void Plan(const std::vector<CemMember>& members);

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
  int Prepare(const std::vector<CemMember>& members);
  void StartFromWarmStart(const std::vector<CemMember>& members);
  void SampleActions(const std::vector<CemMember>& members, int iteration);
  void RolloutReturns(const std::vector<CemMember>& members, int iteration);
  void RefitDistribution(const std::vector<CemMember>& members, int iteration);
  void WriteMeans(const std::vector<CemMember>& members);
  void RolloutTile(const CemMember& m, MemberState& st, int iteration, int e, int row_begin,
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
