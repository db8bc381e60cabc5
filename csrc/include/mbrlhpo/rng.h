// Counter-based randomness of the planners; the C++ twin of src/mbrlhpo/planning/rng.py
// (bit-exact uniforms). Every number is a pure function of
// (seed, stream, step, iteration, row, element), so plans do not depend on thread count.
// Host and device code (MBRLHPO_HOST_DEVICE): the CPU planner and the CUDA kernels draw the same
// numbers from the same functions.
#pragma once

#include <math.h>

#include <cstdint>

#include "mbrlhpo/host_device.h"

namespace mbrlhpo::rng {

inline constexpr uint32_t kStreamActions = 0;
inline constexpr uint32_t kStreamState = 1;

MBRLHPO_HOST_DEVICE inline uint32_t Fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

MBRLHPO_HOST_DEVICE inline uint32_t KeyStep(uint32_t h, uint32_t word) {
  return Fmix32((h ^ word) * 0x9E3779B1u);
}

// Key of everything up to (but excluding) the row: hoisted out of row loops.
MBRLHPO_HOST_DEVICE inline uint32_t PrefixKey(uint64_t seed, uint32_t stream, uint32_t step,
                                              uint32_t iteration) {
  uint32_t h = 0x243F6A88u;
  h = KeyStep(h, static_cast<uint32_t>(seed));
  h = KeyStep(h, static_cast<uint32_t>(seed >> 32));
  h = KeyStep(h, stream);
  h = KeyStep(h, step);
  return KeyStep(h, iteration);
}

MBRLHPO_HOST_DEVICE inline uint32_t RowKey(uint32_t prefix, uint32_t row) {
  return KeyStep(prefix, row);
}

MBRLHPO_HOST_DEVICE inline uint32_t Bits(uint32_t row_key, uint32_t k) {
  return Fmix32(row_key ^ (k * 0x9E3779B9u));
}

// Uniform in (0, 1), exactly ((bits >> 8) + 0.5) * 2^-24.
MBRLHPO_HOST_DEVICE inline float Uniform(uint32_t bits) {
  return (static_cast<float>(bits >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

// erfinv for |y| <= erf(sqrt(2)) ~ 0.9545: Giles' single-precision starting point refined by
// two Newton steps on erf in double (accurate to a few double ulps in this range). The global
// double functions (log, sqrt, erf, exp) are glibc's on the host (the same calls as std::) and
// CUDA's on the device (within 1-2 double ulps of them: after the cast to float the draws agree
// except in rare last-bit cases, which gpu_check counts).
MBRLHPO_HOST_DEVICE inline double ErfInv(double y) {
  double w = -log((1.0 - y) * (1.0 + y));
  double x;
  if (w < 5.0) {
    w -= 2.5;
    double p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
    x = p * y;
  } else {
    w = sqrt(w) - 3.0;
    double p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
    x = p * y;
  }
  const double kTwoOverSqrtPi = 1.1283791670955126;
  for (int i = 0; i < 2; ++i) {
    x -= (erf(x) - y) / (kTwoOverSqrtPi * exp(-x * x));
  }
  return x;
}

// sqrt(2) erfinv(erf(sqrt(2)) (2u - 1)): a standard normal truncated to [-2, 2], in double.
MBRLHPO_HOST_DEVICE inline double TruncatedNormalFromUniform(double u) {
  const double kErfSqrt2 = 0.9544997361036416;
  return 1.4142135623730951 * ErfInv(kErfSqrt2 * (2.0 * u - 1.0));
}

}  // namespace mbrlhpo::rng
