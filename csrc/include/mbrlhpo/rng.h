// Counter-based randomness of the planners; the C++ twin of src/mbrlhpo/planning/rng.py
// (bit-exact uniforms). Every number is a pure function of
// (seed, stream, step, iteration, row, element), so plans do not depend on thread count.
#pragma once

#include <cstdint>

namespace mbrlhpo::rng {

inline constexpr uint32_t kStreamActions = 0;
inline constexpr uint32_t kStreamState = 1;

inline uint32_t Fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

inline uint32_t KeyStep(uint32_t h, uint32_t word) { return Fmix32((h ^ word) * 0x9E3779B1u); }

// Key of everything up to (but excluding) the row: hoisted out of row loops.
inline uint32_t PrefixKey(uint64_t seed, uint32_t stream, uint32_t step, uint32_t iteration) {
  uint32_t h = 0x243F6A88u;
  h = KeyStep(h, static_cast<uint32_t>(seed));
  h = KeyStep(h, static_cast<uint32_t>(seed >> 32));
  h = KeyStep(h, stream);
  h = KeyStep(h, step);
  return KeyStep(h, iteration);
}

inline uint32_t RowKey(uint32_t prefix, uint32_t row) { return KeyStep(prefix, row); }

inline uint32_t Bits(uint32_t row_key, uint32_t k) { return Fmix32(row_key ^ (k * 0x9E3779B9u)); }

// Uniform in (0, 1), exactly ((bits >> 8) + 0.5) * 2^-24.
inline float Uniform(uint32_t bits) {
  return (static_cast<float>(bits >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

// sqrt(2) erfinv(erf(sqrt(2)) (2u - 1)): a standard normal truncated to [-2, 2], in double.
double TruncatedNormalFromUniform(double u);

}  // namespace mbrlhpo::rng
