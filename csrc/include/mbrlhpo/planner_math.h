// The scalar arithmetic of the PETS planner, shared by the CPU planner (cem_planner.cpp, where it
// is scalar: candidate sampling, elite order, refit) and the CUDA kernels (all of it): one
// definition, host and device (MBRLHPO_HOST_DEVICE).
//
// Bit-identity between the two needs the same operations in the same order and no contraction
// into FMA: nvcc contracts a * b + c by default, so the device path spells the rounding out
// (__fmul_rn / __fadd_rn, which nvcc never fuses); the host core is built without FMA
// contraction of these lines (no -march: the baseline x86-64 has no FMA instruction).
// The rollout's per-element functions (Swish, BoundedLogVar, Gaussian) are the reference of the
// CPU planner's vectorised passes (fast_math.h, a few ulp apart) and the kernels' exact math.
#pragma once

#include <math.h>

#include <cstdint>
#include <cstring>

#include "mbrlhpo/host_device.h"
#include "mbrlhpo/rng.h"

namespace mbrlhpo::planner_math {

// a * b and a + b rounded separately, never fused.
MBRLHPO_HOST_DEVICE inline float MulRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
MBRLHPO_HOST_DEVICE inline float AddRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
MBRLHPO_HOST_DEVICE inline float SubRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

// Exponent not all ones. Portable: std::isfinite is not a device function and isfinite is not
// in the global namespace on the host.
MBRLHPO_HOST_DEVICE inline bool IsFinite(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return (u & 0x7F800000u) != 0x7F800000u;
}

// ------------------------------------------------------------------------------ sampling (CEM)

// The initial CEM variance of an action dim: (high - low)^2 / 16.
MBRLHPO_HOST_DEVICE inline float InitialVariance(float low, float high) {
  const float range = high - low;
  return MulRn(range, range) / 16.0f;
}

// One candidate action: mean + sqrt(min((lb/2)^2, (ub/2)^2, var)) * z, z the truncated normal
// of uniform `u` (the CPU planner's formula; the bounds keep 2 sd inside [low, high]).
MBRLHPO_HOST_DEVICE inline float SampleAction(float mean, float var, float low, float high,
                                              float u) {
  const float lb = mean - low, ub = high - mean;
  const float lb2 = MulRn(lb / 2, lb / 2), ub2 = MulRn(ub / 2, ub / 2);
  float cvar = ub2 < lb2 ? ub2 : lb2;  // std::min's order, NaN included
  cvar = var < cvar ? var : cvar;
  const float z = static_cast<float>(rng::TruncatedNormalFromUniform(u));
  return AddRn(mean, MulRn(sqrtf(cvar), z));
}

// Candidate n's action element k (k = h * A + a) of iteration `prefix`'s stream-0 key.
MBRLHPO_HOST_DEVICE inline float SampleUniform(uint32_t prefix, int n, int k) {
  const uint32_t key = rng::RowKey(prefix, static_cast<uint32_t>(n));
  return rng::Uniform(rng::Bits(key, static_cast<uint32_t>(k)));
}

// ------------------------------------------------------------------------------ elites (CEM)

// A candidate's return as the elite choice sees it: the mean over particles, or -inf where it is
// not finite (NaN or inf model output never picks an elite).
MBRLHPO_HOST_DEVICE inline float FiniteOrNegInf(float v) { return IsFinite(v) ? v : -INFINITY; }

// The CPU planner's elite order: larger return first; ties: lower index first.
MBRLHPO_HOST_DEVICE inline bool RanksBefore(float ret_a, int32_t a, float ret_b, int32_t b) {
  return ret_a > ret_b || (ret_a == ret_b && a < b);
}

// Elite mean and variance of element q (stride: floats per candidate), summed sequentially in
// elite order, then blended into (mean, var) with weight alpha on the old values.
MBRLHPO_HOST_DEVICE inline void RefitElement(const float* samples, const int32_t* elites, int k,
                                             int64_t stride, int q, float alpha, float* mean,
                                             float* var) {
  float m = 0.0f;
  for (int i = 0; i < k; ++i) m = AddRn(m, samples[static_cast<int64_t>(elites[i]) * stride + q]);
  m /= static_cast<float>(k);
  float v = 0.0f;
  for (int i = 0; i < k; ++i) {
    const float d = SubRn(samples[static_cast<int64_t>(elites[i]) * stride + q], m);
    v = AddRn(v, MulRn(d, d));
  }
  v /= static_cast<float>(k);
  const float beta = 1.0f - alpha;
  *mean = AddRn(MulRn(alpha, *mean), MulRn(beta, m));
  *var = AddRn(MulRn(alpha, *var), MulRn(beta, v));
}

// ------------------------------------------------------------------------------ rollout

// x * sigmoid(x) as x / (1 + exp(-x)).
MBRLHPO_HOST_DEVICE inline float Swish(float v) { return v / (1.0f + expf(-v)); }

// The TF32 rollout's swish: x * (1 / (1 + 2^(-x log2 e))). On the device the exponential and the
// reciprocal are the hardware's approximations (ex2.approx.ftz, rcp.approx.ftz: one MUFU each,
// 5 instructions in all against ~20 for the accurate expf and the IEEE division); on the host
// (the emulator) exp2f and an IEEE 1 / x. So this one function is NOT bit-identical between the
// device and the host: both are within a few float ulp of Swish (gpu_check's conformance states
// the bound it holds the device to), far below the 2^-11 relative rounding that TF32 applies to
// every activation anyway. The float32 rollout and the CPU planner keep Swish.
MBRLHPO_HOST_DEVICE inline float FastSwish(float v) {
  const float t = MulRn(v, -1.44269504088896341f);  // -x log2(e)
#if defined(__CUDA_ARCH__)
  float e, r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(e) : "f"(t));
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(AddRn(1.0f, e)));
  return MulRn(v, r);
#else
  return v * (1.0f / (1.0f + exp2f(t)));
#endif
}

// log(1 + exp(x)) without overflow.
MBRLHPO_HOST_DEVICE inline float Softplus(float x) {
  const float ax = x < 0.0f ? -x : x;
  return (x > 0.0f ? x : 0.0f) + logf(1.0f + expf(-ax));
}

// The model's log-variance bounded softly into [min_lv, max_lv] (PETS).
MBRLHPO_HOST_DEVICE inline float BoundedLogVar(float raw, float max_lv, float min_lv) {
  const float lv = max_lv - Softplus(max_lv - raw);
  return min_lv + Softplus(lv - min_lv);
}

// The standard normal of element k of a row's stream-1 key: Box-Muller over the pair of uniforms
// (2 floor(k / 2), +1), cos for even k, sin for odd k (rng.py's normal()).
MBRLHPO_HOST_DEVICE inline float Gaussian(uint32_t row_key, uint32_t k) {
  const uint32_t j2 = (k >> 1) << 1;
  const float u1 = rng::Uniform(rng::Bits(row_key, j2));
  const float u2 = rng::Uniform(rng::Bits(row_key, j2 + 1));
  const float rad = sqrtf(-2.0f * logf(u1));
  const float t = 6.28318530717958648f * u2;
  return rad * ((k & 1u) != 0 ? hd::Sin(t) : hd::Cos(t));
}

// Next state element: mean + exp(lv / 2) * z, plus the current value for delta targets.
MBRLHPO_HOST_DEVICE inline float NextState(float mu, float lv, float z, float state,
                                           bool absolute) {
  const float next = AddRn(mu, MulRn(expf(0.5f * lv), z));
  return absolute ? next : AddRn(next, state);
}

}  // namespace mbrlhpo::planner_math
