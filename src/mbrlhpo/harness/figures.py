"""The suite's figures (PNG, matplotlib's Agg backend; matplotlib is optional:
``pip install mbrlhpo[plots]``): an anytime curve per task and the performance profiles.

Bands are stratified bootstrap percentile intervals (``mbrlhpo.analysis.aggregate``), drawn
from the generator passed in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mbrlhpo.analysis.aggregate import anytime_iqm, profile_band
from mbrlhpo.analysis.plots import _pyplot, _save  # one place chooses the backend and saves
from mbrlhpo.harness.scores import Curves

MAX_POINTS = 50  # budget points bootstrapped per curve (the rest are interpolated by the line)


def anytime_figure(
    task: str,
    curves: Sequence[Curves],
    path: str | os.PathLike,
    rng: np.random.Generator,
    reps: int,
    level: float,
) -> Path:
    """Best return so far against the trials a study has used, per tuned method: the IQM over
    study seeds and its band."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for c in curves:
        n = c.best.shape[1]
        if n == 0:
            continue
        at = np.unique(np.linspace(0, n - 1, min(n, MAX_POINTS)).round().astype(int))
        point, low, high = anytime_iqm(c.best[:, None, at], rng, reps, level)
        x = at + c.first + 1
        (line,) = ax.plot(x, point, label=f"{c.method} ({len(c.seeds)} study seeds)")
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_title(f"{task}: anytime performance of the tuning (IQM, {level:.0%} band)")
    ax.set_xlabel("budget used (trials = episodes, all members)")
    ax.set_ylabel("best trial return so far (episode return)")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def profile_figure(
    normalised: Mapping[str, np.ndarray],
    runs: Mapping[str, str],
    path: str | os.PathLike,
    rng: np.random.Generator,
    reps: int,
    level: float,
) -> Path:
    """Performance profiles across tasks: per method, the fraction of runs scoring above tau
    (averaged over tasks) and its band. ``normalised[m]`` is ``(R x T)``; ``runs[m]`` says
    what a run of m is, for the legend."""
    plt = _pyplot()
    values = np.concatenate([m.ravel() for m in normalised.values()])
    taus = np.linspace(min(0.0, float(values.min())), max(1.0, float(values.max())), 101)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for method, m in normalised.items():
        point, low, high = profile_band(m, taus, rng, reps, level)
        (line,) = ax.plot(taus, point, label=f"{method} ({runs[method]})")
        ax.fill_between(taus, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    tasks = next(iter(normalised.values())).shape[1]
    ax.set_title(f"Performance profiles over {tasks} task(s) ({level:.0%} band)")
    ax.set_xlabel("normalised score tau (0 = random actions, 1 = best observed; unitless)")
    ax.set_ylabel("fraction of runs with score > tau")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower left", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(fig, path)
