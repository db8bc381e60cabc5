"""``DIR/summary.md``: the suite's results as statistics, per task and across tasks, with the
figures beside it (``DIR/figures/``).

What is computed (the estimators are :mod:`mbrlhpo.analysis.aggregate`, after rliable), and the
scores and their normalisation (:mod:`mbrlhpo.harness.scores`), are stated in the summary itself,
with the runs behind every number and what the numbers cannot show. Written from the long
table, so it is the same for a resumed run as for an uninterrupted one; every bootstrap draws
from one generator seeded by ``[analysis] seed``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mbrlhpo.analysis.aggregate import improvement_interval, interval_estimate, iqm
from mbrlhpo.harness.scores import MethodRuns, TaskScores, anytime_curves, task_scores

SUMMARY_FILE = "summary.md"
FIGURES_DIR = "figures"
MIN_RUNS = 5  # fewer runs per method: the intervals are too wide to decide anything


def _runs_label(m: MethodRuns) -> str:
    n = len(m.raw)
    if m.tuned:
        t = m.test_seeds
        return f"{n} study seed{'s' * (n != 1)} x {t} test seed{'s' * (t != 1)}"
    return f"{n} test seed{'s' * (n != 1)} (untuned)"


def _verdict(x: str, y: str, nx: int, ny: int, low: float, high: float) -> str:
    if min(nx, ny) < MIN_RUNS:
        return f"none: fewer than {MIN_RUNS} runs"
    if low > 0.5:
        return f"{x} better"
    if high < 0.5:
        return f"{y} better"
    return "no difference shown"


def _interval(point: float, low: float, high: float) -> str:
    return f"{point:.3f} [{low:.3f}, {high:.3f}]"


def _pairs_table(
    matrices: Mapping[str, np.ndarray],
    runs: Mapping[str, MethodRuns],
    rng: np.random.Generator,
    reps: int,
    level: float,
) -> list[str]:
    names = list(matrices)
    if len(names) < 2:
        return ["(one method: nothing to compare)"]
    lines = [
        f"| X | Y | P(X > Y) [{level:.0%} CI] | runs of X | runs of Y | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            p = improvement_interval(matrices[x], matrices[y], rng, reps, level)
            nx, ny = matrices[x].shape[0], matrices[y].shape[0]
            lines.append(
                f"| {x} | {y} | {_interval(*p)} | {_runs_label(runs[x])} | "
                f"{_runs_label(runs[y])} | {_verdict(x, y, nx, ny, p[1], p[2])} |"
            )
    return lines


def _method_table(
    matrices: Mapping[str, np.ndarray],
    runs: Mapping[str, MethodRuns],
    raw: Mapping[str, float] | None,
    rng: np.random.Generator,
    reps: int,
    level: float,
) -> list[str]:
    head = f"| method | runs | IQM [{level:.0%} CI] | mean | failed test runs |"
    if raw is not None:
        head = head.replace("| mean |", "| mean | mean score (return) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for method, m in matrices.items():
        cells = [
            method,
            _runs_label(runs[method]),
            _interval(*interval_estimate(m, iqm, rng, reps, level)),
            f"{float(m.mean()):.3f}",
        ]
        if raw is not None:
            cells.append(f"{raw[method]:.4g}")
        cells.append(str(runs[method].failed))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_summary(
    rows: Sequence[Mapping[str, Any]],
    content: Mapping[str, Any],
    analysis: Mapping[str, Any],
    out: str | os.PathLike,
) -> dict[str, Path]:
    """Writes ``summary.md`` and its figures in ``out``; returns their paths by name."""
    out = Path(out)
    reps, level = int(analysis["bootstrap"]), float(analysis["level"])
    rng = np.random.default_rng(int(analysis["seed"]))
    methods = list(content["methods"])
    tasks = task_scores(rows, int(content["last_k"]), methods)
    seeds = content["seeds"]
    budget = content["budget"]
    lines = [
        f"# Benchmark summary: {content['name']}",
        "",
        f"Tasks: {', '.join(content['tasks'])}. Methods: {', '.join(methods)}. "
        f"{len(seeds['study'])} study seeds ({_seeds(seeds['study'])}), "
        f"{len(seeds['test'])} held-out test seeds ({_seeds(seeds['test'])}). "
        f"Budget per study: {budget['trials']} MPC trials per member, population "
        f"{budget['population']} (methods may override); profile `{content['profile']}`. "
        "The long table: `results.csv` / `results.json`.",
        "",
        "## How to read it",
        "",
        f"- The score of a test run is the tuning objective on a held-out test seed: the mean "
        f"return of its last {content['last_k']} trials. A study's winner (best configuration, "
        "or best schedule) is re-run on every test seed; the untuned methods run on the same "
        "test seeds.",
        "- A run of a tuned method is one study seed (its score: the mean over the test seeds "
        "of its winner's scores); a run of an untuned method (`defaults`, `replay`) is one test "
        "seed. `runs` beside every number says how many of each.",
        "- Scores are normalised per task: 0 = the random reference, the mean return of the "
        "first trial of the test runs (random actions, the same for every method on a test "
        "seed, averaged over the test seeds); 1 = the best run score observed on the task (any "
        "method). Both references are given per task below.",
        f"- IQM: the interquartile mean of the normalised scores (across tasks: of every run on "
        f"every task). Intervals: {level:.0%} percentile intervals over {reps} stratified "
        f"bootstrap resamples (runs resampled within each task; NumPy generator seeded "
        f"{int(analysis['seed'])}).",
        "- P(X > Y): the probability that a run of X scores above a run of Y on the same task "
        "(ties count half), averaged over tasks; 0.5 = no difference. A verdict is drawn only "
        f"when both methods have at least {MIN_RUNS} runs and the interval excludes 0.5.",
        "- A failed test run (a failed or diverged trial among the last trials) scores the lower "
        "of the random reference and the worst run observed on its task; `failed test runs` "
        "counts them.",
        "",
    ]
    lines += _cannot_show(tasks)
    ok = [t for t in tasks if t.normalisable]
    figures: dict[str, Path] = {}
    plot = _figures_available()
    lines += ["## Across tasks", ""]
    if ok:
        matrices = {
            m: np.stack([t.normalised(m) for t in ok], axis=1)
            for m in methods
            if all(m in t.methods for t in ok)
        }
        runs = ok[0].methods
        lines += [f"Normalised scores over {len(ok)} task(s): {', '.join(t.task for t in ok)}.", ""]
        lines += _method_table(matrices, runs, None, rng, reps, level) + [""]
        lines += _pairs_table(matrices, runs, rng, reps, level) + [""]
        if plot is None:
            from mbrlhpo.harness.figures import profile_figure

            labels = {m: _runs_label(runs[m]) for m in matrices}
            path = out / FIGURES_DIR / "performance_profiles.png"
            figures["profiles"] = profile_figure(matrices, labels, path, rng, reps, level)
            lines += [f"![Performance profiles]({FIGURES_DIR}/{path.name})", ""]
    else:
        lines += ["No task could be normalised (see above): no statistics across tasks.", ""]
    curves = anytime_curves(rows, methods)
    for t in tasks:
        lines += _task_section(t, rng, reps, level)
        if plot is None and curves.get(t.task):
            from mbrlhpo.harness.figures import anytime_figure

            path = out / FIGURES_DIR / f"anytime_{_file_safe(t.task)}.png"
            figures[f"anytime_{t.task}"] = anytime_figure(
                t.task, curves[t.task], path, rng, reps, level
            )
            cut = [c.method for c in curves[t.task] if c.truncated]
            lines += [
                f"Anytime curve (the tuning, on the study seeds, not the test seeds; IQM over "
                f"study seeds, {level:.0%} band; untuned methods have none):",
                "",
                f"![Anytime curves on {t.task}]({FIGURES_DIR}/{path.name})",
                "",
            ]
            if cut:
                lines += [
                    f"(Studies of {', '.join(cut)} ran different numbers of trials; their "
                    "curves stop at the fewest.)",
                    "",
                ]
    if plot is not None:
        lines += [f"Figures not drawn: {plot}.", ""]
    path = out / SUMMARY_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, path)
    return {"summary": path, **figures}


def _task_section(t: TaskScores, rng: np.random.Generator, reps: int, level: float) -> list[str]:
    lines = [f"## {t.task}", ""]
    lines += [
        f"Random reference (0): {t.low:.4g} (return). Best run score observed (1): "
        f"{t.high:.4g} (return).",
        "",
    ]
    if not t.normalisable:
        lines += [
            "Not normalised: the best observed is no better than the random reference; this "
            "task is left out of the statistics across tasks. Mean scores (return):",
            "",
        ]
        for m, r in t.methods.items():
            lines.append(f"- {m}: {float(r.raw.mean()):.4g} ({_runs_label(r)})")
        return lines + [""]
    matrices = {m: t.normalised(m)[:, None] for m in t.methods}
    raw = {m: float(r.raw.mean()) for m, r in t.methods.items()}
    lines += _method_table(matrices, t.methods, raw, rng, reps, level) + [""]
    lines += _pairs_table(matrices, t.methods, rng, reps, level) + [""]
    return lines


def _cannot_show(tasks: Sequence[TaskScores]) -> list[str]:
    lines = ["## What it cannot show", ""]
    few = sorted(
        {(m.method, len(m.raw)) for t in tasks for m in t.methods.values() if len(m.raw) < MIN_RUNS}
    )
    if few:
        named = ", ".join(f"{m} ({n})" for m, n in few)
        lines.append(
            f"- Fewer than {MIN_RUNS} runs per task for {named}: the intervals from so few runs "
            "are wide and themselves unreliable, and no verdict is drawn. Add study seeds "
            "(tuned methods) or test seeds (untuned) for one."
        )
    bad = [t.task for t in tasks if not t.normalisable]
    if bad:
        lines.append(
            f"- {', '.join(bad)}: no run beat the random reference, so there is no scale to "
            "normalise by; left out of the statistics across tasks."
        )
    lines += [
        "- Only the budget of this suite: a method ahead here may fall behind with more trials "
        "(the anytime curves show the tuning's course up to this budget only).",
        "- Wall and CPU times in the table depend on the machine and the load; they are not "
        "compared here.",
        "",
    ]
    return lines


def _figures_available() -> str | None:
    """None when matplotlib imports, else why the figures are not drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not installed (pip install mbrlhpo[plots])"
    return None


def _seeds(seeds: Sequence[int]) -> str:
    shown = ", ".join(str(s) for s in seeds[:6])
    return shown + (", ..." if len(seeds) > 6 else "")


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
