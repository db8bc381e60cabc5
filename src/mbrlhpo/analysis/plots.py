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
        raise ImportError(
            "mbrlhpo's figures need matplotlib: pip install mbrlhpo[plots] "
            "(or pip install matplotlib)"
        ) from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _int_x(ax: Any) -> None:
    """Whole-number ticks on a trial axis; around a single trial (matplotlib's autoscale
    spans +-0.05 there, and its integer locator then falls back to fractions) the axis is
    widened to the neighbouring trials."""
    from matplotlib.ticker import MaxNLocator

    lo, hi = ax.get_xlim()
    if hi - lo < 2:
        mid = round((lo + hi) / 2)
        ax.set_xlim(mid - 1, mid + 1)
        ax.set_xticks([mid - 1, mid, mid + 1])
        return
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
    return (
        np.array([r[x] for r in rows], dtype=float),
        np.array([r[y] for r in rows], dtype=float),
    )


def plot_learning_curves(
    curves: Mapping[str, Sequence[Mapping[str, Any]]], path: str | os.PathLike, title: str = ""
) -> Path:
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


def plot_schedule(
    schedule: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    names: Sequence[str] | None = None,
    title: str = "",
    defaults: Mapping[str, float] | None = None,
) -> Path:
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
    k = max(r.get("n", 0) for r in schedule)
    top = f"top-{k}" if k else "top-k"
    for i, name in enumerate(names):
        ax = axes[i // cols][i % cols]
        if name in _LOG_NAMES and all(name in r.get("log_mean", {}) for r in schedule):
            # A log axis gets a log-space band: geometric mean x/÷ geometric std (mean - std
            # of a log-scaled value plunges towards 0, e.g. 3e-6 for an lr near 1e-3).
            lm = np.array([r["log_mean"][name] for r in schedule], dtype=float)
            ls = np.array([r["log_std"][name] for r in schedule], dtype=float)
            m, lo, hi = np.exp(lm), np.exp(lm - ls), np.exp(lm + ls)
            line, band = f"{top} geometric mean", "×/÷ geometric std"
            ax.set_yscale("log")
        else:
            m = np.array([r["mean"][name] for r in schedule], dtype=float)
            s = np.array([r["std"][name] for r in schedule], dtype=float)
            lo, hi = m - s, m + s
            line, band = f"{top} mean", "± std"
        ax.plot(x, m, color="C0", label=line)
        ax.fill_between(x, lo, hi, color="C0", alpha=0.25, label=band)
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


def plot_histogram(
    scores: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    bins: int = 20,
    title: str = "",
    baseline: float | None = None,
) -> Path:
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


def plot_fidelity(
    pairs: Sequence[Mapping[str, Any]], path: str | os.PathLike, title: str = ""
) -> Path:
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
        ax.set_title(
            f"{p['low']} vs {p['high']} trials: rho = {rho} (n={p['n']})", fontsize="small"
        )
        ax.set_xlabel(f"score at {p['low']} trials")
        ax.set_ylabel(f"score at {p['high']} trials")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_comparison(
    curves: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    path: str | os.PathLike,
    title: str = "",
) -> Path:
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
    ax.plot(x, result["final_scenario"], color="C3", lw=1.2, label="max so far of the mean")
    ax.set_xlabel("trial")
    ax.set_ylabel("return")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_evaluation(ev: Mapping[str, Any], path: str | os.PathLike, title: str = "") -> Path:
    """The final scenario (Fig. 1/8): per arm the mean over seeds (thin) and its maximum so
    far (thick), with the difference's confidence interval at the last trial in the legend."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    labels = {
        "best": "best " + ("schedule" if ev["method"] in ("pbt", "pbt-bt") else "configuration"),
        "baseline": ev["baseline_name"],
    }
    for i, arm in enumerate(("best", "baseline")):
        curve = ev["curves"][arm]
        x = np.arange(1, len(curve["mean"]) + 1)
        ax.plot(x, curve["mean"], color=f"C{i}", lw=0.7, alpha=0.5)
        ax.plot(x, curve["final_scenario"], color=f"C{i}", lw=1.8, label=labels[arm])
    c = ev["comparison"]
    ci = (
        f"{int(c['level'] * 100)}% CI [{c['ci_low']:.1f}, {c['ci_high']:.1f}]"
        if c.get("ci_low") is not None and c.get("ci_high") is not None
        else f"no interval from {c['n_seeds']} seeds"
    )
    ax.plot([], [], " ", label=f"difference {c['difference']:.1f}, {ci}")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"max so far of the mean return ({len(ev['seeds'])} seeds)")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_top_bottom(
    curves: Mapping[str, Any], path: str | os.PathLike, title: str = "", names: Sequence[str] = ()
) -> Path:
    """Fig. 10: the returns of the top-k and bottom-k configurations over trials (each thin,
    labelled with its searched values when they are few; group means thick)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for group in ("top", "bottom"):
        color = "C0" if group == "top" else "C3"
        for m in curves[group]["members"]:
            label = None
            if len(names) <= 2:
                label = ", ".join(f"{n}={_short(m['config'].get(n))}" for n in names) or None
            x = np.arange(1, len(m["returns"]) + 1)
            ax.plot(x, m["returns"], color=color, lw=0.7, alpha=0.6, label=label)
        mean = curves[group]["mean"]
        ax.plot(
            np.arange(1, len(mean) + 1),
            mean,
            color=color,
            lw=2.0,
            label=f"{group}-{curves['k']} mean",
        )
    ax.set_xlabel("trial")
    ax.set_ylabel("return")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="x-small", ncol=2)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def plot_mismatch(result: Mapping[str, Any], path: str | os.PathLike, title: str = "") -> Path:
    """Figs. 11-12: on-policy NLL over trials (each member thin, group mean thick), the return
    distribution of the held-out sets, and off-policy NLL over trials per held-out set, for
    the top-k (blue) and bottom-k (red) members. A study that kept only final checkpoints
    gives one point per member."""
    plt = _pyplot()
    nb = len(result["bins"])
    # Two panels a row at a readable size (one row of 2 + nb panels shrank every label
    # when the figure was shown at screen width).
    rows = math.ceil((2 + nb) / 2)
    fig, grid = plt.subplots(rows, 2, figsize=(11, 4.2 * rows), squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[2 + nb :]:
        ax.axis("off")
    colors = {"top": "C0", "bottom": "C3"}
    panels = [("on_policy_nll", None, f"on-policy NLL (own last {result['last']} trials)")]
    panels += [
        ("off_policy_nll", b, f"off-policy NLL, returns {bn['low']:.3g}..{bn['high']:.3g}")
        for b, bn in enumerate(result["bins"])
    ]
    for ax, (key, b, label) in zip([axes[0], *axes[2 : 2 + nb]], panels, strict=True):
        for g in ("top", "bottom"):
            for r in (r for r in result["members"] if r["group"] == g):
                x = [p["trial"] for p in r["curve"]]
                y = [p[key] if b is None else p[key][b] for p in r["curve"]]
                ax.plot(x, y, color=colors[g], lw=0.7, alpha=0.5, marker=".")
            curve = result["summary"][g]["curve"]
            ax.plot(
                [p["trial"] for p in curve],
                [p[key] if b is None else p[key][b] for p in curve],
                color=colors[g],
                lw=2.0,
                marker="o",
                label=f"{g}-{result['k']}",
            )
        ax.set_xlabel("trial")
        ax.set_ylabel("NLL")
        ax.set_title(label)
        ax.legend()
        ax.grid(alpha=0.3)
    ax = axes[1]
    ax.hist(result["returns"], bins=30, color="0.6")
    for bn in result["bins"]:
        ax.axvline(bn["low"], color="k", lw=0.8, ls="--")
    ax.axvline(result["bins"][-1]["high"], color="k", lw=0.8, ls="--")
    ax.set_xlabel("episode return")
    ax.set_ylabel("episodes")
    ax.set_title("held-out sets (split at the dashed lines)")
    if title:
        fig.suptitle(title)
    return _save(fig, path)
