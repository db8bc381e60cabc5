// Grid and shared-memory sizes of the three kernels for a PlanLaunch, from the host copy of the
// members (shared by the device and the host launch functions, so both run the same blocks).
#pragma once

#include <cstddef>
#include <type_traits>

#include "mbrlhpo/cuda/kernels/common.h"
#include "mbrlhpo/cuda/kernels/gemm.h"
#include "mbrlhpo/cuda/kernels/refit.h"
#include "mbrlhpo/cuda/kernels/rollout.h"
#include "mbrlhpo/cuda/plan_kernels.h"

namespace mbrlhpo::cuda::kernels {

static_assert(kRolloutThreads == 32 * kTf32Warps,
              "Tf32Mma's packed layout is for the rollout's warps");
static_assert(kTileRows == kRolloutTileRows && kTf32SmallTileRows == kRolloutTf32SmallTileRows &&
                  kFp32SmallTileRows == kRolloutFp32SmallTileRows,
              "the contract's tile rows are the rollout's");
static_assert(kTileRows <= kRolloutThreads, "a Rollout block has one row owner per row");

struct LaunchShape {
  // PackWeights: (member, layer, ensemble model, chunk of kPackThreads packed words)
  int max_layers = 1, pack_blocks_per_matrix = 1;
  int sample_blocks_per_member = 1;
  int sort_size = 2;
  size_t refit_smem = 0;
  // Rollout: blocks per launch from RolloutOf (TF32 at tf32_tile_rows rows, float32 at
  // fp32_tile_rows); rollout_smem is a 64-row block's, the most any rollout block needs.
  int max_ensemble = 1, max_width = 0, max_obs = 0, max_rows = 1;
  int tf32_tile_rows = kTileRows, fp32_tile_rows = kTileRows;
  size_t rollout_smem = 0;
};

// One Rollout launch's blocks: rows per block, tiles per ensemble model, shared memory per block.
struct RolloutBlocks {
  int rows, tiles;
  size_t smem;
};

inline RolloutBlocks RolloutOf(const LaunchShape& s, int32_t gemm) {
  const int rows = gemm == static_cast<int32_t>(Gemm::kTf32) ? s.tf32_tile_rows : s.fp32_tile_rows;
  return {rows, (s.max_rows + rows - 1) / rows, RolloutSmemBytes(s.max_width, s.max_obs, rows)};
}

// Calls fn(Gemm policy{}, std::integral_constant<int, rows>{}) for the Rollout instantiation of
// (gemm, rows per block from RolloutOf): the variants both launchers build (float32 at 64 or
// kFp32SmallTileRows, TF32 at 64 or kTf32SmallTileRows).
template <class Fn>
void WithRolloutVariant(int32_t gemm, int rows, Fn&& fn) {
  using Large = std::integral_constant<int, kTileRows>;
  if (gemm != static_cast<int32_t>(Gemm::kTf32)) {
    if (rows == kFp32SmallTileRows) {
      fn(Fp32Fma{}, std::integral_constant<int, kFp32SmallTileRows>{});
    } else {
      fn(Fp32Fma{}, Large{});
    }
  } else if (rows == kTf32SmallTileRows) {
    fn(Tf32Mma{}, std::integral_constant<int, kTf32SmallTileRows>{});
  } else {
    fn(Tf32Mma{}, Large{});
  }
}

inline LaunchShape ShapeOf(const PlanLaunch& launch) {
  LaunchShape s;
  int max_elems = 1, max_pop = 1;
  for (int i = 0; i < launch.num_members; ++i) {
    const MemberArgs& m = launch.host_members[i];
    const int elems = m.population * m.horizon * m.act_dim;
    max_elems = elems > max_elems ? elems : max_elems;
    max_pop = m.population > max_pop ? m.population : max_pop;
    s.max_ensemble = m.ensemble_size > s.max_ensemble ? m.ensemble_size : s.max_ensemble;
    s.max_rows = RowsPerModel(m) > s.max_rows ? RowsPerModel(m) : s.max_rows;
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
  s.tf32_tile_rows = launch.tf32_tile_rows == kTf32SmallTileRows ? kTf32SmallTileRows : kTileRows;
  s.fp32_tile_rows = launch.fp32_tile_rows == kFp32SmallTileRows ? kFp32SmallTileRows : kTileRows;
  s.sample_blocks_per_member = (max_elems + kSampleThreads - 1) / kSampleThreads;
  s.sort_size = SortSize(max_pop);
  s.refit_smem = RefitSmemBytes(max_pop);
  s.rollout_smem = RolloutSmemBytes(s.max_width, s.max_obs);
  return s;
}

// Rows per block of a launch's Rollout for the members of one gemm (TF32 or float32) on a device
// with `multiprocessors` SMs (the driver's choice, PlanLaunch::tf32_tile_rows and
// fp32_tile_rows): 64 or the gemm's smaller block (TF32 48, float32 32), whichever has the
// smaller of two bounds of bench/static_model.py (which prints this choice for the paper step and
// for 40 members), in thousandths of a clock per (k step of 8, n-tile of 8):
//  - compute: the busiest SM runs ceil(blocks / SMs) blocks, each rows x a per-row cost:
//    TF32 rows / 16 MMAs at 0.5 per clock, 125 per row at either size; float32 64 FFMAs per row
//    at 128 per clock (500) times the instructions per FFMA of the model's paper step (loads,
//    loop, epilogue), which rise at 32 rows, where the strips' last tiles are 1 row high;
//  - L2: every block loads its weights from L2 at every step (they do not fit beside the shared
//    memory in L1), 256 B per (k step, n-tile), whatever its rows, for the whole GPU at 7 TB/s
//    (an assumption: 4,000 B per clock at 1.755 GHz): 64 per block.
// Smaller blocks even out the SMs' load but load the weights for fewer rows. The paper step on
// 132 SMs, TF32: one member, 64 rows: max(2 x 64 x 125, 160 x 64) = 16,000; 48 rows: max(2 x 48 x
// 125, 210 x 64) = 13,440: 48. Forty members: max(49 x 8,000, 6,400 x 64) = 409,600 against
// max(64 x 6,000, 8,400 x 64) = 537,600: 64. Float32: see kFp32CostPerRow. Multiprocessors 0
// (unknown): 64.
inline constexpr int64_t kTensorCostPerRow = 125, kL2CostPerBlock = 64;
// Float32's per-row costs at 64 and at 32 rows: 500 x the static model's warp instructions
// (k-loops and epilogue) per useful FFMA at the paper step (bench/static_model.py): 64 rows
// 342,512 per 264,400 (1.295: 648); 32 rows 186,266 per 132,200 (1.409: 704; each warp's fifth
// strip of a 200-wide layer in 1-row tiles). One member: max(2 x 64 x 648, 160 x 64) = 82,944
// against max(3 x 32 x 704, 315 x 64) = 67,584: 32. Forty members: 49 x 64 x 648 = 2,032,128
// against 96 x 32 x 704 = 2,162,688: 64 (the model: 14.64 / 11.94 ms, 359 / 382 ms).
inline constexpr int64_t kFp32CostPerRow = 648, kFp32SmallCostPerRow = 704;

inline int ChooseTileRows(const MemberArgs* members, int num_members, int multiprocessors,
                          Gemm gemm) {
  if (multiprocessors < 1) return kTileRows;
  const bool tf32 = gemm == Gemm::kTf32;
  const int small = tf32 ? kTf32SmallTileRows : kFp32SmallTileRows;
  auto cost = [&](int rows) {
    int64_t blocks = 0;  // blocks with work
    for (int i = 0; i < num_members; ++i) {
      const MemberArgs& m = members[i];
      if (m.gemm != static_cast<int32_t>(gemm)) continue;
      blocks += static_cast<int64_t>(m.ensemble_size) * ((RowsPerModel(m) + rows - 1) / rows);
    }
    const int64_t fp32_per_row = rows == kTileRows ? kFp32CostPerRow : kFp32SmallCostPerRow;
    const int64_t per_row = tf32 ? kTensorCostPerRow : fp32_per_row;
    const int64_t busiest = (blocks + multiprocessors - 1) / multiprocessors;
    const int64_t compute = busiest * rows * per_row, l2 = blocks * kL2CostPerBlock;
    return compute > l2 ? compute : l2;
  };
  return cost(small) < cost(kTileRows) ? small : kTileRows;
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
