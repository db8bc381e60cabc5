"""Counter-based randomness of the planners, defined once, bit-exact in NumPy, torch and C++.

Every random number is a pure function of a counter, so a plan does not depend on thread count,
batching or backend (the C++ twin is ``csrc/include/mbrlhpo/rng.h``):

    fmix32(h)      = murmur3's 32-bit finaliser
    row_key(words) = h <- 0x243F6A88; for w in words: h <- fmix32(((h ^ w) * 0x9E3779B1) mod 2^32)
                     words = (seed mod 2^32, seed >> 32, stream, step, iteration, row)
    bits(key, k)   = fmix32(key ^ ((k * 0x9E3779B9) mod 2^32))
    uniform(b)     = ((b >> 8) + 0.5) * 2^-24     exactly representable in float32, in (0, 1)

Streams: ``STREAM_ACTIONS`` (row = candidate n, k = h * A + a) and ``STREAM_STATE`` (row =
particle n * P + p, k = h * O + o). Standard normals (state noise) use Box-Muller over pairs
``j = k // 2``: ``u1 = uniform(bits(key, 2j))``, ``u2 = uniform(bits(key, 2j + 1))``,
``z = sqrt(-2 log u1) * (cos(2 pi u2) if k even else sin(2 pi u2))`` in float32. Truncated
normals on [-2, 2] (CEM samples) use the inverse CDF in float64, rounded to float32:
``z = sqrt(2) erfinv(erf(sqrt(2)) (2u - 1))``.

Uniform bits are identical across NumPy / torch / C++; normals agree to a few float32 ulps
(libm differences), truncated normals almost always exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

STREAM_ACTIONS = 0
STREAM_STATE = 1
_M32 = 0xFFFFFFFF
_KEY_INIT = 0x243F6A88
_KEY_MUL = 0x9E3779B1
_ELEM_MUL = 0x9E3779B9
_FMIX_1 = 0x85EBCA6B
_FMIX_2 = 0xC2B2AE35
ERF_SQRT2 = math.erf(math.sqrt(2.0))


# ----------------------------------------------------------------------------- NumPy (uint64)
def _np_mul32(h: np.ndarray, c: int) -> np.ndarray:
    return (h * np.uint64(c)) & np.uint64(_M32)


def _np_fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(16))
    h = _np_mul32(h, _FMIX_1)
    h = h ^ (h >> np.uint64(13))
    h = _np_mul32(h, _FMIX_2)
    return h ^ (h >> np.uint64(16))


def np_row_key(seed: int, stream: int, step: int, iteration: int, rows: Any) -> np.ndarray:
    """Row keys (uint64 holding 32 bits) for an array of row indices."""
    rows = np.asarray(rows, dtype=np.uint64)
    h = np.full(rows.shape, _KEY_INIT, dtype=np.uint64)
    words = (seed & _M32, (seed >> 32) & _M32, stream, step, iteration)
    for w in words:
        h = _np_fmix32(_np_mul32(h ^ np.uint64(w), _KEY_MUL))
    return _np_fmix32(_np_mul32(h ^ rows, _KEY_MUL))


def np_bits(key: np.ndarray, k: Any) -> np.ndarray:
    """32 random bits for element ``k`` of the rows with ``key`` (broadcast)."""
    k = np.asarray(k, dtype=np.uint64)
    return _np_fmix32(key ^ _np_mul32(k, _ELEM_MUL))


def np_uniform(bits: np.ndarray) -> np.ndarray:
    """float32 uniforms in (0, 1) from 32-bit values."""
    return ((bits >> np.uint64(8)).astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-24)


# ----------------------------------------------------------------------------- torch (int64)
def _t_mul32(h: torch.Tensor, c: int) -> torch.Tensor:
    """``(h * c) mod 2^32`` for 0 <= h < 2^32 without int64 overflow."""
    lo = h * (c & 0xFFFF)
    hi = ((h * (c >> 16)) & 0xFFFF) << 16
    return (lo + hi) & _M32


def _t_fmix32(h: torch.Tensor) -> torch.Tensor:
    h = h ^ (h >> 16)
    h = _t_mul32(h, _FMIX_1)
    h = h ^ (h >> 13)
    h = _t_mul32(h, _FMIX_2)
    return h ^ (h >> 16)


def torch_row_key(
    seed: int, stream: int, step: int, iteration: int, rows: torch.Tensor
) -> torch.Tensor:
    """Row keys (int64 holding 32 bits) for an int64 tensor of row indices."""
    h = torch.full_like(rows, _KEY_INIT, dtype=torch.int64)
    for w in (seed & _M32, (seed >> 32) & _M32, stream, step, iteration):
        h = _t_fmix32(_t_mul32(h ^ w, _KEY_MUL))
    return _t_fmix32(_t_mul32(h ^ rows.to(torch.int64), _KEY_MUL))


def torch_bits(key: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """32 random bits (int64) for elements ``k`` of rows with ``key`` (broadcast)."""
    return _t_fmix32(key ^ _t_mul32(k.to(torch.int64), _ELEM_MUL))


def torch_uniform(bits: torch.Tensor) -> torch.Tensor:
    """float32 uniforms in (0, 1)."""
    return ((bits >> 8).to(torch.float32) + 0.5) * (2.0**-24)


def torch_normal(key: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Standard normals (float32) for elements ``k`` (Box-Muller over pairs ``k // 2``)."""
    j2 = (k >> 1) << 1
    u1 = torch_uniform(torch_bits(key, j2))
    u2 = torch_uniform(torch_bits(key, j2 + 1))
    rad = torch.sqrt(-2.0 * torch.log(u1))
    theta = (2.0 * math.pi) * u2
    odd = (k & 1).bool()
    return rad * torch.where(odd, torch.sin(theta), torch.cos(theta))


def torch_truncated_normal(key: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Standard normals truncated to [-2, 2] (float32, computed in float64)."""
    u = torch_uniform(torch_bits(key, k)).to(torch.float64)
    return (math.sqrt(2.0) * torch.erfinv(ERF_SQRT2 * (2.0 * u - 1.0))).to(torch.float32)
