// Private: branch-free float math the compiler can vectorise (Cephes-style polynomials,
// ~1-2 ulp on the ranges used). NaN inputs propagate through the planner's kernels.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MBRLHPO_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MBRLHPO_SIMD_CLONES
#endif

namespace mbrlhpo::fast {

inline float AsFloat(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
inline int32_t AsInt(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}

// exp(x); x clamped to [-87.3, 88.3] (NaN stays NaN through the final multiply).
inline float Exp(float x) {
  const float xc = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  const float fx = xc * 1.44269504088896341f;
  const int32_t n = static_cast<int32_t>(fx + (fx >= 0.0f ? 0.5f : -0.5f));
  const float nf = static_cast<float>(n);
  const float r = xc - nf * 0.693359375f + nf * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const float scaled = e * AsFloat((n + 127) << 23);
  return x != x ? x : scaled;
}

// log(x) for finite x > 0.
inline float Log(float x) {
  const int32_t bits = AsInt(x);
  int32_t e = ((bits >> 23) & 0xff) - 126;
  float m = AsFloat((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  const bool small = m < 0.707106781186547524f;
  e = small ? e - 1 : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float ef = static_cast<float>(e);
  y += ef * -2.12194440e-4f;
  y += -0.5f * z;
  return m + y + ef * 0.693359375f;
}

// softplus(x) = max(x, 0) + log(1 + exp(-|x|)).
inline float Softplus(float x) {
  const float ax = x < 0.0f ? -x : x;
  return (x > 0.0f ? x : 0.0f) + Log(1.0f + Exp(-ax));
}

// cos(2 pi u) and sin(2 pi u) for u in [0, 1].
inline void SinCos2Pi(float u, float* c, float* s) {
  const float q = static_cast<float>(static_cast<int32_t>(u * 4.0f + 0.5f));  // quadrant 0..4
  const float r = (u - q * 0.25f) * 6.28318530717958648f;  // [-pi/4, pi/4]
  const float z = r * r;
  float sp = -1.9515295891e-4f;
  sp = sp * z + 8.3321608736e-3f;
  sp = sp * z - 1.6666654611e-1f;
  const float sr = r + r * z * sp;
  float cp = 2.443315711809948e-5f;
  cp = cp * z - 1.388731625493765e-3f;
  cp = cp * z + 4.166664568298827e-2f;
  const float cr = 1.0f - 0.5f * z + z * z * cp;
  const int32_t qi = static_cast<int32_t>(q) & 3;
  const float c1 = qi == 0 ? cr : (qi == 1 ? -sr : (qi == 2 ? -cr : sr));
  const float s1 = qi == 0 ? sr : (qi == 1 ? cr : (qi == 2 ? -sr : -cr));
  *c = c1;
  *s = s1;
}

}  // namespace mbrlhpo::fast
