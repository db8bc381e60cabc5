// The contract between the CUDA planner's driver and its kernels: plain data (no STL) describing
// one launch sequence over a population of members, as the kernels read it. The driver fills one
// MemberArgs per member on the host, copies the array into kernel-visible memory before every
// plan (so a captured CUDA graph reads the new step, observation and weight pointers), and owns
// every buffer the pointers name (device memory on the device launcher, host memory on the host
// launcher).
//
// Who writes what (one launch sequence = PackWeights, Sample(0), then for it in [0, I):
// Rollout(it), RefitAndSample(it)):
//   driver          : every MemberArgs field; the warm start (H x A) into `mean` before Sample(0).
//   PackWeights     : packed_weights of TF32 members (from `weights`, read at every plan: the
//                     model may have been trained in place since the last one).
//   Sample(0)       : var = (high - low)^2 / 16, candidates of iteration 0.
//   Rollout(it)     : row_returns.
//   RefitAndSample  : returns, elites, mean, var (alpha blend), the traces (when non-null), and
//                     the candidates of iteration it + 1 when it + 1 < iterations. After the last
//                     refit `mean` holds the final CEM mean (the driver copies it out).
// A member with it >= its own `iterations` is skipped by every launch of iteration it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mbrlhpo/host_device.h"
#include "mbrlhpo/tasks/builtin.h"

namespace mbrlhpo::cuda {

inline constexpr int kMaxLayers = 8;  // linear layers per model, hidden and output

// The tasks the kernels are instantiated for: the built-in list (mbrlhpo/tasks/builtin.h, the
// same ids as mbrlhpo::TaskId) and the two analytic test tasks of csrc/src/planner_test_tasks.h.
enum class TaskId : int32_t {
#define MBRLHPO_TASK_ID(Type) k##Type,
  MBRLHPO_BUILTIN_TASKS(MBRLHPO_TASK_ID)
#undef MBRLHPO_TASK_ID
      kTestLinear,
  kTestPendulum
};

// Arithmetic of the MLP layers: TF32 tensor cores (mma.sync m16n8k8, float32 accumulation; the
// GPU default) or float32 FMA (the reference).
enum class Gemm : int32_t { kTf32 = 0, kFloat32 = 1 };

struct MemberArgs {
  // model, read in place (E x in x out weights, E x 1 x out biases, row-major)
  int32_t task = 0;  // TaskId
  int32_t gemm = 0;  // Gemm
  int32_t ensemble_size = 0;
  int32_t num_layers = 0;
  int32_t layer_sizes[kMaxLayers + 1] = {};
  const float* weights[kMaxLayers] = {};
  const float* biases[kMaxLayers] = {};
  // TF32 members: each layer's weights packed for the tensor cores (E x Tf32Packed::Words floats,
  // kernels/gemm.h), in a driver-owned buffer; null for float32 members
  float* packed_weights[kMaxLayers] = {};
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
  // rows per block of the TF32 and of the float32 members' Rollout: 64, or where 64-row blocks
  // leave SMs idle 48 (TF32) and 32 (float32): the driver's choice from the device's SM count,
  // kernels::ChooseTileRows
  int32_t tf32_tile_rows = 64;
  int32_t fp32_tile_rows = 64;
};

// Bytes of each buffer one member needs (0 for the traces when not wanted), from the sizes in
// `m` (horizon, act_dim, population, particles, num_elites, iterations).
struct MemberBufferBytes {
  size_t mean, var, candidates, row_returns, returns, elites;
  size_t trace_returns, trace_elites, trace_means, trace_vars;
};

MBRLHPO_HOST_DEVICE inline MemberBufferBytes BufferBytes(const MemberArgs& m, bool traces) {
  const size_t ha = static_cast<size_t>(m.horizon) * m.act_dim;
  const size_t n = static_cast<size_t>(m.population), it = static_cast<size_t>(m.iterations);
  const size_t k = static_cast<size_t>(m.num_elites), f = sizeof(float), i32 = sizeof(int32_t);
  MemberBufferBytes b{};
  b.mean = ha * f;
  b.var = ha * f;
  b.candidates = n * ha * f;
  b.row_returns = n * static_cast<size_t>(m.particles) * f;
  b.returns = n * f;
  b.elites = k * i32;
  b.trace_returns = traces ? it * n * f : 0;
  b.trace_elites = traces ? it * k * i32 : 0;
  b.trace_means = traces ? it * ha * f : 0;
  b.trace_vars = traces ? it * ha * f : 0;
  return b;
}

}  // namespace mbrlhpo::cuda
