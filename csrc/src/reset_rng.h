// Counter-based random numbers for environment resets: draws are a pure function of
// (seed, env index, episode, counter), identical to src/mbrlhpo/envs/reset_rng.py, so resets do
// not depend on thread counts and native and Python envs agree exactly.
#pragma once

#include <cmath>
#include <cstdint>

namespace mbrlhpo {

inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class ResetRng {
 public:
  ResetRng(uint64_t seed, uint64_t env_index, uint64_t episode) {
    uint64_t key = Mix64(seed);
    key = Mix64(key ^ (env_index * 0xD1B54A32D192ED03ULL));
    key_ = Mix64(key ^ (episode * 0xAEF17502108EF2D9ULL));
  }
  // A double in [0, 1).
  double Uniform01() { return static_cast<double>(NextBits() >> 11) * kTwoPowM53; }
  double Uniform(double low, double high) { return low + (high - low) * Uniform01(); }
  // Normal with mean 0 and standard deviation std (Box-Muller, one value per two draws).
  double Normal(double std) {
    const double u1 = static_cast<double>((NextBits() >> 11) + 1) * kTwoPowM53;
    const double u2 = static_cast<double>(NextBits() >> 11) * kTwoPowM53;
    return std * (std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2));
  }

 private:
  static constexpr double kTwoPowM53 = 1.0 / 9007199254740992.0;
  static constexpr double kPi = 3.141592653589793;
  uint64_t NextBits() {
    ++counter_;
    return Mix64(key_ + counter_ * 0x9E3779B97F4A7C15ULL);
  }
  uint64_t key_;
  uint64_t counter_ = 0;
};

}  // namespace mbrlhpo
