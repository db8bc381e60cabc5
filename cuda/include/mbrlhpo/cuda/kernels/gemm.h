// The two arithmetic policies of the rollout's layers: out (kRows x N) = act(in (kRows x K) @ W
// (K x N, row-major, read in place) + bias), activations in shared memory (row stride `in_stride`
// / `out_stride` floats). Any K and N (tails are zero-filled on load and not stored).
//   Fp32Fma: one thread per output element, k in order, one fmaf per term (the reference).
//   Tf32Mma: warp w takes the 8-column tiles w, w + 4, ..., kWarpNTiles at a time (register
//            tiling: each A fragment read once per k step feeds kWarpNTiles MMAs); per 8-deep
//            k step one mma.sync m16n8k8 per (16-row, 8-column) tile, float32 accumulators in
//            registers; bias + swish fused in the epilogue. Inputs are stored already rounded
//            by cvt.rna.tf32 (Input(), and the epilogue of a layer whose output is the next
//            one's input), with their k-tail up to a multiple of 8 stored as zeros; weights are
//            rounded as read.
#pragma once

#include <math.h>

#include <cstdint>
#include <cstring>

#include "mbrlhpo/cuda/kernels/common.h"
#include "mbrlhpo/cuda/simt.h"
#include "mbrlhpo/host_device.h"
#include "mbrlhpo/planner_math.h"

namespace mbrlhpo::cuda::kernels {

// Tf32Mma: n-tiles (8 columns each) one warp keeps in registers per pass, each A fragment
// feeding that many MMAs (read by bench/static_model.py).
inline constexpr int kWarpNTiles = 4;

MBRLHPO_HOST_DEVICE inline uint32_t FloatBits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

struct LayerArgs {
  const float* in;  // shared, kRows x in_stride
  int in_stride, k;
  const float* w;     // global, K x N
  const float* bias;  // global, N
  int n;
  float* out;  // shared, kRows x out_stride
  int out_stride;
  bool swish;
  bool to_layer = false;  // out is the next layer's input (Tf32Mma: stored rounded to tf32)
};

MBRLHPO_HOST_DEVICE inline float Epilogue(float acc, float bias, bool swish) {
  const float v = planner_math::AddRn(acc, bias);
  return swish ? planner_math::Swish(v) : v;
}

struct Fp32Fma {
  template <class Ctx>
  MBRLHPO_HOST_DEVICE static float Input(Ctx&, float v) {
    return v;
  }

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
  // Layer inputs are stored already rounded to tf32 (cvt.rna once per value, where it is
  // written, instead of once per read in every n-tile's k-loop): the k-loop passes their bits.
  template <class Ctx>
  MBRLHPO_HOST_DEVICE static float Input(Ctx& c, float v) {
    return simt::Tf32Value(c.tf32(v));
  }

  template <int kRows, class Ctx>
  MBRLHPO_HOST_DEVICE static void Layer(Ctx& c, const LayerArgs& l) {
    static_assert(kRows % 16 == 0, "Tf32Mma works on 16-row tiles");
    const int warp = c.tid() / 32, nwarps = c.nthreads() / 32;
    const int n_tiles = (l.n + 7) / 8;
    const int mine = warp < n_tiles ? (n_tiles - warp + nwarps - 1) / nwarps : 0;
    for (int p = 0; p < mine; p += kWarpNTiles) {
      const int left = mine - p;
      PassOf<kRows, kWarpNTiles>(c, l, p, left < kWarpNTiles ? left : kWarpNTiles);
    }
  }

 private:
  // A pass of `np` (<= kNp) tiles: the largest pass size first, so each size has its own
  // unrolled k-loop with all its accumulators in registers.
  template <int kRows, int kNp, class Ctx>
  MBRLHPO_HOST_DEVICE static void PassOf(Ctx& c, const LayerArgs& l, int p, int np) {
    if constexpr (kNp > 1) {
      if (np < kNp) {
        PassOf<kRows, kNp - 1>(c, l, p, np);
        return;
      }
    }
    Pass<kRows, kNp>(c, l, p);
  }

  // This warp's tiles p, p + 1, ..., p + kNp - 1 of its own (warp, warp + nwarps, ...): all
  // kRows rows x kNp * 8 columns. Per 8-deep k step the A fragments of the kRows / 16 m-tiles
  // are read once and feed kNp MMAs each; each accumulator gets its k steps in order (the sums
  // of the one-tile-per-warp form, bit for bit).
  template <int kRows, int kNp, class Ctx>
  MBRLHPO_HOST_DEVICE static void Pass(Ctx& c, const LayerArgs& l, int p) {
    constexpr int kMTiles = kRows / 16;
    const int warp = c.tid() / 32, lane = c.tid() % 32, nwarps = c.nthreads() / 32;
    const int g = lane >> 2, q = lane & 3;
    int n0[kNp];
    MBRLHPO_UNROLL
    for (int j = 0; j < kNp; ++j) n0[j] = (warp + (p + j) * nwarps) * 8;
    float acc[kNp][kMTiles][4];
    MBRLHPO_UNROLL
    for (int j = 0; j < kNp; ++j) {
      MBRLHPO_UNROLL
      for (int mt = 0; mt < kMTiles; ++mt) {
        MBRLHPO_UNROLL
        for (int i = 0; i < 4; ++i) acc[j][mt][i] = 0.0f;
      }
    }
    const float* a_row = l.in + g * l.in_stride;
    for (int k0 = 0; k0 < l.k; k0 += 8) {
      const int ka = k0 + q, kb = ka + 4;
      // A: the input's k-tail is stored as zeros (RoundUp(k, 8) columns), so no bounds test.
      uint32_t af[kMTiles][4];
      MBRLHPO_UNROLL
      for (int mt = 0; mt < kMTiles; ++mt) {
        const float* r0 = a_row + mt * 16 * l.in_stride;
        const float* r8 = r0 + 8 * l.in_stride;
        af[mt][0] = FloatBits(c.lds(&r0[ka]));
        af[mt][1] = FloatBits(c.lds(&r8[ka]));
        af[mt][2] = FloatBits(c.lds(&r0[kb]));
        af[mt][3] = FloatBits(c.lds(&r8[kb]));
      }
      const bool ka_in = ka < l.k, kb_in = kb < l.k;
      MBRLHPO_UNROLL
      for (int j = 0; j < kNp; ++j) {
        const int col = n0[j] + g;
        const bool col_in = col < l.n;
        const uint32_t bf[2] = {c.tf32(ka_in && col_in ? l.w[ka * l.n + col] : 0.0f),
                                c.tf32(kb_in && col_in ? l.w[kb * l.n + col] : 0.0f)};
        MBRLHPO_UNROLL
        for (int mt = 0; mt < kMTiles; ++mt) c.mma_tf32(acc[j][mt], af[mt], bf);
      }
    }
    // Columns past n up to the tile's end are stored as zeros: the next layer's k-tail.
    MBRLHPO_UNROLL
    for (int j = 0; j < kNp; ++j) {
      MBRLHPO_UNROLL
      for (int mt = 0; mt < kMTiles; ++mt) {
        MBRLHPO_UNROLL
        for (int i = 0; i < 4; ++i) {
          const int row = mt * 16 + g + (i >= 2 ? 8 : 0);
          const int col = n0[j] + 2 * q + (i & 1);
          float v = 0.0f;
          if (col < l.n) {
            v = Epilogue(acc[j][mt][i], l.bias[col], l.swish);
            if (l.to_layer) v = Input(c, v);
          }
          c.sts(&l.out[row * l.out_stride + col], v);
        }
      }
    }
  }
};

}  // namespace mbrlhpo::cuda::kernels
