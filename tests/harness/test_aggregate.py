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


def test_stratified_bootstrap_draws_each_task_from_its_own_runs():
    m = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    rs = ag.stratified_bootstrap(m, np.random.default_rng(4), 50)
    assert rs.shape == (50, 3, 2)
    assert set(np.unique(rs[:, :, 0])) <= {1.0, 2.0, 3.0}
    assert set(np.unique(rs[:, :, 1])) <= {10.0, 20.0, 30.0}
    with pytest.raises(ValueError, match="finite"):
        ag.stratified_bootstrap([[1.0], [np.nan]], np.random.default_rng(0), 5)


def test_mean_and_median_by_hand():
    assert ag.mean_score([[1, 2], [3, 6]]) == 3.0
    assert ag.median_score([[1, 2], [3, 6]]) == 2.5


def test_percentile_interval_of_a_two_valued_statistic_by_hand():
    # runs 0 and 1 on one task; the mean of a resample of 1 run is 0 or 1 with probability 1/2
    # each, so the 2.5 % and 97.5 % quantiles of many resamples are 0 and 1.
    point, low, high = ag.interval_estimate([[0.0], [1.0]], ag.mean_score,
                                            np.random.default_rng(5), 400)  # fmt: skip
    assert (point, low, high) == (0.5, 0.0, 1.0)


def test_improvement_interval_of_separated_and_equal_methods():
    x, y = [[2.0], [3.0], [4.0]], [[0.0], [1.0]]
    assert ag.improvement_interval(x, y, np.random.default_rng(6), 100) == (1.0, 1.0, 1.0)
    assert ag.improvement_interval(y, y, np.random.default_rng(7), 100)[0] == 0.5
    # P(X > Y) + P(Y > X) = 1 with ties counted half
    a, b = [[1.0], [5.0], [2.0]], [[2.0], [3.0]]
    assert ag.probability_of_improvement(a, b) + ag.probability_of_improvement(b, a) == 1.0
    assert ag.probability_of_improvement(a, b) == pytest.approx(2.5 / 6)  # 5>2, 5>3, 2=2


def test_profile_band_and_anytime_iqm_by_hand():
    # every run of a task equal: resamples change nothing, band = point
    m = np.array([[0.2, 0.8], [0.2, 0.8]])
    point, low, high = ag.profile_band(m, [0.0, 0.5, 1.0], np.random.default_rng(8), 100)
    np.testing.assert_allclose(point, [1.0, 0.5, 0.0])
    np.testing.assert_allclose(low, point)
    np.testing.assert_allclose(high, point)
    # 4 runs x 1 task x 2 budget points: IQM of (1, 2, 3, 4) = 2.5, of (0, 0, 10, 10) = 5
    curves = np.array([[[1, 0]], [[2, 0]], [[3, 10]], [[4, 10]]], dtype=float)
    point, low, high = ag.anytime_iqm(curves, np.random.default_rng(9), 200)
    np.testing.assert_allclose(point, [2.5, 5.0])
    assert (low <= point).all() and (point <= high).all()
    with pytest.raises(ValueError, match="budget points"):
        ag.anytime_iqm(np.zeros((2, 3)), np.random.default_rng(0))


def test_task_bounds_by_hand():
    # seeds weigh equally however many runs each has: mean(mean(-10, -10), -20) = -15
    first = {1: [-10.0, -10.0], 2: [-20.0]}
    assert ag.task_bounds(first, [-5.0, None, 3.0, float("nan")]) == (-15.0, 3.0, -15.0)
    # a run worse than random: failed runs score it (they rank last)
    assert ag.task_bounds(first, [-40.0, 3.0]) == (-15.0, 3.0, -40.0)
    low, high, floor = ag.task_bounds({}, [None])
    assert np.isnan(low) and np.isnan(high) and np.isnan(floor)
