"""Small statistics used by the analyses: average ranks, Spearman's rank correlation and
Student's t (the interval of `mbrlhpo evaluate`).

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


def student_t_cdf_two_sided(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with an integer ``df >= 1`` (the closed forms of
    Abramowitz & Stegun 26.7.3-4: a finite series in the angle atan(t / sqrt(df)))."""
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"df: expected an int >= 1, got {df!r}")
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2 == 1:  # odd: (2/pi) (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 ...))
        term, series = 1.0, 1.0 if df > 1 else 0.0
        for j in range(1, (df - 1) // 2):
            term *= (2 * j) / (2 * j + 1) * c2
            series += term
        return 2.0 / math.pi * (theta + math.sin(theta) * math.cos(theta) * series)
    term, series = 1.0, 1.0  # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 ...)
    for j in range(1, df // 2):
        term *= (2 * j - 1) / (2 * j) * c2
        series += term
    return math.sin(theta) * series


def student_t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (0.5 < p < 1) of Student's t with integer ``df``, by bisection on
    :func:`student_t_cdf_two_sided` (t_0.975 with 4 df is 2.7764...)."""
    if not 0.5 < p < 1:
        raise ValueError(f"p: expected a probability in (0.5, 1), got {p!r}")
    want = 2.0 * p - 1.0
    lo, hi = 0.0, 1.0
    while student_t_cdf_two_sided(hi, df) < want:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if student_t_cdf_two_sided(mid, df) < want:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
