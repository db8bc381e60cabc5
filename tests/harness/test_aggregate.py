"""The aggregate estimators against hand-worked values."""

import numpy as np
import pytest

from mbrlhpo.analysis import aggregate as ag


def test_iqm_is_the_mean_of_the_middle_half():
    assert ag.iqm([1, 2, 3, 4, 5, 6, 7, 8]) == 4.5  # mean of 3, 4, 5, 6
    assert ag.iqm([[1, 100], [2, 0], [3, 50], [4, -7]]) == 2.5  # 8 scores: mean of 1, 2, 3, 4


def test_trimmed_mean_matches_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    x = np.random.default_rng(0).normal(size=37)
    assert ag.trimmed_mean(x, 0.25) == pytest.approx(scipy_stats.trim_mean(x, 0.25))


def test_probability_of_improvement_counts_pairs_and_half_ties():
    assert ag.probability_of_improvement([1, 2], [0, 3]) == 0.5
    assert ag.probability_of_improvement([1, 1], [1, 0]) == 0.75  # 2 ties (half), 2 wins
    # averaged over tasks: task 1 always wins, task 2 never
    assert ag.probability_of_improvement([[1, 0], [2, 0]], [[0, 1], [0, 1]]) == 0.5


def test_performance_profile_is_the_fraction_above_tau_averaged_over_tasks():
    scores = [[0.1, 0.5], [0.6, 0.9]]
    np.testing.assert_allclose(ag.performance_profile(scores, [0.0, 0.5, 1.0]), [1.0, 0.5, 0.0])


def test_stratified_bootstrap_keeps_every_task():
    # task 1 all 0, task 2 all 1: any resample within tasks has mean exactly 0.5
    m = np.array([[0.0, 1.0]] * 4)
    point, low, high = ag.interval_estimate(m, ag.mean_score, np.random.default_rng(1), 200)
    assert point == low == high == 0.5


def test_interval_contains_the_point_and_normalise_scales():
    m = np.random.default_rng(2).normal(size=(10, 3))
    point, low, high = ag.interval_estimate(m, ag.iqm, np.random.default_rng(3), 500)
    assert low <= point <= high
    np.testing.assert_allclose(ag.normalise([0, 5, 10], 0, 10), [0, 0.5, 1])
    with pytest.raises(ValueError, match="low < high"):
        ag.normalise([1], 2, 2)
