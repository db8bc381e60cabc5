"""Aggregate statistics over tasks and runs, after Agarwal et al. (2021), "Deep RL at the edge of
the statistical precipice" (the estimators of its rliable library, which is archived; these are
written out in NumPy so their definitions are explicit, and tested against hand-worked values).

Scores come as one ``(R x T)`` matrix per method: R runs (rows) on T tasks (columns), already
normalised per task (:func:`normalise`). Every method must have the same T tasks, in the same
order; R may differ between methods.

- :func:`iqm`: the interquartile mean of all R x T scores (the mean of the middle 50 %).
- :func:`stratified_bootstrap`: resamples the runs of each task separately (with replacement),
  so every resample keeps every task; :func:`interval_estimate` turns it into a percentile
  confidence interval of any statistic.
- :func:`probability_of_improvement`: P(X > Y), the Mann-Whitney U statistic of two methods'
  runs on each task (ties count half), averaged over tasks.
- :func:`performance_profile`: the fraction of runs with a score above each threshold tau,
  averaged over tasks (each task counts equally whatever its number of runs).
- :func:`anytime_iqm`: the IQM and its interval at each point of a budget axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

Statistic = Callable[[np.ndarray], float]


def _matrix(scores: np.ndarray | Sequence, name: str = "scores") -> np.ndarray:
    m = np.asarray(scores, dtype=np.float64)
    if m.ndim == 1:
        m = m[:, None]  # one task
    if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] < 1:
        raise ValueError(f"{name}: expected a (runs x tasks) matrix, got shape {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError(f"{name}: expected finite scores, got {m[~np.isfinite(m)][:3]}")
    return m


def normalise(scores: np.ndarray | Sequence, low: float, high: float) -> np.ndarray:
    """``(scores - low) / (high - low)``: 0 at ``low`` (e.g. a random policy), 1 at ``high``
    (e.g. the best score observed). Raises when ``high <= low`` (nothing to scale by)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        raise ValueError(f"normalise: expected finite low < high, got low={low}, high={high}")
    return (np.asarray(scores, dtype=np.float64) - low) / (high - low)


def task_bounds(
    first_returns: Mapping[int, Sequence[float]], scores: Sequence[float | None]
) -> tuple[float, float, float]:
    """A task's normalisation, one definition for the bench summary and the claims page:
    ``(random, best, failed)``. ``random`` is the mean over test seeds of the random-action first
    trial's return (the same on a test seed for every method: actions and environment are
    seeded by it alone), ``best`` the best finite test-run score observed on the task, and
    ``failed`` what a failed test run scores: the lower of ``random`` and the worst finite score,
    so it ranks last without an infinite number. NaN where there is nothing to take."""
    seeds = [float(np.mean(v)) for v in first_returns.values() if len(v)]
    low = float(np.mean(seeds)) if seeds else math.nan
    finite = [float(s) for s in scores if s is not None and math.isfinite(s)]
    high = max(finite) if finite else math.nan
    floor = min([x for x in [low, *finite] if math.isfinite(x)], default=math.nan)
    return low, high, floor


def trimmed_mean(values: np.ndarray | Sequence, cut: float) -> float:
    """The mean after removing ``floor(cut * n)`` values from each end of the sorted values
    (``scipy.stats.trim_mean``'s definition)."""
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if x.size == 0:
        raise ValueError("trimmed_mean: expected at least one value")
    if not 0 <= cut < 0.5:
        raise ValueError(f"trimmed_mean: expected a cut in [0, 0.5), got {cut}")
    k = int(cut * x.size)
    return float(x[k : x.size - k].mean())


def iqm(scores: np.ndarray | Sequence) -> float:
    """The interquartile mean of every score: 25 % trimmed from each end, then averaged.
    ``iqm([1, 2, 3, 4, 5, 6, 7, 8]) == 4.5`` (the mean of 3, 4, 5, 6)."""
    return trimmed_mean(_matrix(scores), 0.25)


def mean_score(scores: np.ndarray | Sequence) -> float:
    return float(_matrix(scores).mean())


def median_score(scores: np.ndarray | Sequence) -> float:
    return float(np.median(_matrix(scores)))


def stratified_bootstrap(
    scores: np.ndarray | Sequence, rng: np.random.Generator, reps: int
) -> np.ndarray:
    """``(reps x R x T)`` resamples of a ``(R x T)`` matrix: in each, column t holds R runs of
    task t drawn with replacement from task t's own runs (strata are tasks)."""
    m = _matrix(scores)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ValueError(f"reps: expected an int >= 1, got {reps!r}")
    r, t = m.shape
    idx = rng.integers(r, size=(reps, r, t))
    return np.take_along_axis(np.broadcast_to(m, (reps, r, t)), idx, axis=1)


def _percentile_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValueError(f"level: expected a probability in (0, 1), got {level!r}")
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(samples, alpha)), float(np.quantile(samples, 1.0 - alpha))


def interval_estimate(
    scores: np.ndarray | Sequence,
    statistic: Statistic,
    rng: np.random.Generator,
    reps: int = 2000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """``(point, low, high)``: the statistic of the scores and its percentile interval over
    stratified bootstrap resamples."""
    m = _matrix(scores)
    samples = np.array([statistic(s) for s in stratified_bootstrap(m, rng, reps)])
    low, high = _percentile_interval(samples, level)
    return float(statistic(m)), low, high


def probability_of_improvement(x: np.ndarray | Sequence, y: np.ndarray | Sequence) -> float:
    """P(X > Y) + P(X = Y) / 2 for a run X of method x and a run Y of method y on the same task,
    averaged over tasks. ``x`` is ``(R_x x T)``, ``y`` is ``(R_y x T)``.
    ``probability_of_improvement([1, 2], [0, 3]) == 0.5`` (two of the four pairs)."""
    a, b = _matrix(x, "x"), _matrix(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"expected the same tasks for x and y, got {a.shape[1]} and {b.shape[1]}")
    per_task = []
    for t in range(a.shape[1]):
        diff = a[:, t][:, None] - b[:, t][None, :]  # every pair of runs
        per_task.append(np.mean(diff > 0) + 0.5 * np.mean(diff == 0))
    return float(np.mean(per_task))


def improvement_interval(
    x: np.ndarray | Sequence,
    y: np.ndarray | Sequence,
    rng: np.random.Generator,
    reps: int = 2000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """``(point, low, high)`` of :func:`probability_of_improvement`, both methods' runs resampled
    per task (independently: the methods' runs are not paired)."""
    a, b = _matrix(x, "x"), _matrix(y, "y")
    xs, ys = stratified_bootstrap(a, rng, reps), stratified_bootstrap(b, rng, reps)
    samples = np.array([probability_of_improvement(p, q) for p, q in zip(xs, ys, strict=True)])
    low, high = _percentile_interval(samples, level)
    return probability_of_improvement(a, b), low, high


def performance_profile(scores: np.ndarray | Sequence, taus: Sequence[float]) -> np.ndarray:
    """``(len(taus),)``: for each tau, the fraction of runs scoring above tau, averaged over
    tasks."""
    m = _matrix(scores)
    tau = np.asarray(taus, dtype=np.float64)
    return (m[None, :, :] > tau[:, None, None]).mean(axis=1).mean(axis=1)


def profile_band(
    scores: np.ndarray | Sequence,
    taus: Sequence[float],
    rng: np.random.Generator,
    reps: int = 2000,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The performance profile and its pointwise percentile band over stratified resamples."""
    m = _matrix(scores)
    samples = np.array([performance_profile(s, taus) for s in stratified_bootstrap(m, rng, reps)])
    alpha = (1.0 - level) / 2.0
    low = np.quantile(samples, alpha, axis=0)
    high = np.quantile(samples, 1.0 - alpha, axis=0)
    return performance_profile(m, taus), low, high


def anytime_iqm(
    curves: np.ndarray | Sequence,
    rng: np.random.Generator,
    reps: int = 2000,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``curves`` is ``(R x T x B)``: each run's score on each task at B points of the budget.
    Returns the IQM and its interval (stratified bootstrap) at each point, ``(B,)`` each."""
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim != 3:
        raise ValueError(f"curves: expected (runs x tasks x budget points), got shape {c.shape}")
    points = [interval_estimate(c[:, :, b], iqm, rng, reps, level) for b in range(c.shape[2])]
    point, low, high = (np.array(v) for v in zip(*points, strict=True))
    return point, low, high
