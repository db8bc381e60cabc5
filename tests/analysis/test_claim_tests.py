"""The claims page's tests against hand-worked values, brute-force enumeration and SciPy."""

import itertools
import math

import numpy as np
import pytest

from mbrlhpo.analysis import claim_tests as ct


def _brute_signed_rank_p(d):
    """Two-sided p of W+ by flipping every sign (independent of the dynamic programme)."""
    d = np.asarray([v for v in d if v != 0], dtype=float)
    ranks = ct.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    centre = ranks.sum() / 2
    flips = itertools.product([0, 1], repeat=len(d))
    sums = [sum(r for r, s in zip(ranks, signs, strict=True) if s) for signs in flips]
    return np.mean([abs(s - centre) >= abs(observed - centre) - 1e-9 for s in sums])


def test_wilcoxon_hand_worked():
    assert ct.wilcoxon_signed_rank([1, 2, 3, 4, 5]).p == pytest.approx(2 / 32)
    r = ct.wilcoxon_signed_rank([1, -2, 3, 4, 5])  # W+ = 13: subsets summing >= 13 or <= 2
    assert r.statistic == 13 and r.p == pytest.approx(6 / 32)
    assert ct.wilcoxon_signed_rank([0, 0, 1, 2, 3, 4, 5]).n == 5  # zeros dropped
    assert ct.wilcoxon_signed_rank([0.0, 0.0]).p == 1.0


def test_wilcoxon_ties_equal_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = rng.integers(-4, 5, size=9).astype(float)  # many ties and zeros
        assert ct.wilcoxon_signed_rank(d).p == pytest.approx(_brute_signed_rank_p(d))


def test_sign_test_and_paired_t():
    assert ct.sign_test([1, 1, 1, 1, 1]).p == pytest.approx(2 / 32)
    assert ct.sign_test([1, 1, 1, 1, 1, -1]).p == pytest.approx(14 / 64)
    r = ct.paired_t([1.0, 2.0, 3.0])  # mean 2, sd 1, t = 2 sqrt(3), 2 df
    assert r.statistic == pytest.approx(2 * math.sqrt(3))
    assert r.p == pytest.approx(1 - 2 * math.sqrt(3) / math.sqrt(2 + 12))  # t / sqrt(2 + t^2), 2 df
    with pytest.raises(ValueError, match="at least 2"):
        ct.paired_t([1.0])


def test_mann_whitney_hand_worked():
    r = ct.mann_whitney([6, 7, 8, 9, 10], [1, 2, 3, 4, 5])
    assert r.statistic == 25 and r.p == pytest.approx(2 / 252)
    assert ct.mann_whitney([1, 2], [1, 2]).p == pytest.approx(1.0)


def test_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    for _ in range(10):
        d = rng.normal(0.5, 1, 8)
        want = stats.wilcoxon(d, method="exact").pvalue
        assert ct.wilcoxon_signed_rank(d).p == pytest.approx(want)
        assert ct.paired_t(d).p == pytest.approx(stats.ttest_1samp(d, 0).pvalue)
        x, y = rng.normal(0, 1, 6), rng.normal(0.7, 1, 5)
        want = stats.mannwhitneyu(x, y, method="exact").pvalue
        assert ct.mann_whitney(x, y).p == pytest.approx(want)
        assert ct.sign_test(d).p == pytest.approx(stats.binomtest(int((d > 0).sum()), 8).pvalue)


def test_spearman_permutation():
    r = ct.spearman_test([1, 2, 3, 4], [1, 2, 3, 4], np.random.default_rng(0))
    assert r.statistic == pytest.approx(1.0) and r.p == pytest.approx(2 / 24)
    x = np.arange(12.0)
    big = ct.spearman_test(x, x, np.random.default_rng(0), permutations=2000)
    assert big.p == pytest.approx(1 / 2001)  # only the observed ordering reaches rho = 1


def test_holm():
    assert ct.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert ct.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="probabilities"):
        ct.holm([1.5])


def test_iqm_difference():
    rng = np.random.default_rng(0)
    y = np.array([1.0, 5.0, 2.0, 8.0])
    assert ct.iqm_difference(y + 2, y, rng, paired=True) == pytest.approx((2, 2, 2))
    point, low, high = ct.iqm_difference([3, 4, 5, 6], 1.0, rng, paired=True)
    assert point == pytest.approx(3.5) and low <= point <= high


def test_power_and_smallest_p():
    assert ct.smallest_p("wilcoxon", 5) == pytest.approx(0.0625)
    assert ct.smallest_p("mann-whitney", (5, 5)) == pytest.approx(2 / 252)
    wilcoxon = lambda x, y: ct.wilcoxon_signed_rank(x).p  # noqa: E731
    rng = np.random.default_rng(0)
    # five pairs can never reject at 0.05, however large the effect
    assert ct.power(wilcoxon, (5, 0), 10.0, 0.05, rng, simulations=50) == 0.0
    assert ct.power(wilcoxon, (8, 0), 3.0, 0.05, rng, simulations=200) > 0.9


def test_verdict():
    assert ct.verdict(0.01, 2.0, 0.5, 3.0, +1) == ct.REPRODUCED
    assert ct.verdict(0.01, -2.0, -3.0, -0.5, +1) == ct.CONTRADICTED
    assert ct.verdict(0.2, -2.0, -3.0, -0.5, +1) == ct.CONTRADICTED
    assert ct.verdict(0.2, 1.0, -1.0, 3.0, +1) == ct.NOT_SHOWN
    assert ct.verdict(0.01, -2.0, -3.0, -0.5, -1) == ct.REPRODUCED
    with pytest.raises(ValueError, match="direction"):
        ct.verdict(0.01, 1, 0, 2, 0)


def test_spearman_against_a_stated_correlation():
    x = np.arange(20.0)
    y = x.copy()
    y[::2] = y[::2][::-1]  # half the order reversed: a weak rank correlation
    result, low, high = ct.spearman_against(x, y, 0.5)
    assert result.statistic == pytest.approx(ct.spearman(x, y))
    z = (math.atanh(result.statistic) - math.atanh(0.5)) / math.sqrt(1.06 / 17)
    assert result.p == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert low < result.statistic < high
    assert math.tanh(math.atanh(result.statistic) + 1.959964 * math.sqrt(1.06 / 17)) == (
        pytest.approx(high, rel=1e-5)
    )
    with pytest.raises(ValueError, match="rho0"):
        ct.spearman_against(x, y, 1.0)


def test_spearman_by_stratum_is_not_fooled_by_the_strata_levels():
    rng = np.random.default_rng(3)
    # two tasks, no correlation within either, the second at a higher level on both axes
    a = (rng.normal(size=15), rng.normal(size=15))
    b = (rng.normal(size=15) + 10.0, rng.normal(size=15) + 10.0)
    pooled, _, _ = ct.spearman_against(np.r_[a[0], b[0]], np.r_[a[1], b[1]], 0.0)
    assert pooled.statistic > 0.6 and pooled.p < 1e-3  # the levels alone
    result, low, high = ct.spearman_against_strata([a, b], 0.0)
    assert result.n == 30 and low < 0.0 < high and result.p > 0.05
    # the combined z is the strata's, weighted by n - 3
    za, zb = (math.atanh(ct.spearman(*s)) for s in (a, b))
    assert math.atanh(result.statistic) == pytest.approx((12 * za + 12 * zb) / 24)
    z = (math.atanh(result.statistic) - 0.0) / math.sqrt(1.06 / 24)
    assert result.p == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    # one stratum is spearman_against
    one, lo1, hi1 = ct.spearman_against_strata([a], 0.5)
    ref, lo2, hi2 = ct.spearman_against(*a, 0.5)
    assert (one.statistic, one.p, lo1, hi1) == pytest.approx((ref.statistic, ref.p, lo2, hi2))
    with pytest.raises(ValueError, match=">= 4 per stratum"):
        ct.spearman_against_strata([a, (b[0][:3], b[1][:3])], 0.5)
    with pytest.raises(ValueError, match="at least one stratum"):
        ct.spearman_against_strata([], 0.5)
