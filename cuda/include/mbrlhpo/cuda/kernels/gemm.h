// The two arithmetic policies of the rollout's layers: out (kRows x N) = act(in (kRows x K) @ W
// (K x N, row-major, read in place) + bias), activations in shared memory (row stride `in_stride`
// / `out_stride` floats). Any K and N (tails are zero-filled on load and not stored).
//   Fp32Fma: one thread per output element, k in order, one fmaf per term (the reference).
//   Tf32Mma: warp w takes the 8-column tiles w, w + 4, ...; per 8-deep k step one
//            mma.sync m16n8k8 per 16-row tile, operands rounded by cvt.rna.tf32, float32
//            accumulators in registers; bias + swish fused in the epilogue.
#pragma once

#include <math.h>

#include <cstdint>

#include "mbrlhpo/cuda/kernels/common.h"
#include "mbrlhpo/host_device.h"
#include "mbrlhpo/planner_math.h"

namespace mbrlhpo::cuda::kernels {

// n-tiles (8 columns each) one warp keeps in registers per pass (read by bench/static_model.py).
inline constexpr int kWarpNTiles = 1;

struct LayerArgs {
  const float* in;  // shared, kRows x in_stride
  int in_stride, k;
  const float* w;     // global, K x N
  const float* bias;  // global, N
  int n;
  float* out;  // shared, kRows x out_stride
  int out_stride;
  bool swish;
};

MBRLHPO_HOST_DEVICE inline float Epilogue(float acc, float bias, bool swish) {
  const float v = planner_math::AddRn(acc, bias);
  return swish ? planner_math::Swish(v) : v;
}

struct Fp32Fma {
  template <int kRows, class Ctx>
  MBRLHPO_HOST_DEVICE static void Layer(Ctx& c, const LayerArgs& l) {
    for (int i = c.tid(); i < kRows * l.n; i += c.nthreads()) {
      const int r = i / l.n, col = i % l.n;
      const float* in_row = l.in + r * l.in_stride;
      float acc = 0.0f;
      for (int k = 0; k < l.k; ++k) acc = fmaf(c.lds(&in_row[k]), l.w[k * l.n + col], acc);
      c.sts(&l.out[r * l.out_stride + col], Epilogue(acc, l.bias[col], l.swish));
    }
  }
};

struct Tf32Mma {
  template <int kRows, class Ctx>
  MBRLHPO_HOST_DEVICE static void Layer(Ctx& c, const LayerArgs& l) {
    static_assert(kRows % 16 == 0, "Tf32Mma works on 16-row tiles");
    constexpr int kMTiles = kRows / 16;
    const int warp = c.tid() / 32, lane = c.tid() % 32, nwarps = c.nthreads() / 32;
    const int g = lane >> 2, q = lane & 3;
    const int n_tiles = (l.n + 7) / 8;
    for (int nt = warp; nt < n_tiles; nt += nwarps) {
      const int n0 = nt * 8;
      const int bcol = n0 + g;  // this lane's B column
      float acc[kMTiles][4];
      MBRLHPO_UNROLL
      for (int mt = 0; mt < kMTiles; ++mt) {
        MBRLHPO_UNROLL
        for (int i = 0; i < 4; ++i) acc[mt][i] = 0.0f;
      }
      for (int k0 = 0; k0 < l.k; k0 += 8) {
        const int ka = k0 + q, kb = k0 + q + 4;
        const bool ka_in = ka < l.k, kb_in = kb < l.k, col_in = bcol < l.n;
        const uint32_t bf[2] = {c.tf32(ka_in && col_in ? l.w[ka * l.n + bcol] : 0.0f),
                                c.tf32(kb_in && col_in ? l.w[kb * l.n + bcol] : 0.0f)};
        MBRLHPO_UNROLL
        for (int mt = 0; mt < kMTiles; ++mt) {
          const float* r0 = l.in + (mt * 16 + g) * l.in_stride;
          const float* r8 = r0 + 8 * l.in_stride;
          const uint32_t af[4] = {
              c.tf32(ka_in ? c.lds(&r0[ka]) : 0.0f), c.tf32(ka_in ? c.lds(&r8[ka]) : 0.0f),
              c.tf32(kb_in ? c.lds(&r0[kb]) : 0.0f), c.tf32(kb_in ? c.lds(&r8[kb]) : 0.0f)};
          c.mma_tf32(acc[mt], af, bf);
        }
      }
      MBRLHPO_UNROLL
      for (int mt = 0; mt < kMTiles; ++mt) {
        MBRLHPO_UNROLL
        for (int i = 0; i < 4; ++i) {
          const int row = mt * 16 + g + (i >= 2 ? 8 : 0);
          const int col = n0 + 2 * q + (i & 1);
          if (col < l.n) {
            c.sts(&l.out[row * l.out_stride + col], Epilogue(acc[mt][i], l.bias[col], l.swish));
          }
        }
      }
    }
  }
};

}  // namespace mbrlhpo::cuda::kernels
