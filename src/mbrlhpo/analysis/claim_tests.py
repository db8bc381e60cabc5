"""The tests behind the claims page (docs/fidelity.md): exact rank tests, Holm's correction,
bootstrap effect sizes, the power a design had, and the verdict a corrected test allows.

Written out with NumPy (no SciPy needed, so the definitions are explicit) and tested against
hand-worked values and, where installed, ``scipy.stats``. Every p-value is two-sided: a claim
has a direction (the paper's), but the page also says when the data point the other way.

- Paired designs (a method's winner against the defaults on the same test seeds):
  :func:`wilcoxon_signed_rank` (exact; zero differences dropped, Wilcoxon's rule; ties get
  average ranks and the exact distribution of those ranks), :func:`sign_test`, :func:`paired_t`.
- Unpaired designs (two methods, each its own studies and seeds): :func:`mann_whitney` (exact,
  ties as average ranks).
- Correlation (C3, Hyperband's fidelities): :func:`spearman_test` (a permutation p-value
  against 0, exact for up to 8 pairs) and :func:`spearman_against` (against a stated rho0,
  with an interval: "weakly correlated" made testable), :func:`spearman_against_strata` (the
  same within strata such as tasks, combined: pooled pairs of strata at different levels
  correlate through the levels alone).
- One family of tests per page: :func:`holm`.
- Effect sizes: :func:`iqm_difference` with a bootstrap interval over studies.
- :func:`power` (simulated) and :func:`smallest_p` (what a design can reject at all), and
  :func:`verdict`: "reproduced", "contradicted" or "not shown at this scale".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mbrlhpo.analysis.aggregate import iqm
from mbrlhpo.analysis.stats import rankdata, spearman, student_t_cdf_two_sided

REPRODUCED = "reproduced"
CONTRADICTED = "contradicted"
NOT_SHOWN = "not shown at this scale"
_EPS = 1e-9  # two statistics this close are equal (sums of half-integer ranks are exact)


@dataclass(frozen=True)
class TestResult:
    """A test's name, statistic, two-sided p-value and sample size (pairs, or ``(n_x, n_y)``)."""

    test: str
    statistic: float
    p: float
    n: int | tuple[int, int]


def _vector(values: Sequence[float], name: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence of numbers, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name}: expected finite numbers, got {x.tolist()}")
    return x


def _two_sided(counts: dict[int, int], observed: int, centre: float) -> float:
    """P(|S - centre| >= |observed - centre|) for an integer statistic S with the exact
    null distribution ``counts`` (value -> number of equally likely outcomes)."""
    total = sum(counts.values())
    far = abs(observed - centre)
    hit = sum(c for s, c in counts.items() if abs(s - centre) >= far - _EPS)
    return min(1.0, hit / total)


def _signed_rank_counts(doubled_ranks: Sequence[int]) -> dict[int, int]:
    """The null distribution of the sum of the (doubled) ranks given a + sign, each sign
    +/- with probability 1/2: a dynamic programme over the ranks."""
    counts = {0: 1}
    for r in doubled_ranks:
        nxt: dict[int, int] = dict(counts)
        for s, c in counts.items():
            nxt[s + r] = nxt.get(s + r, 0) + c
        counts = nxt
    return counts


def wilcoxon_signed_rank(differences: Sequence[float]) -> TestResult:
    """Exact two-sided Wilcoxon signed-rank test of paired differences (zeros dropped).

    The statistic is W+, the sum of the ranks of |d| over the positive d. With 5 non-zero
    differences of one sign p = 2/32 = 0.0625: five pairs can never reject at 0.05.
    """
    d = _vector(differences, "differences")
    d = d[d != 0.0]
    n = len(d)
    if n == 0:
        return TestResult("Wilcoxon signed-rank (exact)", 0.0, 1.0, 0)
    doubled = np.rint(2.0 * rankdata(np.abs(d))).astype(int)  # average ranks are halves
    w_plus = int(doubled[d > 0].sum())
    counts = _signed_rank_counts(doubled.tolist())
    p = _two_sided(counts, w_plus, doubled.sum() / 2.0)
    return TestResult("Wilcoxon signed-rank (exact)", w_plus / 2.0, p, n)


def sign_test(differences: Sequence[float]) -> TestResult:
    """Exact two-sided sign test (binomial, 1/2) of paired differences, zeros dropped."""
    d = _vector(differences, "differences")
    d = d[d != 0.0]
    n, k = len(d), int((d > 0).sum())
    counts = {i: math.comb(n, i) for i in range(n + 1)}
    return TestResult("sign test (exact)", float(k), _two_sided(counts, k, n / 2.0), n)


def paired_t(differences: Sequence[float]) -> TestResult:
    """Two-sided one-sample t-test of paired differences against 0 (n >= 2)."""
    d = _vector(differences, "differences")
    n = len(d)
    if n < 2:
        raise ValueError(f"paired t: expected at least 2 differences, got {n}")
    sd = float(np.std(d, ddof=1))
    if sd == 0.0:
        p = 1.0 if float(d.mean()) == 0.0 else 0.0
        return TestResult("paired t", math.copysign(math.inf, d.mean()) if p == 0 else 0.0, p, n)
    t = float(d.mean()) / (sd / math.sqrt(n))
    return TestResult("paired t", t, 1.0 - student_t_cdf_two_sided(t, n - 1), n)


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> TestResult:
    """Exact two-sided Mann-Whitney (Wilcoxon rank-sum) test of two independent samples.

    The statistic is U = R_x - n_x (n_x + 1) / 2 (R_x: the sum of x's ranks in the pooled
    sample, ties averaged); its exact null distribution counts every way of choosing n_x of
    the pooled (tied) ranks. 5 against 5 all above: p = 2/252 = 0.0079.
    """
    a, b = _vector(x, "x"), _vector(y, "y")
    m, n = len(a), len(b)
    if m == 0 or n == 0:
        raise ValueError(f"Mann-Whitney: expected two non-empty samples, got {m} and {n}")
    doubled = np.rint(2.0 * rankdata(np.concatenate([a, b]))).astype(int)
    observed = int(doubled[:m].sum())
    # ways[k][s]: subsets of size k of the ranks seen so far with doubled rank sum s
    ways: list[dict[int, int]] = [{0: 1}] + [{} for _ in range(m)]
    for r in doubled.tolist():
        for k in range(min(m, len(ways) - 1), 0, -1):
            for s, c in ways[k - 1].items():
                ways[k][s + r] = ways[k].get(s + r, 0) + c
    p = _two_sided(ways[m], observed, m * (m + n + 1))  # E[2 R_x] = m (m + n + 1)
    u = observed / 2.0 - m * (m + 1) / 2.0
    return TestResult("Mann-Whitney (exact)", u, p, (m, n))


def spearman_test(
    x: Sequence[float],
    y: Sequence[float],
    rng: np.random.Generator,
    permutations: int = 20000,
) -> TestResult:
    """Spearman's rho and its two-sided permutation p-value (exact over all orderings for up
    to 8 pairs; else ``permutations`` random ones, counted with the observed one)."""
    a, b = _vector(x, "x"), _vector(y, "y")
    if len(a) != len(b) or len(a) < 3:
        raise ValueError(
            f"Spearman: expected two equally long samples of >= 3, got {len(a)} and {len(b)}"
        )
    rho = spearman(a, b)
    if math.isnan(rho):
        return TestResult("Spearman (permutation)", rho, 1.0, len(a))
    if len(a) <= 8:
        perms = [np.array(p) for p in itertools.permutations(range(len(b)))]
        rhos = np.array([spearman(a, b[p]) for p in perms])
        p = float(np.mean(np.abs(rhos) >= abs(rho) - _EPS))
    else:
        rhos = np.array([spearman(a, rng.permutation(b)) for _ in range(permutations)])
        p = float((1 + np.sum(np.abs(rhos) >= abs(rho) - _EPS)) / (permutations + 1))
    return TestResult("Spearman (permutation)", rho, p, len(a))


def spearman_against(
    x: Sequence[float], y: Sequence[float], rho0: float, level: float = 0.95
) -> tuple[TestResult, float, float]:
    """Spearman's rho tested against ``rho0`` (two-sided) with its interval, by Fisher's z with
    the variance 1.06 / (n - 3) of Fieller, Hartley and Pearson (1957) for rank correlations
    (n >= 4). Returns the test and the interval ``(low, high)`` of rho."""
    a, b = _vector(x, "x"), _vector(y, "y")
    n = len(a)
    if len(b) != n or n < 4:
        raise ValueError(f"Spearman: expected two equally long samples of >= 4, got {n}, {len(b)}")
    if not -1.0 < rho0 < 1.0:
        raise ValueError(f"rho0: expected a correlation in (-1, 1), got {rho0!r}")
    rho = spearman(a, b)
    if math.isnan(rho):
        return TestResult(f"Spearman vs {rho0:g} (Fisher z)", rho, 1.0, n), -1.0, 1.0
    name = f"Spearman vs {rho0:g} (Fisher z)"
    return _fisher_z_test(name, rho, _fisher_z(rho), n - 3.0, n, rho0, level)


def _fisher_z(rho: float) -> float:
    return math.atanh(max(-0.999999, min(0.999999, rho)))


def _fisher_z_test(
    name: str, rho: float, z_r: float, weight: float, n: int, rho0: float, level: float
) -> tuple[TestResult, float, float]:
    """The two-sided test of Fisher's z ``z_r`` (variance 1.06 / weight) against ``rho0``, and
    the interval of rho."""
    se = math.sqrt(1.06 / weight)
    p = math.erfc(abs((z_r - math.atanh(rho0)) / se) / math.sqrt(2.0))
    half = _normal_quantile(0.5 + level / 2.0) * se
    return TestResult(name, rho, p, n), math.tanh(z_r - half), math.tanh(z_r + half)


def spearman_against_strata(
    strata: Sequence[tuple[Sequence[float], Sequence[float]]], rho0: float, level: float = 0.95
) -> tuple[TestResult, float, float]:
    """Spearman's rho within each stratum (e.g. a task), combined by Fisher's z weighted by
    n - 3 (the inverse of each stratum's variance 1.06 / (n - 3)), tested against ``rho0``
    (two-sided) with its interval. Pooling the strata's pairs instead would let the strata's
    levels alone make a correlation. Each stratum needs >= 4 pairs; one stratum gives
    :func:`spearman_against`. Returns the test (statistic: the combined rho, n: all pairs) and
    the interval ``(low, high)`` of rho."""
    if not strata:
        raise ValueError("Spearman strata: expected at least one stratum, got none")
    if not -1.0 < rho0 < 1.0:
        raise ValueError(f"rho0: expected a correlation in (-1, 1), got {rho0!r}")
    weight = z_sum = 0.0
    n = 0
    for x, y in strata:
        a, b = _vector(x, "x"), _vector(y, "y")
        if len(b) != len(a) or len(a) < 4:
            raise ValueError(
                f"Spearman strata: expected two equally long samples of >= 4 per stratum, "
                f"got {len(a)}, {len(b)}"
            )
        rho = spearman(a, b)
        if math.isnan(rho):  # a constant sample: no information in this stratum
            continue
        w = len(a) - 3.0
        z_sum += w * _fisher_z(rho)
        weight += w
        n += len(a)
    name = f"Spearman vs {rho0:g} (Fisher z, by stratum)"
    if weight == 0.0:
        return TestResult(name, float("nan"), 1.0, n), -1.0, 1.0
    z_r = z_sum / weight
    return _fisher_z_test(name, math.tanh(z_r), z_r, weight, n, rho0, level)


def _normal_quantile(q: float) -> float:
    """The standard normal's ``q`` quantile, by bisection on erfc (no SciPy)."""
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if 0.5 * math.erfc(-mid / math.sqrt(2.0)) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order (reject where <= alpha):
    the i-th smallest times (m - i), made monotone, capped at 1."""
    p = _vector(p_values, "p_values")
    if ((p < 0) | (p > 1)).any():
        raise ValueError(f"p_values: expected probabilities in [0, 1], got {p.tolist()}")
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(np.argsort(p, kind="mergesort")):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def iqm_difference(
    x: Sequence[float],
    y: Sequence[float] | float,
    rng: np.random.Generator,
    paired: bool,
    reps: int = 2000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """``(point, low, high)``: IQM(x) - IQM(y) (or IQM(x - y) when ``paired``) with a
    percentile bootstrap interval over studies (pairs resampled together when paired;
    each sample on its own otherwise). ``y`` may be one number (a fixed reference)."""
    a = _vector(x, "x")
    b = np.full_like(a, float(y)) if np.isscalar(y) else _vector(y, "y")
    if paired and len(a) != len(b):
        raise ValueError(f"paired: expected equally long samples, got {len(a)} and {len(b)}")

    def effect(p: np.ndarray, q: np.ndarray) -> float:
        return iqm(p - q) if paired else iqm(p) - iqm(q)

    samples = np.empty(reps)
    for i in range(reps):
        ia = rng.integers(len(a), size=len(a))
        ib = ia if paired else rng.integers(len(b), size=len(b))
        samples[i] = effect(a[ia], b[ib])
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(samples, [alpha, 1.0 - alpha])
    return effect(a, b), float(low), float(high)


def smallest_p(test: str, n: int | tuple[int, int]) -> float:
    """The smallest two-sided p-value an exact test can give at this size: a design whose
    smallest p is above its (Holm) level cannot reject, whatever the data."""
    if test == "wilcoxon":
        return min(1.0, 2.0 / 2**n)
    if test == "sign":
        return min(1.0, 2.0 / 2**n)
    if test == "mann-whitney":
        m, k = n
        return min(1.0, 2.0 / math.comb(m + k, m))
    raise ValueError(f"test: expected 'wilcoxon', 'sign' or 'mann-whitney', got {test!r}")


def power(
    run_test: Callable[[np.ndarray, np.ndarray], float],
    sizes: tuple[int, int],
    shift: float,
    alpha: float,
    rng: np.random.Generator,
    simulations: int = 2000,
) -> float:
    """The probability that ``run_test(x, y)`` (returning a p-value) rejects at ``alpha`` when
    x ~ N(shift, 1) (``sizes[0]`` values) and y ~ N(0, 1) (``sizes[1]``; 0 for a one-sample
    test on x): the power of the design against a standardised effect ``shift``, under normal
    data (the page states the effect it is computed at)."""
    hits = 0
    for _ in range(simulations):
        x = rng.normal(shift, 1.0, sizes[0])
        y = rng.normal(0.0, 1.0, sizes[1])
        hits += run_test(x, y) <= alpha
    return hits / simulations


def verdict(
    p_adjusted: float, point: float, low: float, high: float, direction: int, alpha: float = 0.05
) -> str:
    """ "reproduced" where the corrected test rejects at ``alpha`` and the effect ``point`` has
    the paper's sign (``direction`` +1: the claim says larger), "contradicted" where the
    interval ``[low, high]`` lies wholly on the other side of 0, else "not shown at this scale"."""
    if direction not in (1, -1):
        raise ValueError(f"direction: expected +1 or -1, got {direction!r}")
    if p_adjusted <= alpha and direction * point > 0:
        return REPRODUCED
    if (direction > 0 and high < 0) or (direction < 0 and low > 0):
        return CONTRADICTED
    return NOT_SHOWN
