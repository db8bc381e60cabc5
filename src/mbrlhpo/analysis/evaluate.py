"""The paper's final scenario (Fig. 1 and 8) for one study: ``mbrlhpo evaluate``.

The study's best configuration (random search, Hyperband, BOHB) or best schedule (PBT, PBT-BT:
the per-trial hyperparameters along the best member's lineage) and the study's baseline (its
profile's defaults, ``table`` or ``code``) are each replayed with fresh agents on the same
evaluation seeds, for the study's whole budget (the random trial plus its MPC trials). Per trial
the score is the maximum so far of the return averaged over the seeds; the comparison is the
difference of the two scores at the last trial, with a paired Student-t interval over seeds
(none below five seeds: ``paired_difference``). The result is stored in the study (an
``evaluation`` event) and written as ``evaluation.json``, ``evaluation.md`` and
``evaluation.png`` in ``<db stem>.study/evaluation``.

Evaluation seeds are ``EVAL_SEED_OFFSET + i``: none of them is a member's, the baseline's or a
study's seed (``member_seed`` gives ``seed * 1_000_003 + member``), so the evaluation sees new
initial weights, bootstraps, planner noise and reset states, as the paper's re-runs did.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mbrlhpo.analysis.stats import student_t_quantile
from mbrlhpo.analysis.verdict import MIN_SEEDS, evaluation_verdict

EVAL_SEED_OFFSET = 9_000_000
ARMS = ("best", "baseline")


@dataclass
class Evaluation:
    """An evaluated study. ``curves[arm]`` holds per trial the mean over seeds and its
    maximum so far (``final_scenario``); ``comparison`` the difference of the two final
    scenarios at the last trial with its interval over seeds (``paired_difference``)."""

    db: str
    env: str
    method: str
    profile: str
    defaults: str
    baseline_name: str
    seeds: list[int]
    trials: int
    schedules: dict[str, list[dict]]
    returns: dict[str, dict[int, list[float]]]
    curves: dict[str, dict[str, list[float]]]
    comparison: dict[str, Any]
    failures: dict[str, list[dict]]

    def table(self) -> list[dict[str, Any]]:
        """One row per trial: each arm's final-scenario score and their difference."""
        best = self.curves["best"]["final_scenario"]
        base = self.curves["baseline"]["final_scenario"]
        return [
            {"trial": t + 1, "best": b, "baseline": d, "difference": b - d}
            for t, (b, d) in enumerate(zip(best, base, strict=True))
        ]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["returns"] = {arm: {str(s): r for s, r in v.items()} for arm, v in self.returns.items()}
        d["table"] = self.table()
        return d


# ---------------------------------------------------------------------------------------------
def running_max(curve: Sequence[float]) -> np.ndarray:
    """Maximum so far, NaN entries skipped (NaN until the first finite value)."""
    out = np.full(len(curve), np.nan)
    best = -math.inf
    for i, v in enumerate(curve):
        if math.isfinite(v):
            best = max(best, float(v))
        if best > -math.inf:
            out[i] = best
    return out


def seed_mean(returns: np.ndarray) -> np.ndarray:
    """Mean over seeds per trial, ignoring failed (NaN) trials. ``(S x T) -> (T,)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN trial stays NaN
        return np.nanmean(returns, axis=-2)


def final_score(returns: np.ndarray) -> np.ndarray:
    """The final scenario at the last trial: max over trials of the mean over seeds.
    ``(..., S x T) -> (...)``; NaN when every trial failed."""
    mean = seed_mean(returns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(mean, axis=-1)


def paired_difference(
    best: np.ndarray, baseline: np.ndarray, level: float = 0.95
) -> dict[str, Any]:
    """The best against the baseline on the same S seeds (``(S x T)`` returns each).

    ``difference``: the paper's statistic, ``final_score(best) - final_score(baseline)`` (the
    maximum over trials of the mean over seeds). The interval is over seeds: each seed's own
    final scenario (its maximum return) gives one paired difference, and ``ci_low`` /
    ``ci_high`` are the Student-t interval at ``level`` of their mean (``seed_mean_difference``),
    valid at small S for roughly normal differences, unlike a bootstrap, which at S = 2 puts
    the estimate at an interval's edge. With fewer than ``MIN_SEEDS`` seeds (or a failed
    seed) there is no interval: ``ci_low`` / ``ci_high`` are None and ``note`` says why.
    ``seeds_better`` counts the seeds where the best wins.
    """
    best = np.asarray(best, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    if best.shape != baseline.shape or best.ndim != 2 or best.shape[0] < 1:
        raise ValueError(
            f"expected two (seeds x trials) arrays of one shape, got {best.shape} "
            f"and {baseline.shape}"
        )
    if not 0.5 < level < 1:
        raise ValueError(f"level: expected a probability in (0.5, 1), got {level!r}")
    s = best.shape[0]
    per_seed = final_score(best[:, None, :]) - final_score(baseline[:, None, :])  # (S,)
    finite = per_seed[np.isfinite(per_seed)]
    out: dict[str, Any] = {
        "difference": float(final_score(best) - final_score(baseline)),
        "seed_differences": per_seed.tolist(),
        "seed_mean_difference": float(finite.mean()) if finite.size else math.nan,
        "seeds_better": int(np.sum(finite > 0)),
        "ci_low": None,
        "ci_high": None,
        "level": level,
        "n_seeds": int(s),
        "method": f"paired Student-t over seeds of each seed's final scenario, {s - 1} df",
        "note": None,
    }
    if finite.size < s:
        out["note"] = f"{s - finite.size} of {s} seeds failed on a side: no interval"
    elif s < MIN_SEEDS:
        out["note"] = f"{s} seeds: no interval below {MIN_SEEDS} seeds (use --seeds 5 or more)"
    else:
        half = student_t_quantile(0.5 + level / 2.0, s - 1) * finite.std(ddof=1) / math.sqrt(s)
        out["ci_low"] = float(finite.mean() - half)
        out["ci_high"] = float(finite.mean() + half)
    return out


# ---------------------------------------------------------------------------------------------
def evaluation_plan(
    rec: Mapping[str, Any],
    trials: int | None = None,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``evaluate_study`` replays for a study record (``read_study``): the task, the
    agents' profile, defaults and fixed settings (stored by ``tune``; ``profile`` and
    ``overrides`` for studies that did not store them), the number of trials and the two
    per-trial schedules."""
    from mbrlhpo.agent import default_hparams
    from mbrlhpo.hpo.space import GROUPS
    from mbrlhpo.tuning import describe_baseline

    settings = rec.get("settings") or {}
    env = settings.get("env")
    if not env:
        raise ValueError(
            f"{rec.get('db')}: the study does not name its environment (expected "
            "a database written by mbrlhpo tune)"
        )
    agent = settings.get("agent") or {}
    base_rec = rec.get("baseline") or {}
    profile = profile or agent.get("profile") or base_rec.get("profile")
    if profile is None:
        raise ValueError(
            f"{rec.get('db')}: the study does not record its agents' profile; "
            "pass --profile (and --set for fixed settings it used)"
        )
    defaults = agent.get("defaults") or base_rec.get("defaults") or "table"
    fixed = {**(agent.get("fixed") or {}), **(overrides or {})}
    tunables = set(GROUPS["joint"])
    bad = sorted(set(fixed) & tunables)
    if bad:
        raise ValueError(
            f"overrides {bad} are tunables the schedules set; expected fixed "
            "settings only (particles, hidden, ...)"
        )
    if rec["method"] in ("hyperband", "bohb"):
        hb = settings.get("hyperband") or {}
        study_trials = 1 + int(math.floor(float(hb.get("max_budget", 0)) + 1e-6))
    else:
        study_trials = 1 + int(settings.get("trials", 0))
    n = study_trials if trials is None else trials
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"trials: expected an int >= 1, got {trials!r}")
    if rec["method"] in ("pbt", "pbt-bt"):
        best = [dict(r["config"]) for r in rec.get("best_schedule") or []]
        kind = "schedule"
    else:
        best = [dict(rec["best_config"])] if rec.get("best_config") else []
        kind = "configuration"
    if not best:
        raise ValueError(f"{rec.get('db')}: the study has no finished best {kind} to evaluate")
    # A PBT-BT lineage that backtracked is shorter than the study; Hyperband's best ran at
    # the highest budget: both go on with their last hyperparameters.
    best = [{k: v for k, v in c.items() if k in tunables} for c in best]
    best = (best + [best[-1]] * n)[:n]
    # The baseline: the defaults, with the study's unsearched tunables as it ran them (its
    # base configuration holds those, overrides included), as tune's own baseline run.
    base_cfg = {
        **default_hparams(env, profile, defaults).to_dict(),
        **(settings.get("base_config") or {}),
    }
    base = [{k: base_cfg[k] for k in GROUPS["joint"]}] * n
    return {
        "env": env,
        "profile": profile,
        "defaults": defaults,
        "fixed": fixed,
        "trials": n,
        "kind": kind,
        "schedules": {"best": best, "baseline": base},
        "baseline_name": describe_baseline(profile, defaults),
    }


def evaluate_study(
    db: str | os.PathLike,
    seeds: int | Sequence[int] = 5,
    trials: int | None = None,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    device: str = "cpu",
    planner_backend: str = "auto",
    out_dir: str | os.PathLike | None = None,
    plots: bool = True,
    on_trial: Callable[[str, int, dict[int, float]], None] | None = None,
    progress: Any = False,
) -> tuple[Evaluation, dict[str, Path]]:
    """Runs the final scenario for the study in ``db``; see the module docstring.

    Args:
        seeds: how many evaluation seeds (``EVAL_SEED_OFFSET + i``), or the seeds themselves.
        trials: trials per run (default: the study's, the random trial included).
        profile, overrides: for studies that did not store their agents' settings.
        out_dir: where the files go (default ``<db stem>.study/evaluation``).
        on_trial: called with (arm, trial, {seed: return}) after each trial.
        progress: a watcher (:class:`mbrlhpo.progress.StudyProgress`): one phase of the
            trials left to run (seeds x trials of each arm not kept from an earlier run), told
            of every trial, its steps and its training.
    Returns the Evaluation and the written files by name.
    """
    from mbrlhpo.analysis.records import read_study
    from mbrlhpo.analysis.replay import replay_schedule
    from mbrlhpo.runner.study import study_dir_for
    from mbrlhpo.store.leftovers import remove_leftover_temps, temp_name
    from mbrlhpo.store.sqlite_store import StudyStore

    rec = read_study(db)
    plan = evaluation_plan(rec, trials, profile, overrides)
    if isinstance(seeds, bool):
        raise ValueError(f"seeds: expected a count or a list of seeds, got {seeds!r}")
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds: expected at least 1, got {seeds}")
        seed_list = [EVAL_SEED_OFFSET + i for i in range(int(seeds))]
    else:
        seed_list = [int(s) for s in seeds]
    out = Path(out_dir) if out_dir is not None else study_dir_for(db) / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    remove_leftover_temps(out)  # an arm's file of a killed evaluation
    keys = {arm: {"plan": _jsonable(plan), "arm": arm, "seeds": seed_list} for arm in ARMS}
    # A finished arm is kept on disk: a killed evaluation reruns only what was missing.
    results = {arm: r for arm in ARMS if (r := _kept_arm(out, keys[arm])) is not None}
    left = sum(arm not in results for arm in ARMS) * len(seed_list) * plan["trials"]
    if left and hasattr(progress, "phase"):
        progress.phase("evaluation", total=left)
    for arm in ARMS:
        if arm in results:
            continue
        res = replay_schedule(
            plan["env"],
            plan["schedules"][arm],
            seeds=seed_list,
            trials=plan["trials"],
            profile=plan["profile"],
            device=device,
            planner_backend=planner_backend,
            overrides=plan["fixed"],
            on_trial=None if on_trial is None else (lambda t, r, a=arm: on_trial(a, t, r)),
            progress=progress,
        )
        results[arm] = res.to_dict()
        cache = out / f"arm_{arm}.json"
        tmp = temp_name(cache)  # named by this process: removed once it is gone
        tmp.write_text(json.dumps({"key": keys[arm], "result": results[arm]}))
        os.replace(tmp, cache)
    returns = {
        arm: {int(s): [float(x) for x in r] for s, r in results[arm]["returns"].items()}
        for arm in ARMS
    }
    mats = {arm: np.array([returns[arm][s] for s in seed_list]) for arm in ARMS}
    curves = {}
    for arm in ARMS:
        mean = seed_mean(mats[arm])
        curves[arm] = {"mean": mean.tolist(), "final_scenario": running_max(mean).tolist()}
    comparison = paired_difference(mats["best"], mats["baseline"])
    ev = Evaluation(
        db=str(db),
        env=plan["env"],
        method=rec["method"],
        profile=plan["profile"],
        defaults=plan["defaults"],
        baseline_name=plan["baseline_name"],
        seeds=seed_list,
        trials=plan["trials"],
        schedules=plan["schedules"],
        returns=returns,
        curves=curves,
        comparison=comparison,
        failures={arm: results[arm]["failures"] for arm in ARMS},
    )
    paths = write_evaluation(ev, out, plots)
    with StudyStore(db) as store:
        store.record_event("evaluation", detail=_jsonable(ev.to_dict()))
    return ev, paths


# ---------------------------------------------------------------------------------------------
def _kept_arm(out: Path, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """An arm's result from an earlier run of the same evaluation (None: run it)."""
    cache = out / f"arm_{key['arm']}.json"
    if not cache.is_file():
        return None
    cached = json.loads(cache.read_text())
    return cached["result"] if cached.get("key") == key else None


def _jsonable(obj: Any) -> Any:
    """Non-finite floats as strings, tuples as lists: standard JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def _fmt(v: Any) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def evaluation_markdown(ev: Evaluation, rows: int = 12) -> str:
    """The evaluation as markdown: setup, the comparison and a table of the final-scenario
    scores (every trial up to ``rows`` rows, else evenly spaced ones and the last)."""
    c = ev.comparison
    table = ev.table()
    if len(table) > rows:
        keep = sorted({round(i * (len(table) - 1) / (rows - 1)) for i in range(rows)})
        table = [table[i] for i in keep]
    best_final = ev.curves["best"]["final_scenario"][-1]
    base_final = ev.curves["baseline"]["final_scenario"][-1]
    verdict = evaluation_verdict(c, best_final, base_final, db=ev.db)
    lines = [
        f"# Evaluation: {ev.method} on {ev.env} (final scenario, Fig. 1/8)",
        "",
        f"- study: {ev.db}",
        f"- best {'schedule' if ev.method in ('pbt', 'pbt-bt') else 'configuration'} vs "
        f"baseline = {ev.baseline_name}",
        f"- {len(ev.seeds)} evaluation seeds ({ev.seeds[0]}..{ev.seeds[-1]}), {ev.trials} "
        "trials each (the random trial included); score = maximum so far of the return "
        "averaged over the seeds",
        f"- at the last trial: {verdict}",
        f"- per seed (each seed's own final scenario): best minus baseline "
        f"{', '.join(_fmt(d) for d in c['seed_differences'])}; the best wins on "
        f"{c['seeds_better']} of {c['n_seeds']} seeds",
        f"- failed or diverged trials: best {len(ev.failures['best'])}, baseline "
        f"{len(ev.failures['baseline'])}",
        "",
        "| trial | best | baseline | difference |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['trial']} | {_fmt(r['best'])} | {_fmt(r['baseline'])} | {_fmt(r['difference'])} |"
        for r in table
    ]
    return "\n".join(lines) + "\n"


def write_evaluation(ev: Evaluation, out: Path, plots: bool = True) -> dict[str, Path]:
    """``evaluation.json``, ``evaluation.md`` and (with matplotlib) ``evaluation.png``."""
    paths = {"json": out / "evaluation.json", "md": out / "evaluation.md"}
    paths["json"].write_text(json.dumps(_jsonable(ev.to_dict()), indent=1) + "\n")
    paths["md"].write_text(evaluation_markdown(ev))
    if plots:
        from mbrlhpo.analysis.plots import plot_evaluation

        paths["png"] = plot_evaluation(
            ev.to_dict(), out / "evaluation.png", f"{ev.method} on {ev.env}: final scenario"
        )
    return paths
