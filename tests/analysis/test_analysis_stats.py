"""Average ranks and Spearman's rho against hand-computed examples and SciPy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mbrlhpo.analysis import pearson, rankdata, spearman


def test_average_ranks_of_ties():
    assert rankdata([10, 20, 20, 5]).tolist() == [2.0, 3.5, 3.5, 1.0]
    assert rankdata([7, 7, 7]).tolist() == [2.0, 2.0, 2.0]
    assert rankdata([3.0, -math.inf, 1.0]).tolist() == [3.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="NaN"):
        rankdata([1.0, math.nan])


def test_spearman_hand_examples():
    # No ties: rho = 1 - 6 sum d^2 / (n (n^2 - 1)); d = (-1, 1, -1, 1, 0) -> 1 - 24/120.
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    assert spearman([1, 2, 3, 4, 5], [50, 40, 30, 20, 10]) == pytest.approx(-1.0)
    # Ties: y ranks (1, 2, 3.5, 5, 3.5); Pearson of ranks = 8 / sqrt(10 * 9.5).
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(8 / math.sqrt(95))
    # Monotone but non-linear: rank correlation is exactly 1, Pearson's is not.
    x = [1.0, 2.0, 3.0, 4.0]
    y = [1.0, 10.0, 100.0, 1000.0]
    assert spearman(x, y) == pytest.approx(1.0)
    assert pearson(x, y) < 0.95


def test_spearman_degenerate_inputs():
    assert math.isnan(spearman([1.0], [2.0]))
    assert math.isnan(spearman([1, 2, 3], [4, 4, 4]))  # a constant side
    with pytest.raises(ValueError, match="equal length"):
        spearman([1, 2, 3], [1, 2])


def test_spearman_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(3, 30))
        x = rng.integers(0, 6, n).astype(float)  # many ties
        y = x + rng.normal(0, 2, n).round()
        if len(set(x)) < 2 or len(set(y)) < 2:
            continue
        assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
        assert rankdata(y).tolist() == stats.rankdata(y).tolist()
