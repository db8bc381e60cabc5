// The two arithmetic policies of the rollout's layers: out (kRows x N) = act(in (kRows x K) @ W
// (K x N) + bias), activations in shared memory (row stride `in_stride` / `out_stride` floats).
// Any K and N (tails are zero-filled and not stored).
//   Fp32Fma: register-tiled: each thread computes a tile of outputs (8 x 10 at 64 rows) as an
//            outer product per k (per 4 k one 128-bit shared load per row; per k the row's
//            weights in 64-bit loads, then rows x columns fmaf from registers), the warps
//            evenly loaded (column strips, below); each output still gets one fmaf per term in
//            k order (the sums of one thread per output, bit for bit). W is the model's
//            (K x N, row-major), read in place.
//   Tf32Mma: warp w takes the 8-column tiles w, w + 4, ..., kWarpNTiles at a time (register
//            tiling: each A fragment read once per k step feeds kWarpNTiles MMAs); per 8-deep
//            k step one mma.sync m16n8k8 per (16-row, 8-column) tile, float32 accumulators in
//            registers; bias + the fast swish (planner_math::FastSwish) fused in the epilogue,
//            which loads each lane's two bias values once per n-tile and stores column pairs
//            with one 64-bit store. Inputs are stored already rounded
//            by cvt.rna.tf32 (Input(), and the epilogue of a layer whose output is the next
//            one's input), with their k-tail up to a multiple of 8 stored as zeros. W is the
//            packed copy (Tf32Packed: tf32 bits in B-fragment order, zero-padded to whole
//            tiles, written once per plan by kernels/pack.h), so each B fragment is one 64-bit
//            load with no bounds test and no conversion.
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
// Tf32Mma: warps of the block that runs its layers (the rollout's kRolloutThreads / 32, asserted
// in launch_shape.h); the packed weights' layout is made for that many warps.
inline constexpr int kTf32Warps = 4;

MBRLHPO_HOST_DEVICE inline uint32_t FloatBits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

// Tf32Mma's weights of one (K x N) matrix, packed: tf32 bits (as floats) in the B-fragment order
// of mma.m16n8k8, zero-padded to whole 8 x 8 tiles and whole passes. Warp w's tiles are
// t = w + i * kTf32Warps (Tf32Mma's assignment), taken in passes of kWarpNTiles: i = pass *
// kWarpNTiles + j. For k step s and lane = 4 g + q:
//   word (((w * Passes + pass) * KSteps + s) * kWarpNTiles + j) * 64 + 2 * lane + half
//     = tf32(W[8 s + q + 4 half][8 t + g])      (zero past K or N)
// so a warp's B fragment is 256 contiguous bytes, the tiles of one pass are 256 bytes apart and
// the next k step kStepWords further: every offset inside a pass is a compile-time constant.
struct Tf32Packed {
  static constexpr int kStepWords = kWarpNTiles * 64;
  MBRLHPO_HOST_DEVICE static int KSteps(int k) { return (k + 7) / 8; }
  // passes per warp (the busiest warp's; the others' missing tiles are zeros)
  MBRLHPO_HOST_DEVICE static int Passes(int n) {
    const int tiles_per_warp = ((n + 7) / 8 + kTf32Warps - 1) / kTf32Warps;
    return (tiles_per_warp + kWarpNTiles - 1) / kWarpNTiles;
  }
  // where warp w's pass `pass` starts
  MBRLHPO_HOST_DEVICE static size_t PassWord(int k, int n, int w, int pass) {
    return (static_cast<size_t>(w) * Passes(n) + pass) * KSteps(k) * kStepWords;
  }
  MBRLHPO_HOST_DEVICE static size_t Words(int k, int n) { return PassWord(k, n, kTf32Warps, 0); }
  // The unrounded W element that packed word `word` holds (0 in the padding).
  MBRLHPO_HOST_DEVICE static float Source(const float* w, int k, int n, size_t word) {
    const int half = static_cast<int>(word & 1), lane = static_cast<int>((word >> 1) & 31);
    size_t frag = word >> 6;
    const int j = static_cast<int>(frag % kWarpNTiles);
    frag /= kWarpNTiles;
    const int s = static_cast<int>(frag % KSteps(k));
    frag /= KSteps(k);
    const int pass = static_cast<int>(frag % Passes(n));
    const int warp = static_cast<int>(frag / Passes(n));
    const int row = 8 * s + (lane & 3) + 4 * half;
    const int col = 8 * (warp + (pass * kWarpNTiles + j) * kTf32Warps) + (lane >> 2);
    return row < k && col < n ? w[static_cast<size_t>(row) * n + col] : 0.0f;
  }
};

// Two consecutive floats: one 64-bit load of global memory (LoadPair) or one 64-bit store to
// shared memory (8-byte aligned).
struct alignas(8) FloatPair {
  float lo, hi;
};
MBRLHPO_HOST_DEVICE inline FloatPair LoadPair(const float* p) {
#if defined(__CUDA_ARCH__)
  const float2 v = __ldg(reinterpret_cast<const float2*>(p));
  return {v.x, v.y};
#else
  return {p[0], p[1]};
#endif
}

// One float of read-only global memory (LDG.CONSTANT on the device: the compiler cannot prove by
// itself that the kernel's shared-memory stores leave it alone).
MBRLHPO_HOST_DEVICE inline float LoadFloat(const float* p) {
#if defined(__CUDA_ARCH__)
  return __ldg(p);
#else
  return *p;
#endif
}

// The float with bit pattern u (no rounding, no masking).
MBRLHPO_HOST_DEVICE inline float BitsFloat(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

struct LayerArgs {
  const float* in;  // shared, kRows x in_stride
  int in_stride, k;
  const float* w;     // global: K x N (Fp32Fma), Tf32Packed (Tf32Mma)
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

// Tf32Mma's epilogue: the fast swish (within a few ulp of Swish; the device's MUFU bits are not
// the emulator's, see planner_math::FastSwish), since the next layer rounds it to tf32 anyway.
MBRLHPO_HOST_DEVICE inline float Tf32Epilogue(float acc, float bias, bool swish) {
  const float v = planner_math::AddRn(acc, bias);
  return swish ? planner_math::FastSwish(v) : v;
}

// Fp32Fma: the columns of a layer are cut into strips of kFp32TileCols; warp w of the block takes
// a contiguous run of strips (every warp as many as the others, +-1, so the 4 schedulers carry
// the same work up to the layer's barrier), four strips at a time in tiles of kRows / 8 rows
// (lane = strip j x 8 row groups: 8 x 10 at 64 rows), and its last 1-3 strips in tiles sized so
// that the warp's lanes still share the work: 1 strip in kRows / 32 rows (32 row groups), 2 in
// kRows / 16 (16 x 2), 3 in kRows / 8 (8 x 3: 24 lanes). A 200-wide layer is 20 strips: 5 per
// warp, one pass of 8 x 10 tiles and one of 2 x 10.
inline constexpr int kFp32TileCols = 10;
// Fp32Fma: the layer width (n) whose weight rows are a compile-time stride apart (the PETS
// models' 200: every weight load an immediate offset from one pointer per 4 k); other widths
// step a pointer per k.
inline constexpr int kFp32FixedWidth = 200;

// Four consecutive floats of shared memory in one 128-bit access (16-byte aligned).
struct alignas(16) Float4 {
  float v[4];
};

// Four floats of read-only global memory in one 128-bit load (LDG.E.128.CONSTANT); `p` must be
// 16-byte aligned (the device faults otherwise; the emulator stops at once).
MBRLHPO_HOST_DEVICE inline Float4 LoadQuad(const float* p) {
#if defined(__CUDA_ARCH__)
  const float4 v = __ldg(reinterpret_cast<const float4*>(p));
  return {{v.x, v.y, v.z, v.w}};
#else
  if (reinterpret_cast<uintptr_t>(p) % 16 != 0) __builtin_trap();
  return {{p[0], p[1], p[2], p[3]}};
#endif
}

// How Fp32Fma reads a strip's kFp32TileCols weights of one W row: one guarded float at a time,
// 64-bit pairs, or (a strip of one warp's lanes, in 16-byte aligned rows) 128-bit quads: from a
// column that is 0 mod 4 quad, quad, pair; from one that is 2 mod 4 pair, quad, quad.
enum class WeightLoads { kFloats, kPairs, kQuadsFirst, kQuadsLast };

struct Fp32Fma {
  // The model's weights of layer l, ensemble model e, read in place.
  MBRLHPO_HOST_DEVICE static const float* Weights(const MemberArgs& m, int l, int e) {
    return m.weights[l] + static_cast<int64_t>(e) * m.layer_sizes[l] * m.layer_sizes[l + 1];
  }

  template <class Ctx>
  MBRLHPO_HOST_DEVICE static float Input(Ctx&, float v) {
    return v;
  }

  // The warps' strips (above); the block's threads a whole number of warps. `in` must be
  // 16-byte aligned with in_stride a multiple of 4 (the rollout's buffers are; the emulator
  // reports a misaligned 128-bit load).
  template <int kRows, class Ctx>
  MBRLHPO_HOST_DEVICE static void Layer(Ctx& c, const LayerArgs& l) {
    static_assert(kRows % 32 == 0, "Fp32Fma's tiles split the rows into 8, 16 or 32 groups");
    const int warps = c.nthreads() / 32, warp = c.tid() / 32, lane = c.tid() % 32;
    const int strips = (l.n + kTC - 1) / kTC;
    const int mine = strips / warps + (warp < strips % warps ? 1 : 0);
    const int first = warp * (strips / warps) + (warp < strips % warps ? warp : strips % warps);
    // strips in tiles of kRows / 8 rows: all but the last 1 or 2 (a last 3 too, on 24 lanes)
    const int wide = mine % 4 == 3 ? mine : mine - mine % 4;
    for (int s = 0; s < wide; s += 4) {
      if (s + lane / 8 < wide) Tile<kRows, kRows / 8>(c, l, first + s + lane / 8, lane % 8);
    }
    if (mine - wide == 2) Tile<kRows, kRows / 16>(c, l, first + wide + lane / 16, lane % 16);
    if (mine - wide == 1) Tile<kRows, kRows / 32>(c, l, first + wide, lane);
  }

 private:
  static constexpr int kTC = kFp32TileCols;
  static_assert(kTC % 2 == 0, "Fp32Fma's weight columns are read in pairs");

  // Strip `strip`'s tile of kTR rows, g + i * (kRows / kTR) (the lanes of a warp read
  // consecutive rows at each shared load: no bank conflicts at the rollout's row stride, and
  // share their weight columns). Weights are read in 64-bit pairs where the strip is whole, n
  // even and W 8-byte aligned, else one guarded float at a time; a tile whose warp holds only
  // this strip (32 row groups: the strip is the same on every lane) reads them in 128-bit quads
  // where n is a multiple of 4 and W 16-byte aligned (3 loads per k instead of 5). The same
  // products in the same order every way.
  template <int kRows, int kTR, class Ctx>
  MBRLHPO_HOST_DEVICE static void Tile(Ctx& c, const LayerArgs& l, int strip, int g) {
    constexpr int kGroups = kRows / kTR;
    const int c0 = strip * kTC;
    float acc[kTR][kTC];
    MBRLHPO_UNROLL
    for (int i = 0; i < kTR; ++i) {
      MBRLHPO_UNROLL
      for (int j = 0; j < kTC; ++j) acc[i][j] = 0.0f;
    }
    const uintptr_t w_address = reinterpret_cast<uintptr_t>(l.w);
    const bool whole = c0 + kTC <= l.n;
    const bool pairs = whole && l.n % 2 == 0 && w_address % 8 == 0;
    const bool quads = kGroups == 32 && whole && l.n % 4 == 0 && w_address % 16 == 0;
    if (!pairs) {
      Accumulate<kTR, kGroups, WeightLoads::kFloats>(c, l, g, c0, acc);
    } else if (!quads) {
      AccumulateAt<kTR, kGroups, WeightLoads::kPairs>(c, l, g, c0, acc);
    } else if constexpr (kGroups == 32) {
      if (c0 % 4 == 0) {
        AccumulateAt<kTR, kGroups, WeightLoads::kQuadsFirst>(c, l, g, c0, acc);
      } else {
        AccumulateAt<kTR, kGroups, WeightLoads::kQuadsLast>(c, l, g, c0, acc);
      }
    }
    MBRLHPO_UNROLL
    for (int j = 0; j < kTC; ++j) {
      const int col = c0 + j;
      if (col >= l.n) continue;
      const float bias = LoadFloat(l.bias + col);
      MBRLHPO_UNROLL
      for (int i = 0; i < kTR; ++i) {
        c.sts(&l.out[(g + i * kGroups) * l.out_stride + col], Epilogue(acc[i][j], bias, l.swish));
      }
    }
  }

  // Accumulate with n at compile time where it is kFp32FixedWidth (every weight load an immediate
  // offset from one pointer per 4 k).
  template <int kTR, int kGroups, WeightLoads kLoads, class Ctx>
  MBRLHPO_HOST_DEVICE static void AccumulateAt(Ctx& c, const LayerArgs& l, int g, int c0,
                                               float (&acc)[kTR][kTC]) {
    if (l.n == kFp32FixedWidth) {
      Accumulate<kTR, kGroups, kLoads, kFp32FixedWidth>(c, l, g, c0, acc);
    } else {
      Accumulate<kTR, kGroups, kLoads>(c, l, g, c0, acc);
    }
  }

  // W row k's kTC columns from c0, as kLoads says (the vector loads: in range and aligned, Tile's
  // tests), kFloats one float at a time with zeros past n.
  template <WeightLoads kLoads>
  MBRLHPO_HOST_DEVICE static void WeightRow(const float* w_row, int c0, int n, float (&b)[kTC]) {
    static_assert(kTC == 10, "the quad loads below are written for 10-column strips");
    auto pair = [&](int j) {
      const FloatPair v = LoadPair(w_row + j);
      b[j] = v.lo;
      b[j + 1] = v.hi;
    };
    auto quad = [&](int j) {
      const Float4 v = LoadQuad(w_row + j);
      MBRLHPO_UNROLL
      for (int x = 0; x < 4; ++x) b[j + x] = v.v[x];
    };
    if constexpr (kLoads == WeightLoads::kPairs) {
      MBRLHPO_UNROLL
      for (int q = 0; q < kTC / 2; ++q) pair(2 * q);
    } else if constexpr (kLoads == WeightLoads::kQuadsFirst) {
      quad(0);
      quad(4);
      pair(8);
    } else if constexpr (kLoads == WeightLoads::kQuadsLast) {
      pair(0);
      quad(2);
      quad(6);
    } else {
      MBRLHPO_UNROLL
      for (int j = 0; j < kTC; ++j) b[j] = c0 + j < n ? LoadFloat(w_row + j) : 0.0f;
    }
  }

  // acc[i][j] = sum over k in order of in[g + i * kGroups][k] * W[k][c0 + j], one fmaf per term:
  // four k per iteration (one 128-bit shared load per row), then the k-tail one at a time.
  // kN: n at compile time (0: l.n).
  template <int kTR, int kGroups, WeightLoads kLoads, int kN = 0, class Ctx>
  MBRLHPO_HOST_DEVICE static void Accumulate(Ctx& c, const LayerArgs& l, int g, int c0,
                                             float (&acc)[kTR][kTC]) {
    const int n = kN ? kN : l.n;
    const float* in_row = l.in + g * l.in_stride;  // row i of the tile: + i * row_step
    const int row_step = kGroups * l.in_stride;
    const float* w_row = l.w + c0;  // W row k at + k * n
    int k = 0;
    for (; k + 4 <= l.k; k += 4) {
      float a[kTR][4];
      MBRLHPO_UNROLL
      for (int i = 0; i < kTR; ++i) {
        const Float4 v = c.lds(reinterpret_cast<const Float4*>(in_row + i * row_step + k));
        MBRLHPO_UNROLL
        for (int x = 0; x < 4; ++x) a[i][x] = v.v[x];
      }
      MBRLHPO_UNROLL
      for (int x = 0; x < 4; ++x) {
        float b[kTC];
        WeightRow<kLoads>(w_row + x * n, c0, n, b);
        MBRLHPO_UNROLL
        for (int i = 0; i < kTR; ++i) {
          MBRLHPO_UNROLL
          for (int j = 0; j < kTC; ++j) acc[i][j] = fmaf(a[i][x], b[j], acc[i][j]);
        }
      }
      w_row += 4 * n;
    }
    for (; k < l.k; ++k, w_row += n) {
      float b[kTC];
      WeightRow<WeightLoads::kFloats>(w_row, c0, n, b);
      MBRLHPO_UNROLL
      for (int i = 0; i < kTR; ++i) {
        const float a = c.lds(in_row + i * row_step + k);
        MBRLHPO_UNROLL
        for (int j = 0; j < kTC; ++j) acc[i][j] = fmaf(a, b[j], acc[i][j]);
      }
    }
  }
};

struct Tf32Mma {
  // The packed weights of layer l, ensemble model e.
  MBRLHPO_HOST_DEVICE static const float* Weights(const MemberArgs& m, int l, int e) {
    return m.packed_weights[l] +
           static_cast<int64_t>(e) * Tf32Packed::Words(m.layer_sizes[l], m.layer_sizes[l + 1]);
  }

  // Layer inputs are stored already rounded to tf32 (cvt.rna once per value, where it is
  // written, instead of once per read in every n-tile's k-loop): the k-loop passes their bits.
  // c.tf32's bits are already a tf32 value (ptxas lowers cvt.rna to a finiteness test, an add
  // and the mask), so they are stored as they come (a second mask was one more instruction).
  template <class Ctx>
  MBRLHPO_HOST_DEVICE static float Input(Ctx& c, float v) {
    return BitsFloat(c.tf32(v));
  }

  template <int kRows, class Ctx>
  MBRLHPO_HOST_DEVICE static void Layer(Ctx& c, const LayerArgs& l) {
    static_assert(kRows % 16 == 0, "Tf32Mma works on 16-row tiles");
    const int warp = c.tid() / 32;
    const int n_tiles = (l.n + 7) / 8;
    const int mine =
        warp < n_tiles ? (n_tiles - warp + kTf32Warps - 1) / kTf32Warps : 0;  // own tiles
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

  // This warp's tiles p, p + 1, ..., p + kNp - 1 of its own (warp, warp + kTf32Warps, ...): all
  // kRows rows x kNp * 8 columns. Per 8-deep k step the A fragments of the kRows / 16 m-tiles
  // are read once and feed kNp MMAs each; each accumulator gets its k steps in order (the sums
  // of the one-tile-per-warp form, bit for bit).
  template <int kRows, int kNp, class Ctx>
  MBRLHPO_HOST_DEVICE static void Pass(Ctx& c, const LayerArgs& l, int p) {
    constexpr int kMTiles = kRows / 16;
    const int warp = c.tid() / 32, lane = c.tid() % 32;
    const int g = lane >> 2, q = lane & 3;
    int n0[kNp];
    MBRLHPO_UNROLL
    for (int j = 0; j < kNp; ++j) n0[j] = (warp + (p + j) * kTf32Warps) * 8;
    float acc[kNp][kMTiles][4];
    MBRLHPO_UNROLL
    for (int j = 0; j < kNp; ++j) {
      MBRLHPO_UNROLL
      for (int mt = 0; mt < kMTiles; ++mt) {
        MBRLHPO_UNROLL
        for (int i = 0; i < 4; ++i) acc[j][mt][i] = 0.0f;
      }
    }
    // A: lane (g, q) reads rows g and g + 8 of each m-tile at columns k0 + q and k0 + q + 4; one
    // pointer per row, advanced with k (the input's k-tail is stored as zeros, RoundUp(k, 8)
    // columns, so no bounds test).
    const float* a_ptr[kMTiles][2];
    MBRLHPO_UNROLL
    for (int mt = 0; mt < kMTiles; ++mt) {
      a_ptr[mt][0] = l.in + (mt * 16 + g) * l.in_stride + q;
      a_ptr[mt][1] = a_ptr[mt][0] + 8 * l.in_stride;
    }
    // B: this lane's word of tile p (then p + 1, ... at 64 words each) of k step 0; p is a
    // multiple of kWarpNTiles (Layer's passes)
    const float* b_frag = l.w + Tf32Packed::PassWord(l.k, l.n, warp, p / kWarpNTiles) + 2 * lane;
    // Four k steps per iteration: the later steps' loads take immediate offsets.
    MBRLHPO_UNROLL_4
    for (int k0 = 0; k0 < l.k; k0 += 8, b_frag += Tf32Packed::kStepWords) {
      uint32_t af[kMTiles][4];
      MBRLHPO_UNROLL
      for (int mt = 0; mt < kMTiles; ++mt) {
        af[mt][0] = FloatBits(c.lds(a_ptr[mt][0]));
        af[mt][1] = FloatBits(c.lds(a_ptr[mt][1]));
        af[mt][2] = FloatBits(c.lds(a_ptr[mt][0] + 4));
        af[mt][3] = FloatBits(c.lds(a_ptr[mt][1] + 4));
        a_ptr[mt][0] += 8;
        a_ptr[mt][1] += 8;
      }
      MBRLHPO_UNROLL
      for (int j = 0; j < kNp; ++j) {
        const FloatPair b = LoadPair(b_frag + j * 64);  // packed: tf32 already, zero tails
        const uint32_t bf[2] = {FloatBits(b.lo), FloatBits(b.hi)};
        MBRLHPO_UNROLL
        for (int mt = 0; mt < kMTiles; ++mt) c.mma_tf32(acc[j][mt], af[mt], bf);
      }
    }
    // Epilogue. Lane (g, q) holds columns n0[j] + 2q, + 1 of rows g and g + 8 of every m-tile:
    // its bias pair is loaded once per n-tile, and each row's pair is one 64-bit store (even
    // column, even stride). Columns past n up to the tile's end are stored as zeros: the next
    // layer's k-tail.
    bool in_n[kNp][2];
    float bias[kNp][2];
    MBRLHPO_UNROLL
    for (int j = 0; j < kNp; ++j) {
      MBRLHPO_UNROLL
      for (int i = 0; i < 2; ++i) {
        const int col = n0[j] + 2 * q + i;
        in_n[j][i] = col < l.n;
        bias[j][i] = in_n[j][i] ? LoadFloat(l.bias + col) : 0.0f;
      }
    }
    float* out_g = l.out + g * l.out_stride + n0[0] + 2 * q;  // tile j is 32 j columns further
    MBRLHPO_UNROLL
    for (int mt = 0; mt < kMTiles; ++mt) {
      MBRLHPO_UNROLL
      for (int h = 0; h < 2; ++h) {
        float* out_row = out_g + (mt * 16 + h * 8) * l.out_stride;
        MBRLHPO_UNROLL
        for (int j = 0; j < kNp; ++j) {
          // computed for every column and then selected: no branch per value
          const float lo = Finish(c, l, acc[j][mt][2 * h], bias[j][0]);
          const float hi = Finish(c, l, acc[j][mt][2 * h + 1], bias[j][1]);
          const FloatPair v{in_n[j][0] ? lo : 0.0f, in_n[j][1] ? hi : 0.0f};
          c.sts(reinterpret_cast<FloatPair*>(out_row + 8 * kTf32Warps * j), v);
        }
      }
    }
  }

  // One output value: bias, swish, and tf32 rounding where the next layer reads it.
  template <class Ctx>
  MBRLHPO_HOST_DEVICE static float Finish(Ctx& c, const LayerArgs& l, float acc, float bias) {
    const float v = Tf32Epilogue(acc, bias, l.swish);
    return l.to_layer ? Input(c, v) : v;
  }
};

}  // namespace mbrlhpo::cuda::kernels
