"""Counter-based random numbers for environment resets.

A reset draw is a pure function of ``(seed, env_index, episode, counter)``, so the reset state
of every environment in a batch is the same whatever the thread count or the order of resets,
and the native C++ envs (``csrc/include/mbrlhpo/reset_rng.h``) reproduce it exactly. The
generator is SplitMix64 keyed by the three integers; uniforms take the top 53 bits; normals use
Box-Muller on two uniforms (one normal per pair).
"""

from __future__ import annotations

import math

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_ENV_MUL = 0xD1B54A32D192ED03
_EPISODE_MUL = 0xAEF17502108EF2D9
_TWO_POW_M53 = 2.0**-53


def mix64(z: int) -> int:
    """SplitMix64's finaliser (a bijection of 64-bit integers)."""
    z &= _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def stream_key(seed: int, env_index: int, episode: int) -> int:
    """The 64-bit key of one environment's reset stream for one episode."""
    key = mix64(seed & _MASK)
    key = mix64(key ^ ((env_index * _ENV_MUL) & _MASK))
    return mix64(key ^ ((episode * _EPISODE_MUL) & _MASK))


class ResetRng:
    """Draws for one reset: ``uniform`` and ``normal`` consume counters 0, 1, 2, ... in order."""

    def __init__(self, seed: int, env_index: int, episode: int) -> None:
        if seed < 0 or env_index < 0 or episode < 0:
            raise ValueError(
                f"expected non-negative seed/env_index/episode, got {seed}/{env_index}/{episode}"
            )
        self._key = stream_key(seed, env_index, episode)
        self._counter = 0

    def _next_bits(self) -> int:
        self._counter += 1
        return mix64((self._key + self._counter * _GOLDEN) & _MASK)

    def uniform01(self) -> float:
        """A double in [0, 1)."""
        return (self._next_bits() >> 11) * _TWO_POW_M53

    def uniform(self, low: float, high: float) -> float:
        """A double in [low, high)."""
        return low + (high - low) * self.uniform01()

    def normal(self, std: float) -> float:
        """A normal draw with mean 0 and standard deviation ``std`` (Box-Muller)."""
        u1 = ((self._next_bits() >> 11) + 1) * _TWO_POW_M53  # (0, 1]
        u2 = (self._next_bits() >> 11) * _TWO_POW_M53
        return std * (math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2))
