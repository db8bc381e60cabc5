// Grid and shared-memory sizes of the three kernels for a PlanLaunch, from the host copy of the
// members (shared by the device and the host launch functions, so both run the same blocks).
#pragma once

#include <cstddef>

#include "mbrlhpo/cuda/kernels/common.h"
#include "mbrlhpo/cuda/kernels/gemm.h"
#include "mbrlhpo/cuda/kernels/refit.h"
#include "mbrlhpo/cuda/kernels/rollout.h"
#include "mbrlhpo/cuda/plan_kernels.h"

namespace mbrlhpo::cuda::kernels {

static_assert(kRolloutThreads == 32 * kTf32Warps,
              "Tf32Mma's packed layout is for the rollout's warps");

struct LaunchShape {
  // PackWeights: (member, layer, ensemble model, chunk of kPackThreads packed words)
  int max_layers = 1, pack_blocks_per_matrix = 1;
  int sample_blocks_per_member = 1;
  int sort_size = 2;
  size_t refit_smem = 0;
  int max_ensemble = 1, max_tiles = 1, max_width = 0, max_obs = 0;
  size_t rollout_smem = 0;
};

inline LaunchShape ShapeOf(const PlanLaunch& launch) {
  LaunchShape s;
  int max_elems = 1, max_pop = 1;
  for (int i = 0; i < launch.num_members; ++i) {
    const MemberArgs& m = launch.host_members[i];
    const int elems = m.population * m.horizon * m.act_dim;
    max_elems = elems > max_elems ? elems : max_elems;
    max_pop = m.population > max_pop ? m.population : max_pop;
    s.max_ensemble = m.ensemble_size > s.max_ensemble ? m.ensemble_size : s.max_ensemble;
    const int tiles = (RowsPerModel(m) + kTileRows - 1) / kTileRows;
    s.max_tiles = tiles > s.max_tiles ? tiles : s.max_tiles;
    const int w = MaxLayerWidth(m);
    s.max_width = w > s.max_width ? w : s.max_width;
    s.max_obs = m.obs_dim > s.max_obs ? m.obs_dim : s.max_obs;
    s.max_layers = m.num_layers > s.max_layers ? m.num_layers : s.max_layers;
    for (int l = 0; m.gemm == static_cast<int32_t>(Gemm::kTf32) && l < m.num_layers; ++l) {
      const size_t words = Tf32Packed::Words(m.layer_sizes[l], m.layer_sizes[l + 1]);
      const int blocks = static_cast<int>((words + kPackThreads - 1) / kPackThreads);
      s.pack_blocks_per_matrix =
          blocks > s.pack_blocks_per_matrix ? blocks : s.pack_blocks_per_matrix;
    }
  }
  s.sample_blocks_per_member = (max_elems + kSampleThreads - 1) / kSampleThreads;
  s.sort_size = SortSize(max_pop);
  s.refit_smem = RefitSmemBytes(max_pop);
  s.rollout_smem = RolloutSmemBytes(s.max_width, s.max_obs);
  return s;
}

// Most dynamic shared memory one block may use on any supported device (227 KB on sm_90, the
// largest opt-in; sm_80 allows 163 KB: the device launcher checks its own device's limit with
// SmemOverLimit).
inline constexpr size_t kMaxSmemBytes = 227 * 1024;

// A kernel of a launch whose blocks need more dynamic shared memory than `optin_bytes` (the
// device's cudaDevAttrMaxSharedMemoryPerBlockOptin), and how much; kernel null when all fit.
struct SmemNeed {
  const char* kernel = nullptr;
  size_t bytes = 0;
};

inline SmemNeed SmemOverLimit(const LaunchShape& s, size_t optin_bytes) {
  if (s.rollout_smem > optin_bytes) return {"Rollout", s.rollout_smem};
  if (s.refit_smem > optin_bytes) return {"RefitAndSample", s.refit_smem};
  return {};
}

}  // namespace mbrlhpo::cuda::kernels

namespace mbrlhpo::cuda {

// Why the kernels cannot plan member `m` (nullptr: they can): an unknown task, a population
// above kMaxPopulation, more than kMaxLayers layers, a model too wide for one block's shared
// memory, particles not a multiple of the ensemble size.
inline const char* UnsupportedReason(const MemberArgs& m) {
  if (m.task < 0 || m.task > static_cast<int32_t>(TaskId::kTestPendulum)) return "unknown task id";
  if (m.gemm != static_cast<int32_t>(Gemm::kTf32) &&
      m.gemm != static_cast<int32_t>(Gemm::kFloat32)) {
    return "unknown gemm (expected 0 = tf32 or 1 = float32)";
  }
  if (m.population < 1 || m.population > kMaxPopulation) {
    return "population outside [1, 4096] (the elite sort runs in one block)";
  }
  if (m.num_layers < 1 || m.num_layers > kMaxLayers) return "number of layers outside [1, 8]";
  if (m.ensemble_size < 1 || m.particles % m.ensemble_size != 0) {
    return "particles not a positive multiple of the ensemble size";
  }
  if (kernels::RolloutSmemBytes(MaxLayerWidth(m), m.obs_dim) > kernels::kMaxSmemBytes) {
    return "layers too wide for one block's shared memory (2 x 64 rows x width floats)";
  }
  return nullptr;
}

}  // namespace mbrlhpo::cuda
