"""A suite's scores out of its long table, normalised per task, for the summary and figures.

Read from the table's rows (``mbrlhpo.harness.table``), so a published ``results.json`` gives
the same summary as the run that wrote it.

- A test run's score is the tuning objective on its test seed: the mean return of its last
  ``last_k`` trials (``mbrlhpo.hpo.objective``).
- The unit of a tuned method is the study seed (the randomness of the tuning is what a
  benchmark of HPO methods samples): its score is the mean over the test seeds of its winner's
  scores. An untuned method (``defaults``, ``replay``) has no study; its unit is the test seed.
- Normalised per task: 0 at the random reference, the mean return of every test run's first
  trial (random actions; on a given test seed it is the same for every method, since the actions
  and the environment are seeded by the test seed alone), 1 at the best run score observed on
  the task (any method, any test seed).
- A failed test run (a failed or diverged trial among its last ``last_k``) scores the lower of
  the random reference and the worst finite run score on its task: it ranks last, like ``-inf``
  in the tuning, without an infinite number; the summary counts them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mbrlhpo.analysis.aggregate import normalise, task_bounds
from mbrlhpo.hpo.objective import objective


@dataclass(frozen=True)
class MethodRuns:
    """One method's runs on one task: ``raw[i]`` the score of run i (in return units),
    ``units`` what run i is (``study seed 3`` or ``test seed 9000000``)."""

    method: str
    tuned: bool
    raw: np.ndarray  # (R,)
    units: tuple[int, ...]  # the study seeds (tuned) or test seeds (untuned) of the runs
    test_seeds: int  # test seeds behind each run (1 for an untuned method)
    failed: int  # failed test runs among them


@dataclass(frozen=True)
class TaskScores:
    """A task's runs per method, with the two references of its normalisation."""

    task: str
    low: float  # the random reference (mean return of the test runs' random first trial)
    high: float  # the best run score observed on the task
    methods: dict[str, MethodRuns] = field(default_factory=dict)

    @property
    def normalisable(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high) and self.high > self.low

    def normalised(self, method: str) -> np.ndarray:
        """``(R,)``: the method's run scores, 0 = random reference, 1 = best observed."""
        return normalise(self.methods[method].raw, self.low, self.high)


def _test_runs(
    rows: Sequence[Mapping[str, Any]],
) -> dict[tuple[str, str, int | None, int], list[tuple[int, float | None]]]:
    runs: dict[tuple[str, str, int | None, int], list[tuple[int, float | None]]] = {}
    for r in rows:
        if r["phase"] == "test":
            key = (r["task"], r["method"], r["study_seed"], r["test_seed"])
            runs.setdefault(key, []).append((r["trial"], r["return"]))
    return runs


def task_scores(
    rows: Sequence[Mapping[str, Any]], last_k: int, methods: Sequence[str]
) -> list[TaskScores]:
    """Every task's scores (tasks in the table's order; methods in ``methods``' order, those
    without test rows left out)."""
    runs = _test_runs(rows)
    tasks = list(dict.fromkeys(k[0] for k in runs))
    out = []
    for task in tasks:
        first = {}  # test seed -> random first-trial returns of its runs
        scores: dict[tuple[str, int | None, int], float | None] = {}
        for (t, method, study_seed, test_seed), trials in runs.items():
            if t != task:
                continue
            returns = [ret for _, ret in sorted(trials, key=lambda x: x[0])]
            if returns[0] is not None:
                first.setdefault(test_seed, []).append(returns[0])
            s = objective([math.nan if x is None else x for x in returns], last_k)
            scores[(method, study_seed, test_seed)] = s if math.isfinite(s) else None
        low, high, floor = task_bounds(first, list(scores.values()))
        per_method = {}
        for method in methods:
            mine = {k: v for k, v in scores.items() if k[0] == method}
            if mine:
                per_method[method] = _method_runs(method, mine, floor)
        out.append(TaskScores(task, low, high, per_method))
    return out


def _method_runs(
    method: str, scores: Mapping[tuple[str, int | None, int], float | None], floor: float
) -> MethodRuns:
    tuned = any(study_seed is not None for _, study_seed, _ in scores)
    failed = sum(s is None for s in scores.values())
    filled = {k: (floor if s is None else s) for k, s in scores.items()}
    if not tuned:
        units = tuple(sorted(k[2] for k in filled))
        raw = np.array([filled[(method, None, u)] for u in units])
        return MethodRuns(method, False, raw, units, 1, failed)
    by_study: dict[int, list[float]] = {}
    for (_, study_seed, _), s in sorted(filled.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        by_study.setdefault(study_seed, []).append(s)
    units = tuple(by_study)
    tests = {len(v) for v in by_study.values()}
    raw = np.array([float(np.mean(by_study[u])) for u in units])
    return MethodRuns(method, True, raw, units, min(tests), failed)


@dataclass(frozen=True)
class Curves:
    """One tuned method's anytime curves on one task: ``best[i, b]`` is the best trial return
    study ``seeds[i]`` had seen after ``b + 1`` trials (all members, in the order it ran them)."""

    method: str
    seeds: tuple[int, ...]
    best: np.ndarray  # (R x B)
    first: int  # trials before every study had a finite return (left off the curve)
    truncated: bool  # the studies ran different numbers of trials; cut to the fewest


def anytime_curves(
    rows: Sequence[Mapping[str, Any]], methods: Sequence[str]
) -> dict[str, list[Curves]]:
    """Per task, the tuned methods' best-so-far curves from the tuning rows (study seeds).
    A study's trials are in the table's order: PBT's rounds, Hyperband's jobs as they ended."""
    studies: dict[tuple[str, str], dict[int, list[float]]] = {}
    for r in rows:
        if r["phase"] == "tune":
            ret = math.nan if r["return"] is None else r["return"]
            by_seed = studies.setdefault((r["task"], r["method"]), {})
            by_seed.setdefault(r["study_seed"], []).append(ret)
    out: dict[str, list[Curves]] = {}
    for task in dict.fromkeys(t for t, _ in studies):
        for method in methods:
            by_seed = studies.get((task, method))
            if not by_seed:
                continue
            seeds = tuple(sorted(by_seed))
            n = min(len(v) for v in by_seed.values())
            best = np.array([np.fmax.accumulate(np.array(by_seed[s][:n])) for s in seeds])
            finite = np.isfinite(best).all(axis=0)
            first = int(np.argmax(finite)) if finite.any() else n
            curves = Curves(
                method,
                seeds,
                best[:, first:],
                first,
                any(len(v) != n for v in by_seed.values()),
            )
            out.setdefault(task, []).append(curves)
    return out
