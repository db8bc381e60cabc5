"""Figures of the analyses (PNG, matplotlib's Agg backend). matplotlib is optional:
``pip install mbrlhpo[plots]``.

Every function takes the records of :mod:`mbrlhpo.analysis.records` and a path, writes one
PNG and returns its path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Searched hyperparameters drawn on a log axis (their search spaces are log-scaled).
_LOG_NAMES = {"lr", "weight_decay"}


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("mbrlhpo's figures need matplotlib: pip install mbrlhpo[plots] "
                          "(or pip install matplotlib)") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _int_x(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _save(fig: Any, path: str | os.PathLike) -> Path:
    for ax in fig.get_axes():
        if ax.get_xlabel() == "trial":
            _int_x(ax)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def _xy(rows: Sequence[Mapping[str, Any]], x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([r[x] for r in rows], dtype=float),
            np.array([r[y] for r in rows], dtype=float))


def plot_learning_curves(curves: Mapping[str, Sequence[Mapping[str, Any]]],
                         path: str | os.PathLike, title: str = "") -> Path:
    """Top-k mean +- std per trial, the best lineage's returns and the baseline (Fig. 1/4)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    top = curves.get("top") or []
    if top:
        x, m = _xy(top, "trial", "mean")
        s = np.array([r["std"] for r in top], dtype=float)
        k = max(r["n"] for r in top)
        ax.plot(x, m, color="C0", label=f"top-{k} mean")
        ax.fill_between(x, m - s, m + s, color="C0", alpha=0.25, label=f"top-{k} std")
    best = curves.get("best") or []
    if best:
        x, y = _xy(best, "step", "ret")
        ax.plot(x, y, color="C1", lw=1, label="best configuration / schedule")
    base = curves.get("baseline") or []
    if base:
        x, y = _xy(base, "trial", "ret")
        ax.plot(x, y, color="k", lw=1, ls="--", label="defaults")
    ax.set_xlabel("trial")
    ax.set_ylabel("return")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_schedule(schedule: Sequence[Mapping[str, Any]], path: str | os.PathLike,
                  names: Sequence[str] | None = None, title: str = "",
                  defaults: Mapping[str, float] | None = None) -> Path:
    """The top-k members' mean (+- std) of every hyperparameter over trials (Fig. 4/9); the
    defaults as dashed lines where given."""
    if not schedule:
        raise ValueError("expected a non-empty schedule (top_schedule records), got none")
    plt = _pyplot()
    names = list(names) if names is not None else sorted(schedule[0]["mean"])
    n = len(names)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    x = np.array([r["trial"] for r in schedule], dtype=float)
    for i, name in enumerate(names):
        ax = axes[i // cols][i % cols]
        m = np.array([r["mean"][name] for r in schedule], dtype=float)
        s = np.array([r["std"][name] for r in schedule], dtype=float)
        ax.plot(x, m, color="C0", label="top-k mean")
        lo = m - s
        if name in _LOG_NAMES:
            lo = np.maximum(lo, m * 1e-3)
            ax.set_yscale("log")
        ax.fill_between(x, lo, m + s, color="C0", alpha=0.25, label="± std")
        if defaults and name in defaults:
            ax.axhline(float(defaults[name]), color="k", ls="--", lw=1, label="default")
        if i == 0:
            ax.legend(loc="best", fontsize="x-small")
        ax.set_title(name, fontsize="small")
        ax.set_xlabel("trial")
        ax.grid(alpha=0.3)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_histogram(scores: Sequence[Mapping[str, Any]], path: str | os.PathLike,
                   bins: int = 20, title: str = "",
                   baseline: float | None = None) -> Path:
    """Histogram of final scores (Fig. 3); Hyperband jobs stacked by budget."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    finite = [s for s in scores if math.isfinite(s["score"])]
    groups: dict[Any, list[float]] = {}
    for s in finite:
        groups.setdefault(s.get("budget"), []).append(float(s["score"]))
    if finite:
        keys = sorted(groups, key=lambda b: -1 if b is None else b)
        labels = ["all configurations" if b is None else f"{b} trials" for b in keys]
        edges = np.histogram_bin_edges([v for g in groups.values() for v in g], bins=bins)
        ax.hist([groups[b] for b in keys], bins=edges, stacked=True, label=labels)
    if baseline is not None and math.isfinite(baseline):
        ax.axvline(baseline, color="k", ls="--", lw=1, label=f"defaults ({baseline:.1f})")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize="small")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts
    failed = len(scores) - len(finite)
    ax.set_xlabel("final score (mean of the last returns)")
    ax.set_ylabel("configurations")
    ax.set_title((title + "  " if title else "") + (f"({failed} failed)" if failed else ""))
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_fidelity(pairs: Sequence[Mapping[str, Any]], path: str | os.PathLike,
                  title: str = "") -> Path:
    """Scores at a lower vs a higher Hyperband budget, one panel per budget pair, with
    Spearman's rho (Fig. 2)."""
    pairs = [p for p in pairs if p["n"] > 0]
    if not pairs:
        raise ValueError("expected at least one budget pair with a shared configuration")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(pairs), figsize=(4 * len(pairs), 3.5), squeeze=False)
    for ax, p in zip(axes[0], pairs, strict=True):
        ax.scatter(p["low_scores"], p["high_scores"], s=14)
        rho = "n/a" if not math.isfinite(p["rho"]) else f"{p['rho']:.2f}"
        ax.set_title(f"{p['low']} vs {p['high']} trials: rho = {rho} (n={p['n']})",
                     fontsize="small")
        ax.set_xlabel(f"score at {p['low']} trials")
        ax.set_ylabel(f"score at {p['high']} trials")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_comparison(curves: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
                    path: str | os.PathLike, title: str = "") -> Path:
    """Top-k mean +- std of several studies on one axis (Fig. 5), plus the first study's
    baseline when it has one."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    baseline_drawn = False
    for i, (label, c) in enumerate(curves.items()):
        top = c.get("top") or []
        if top:
            x, m = _xy(top, "trial", "mean")
            s = np.array([r["std"] for r in top], dtype=float)
            ax.plot(x, m, color=f"C{i}", label=label)
            ax.fill_between(x, m - s, m + s, color=f"C{i}", alpha=0.2)
        base = c.get("baseline") or []
        if base and not baseline_drawn:
            x, y = _xy(base, "trial", "ret")
            ax.plot(x, y, color="k", lw=1, ls="--", label="defaults")
            baseline_drawn = True
    ax.set_xlabel("trial")
    ax.set_ylabel("return (top-k mean +- std)")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_replay(result: Mapping[str, Any], path: str | os.PathLike, title: str = "") -> Path:
    """A replayed schedule: each seed's returns, their mean and the final-scenario curve (the
    maximum so far of the mean)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for seed, rets in result["returns"].items():
        ax.plot(np.arange(1, len(rets) + 1), rets, lw=0.7, alpha=0.5, label=f"seed {seed}")
    mean = result["mean"]
    x = np.arange(1, len(mean) + 1)
    ax.plot(x, mean, color="k", lw=1.2, label="mean over seeds")
    ax.plot(x, result["final_scenario"], color="C3", lw=1.2,
            label="max so far of the mean")
    ax.set_xlabel("trial")
    ax.set_ylabel("return")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(fig, path)
