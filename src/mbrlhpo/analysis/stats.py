"""Small statistics used by the analyses: average ranks and Spearman's rank correlation.

Written out (no SciPy needed) so the definitions are explicit; tested against hand examples
and, where installed, ``scipy.stats``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def rankdata(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n of ``values`` (n,); tied values all get the average of their ranks.

    ``rankdata([10, 20, 20, 5]) == [2, 3.5, 3.5, 1]``. NaN is rejected (no order).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected a 1-D sequence, got shape {x.shape}")
    if np.isnan(x).any():
        raise ValueError("expected values without NaN (NaN has no rank)")
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    ranks = np.empty(len(x), dtype=np.float64)
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0  # average of ranks i+1 .. j+1
        i = j + 1
    return ranks


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's correlation of two equally long sequences; NaN if either is constant."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"expected two 1-D sequences of equal length, got shapes {a.shape} and {b.shape}"
        )
    if len(a) < 2:
        return math.nan
    da, db = a - a.mean(), b - b.mean()
    denom = math.sqrt(float(np.dot(da, da)) * float(np.dot(db, db)))
    if denom == 0.0:
        return math.nan
    return max(-1.0, min(1.0, float(np.dot(da, db)) / denom))


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation: Pearson's correlation of the average ranks.

    NaN when there are fewer than two pairs or either side is constant. ``-inf`` values (failed
    members' scores) rank below every finite value; NaN is rejected.
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"expected two 1-D sequences of equal length, got shapes {a.shape} and {b.shape}"
        )
    if len(a) < 2:
        return math.nan
    return pearson(rankdata(a), rankdata(b))
