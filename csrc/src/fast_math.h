// Private: branch-free float math the compiler can vectorise (Cephes-style polynomials,
// ~1-2 ulp on the ranges used). NaN inputs propagate through the planner's kernels.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MBRLHPO_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
// 8-lane code for AVX2 CPUs: GCC 12 lowers comparisons and selects of 64-byte vectors to scalar
// code when the target lacks AVX-512 (the 16-lane swish ran at a third of sgemm's speed on an
// AVX2 EPYC, docs/planner.md), while 32-byte vectors are native there. Without "fma", as the
// "avx2" clone: both round every product, so 8 and 16 lanes give bit-identical results.
#define MBRLHPO_AVX2_TARGET __attribute__((target("avx2")))
#define MBRLHPO_HAVE_AVX2_PATH 1
#else
#define MBRLHPO_SIMD_CLONES
#define MBRLHPO_AVX2_TARGET
#define MBRLHPO_HAVE_AVX2_PATH 0
#endif

namespace mbrlhpo::fast {

// True on x86 CPUs with AVX2 but not AVX-512F: callers then run their Simd<8> instantiation
// (compiled with MBRLHPO_AVX2_TARGET) instead of the Simd<16> clones.
inline bool UseAvx2Path() {
#if MBRLHPO_HAVE_AVX2_PATH
  static const bool use = __builtin_cpu_supports("avx2") && !__builtin_cpu_supports("avx512f");
  return use;
#else
  return false;
#endif
}

// The helpers are always inlined into their (target-specific) callers; the ABI of a 64-byte
// vector argument never matters.
#pragma GCC diagnostic ignored "-Wpsabi"  // private header: its includers use these types too

#define MBRLHPO_VINLINE static inline __attribute__((always_inline))

// The two widths' vector types, and lane-wise int32 <-> float conversions (GCC 12 rejects
// vector_size and __builtin_convertvector on types that depend on a template parameter).
typedef float F16 __attribute__((vector_size(64)));
typedef int32_t I16 __attribute__((vector_size(64)));
typedef float F8 __attribute__((vector_size(32)));
typedef int32_t I8 __attribute__((vector_size(32)));
typedef uint32_t U16 __attribute__((vector_size(64)));
typedef uint32_t U8 __attribute__((vector_size(32)));
MBRLHPO_VINLINE F16 ToFloat(I16 v) { return __builtin_convertvector(v, F16); }
MBRLHPO_VINLINE F8 ToFloat(I8 v) { return __builtin_convertvector(v, F8); }
MBRLHPO_VINLINE I16 ToInt(F16 v) { return __builtin_convertvector(v, I16); }
MBRLHPO_VINLINE I8 ToInt(F8 v) { return __builtin_convertvector(v, I8); }

template <int N>
struct VecTypes;
template <>
struct VecTypes<16> {
  typedef F16 F;
  typedef I16 I;
  typedef U16 U;
};
template <>
struct VecTypes<8> {
  typedef F8 F;
  typedef I8 I;
  typedef U8 U;
};

// ---- N-lane polynomials (GCC vector extensions), one operation order for every lane and every
// N: Simd<16> inside a MBRLHPO_SIMD_CLONES function compiles to AVX-512 (one zmm) or SSE;
// Simd<8> inside a MBRLHPO_AVX2_TARGET function to one ymm. Arrays whose length is not a
// multiple of N go through LoadPartial/StorePartial, so every element takes the same code path
// wherever it sits.
template <int N>
struct Simd {
  typedef typename VecTypes<N>::F F;
  typedef typename VecTypes<N>::I I;
  typedef typename VecTypes<N>::U U;
  static constexpr int kLanes = N;

  MBRLHPO_VINLINE F Set(float v) { return F{} + v; }
  MBRLHPO_VINLINE U SetU(uint32_t v) { return U{} + v; }
  MBRLHPO_VINLINE F Load(const float* p) {
    F v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  MBRLHPO_VINLINE void Store(float* p, F v) { std::memcpy(p, &v, sizeof v); }
  MBRLHPO_VINLINE U LoadU(const uint32_t* p) {
    U v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  MBRLHPO_VINLINE F LoadPartial(const float* p, int n) {
    F v = {};
    std::memcpy(&v, p, sizeof(float) * n);
    return v;
  }
  MBRLHPO_VINLINE void StorePartial(float* p, F v, int n) { std::memcpy(p, &v, sizeof(float) * n); }
  MBRLHPO_VINLINE U LoadPartialU(const uint32_t* p, int n) {
    U v = {};
    std::memcpy(&v, p, sizeof(uint32_t) * n);
    return v;
  }
  MBRLHPO_VINLINE F Select(I mask, F a, F b) { return mask ? a : b; }
  // Vector casts between same-size GCC vector types reinterpret the bits.
  MBRLHPO_VINLINE F AsF(I i) { return (F)i; }  // NOLINT(readability/casting)
  MBRLHPO_VINLINE I AsI(F f) { return (I)f; }  // NOLINT(readability/casting)

  // Same polynomial as the scalar Exp; the range reduction rounds fx to nearest-even with the
  // 1.5 * 2^23 trick (the scalar version rounds halves away from zero: the two differ only when
  // fx is exactly k + 0.5, and both are then equally accurate) and clamps with min/max.
  MBRLHPO_VINLINE F Exp(F x) {
    const F lo = Set(-87.3f), hi = Set(88.3f);
    F xc = x > lo ? x : lo;              // maxps; NaN -> lo (restored below)
    xc = xc < hi ? xc : hi;              // minps
    const F shifter = Set(12582912.0f);  // 1.5 * 2^23
    const F t = xc * 1.44269504088896341f + shifter;
    const F nf = t - shifter;
    const I n = AsI(t) - AsI(shifter);
    const F r = xc - nf * 0.693359375f + nf * 2.12194440e-4f;
    F p = Set(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const F e = p * r * r + r + 1.0f;
    const F scaled = e * AsF((n + 127) << 23);
    return Select(x != x, x, scaled);
  }

  MBRLHPO_VINLINE F Log(F x) {
    const I bits = AsI(x);
    I e = ((bits >> 23) & 0xff) - 126;
    F m = AsF((bits & 0x007fffff) | 0x3f000000);
    const I small = m < Set(0.707106781186547524f);
    e = small ? e - 1 : e;
    m = Select(small, m + m - 1.0f, m - 1.0f);
    const F z = m * m;
    F y = Set(7.0376836292e-2f);
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    const F ef = ToFloat(e);
    y += ef * -2.12194440e-4f;
    y += -0.5f * z;
    return m + y + ef * 0.693359375f;
  }

  MBRLHPO_VINLINE F Softplus(F x) {
    const F ax = Select(x < Set(0.0f), -x, x);
    return Select(x > Set(0.0f), x, Set(0.0f)) + Log(1.0f + Exp(-ax));
  }

  MBRLHPO_VINLINE void SinCos2Pi(F u, F* c, F* s) {
    const I qi0 = ToInt(u * 4.0f + 0.5f);
    const F q = ToFloat(qi0);
    const F r = (u - q * 0.25f) * 6.28318530717958648f;
    const F z = r * r;
    F sp = Set(-1.9515295891e-4f);
    sp = sp * z + 8.3321608736e-3f;
    sp = sp * z - 1.6666654611e-1f;
    const F sr = r + r * z * sp;
    F cp = Set(2.443315711809948e-5f);
    cp = cp * z - 1.388731625493765e-3f;
    cp = cp * z + 4.166664568298827e-2f;
    const F cr = 1.0f - 0.5f * z + z * z * cp;
    const I qi = qi0 & 3;
    const I q0 = qi == 0, q1 = qi == 1, q2 = qi == 2;
    *c = Select(q0, cr, Select(q1, -sr, Select(q2, -cr, sr)));
    *s = Select(q0, sr, Select(q1, cr, Select(q2, -sr, -cr)));
  }

  // rng::Fmix32 / rng::Bits / rng::Uniform, lane-wise.
  MBRLHPO_VINLINE U Fmix32(U h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
  }
  MBRLHPO_VINLINE F Uniform(U bits) {
    const U b = bits >> 8;           // < 2^24: exact as int32 and as float
    return (ToFloat((I)b) + 0.5f) *  // NOLINT(readability/casting)
           (1.0f / 16777216.0f);
  }
};

}  // namespace mbrlhpo::fast
