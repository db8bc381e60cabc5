// Kernel body Rollout: a tile of kRows rows of one ensemble model walks all H steps on chip
// (kRows = kTileRows, 64; or, where 64-row grids leave SMs idle, launch_shape.h ChooseTileRows,
// kTf32SmallTileRows, 48, for TF32 and kFp32SmallTileRows, 32, for float32; a row's arithmetic
// does not depend on kRows). Grid:
// num_members x max_ensemble x max_tiles blocks of kRolloutThreads threads; block (member, e,
// tile) takes rows [tile * kRows, tile * kRows + kRows) of model e (TS-inf rows: candidate
// i / per, particle j = i % per, global particle e * per + j, exactly as the CPU planner).
// Per step h:
//   1. row owners (thread r < kRows owns row r): x = ModelInput(state), append the candidate's
//      action, normalise (x - input_mean) / input_std into buffer `a` as Gemm::Input (rows past
//      the end: 0; columns up to a multiple of 8: 0);
//   2. hidden layers (bias + swish fused) and the output layer through the Gemm policy (its
//      weights: Gemm::Weights, the packed copy for Tf32Mma), ping-ponging between buffers a and b;
//   3. every (row, dim): bounded log-variance, Gaussian noise of the counter RNG (stream 1,
//      element h * O + o), next state (delta or absolute) written over the state;
//   4. row owners: Task::Reward / Task::Terminated of the next state, return kept in a register
//      (no reward after termination).
// At the end row owners write row_returns[e * rows + row]. Shared memory: RolloutSmemBytes.
#pragma once

#include "mbrlhpo/cuda/kernels/common.h"
#include "mbrlhpo/cuda/kernels/gemm.h"
#include "mbrlhpo/planner_math.h"
#include "mbrlhpo/rng.h"

namespace mbrlhpo::cuda::kernels {

inline constexpr int kTileRows = 64;
inline constexpr int kTf32SmallTileRows = 48;  // TF32 only (3 m16 tiles)
inline constexpr int kFp32SmallTileRows = 32;  // float32 only (Fp32Fma tiles of 4 x 10)
inline constexpr int kActPad = 4;  // shared row stride = width + 4 floats (fewer bank conflicts)

// Shared row stride of the activation buffers for layers up to `max_width` wide.
MBRLHPO_HOST_DEVICE inline int ActStride(int max_width) { return RoundUp(max_width, 8) + kActPad; }

MBRLHPO_HOST_DEVICE inline size_t RolloutSmemBytes(int max_width, int max_obs_dim,
                                                   int tile_rows = kTileRows) {
  return sizeof(float) * (2 * static_cast<size_t>(tile_rows) * ActStride(max_width) +
                          static_cast<size_t>(tile_rows) * max_obs_dim);
}

// The launch's shape (maxima over members) and which members this instantiation plans: one
// launch per (task, gemm) pair present; blocks of other members return at once.
struct RolloutGrid {
  int max_ensemble, max_tiles, act_stride;
  int32_t task, gemm;
};

template <class Task, class Gemm, int kRows = kTileRows, class Ctx>
MBRLHPO_HOST_DEVICE void Rollout(Ctx& c, const MemberArgs* members, int num_members,
                                 RolloutGrid grid, int iteration) {
  constexpr int kO = Task::kObsDim, kA = Task::kActDim, kMi = Task::kModelInputDim;
  const int tile = c.bid() % grid.max_tiles;
  const int e = (c.bid() / grid.max_tiles) % grid.max_ensemble;
  const int member = c.bid() / grid.max_tiles / grid.max_ensemble;
  if (member >= num_members) return;
  const MemberArgs& m = members[member];
  const int rows = RowsPerModel(m);
  if (m.task != grid.task || m.gemm != grid.gemm) return;
  if (iteration >= m.iterations || e >= m.ensemble_size || tile * kRows >= rows) return;
  const int per = m.particles / m.ensemble_size, horizon = m.horizon;
  const int stride = grid.act_stride;
  float* buf_a = c.template smem<float>();
  float* buf_b = buf_a + kRows * stride;
  float* state = buf_b + kRows * stride;  // kRows x kO
  // row owner's registers
  const int r = c.tid();
  const int row = tile * kRows + r;
  const bool owner = r < kRows, valid = owner && row < rows;
  const int cand = valid ? row / per : 0;
  const float* actions = m.candidates + static_cast<int64_t>(cand) * horizon * kA;
  float ret = 0.0f;
  bool done = false;
  if (owner) {
    for (int o = 0; o < kO; ++o) c.sts(&state[r * kO + o], valid ? m.obs[o] : 0.0f);
  }
  const uint32_t prefix =
      rng::PrefixKey(m.seed, rng::kStreamState, m.step, static_cast<uint32_t>(iteration));
  const int last = m.num_layers - 1;
  for (int h = 0; h < horizon; ++h) {
    // 1. normalised model input
    if (owner) {
      float s[kO];
      float x[kMi];
      MBRLHPO_UNROLL
      for (int o = 0; o < kO; ++o) s[o] = c.lds(&state[r * kO + o]);
      Task::template ModelInput<float>(s, x);
      float* xa = buf_a + r * stride;
      MBRLHPO_UNROLL
      for (int d = 0; d < kMi; ++d) {
        c.sts(&xa[d], Gemm::Input(c, valid ? (x[d] - m.input_mean[d]) / m.input_std[d] : 0.0f));
      }
      MBRLHPO_UNROLL
      for (int a = 0; a < kA; ++a) {
        const int d = kMi + a;
        const float v = valid ? (actions[h * kA + a] - m.input_mean[d]) / m.input_std[d] : 0.0f;
        c.sts(&xa[d], Gemm::Input(c, v));
      }
      MBRLHPO_UNROLL
      for (int d = kMi + kA; d < RoundUp(kMi + kA, 8); ++d) c.sts(&xa[d], 0.0f);  // k-tail
    }
    c.sync();
    // 2. layers; two named pointers swapped (a run-time indexed pair would live in local memory)
    float* cur = buf_a;
    float* nxt = buf_b;
    for (int l = 0; l <= last; ++l) {
      const int k = m.layer_sizes[l], n = m.layer_sizes[l + 1];
      LayerArgs la{cur,
                   stride,
                   k,
                   Gemm::Weights(m, l, e),
                   m.biases[l] + static_cast<int64_t>(e) * n,
                   n,
                   nxt,
                   stride,
                   l < last,
                   l < last};
      Gemm::template Layer<kRows>(c, la);
      c.sync();
      float* t = cur;
      cur = nxt;
      nxt = t;
    }
    // 3. next state from [mean, raw logvar] in cur
    for (int i = c.tid(); i < kRows * kO; i += c.nthreads()) {
      const int rr = i / kO, o = i % kO;
      const int rrow = tile * kRows + rr;
      if (rrow >= rows) continue;
      const int n_c = rrow / per, j = rrow % per;
      const uint32_t key =
          rng::RowKey(prefix, static_cast<uint32_t>(n_c * m.particles + e * per + j));
      const float mu = c.lds(&cur[rr * stride + o]);
      const float raw = c.lds(&cur[rr * stride + kO + o]);
      const float lv = planner_math::BoundedLogVar(raw, m.max_logvar[o], m.min_logvar[o]);
      const float z = planner_math::Gaussian(key, static_cast<uint32_t>(h * kO + o));
      const float old = c.lds(&state[rr * kO + o]);
      c.sts(&state[rr * kO + o],
            planner_math::NextState(mu, lv, z, old, IsAbsoluteTarget<Task>(o)));
    }
    c.sync();
    // 4. reward and termination
    if (valid) {
      float s[kO];
      float act[kA];
      MBRLHPO_UNROLL
      for (int o = 0; o < kO; ++o) s[o] = c.lds(&state[r * kO + o]);
      MBRLHPO_UNROLL
      for (int a = 0; a < kA; ++a) act[a] = actions[h * kA + a];
      const float rew = Task::template Reward<float>(act, s);
      if (!done) ret = planner_math::AddRn(ret, rew);
      if (Task::template Terminated<float>(s)) done = true;
    }
  }
  if (valid) m.row_returns[static_cast<int64_t>(e) * rows + row] = ret;
}

}  // namespace mbrlhpo::cuda::kernels
