// The SIMT emulator (cuda/testing/emulator/simt_host.h) and the rollout's layer policies on it,
// g++ only.
//  - Each check of the emulator is proven by a mutation: a body with the bug (barrier removed,
//    syncwarp removed, unwritten shared read, divergent barrier, shuffle in a partial warp,
//    shared access out of bounds or misaligned) is reported; the same body fixed is clean and
//    gives the same output under the forward, reverse and shuffled schedules.
//  - the device's sin/cos (hd::detail::SinCosViaDouble) within one float ulp of the true value;
//  - cvt.rna.tf32 rounding (ties away from zero, inf/NaN kept);
//  - the TF32 path's fast swish within its stated bound of the accurate swish;
//  - Fp32Fma and Tf32Mma layers (tails in K and N, fused bias + swish; Tf32Mma: the fast swish)
//    equal a scalar reference bit for bit under three schedules (Fp32Fma's float4 and guarded
//    weight reads alike: the paper's widths, column tails, widths not a multiple of 4, weights
//    not 16-byte aligned; Tf32Mma on weights packed by the PackWeights body, and in 48-row
//    blocks as in 64-row ones); with a wrong mma fragment layout (a1/a2 exchanged) the Tf32Mma
//    layer no longer does;
//  - the packed layout holds every weight once, tf32-rounded, in its B-fragment slot, and zeros
//    in the padding.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include "check.h"
#include "mbrlhpo/cuda/kernels/gemm.h"
#include "mbrlhpo/cuda/kernels/pack.h"
#include "mbrlhpo/cuda/kernels/rollout.h"
#include "mbrlhpo/cuda/plan_kernels.h"
#include "mbrlhpo/host_device.h"
#include "mbrlhpo/planner_math.h"
#include "simt_host.h"

namespace {

using mbrlhpo::cuda::kernels::Fp32Fma;
using mbrlhpo::cuda::kernels::LayerArgs;
using mbrlhpo::cuda::kernels::Tf32Mma;
using mbrlhpo::simt::HostCtx;
using mbrlhpo::simt::HostLaunchOptions;
using mbrlhpo::simt::LaunchHost;
using mbrlhpo::simt::LaunchReport;
using mbrlhpo::simt::MmaLayout;
using mbrlhpo::simt::Order;

constexpr Order kOrders[] = {Order::kForward, Order::kReverse, Order::kShuffled};

HostLaunchOptions Opt(Order order, MmaLayout layout = MmaLayout::kPtx) {
  HostLaunchOptions o;
  o.order = order;
  o.seed = 12345;
  o.layout = layout;
  return o;
}

// Runs `body(c, out, fixed)` on one block under each schedule: the buggy variant must be reported
// under every schedule, the fixed one must be clean with the same output under all of them.
template <class Body>
void CheckMutation(const char* what, int threads, size_t smem, Body body) {
  std::vector<float> first;
  for (Order order : kOrders) {
    std::vector<float> out(threads, -1.0f);
    const LaunchReport bad =
        LaunchHost(1, threads, smem, Opt(order), [&](HostCtx& c) { body(c, out.data(), false); });
    if (bad.ok()) std::printf("  %s: the bug was not reported\n", what);
    CHECK(!bad.ok());
    out.assign(threads, -1.0f);
    const LaunchReport good =
        LaunchHost(1, threads, smem, Opt(order), [&](HostCtx& c) { body(c, out.data(), true); });
    if (!good.ok()) std::printf("  %s (fixed): %s\n", what, good.Summary().c_str());
    CHECK(good.ok());
    if (first.empty()) first = out;
    CHECK(out == first);
  }
}

TEST(RemovedBarrierIsARace) {
  CheckMutation("removed __syncthreads", 64, 64 * sizeof(float),
                [](HostCtx& c, float* out, bool fixed) {
                  float* s = c.smem<float>();
                  c.sts(&s[c.tid()], static_cast<float>(c.tid()));
                  if (fixed) c.sync();
                  out[c.tid()] = c.lds(&s[(c.tid() + 1) % 64]);
                });
}

TEST(IntraWarpExchangeNeedsSyncwarp) {
  CheckMutation("removed __syncwarp", 32, 32 * sizeof(float),
                [](HostCtx& c, float* out, bool fixed) {
                  float* s = c.smem<float>();
                  c.sts(&s[c.tid()], static_cast<float>(c.tid()));
                  if (fixed) c.syncwarp();
                  out[c.tid()] = c.lds(&s[c.tid() ^ 1]);
                });
}

TEST(UnwrittenSharedReadIsReported) {
  CheckMutation("read of unwritten shared memory", 32, 64 * sizeof(float),
                [](HostCtx& c, float* out, bool fixed) {
                  float* s = c.smem<float>();
                  c.sts(&s[c.tid()], 1.0f);
                  c.sync();
                  out[c.tid()] = c.lds(&s[fixed ? c.tid() : 32 + c.tid()]);
                });
}

TEST(DivergentBarrierIsReported) {
  CheckMutation("divergent __syncthreads", 64, 64 * sizeof(float),
                [](HostCtx& c, float* out, bool fixed) {
                  float* s = c.smem<float>();
                  c.sts(&s[c.tid()], 2.0f);
                  if (fixed || c.tid() < 32) c.sync();
                  out[c.tid()] = c.lds(&s[63 - c.tid()]);
                });
}

TEST(ShuffleInPartialWarpIsReported) {
  // 48 threads: the second warp has 16 lanes; a full-mask shuffle there is undefined.
  CheckMutation("shuffle in a partial warp", 48, 0, [](HostCtx& c, float* out, bool fixed) {
    const float v = static_cast<float>(c.tid());
    out[c.tid()] = (fixed && c.tid() >= 32) ? v : c.shfl_xor(v, 1);
  });
}

TEST(SharedAccessOutOfBoundsIsReported) {
  CheckMutation("shared store past the end", 32, 32 * sizeof(float),
                [](HostCtx& c, float* out, bool fixed) {
                  float* s = c.smem<float>();
                  const int i = fixed ? c.tid() : c.tid() + 8;
                  c.sts(&s[i], 3.0f);
                  c.sync();
                  out[c.tid()] = fixed ? c.lds(&s[c.tid()]) : 0.0f;
                });
}

TEST(MisalignedVectorSharedAccessIsReported) {
  using mbrlhpo::cuda::kernels::Float4;
  CheckMutation("128-bit shared load 4 bytes off", 32, 40 * sizeof(float),
                [](HostCtx& c, float* out, bool fixed) {
                  float* s = c.smem<float>();
                  c.sts(&s[c.tid()], static_cast<float>(c.tid()));
                  if (c.tid() < 8) c.sts(&s[32 + c.tid()], 0.0f);
                  c.sync();
                  const int i = (c.tid() / 4) * 4 + (fixed ? 0 : 1);
                  out[c.tid()] = c.lds(reinterpret_cast<const Float4*>(&s[i])).v[c.tid() % 4];
                });
}

TEST(DeviceSinCosIsWithinOneUlp) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> wide(-200.0f, 200.0f), turn(0.0f, 6.2831853f);
  int worse = 0;
  for (int i = 0; i < 20000; ++i) {
    const float x = i % 2 ? wide(gen) : turn(gen);
    for (int cosine = 0; cosine < 2; ++cosine) {
      const double truth =
          cosine ? std::cos(static_cast<double>(x)) : std::sin(static_cast<double>(x));
      const float got = mbrlhpo::hd::detail::SinCosViaDouble(x, cosine);
      const double ulp = std::nextafter(static_cast<float>(std::fabs(truth)), INFINITY) -
                         static_cast<float>(std::fabs(truth));
      worse += std::fabs(got - truth) > ulp;
    }
  }
  CHECK(worse == 0);
  CHECK(std::isnan(mbrlhpo::hd::detail::SinCosViaDouble(INFINITY, 0)));
  CHECK(std::isnan(mbrlhpo::hd::detail::SinCosViaDouble(NAN, 1)));
}

TEST(Tf32RoundingIsRnaOn10MantissaBits) {
  using mbrlhpo::simt::Tf32Bits;
  using mbrlhpo::simt::Tf32Value;
  CHECK(Tf32Value(Tf32Bits(1.0f + std::ldexp(1.0f, -11))) == 1.0f + std::ldexp(1.0f, -10));  // tie
  CHECK(Tf32Value(Tf32Bits(-1.0f - std::ldexp(1.0f, -11))) == -1.0f - std::ldexp(1.0f, -10));
  CHECK(Tf32Value(Tf32Bits(1.0f + std::ldexp(1.0f, -12))) == 1.0f);
  CHECK(std::isinf(Tf32Value(Tf32Bits(INFINITY))));
  CHECK(std::isnan(Tf32Value(Tf32Bits(NAN))));
}

// The PackWeights body on the emulator for one (k x n) matrix of a one-model TF32 member.
LaunchReport PackOnHost(const std::vector<float>& w, int k, int n, float* packed) {
  namespace mc = mbrlhpo::cuda;
  mc::MemberArgs m;
  m.gemm = static_cast<int32_t>(mc::Gemm::kTf32);
  m.ensemble_size = 1;
  m.num_layers = 1;
  m.layer_sizes[0] = k;
  m.layer_sizes[1] = n;
  m.weights[0] = w.data();
  m.packed_weights[0] = packed;
  const size_t words = mc::kernels::Tf32Packed::Words(k, n);
  const int blocks = static_cast<int>((words + mc::kPackThreads - 1) / mc::kPackThreads);
  return LaunchHost(blocks, mc::kPackThreads, 0, Opt(Order::kShuffled),
                    [&](HostCtx& c) { mc::kernels::PackWeights(c, &m, 1, 1, 1, blocks); });
}

// out (kRows x n) = act(in (kRows x k) @ w + b) through the policy G on one 128-thread block
// (in: at least kRows rows).
template <class G, int kRows = 64>
std::vector<float> RunLayer(const std::vector<float>& in, const std::vector<float>& w,
                            const std::vector<float>& b, int k, int n, bool swish, Order order,
                            MmaLayout layout, LaunchReport* rep, int w_offset = 0) {
  const int stride = mbrlhpo::cuda::kernels::ActStride(k > n ? k : n);
  std::vector<float> out(kRows * n, -1.0f);
  // Tf32Mma reads the packed weights, written by the PackWeights body as in the planner.
  std::vector<float> packed;
  // Fp32Fma reads the model's weights in place: at `w_offset` floats into a 16-byte aligned
  // buffer (0: quads in single-strip tiles where n is a multiple of 4; 2: 8-byte aligned, pairs
  // only; 1: not 8-byte aligned, so its guarded reads).
  std::vector<float> shifted(w_offset + w.size());
  CHECK(reinterpret_cast<uintptr_t>(shifted.data()) % 16 == 0);
  std::copy(w.begin(), w.end(), shifted.begin() + w_offset);
  const float* weights = shifted.data() + w_offset;
  if constexpr (std::is_same_v<G, Tf32Mma>) {
    packed.assign(mbrlhpo::cuda::kernels::Tf32Packed::Words(k, n), -1.0f);
    *rep = PackOnHost(w, k, n, packed.data());
    if (!rep->ok()) return out;
    weights = packed.data();
  }
  *rep =
      LaunchHost(1, 128, 2 * kRows * stride * sizeof(float), Opt(order, layout), [&](HostCtx& c) {
        float* a = c.smem<float>();
        float* o = a + kRows * stride;
        // The layer's input contract: stored as G::Input, k-tail up to a multiple of 8 zero.
        const int k8 = (k + 7) / 8 * 8;
        for (int i = c.tid(); i < kRows * k8; i += c.nthreads()) {
          const int r = i / k8, col = i % k8;
          c.sts(&a[r * stride + col], col < k ? G::Input(c, in[r * k + col]) : 0.0f);
        }
        c.sync();
        const LayerArgs l{a, stride, k, weights, b.data(), n, o, stride, swish};
        G::template Layer<kRows>(c, l);
        c.sync();
        for (int i = c.tid(); i < kRows * n; i += c.nthreads()) {
          out[i] = c.lds(&o[(i / n) * stride + i % n]);
        }
      });
  return out;
}

struct LayerCase {
  int k, n;
  std::vector<float> in, w, b;
};

LayerCase MakeCase(int k, int n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  LayerCase lc{k, n, std::vector<float>(64 * k), std::vector<float>(k * n), std::vector<float>(n)};
  for (auto* v : {&lc.in, &lc.w, &lc.b}) {
    for (float& x : *v) x = u(gen);
  }
  return lc;
}

// Scalar references in the policies' order of operations.
float RefFma(const LayerCase& lc, int r, int col, bool swish) {
  float acc = 0.0f;
  for (int k = 0; k < lc.k; ++k) acc = std::fmaf(lc.in[r * lc.k + k], lc.w[k * lc.n + col], acc);
  return mbrlhpo::cuda::kernels::Epilogue(acc, lc.b[col], swish);
}

float RefTf32(const LayerCase& lc, int r, int col, bool swish) {
  using mbrlhpo::simt::Tf32Bits;
  using mbrlhpo::simt::Tf32Value;
  float acc = 0.0f;
  for (int k0 = 0; k0 < lc.k; k0 += 8) {  // one mma per 8-deep step: exact sum, one rounding
    double s = acc;
    for (int k = k0; k < k0 + 8 && k < lc.k; ++k) {
      s += static_cast<double>(Tf32Value(Tf32Bits(lc.in[r * lc.k + k]))) *
           Tf32Value(Tf32Bits(lc.w[k * lc.n + col]));
    }
    acc = static_cast<float>(s);
  }
  return mbrlhpo::cuda::kernels::Tf32Epilogue(acc, lc.b[col], swish);
}

// Distance in ulp between two floats (ordered as integers; +0 and -0 one apart).
int64_t UlpDistance(float a, float b) {
  auto ordered = [](float f) {
    int32_t i;
    std::memcpy(&i, &f, 4);
    return i < 0 ? static_cast<int64_t>(INT32_MIN) - i : static_cast<int64_t>(i);
  };
  const int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

TEST(FastSwishIsWithinItsBoundOfSwish) {
  // The TF32 path's swish (the emulator's formula, exp2f and 1 / x) against the accurate one:
  // docs/planner.md states 2e-6 relative on [-30, 30] (and 5e-6 out to the exp overflow),
  // against TF32's 2^-11 rounding of the same values.
  using mbrlhpo::planner_math::FastSwish;
  using mbrlhpo::planner_math::Swish;
  std::mt19937 gen(3);
  for (const auto& [range, bound] : {std::pair{30.0f, 2e-6}, std::pair{88.0f, 5e-6}}) {
    std::uniform_real_distribution<float> u(-range, range);
    double worst = 0.0;
    for (int i = 0; i < 200000; ++i) {
      const float x = u(gen);
      const double exact = Swish(x);
      worst = std::fmax(worst, std::fabs(FastSwish(x) - exact) / std::fabs(exact));
    }
    std::printf("  fast swish on [-%g, %g]: max rel error %.2e (bound %.0e)\n", range, range, worst,
                bound);
    CHECK(worst <= bound);
  }
  CHECK(UlpDistance(FastSwish(0.5f), Swish(0.5f)) <= 4);
  // the special values of Swish: signed zeros, inf, the -inf / inf NaN, NaN, deep negatives
  CHECK(FastSwish(0.0f) == 0.0f && !std::signbit(FastSwish(0.0f)));
  CHECK(FastSwish(-0.0f) == 0.0f && std::signbit(FastSwish(-0.0f)));
  CHECK(FastSwish(INFINITY) == INFINITY);
  CHECK(std::isnan(FastSwish(-INFINITY)) && std::isnan(Swish(-INFINITY)));
  CHECK(std::isnan(FastSwish(NAN)));
  CHECK(FastSwish(-200.0f) == 0.0f && FastSwish(200.0f) == 200.0f);
}

TEST(Fp32FmaLayerIsBitExactUnderThreeSchedules) {
  // The paper's layers (25 x 200: a k-tail of 1, 5 strips per warp: 8-row and 2-row tiles;
  // 200 x 200; 200 x 36: one 2-row strip per warp, the last 6 of 10 columns), 70 and 110 wide
  // (2 strips in 4-row tiles, 3 on 24 lanes), odd widths (21, 3, 203: guarded reads), tiny ones;
  // (16, 32) also with the weights one float off 8-byte alignment (guarded reads); the 2-row
  // single-strip tiles of 200 and 36 wide read quads from columns 0 and 2 mod 4 (strips 4, 9,
  // 14, 19 and 0, 1, 2), and pairs with the weights two floats off 16-byte alignment.
  struct Case {
    int k, n, w_offset;
  };
  for (const auto& [k, n, w_offset] :
       {Case{13, 21, 0}, Case{16, 32, 0}, Case{16, 32, 1}, Case{5, 3, 0}, Case{25, 200, 0},
        Case{25, 200, 2}, Case{200, 200, 0}, Case{200, 36, 0}, Case{200, 36, 2}, Case{37, 203, 0},
        Case{9, 70, 0}, Case{16, 110, 0}}) {
    const LayerCase lc = MakeCase(k, n, 7u + k);
    for (Order order : kOrders) {
      for (bool swish : {false, true}) {
        if (k == 200 && n == 200 && (order != Order::kShuffled || !swish)) continue;  // time
        LaunchReport rep;
        const auto out = RunLayer<Fp32Fma>(lc.in, lc.w, lc.b, k, n, swish, order, MmaLayout::kPtx,
                                           &rep, w_offset);
        if (!rep.ok()) std::printf("  %s\n", rep.Summary().c_str());
        CHECK(rep.ok());
        int wrong = 0;
        for (int i = 0; i < 64 * n; ++i) wrong += out[i] != RefFma(lc, i / n, i % n, swish);
        if (wrong) std::printf("  k=%d n=%d offset %d: %d wrong\n", k, n, w_offset, wrong);
        CHECK(wrong == 0);
      }
    }
  }
}

TEST(Fp32FmaLayerIsBitExactOn32RowTiles) {
  // 32 rows: tiles of 4, 2 and 1 rows x 10 columns; the 1-row tiles with quads (offset 0) and
  // with pairs (offset 2)
  struct Case {
    int k, n, w_offset;
  };
  for (const auto& [k, n, w_offset] : {Case{25, 200, 0}, Case{25, 200, 2}, Case{200, 36, 0},
                                       Case{200, 36, 2}, Case{13, 21, 0}, Case{16, 110, 0}}) {
    const LayerCase lc = MakeCase(k, n, 3u + k);
    for (Order order : kOrders) {
      LaunchReport rep;
      const auto out = RunLayer<Fp32Fma, 32>(lc.in, lc.w, lc.b, k, n, true, order, MmaLayout::kPtx,
                                             &rep, w_offset);
      if (!rep.ok()) std::printf("  %s\n", rep.Summary().c_str());
      CHECK(rep.ok());
      int wrong = 0;
      for (int i = 0; i < 32 * n; ++i) wrong += out[i] != RefFma(lc, i / n, i % n, true);
      CHECK(wrong == 0);
    }
  }
}

TEST(Tf32MmaLayerIsBitExactUnderThreeSchedules) {
  // (37, 203): 26 n-tiles, so warps take 7 or 6 tiles in passes of 4 + 3 or 4 + 2
  for (const auto& [k, n] :
       {std::pair{13, 21}, std::pair{16, 32}, std::pair{5, 3}, std::pair{37, 203}}) {
    const LayerCase lc = MakeCase(k, n, 11u + k);
    for (Order order : kOrders) {
      for (bool swish : {false, true}) {
        LaunchReport rep;
        const auto out =
            RunLayer<Tf32Mma>(lc.in, lc.w, lc.b, k, n, swish, order, MmaLayout::kPtx, &rep);
        if (!rep.ok()) std::printf("  %s\n", rep.Summary().c_str());
        CHECK(rep.ok());
        int wrong = 0;
        for (int i = 0; i < 64 * n; ++i) wrong += out[i] != RefTf32(lc, i / n, i % n, swish);
        CHECK(wrong == 0);
        // the 48-row blocks (3 m-tiles) of the TF32 rollout: the same rows, the same bits
        const auto out48 = RunLayer<Tf32Mma, mbrlhpo::cuda::kernels::kTf32SmallTileRows>(
            lc.in, lc.w, lc.b, k, n, swish, order, MmaLayout::kPtx, &rep);
        CHECK(rep.ok());
        int wrong48 = 0;
        for (int i = 0; i < 48 * n; ++i) wrong48 += out48[i] != out[i];
        CHECK(wrong48 == 0);
      }
    }
  }
}

TEST(PackedWeightsHoldEachWeightOnceInItsFragmentSlot) {
  namespace mk = mbrlhpo::cuda::kernels;
  for (const auto& [k, n] : {std::pair{13, 21}, std::pair{200, 200}, std::pair{5, 36}}) {
    const LayerCase lc = MakeCase(k, n, 5u + k);
    const size_t words = mk::Tf32Packed::Words(k, n);
    CHECK(words % 64 == 0);  // whole fragments: 64-bit loads stay aligned
    std::vector<float> packed(words, -1.0f);
    CHECK(PackOnHost(lc.w, k, n, packed.data()).ok());
    std::vector<int> seen(static_cast<size_t>(k) * n, 0);
    int bad = 0;
    const int steps = (k + 7) / 8, passes = mk::Tf32Packed::Passes(n);
    for (size_t word = 0; word < words; ++word) {
      // the layout of gemm.h, decoded independently of Tf32Packed::Source
      const int half = word & 1, lane = (word >> 1) & 31;
      const size_t frag = word >> 6;
      const int j = frag % mk::kWarpNTiles, s = frag / mk::kWarpNTiles % steps;
      const int pass = frag / mk::kWarpNTiles / steps % passes;
      const int w = static_cast<int>(frag / mk::kWarpNTiles / steps / passes);
      const int tile = w + (pass * mk::kWarpNTiles + j) * mk::kTf32Warps;
      const int row = 8 * s + lane % 4 + 4 * half, col = 8 * tile + lane / 4;
      if (row < k && col < n) {
        ++seen[row * n + col];
        const float want = mbrlhpo::simt::Tf32Value(mbrlhpo::simt::Tf32Bits(lc.w[row * n + col]));
        bad += packed[word] != want;
      } else {
        bad += packed[word] != 0.0f;
      }
    }
    CHECK(bad == 0);
    int not_once = 0;
    for (int v : seen) not_once += v != 1;
    CHECK(not_once == 0);
  }
}

TEST(WrongMmaFragmentLayoutIsCaught) {
  // The kernel is written for the PTX layout; an emulator (= hardware) with a1/a2 exchanged must
  // give a visibly different product, so a body written against the wrong layout cannot pass.
  const LayerCase lc = MakeCase(16, 32, 99u);
  LaunchReport rep;
  const auto out = RunLayer<Tf32Mma>(lc.in, lc.w, lc.b, 16, 32, false, Order::kForward,
                                     MmaLayout::kSwapA12, &rep);
  CHECK(rep.ok());
  double max_err = 0.0;
  for (int i = 0; i < 64 * 32; ++i) {
    max_err = std::fmax(max_err, std::fabs(out[i] - RefTf32(lc, i / 32, i % 32, false)));
  }
  CHECK(max_err > 0.1);
}

}  // namespace
TEST_MAIN()
