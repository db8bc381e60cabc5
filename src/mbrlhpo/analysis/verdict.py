"""What a comparison of the best configuration with the defaults can say, in words.

One study is one seed: its best member was picked as the maximum of many noisy runs, and the
defaults ran once, so the difference of their final scores is no evidence either way (issue
28). An interval needs the best and the defaults replayed on new seeds (``mbrlhpo
evaluate``); below ``MIN_SEEDS`` seeds even that interval is too wide to be worth printing,
so none is given. The final score also hides how fast a curve got there, so an anytime figure
of merit (the mean return over all trials, and the trials taken to reach 90% of the way to the
peak) stands beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MIN_SEEDS = 5  # fewer seeds: no interval (a t-interval from 2-4 seeds spans almost anything)
ANYTIME_FRACTION = 0.9


def _g(v: float) -> str:
    return f"{v:.4g}"


def best_vs_defaults(
    best_score: float | None,
    defaults_score: float | None,
    seeds: int = 1,
    interval: tuple[float, float] | None = None,
    level: float = 0.95,
    method: str = "",
    db: str | None = None,
    note: str | None = None,
) -> str:
    """One sentence: the best against the defaults, with the number of seeds behind it and
    what it can claim.

    ``seeds``: how many seeds each side ran (a study: 1). ``interval``: a confidence interval
    of the difference at ``level`` (from ``mbrlhpo evaluate``), made by ``method``; without
    one, or with fewer than ``MIN_SEEDS`` seeds, no claim is made (``note``: why there is
    no interval, when another reason than the seeds). ``db``: named in the hint.
    """
    if defaults_score is None:
        return "the defaults were not run: no comparison"
    if best_score is None or not (math.isfinite(best_score) and math.isfinite(defaults_score)):
        return (
            f"best {best_score} vs defaults {defaults_score}: a side failed, no comparison "
            "can be made"
        )
    diff = best_score - defaults_score
    head = (
        f"best {_g(best_score)} vs defaults {_g(defaults_score)} (difference {diff:+.4g}), "
        f"{'one seed' if seeds == 1 else f'{seeds} seeds'} each"
    )
    if seeds < MIN_SEEDS or interval is None:
        why = note or (
            "one run each cannot tell a difference from seed-to-seed noise (and the best was "
            "picked as the luckiest of many runs)"
            if seeds == 1
            else f"fewer than {MIN_SEEDS} seeds give no useful interval"
        )
        cmd = f"mbrlhpo evaluate --db {db or 'STUDY.db'} --seeds {MIN_SEEDS}"
        return f"{head}: {why}, so no claim is made; `{cmd}` (or more seeds) measures it"
    lo, hi = interval
    verdict = (
        "the best is better than the defaults"
        if lo > 0
        else "the best is worse than the defaults"
        if hi < 0
        else "the data cannot tell the best from the defaults (the interval holds 0)"
    )
    how = f", {method}" if method else ""
    return f"{head}: {int(round(level * 100))}% CI [{_g(lo)}, {_g(hi)}]{how}: {verdict}"


def evaluation_verdict(
    comparison: dict[str, Any], best_score: float, defaults_score: float, db: str | None = None
) -> str:
    """:func:`best_vs_defaults` for a stored ``mbrlhpo evaluate`` comparison (older records,
    made with a bootstrap, are judged by the same rules)."""
    lo, hi = comparison.get("ci_low"), comparison.get("ci_high")
    ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lo, hi))
    return best_vs_defaults(
        best_score,
        defaults_score,
        seeds=int(comparison.get("n_seeds", 1)),
        interval=(float(lo), float(hi)) if ok else None,
        level=float(comparison.get("level", 0.95)),
        method=str(comparison.get("method", "")),
        db=db,
        note=comparison.get("note"),
    )


def _finite(xs: Sequence[float]) -> list[float]:
    return [float(x) for x in xs if x is not None and math.isfinite(float(x))]


def trials_to_reach(returns: Sequence[float], level: float) -> int | None:
    """The first trial (from 1) whose return is at least ``level``; None if none is."""
    for i, r in enumerate(returns):
        if r is not None and math.isfinite(float(r)) and float(r) >= level:
            return i + 1
    return None


def anytime(curves: dict[str, Sequence[float]]) -> dict[str, Any]:
    """The anytime figures of merit of named return curves (per trial, from trial 1).

    ``level``: ``ANYTIME_FRACTION`` of the way from the lowest first-trial return to the
    highest return of any curve (a shared bar, meaningful for negative returns too);
    per curve ``mean`` (mean return over its trials: the area under the learning curve) and
    ``trials_to_level`` (None if never reached). ``level`` is None without finite returns.
    """
    firsts = _finite([c[0] for c in curves.values() if len(c)])
    peaks = _finite([r for c in curves.values() for r in c])
    level = None
    if firsts and peaks:
        lo, hi = min(firsts), max(peaks)
        level = lo + ANYTIME_FRACTION * (hi - lo)
    out: dict[str, Any] = {"level": level, "fraction": ANYTIME_FRACTION, "curves": {}}
    for name, c in curves.items():
        vals = _finite(c)
        out["curves"][name] = {
            "trials": len(c),
            "mean": sum(vals) / len(vals) if vals else None,
            "trials_to_level": None if level is None else trials_to_reach(c, level),
        }
    return out


def anytime_text(merit: dict[str, Any]) -> str:
    """:func:`anytime` as one sentence."""
    parts = []
    for name, c in merit["curves"].items():
        reach = c["trials_to_level"]
        parts.append(
            f"{name} {'-' if c['mean'] is None else _g(c['mean'])}"
            + (
                f" (not reached in {c['trials']} trials)"
                if reach is None
                else f" (trial {reach} of {c['trials']})"
            )
        )
    level = "-" if merit["level"] is None else _g(merit["level"])
    return (
        "anytime (the whole learning curve, not only its end): mean return over the trials, "
        f"and the first trial at {int(merit['fraction'] * 100)}% of the way from the first "
        f"trial's return to the peak ({level}): " + "; ".join(parts)
    )
