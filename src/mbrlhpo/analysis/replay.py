"""Replaying a hyperparameter schedule: the paper's way of evaluating a learned schedule.

The paper's learned schedules (automl/HPO_for_RL, ``learned_schedule/``, Apache-2.0) are JSON
lists with one dict per trial in the paper code's names. ``load_schedule`` reads such a file
(or one in mbrlhpo's names), maps the names to ours and validates every entry;
``replay_schedule`` runs a fresh ``PETSAgent`` per seed, setting entry ``t`` before the
agent's trial ``t`` (entry 0 goes with the random first trial), and scores the run the paper's
way: the "final scenario" is the maximum so far of the return averaged over seeds.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# The paper code's names -> mbrlhpo's (PETSHparams / search spaces).
PAPER_KEYS = {
    "model_learning_rate": "lr",
    "model_weight_decay": "weight_decay",
    "model_train_epoch": "epochs",
    "cem_alpha": "alpha",
    "cem_elites_ratio": "elite_ratio",
    "cem_popsize": "population",
    "num_cem_iters": "iterations",
    "plan_hor": "horizon",
}
OUR_KEYS = tuple(PAPER_KEYS.values())
_INT_KEYS = {"epochs", "population", "iterations", "horizon"}

# The paper's environment names -> mbrlhpo tasks (None: not available here).
PAPER_ENVS: dict[str, str | None] = {
    "halfcheetah": "halfcheetah",
    "hopper": "hopper",
    "pusher": "pusher",
    "reacher": "reacher",
    "daisy": "hexapod",
    "quadruped": None,
}


def task_for_env(env: str) -> str:
    """The mbrlhpo task for a task or paper environment name (``daisy`` -> ``hexapod``)."""
    from mbrlhpo.catalog import TASK_NAMES as TASKS

    if not isinstance(env, str):
        raise ValueError(f"expected an environment name, got {env!r}")
    if env in PAPER_ENVS:
        task = PAPER_ENVS[env]
        if task is None:
            raise ValueError(
                f"the paper's {env!r} environment has no task in mbrlhpo "
                f"(expected one of {list(TASKS)}, or daisy for hexapod)"
            )
        return task
    if env not in TASKS:
        raise ValueError(
            f"unknown environment {env!r}: expected one of {list(TASKS)} "
            "(or the paper's daisy for hexapod)"
        )
    return env


def schedule_env(path: str | os.PathLike) -> str | None:
    """The task a schedule is for: a study database's or an mbrlhpo ``summary.json``'s
    environment, else from a paper file's name (``<env>_<method>_...json``); None when
    neither says. Raises ValueError for the paper's ``quadruped`` (no such task here)."""
    p = Path(path)
    if p.suffix == ".db" and p.is_file():
        from mbrlhpo.analysis.records import read_study

        return (read_study(p).get("settings") or {}).get("env")
    if p.suffix == ".json" and p.is_file():
        try:
            raw = json.loads(p.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raw = None
        if (
            isinstance(raw, Mapping)
            and isinstance(raw.get("summary"), Mapping)
            and raw["summary"].get("env")
        ):
            return task_for_env(raw["summary"]["env"])
    prefix = p.name.split("_", 1)[0].lower()
    if prefix not in PAPER_ENVS:
        return None
    return task_for_env(prefix)


def _entries_of(raw: Any, source: str) -> Any:
    """The per-trial hyperparameters in any of the accepted forms: the paper's list of dicts;
    mbrlhpo's best schedule, a list of ``{"member", "trial", "config"}`` records (the lineage
    a PBT study's best member followed, ``Study.best_schedule``); or mbrlhpo's report
    ``summary.json``, a dict holding that list as ``best_schedule``."""
    if isinstance(raw, Mapping):
        if "best_schedule" not in raw:
            raise ValueError(
                f"{source}: expected a JSON list with one dict per trial, or "
                f"mbrlhpo's summary.json (a dict with best_schedule), got a dict "
                f"with keys {sorted(raw)[:8]}"
            )
        raw = raw["best_schedule"]
        if not raw:
            raise ValueError(
                f"{source}: its best_schedule is empty (the study has no finished member)"
            )
    if isinstance(raw, list) and raw and all(isinstance(e, Mapping) and "config" in e for e in raw):
        return [e["config"] for e in raw]
    return raw


def validate_schedule(entries: Any, source: str = "schedule") -> list[dict[str, Any]]:
    """Validates a schedule (a non-empty list of dicts in the paper's or mbrlhpo's names) and
    returns it in mbrlhpo's names with plain ``int``/``float`` values.

    Every entry must set the same hyperparameters; values are checked as ``PETSHparams``
    checks them (``lr > 0``, ``alpha`` in [0, 1), integer counts >= 1, ...).
    """
    from mbrlhpo.agent.hparams import default_hparams

    if not isinstance(entries, list):
        raise ValueError(
            f"{source}: expected a JSON list with one dict per trial, got {type(entries).__name__}"
        )
    if not entries:
        raise ValueError(
            f"{source}: expected at least one trial's hyperparameters, got an empty schedule"
        )
    shell = default_hparams("halfcheetah", "paper")  # any valid PETSHparams to check against
    out: list[dict[str, Any]] = []
    first_keys: set[str] | None = None
    for i, entry in enumerate(entries):
        where = f"{source}: entry {i}"
        if not isinstance(entry, Mapping):
            raise ValueError(
                f"{where}: expected a dict of hyperparameters, got {type(entry).__name__}"
            )
        mapped: dict[str, Any] = {}
        for key, value in entry.items():
            name = PAPER_KEYS.get(key, key)
            if name not in OUR_KEYS:
                raise ValueError(
                    f"{where}: unknown key {key!r}; expected the paper's "
                    f"{sorted(PAPER_KEYS)} or mbrlhpo's {sorted(OUR_KEYS)}"
                )
            if name in mapped:
                raise ValueError(f"{where}: {name} is given twice ({key!r} and its other name)")
            mapped[name] = _number(name, value, where)
        if not mapped:
            raise ValueError(f"{where}: expected at least one hyperparameter, got {{}}")
        if first_keys is None:
            first_keys = set(mapped)
        elif set(mapped) != first_keys:
            raise ValueError(
                f"{where}: sets {sorted(mapped)}, but entry 0 sets "
                f"{sorted(first_keys)}; every entry must set the same ones"
            )
        try:
            shell.replace(**mapped)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        out.append(mapped)
    return out


def _number(name: str, value: Any, where: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected a number for {name}, got {value!r}")
    if name in _INT_KEYS:
        if not float(value).is_integer():
            raise ValueError(f"{where}: expected an integer for {name}, got {value!r}")
        return int(value)
    return float(value)


def load_schedule(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Reads a schedule: one of the paper's learned schedules (a JSON list, one dict per
    trial, keys mapped to mbrlhpo's names: ``model_learning_rate`` -> ``lr``, ...), the best
    schedule of an mbrlhpo study (its database ``*.db``, its report's ``summary.json``, or the
    ``best_schedule`` list itself), validated with :func:`validate_schedule`. Returns the
    list of per-trial dicts."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(
            f"expected a schedule JSON file or a study database, got {str(p)!r} (no such file)"
        )
    if p.suffix == ".db":
        from mbrlhpo.analysis.records import read_study

        raw: Any = {"best_schedule": read_study(p).get("best_schedule") or []}
    else:
        try:
            raw = json.loads(p.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{p}: not valid JSON ({exc})") from None
    return validate_schedule(_entries_of(raw, str(p)), str(p))


# ---------------------------------------------------------------------------------------------
@dataclass
class ReplayResult:
    """A replayed schedule. ``returns[seed][t]`` is the return of the agent's trial ``t``
    (NaN if the simulation diverged or the trial failed, see ``failures``); ``mean[t]`` the
    mean over the seeds with a finite return; ``final_scenario[t]`` the maximum of ``mean``
    up to ``t`` (the paper's final-scenario curve) and ``score`` its last value."""

    env: str
    profile: str
    seeds: list[int]
    trials: int
    returns: dict[int, list[float]]
    mean: list[float]
    final_scenario: list[float]
    score: float
    failures: list[dict[str, Any]] = field(default_factory=list)
    hparams: dict[str, Any] = field(default_factory=dict)  # the fixed settings used

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["returns"] = {str(k): v for k, v in self.returns.items()}
        return d


def final_scenario(mean: Sequence[float]) -> list[float]:
    """Maximum so far of a curve, NaN entries skipped (NaN until the first finite value)."""
    out, best = [], -math.inf
    for v in mean:
        if math.isfinite(v):
            best = max(best, float(v))
        out.append(best if best > -math.inf else math.nan)
    return out


def replay_schedule(
    env: str,
    schedule: Sequence[Mapping[str, Any]] | str | os.PathLike,
    seeds: Sequence[int] = (0,),
    trials: int | None = None,
    profile: str = "paper",
    device: str = "cpu",
    planner_backend: str = "auto",
    overrides: Mapping[str, Any] | None = None,
    lockstep: bool = True,
    on_trial: Callable[[int, dict[int, float]], None] | None = None,
    progress: Any = False,
) -> ReplayResult:
    """Runs PETS on ``env`` with a per-trial hyperparameter schedule, once per seed.

    Args:
        env: an mbrlhpo task or a paper environment name (``daisy`` -> ``hexapod``;
            ``quadruped`` has no task: ValueError).
        schedule: per-trial dicts (validated) or the path of a schedule file; a paper file
            named for another environment is rejected.
        seeds: one fresh agent per seed.
        trials: trials to run (default: the schedule's length; at most that).
        profile: ``paper`` or ``quick``: the fixed settings (model size, particles) and the
            values of tunables the schedule does not set.
        overrides: fixed settings or unscheduled tunables (e.g. ``{"particles": 10}``); a
            scheduled name is an error. Every trial's combination is validated by
            ``PETSHparams`` (e.g. particles a multiple of the ensemble size) before anything
            runs.
        lockstep: run the seeds' trials together, planning all of them in one native call
            per step (results equal running them one by one).
        on_trial: called after each trial ``t`` with ``{seed: return}``.
        progress: a watcher (:class:`mbrlhpo.progress.StudyProgress`) told of every trial
            (``trial_done``, once per seed), its steps and its training; or False.
    """
    from mbrlhpo.agent import PETSAgent, default_hparams
    from mbrlhpo.planning import plan_population
    from mbrlhpo.runner.executors import LockstepExecutor, SequentialExecutor

    task = task_for_env(env)
    if isinstance(schedule, (str, os.PathLike)):
        file_task = schedule_env(schedule)
        if file_task is not None and file_task != task:
            raise ValueError(
                f"schedule {str(schedule)!r} is the paper's schedule for "
                f"{file_task}, but env is {env!r}; pass env={file_task!r}"
            )
        sched = load_schedule(schedule)
    else:
        sched = validate_schedule(list(schedule))
    seeds = [_seed(s) for s in seeds]
    if not seeds:
        raise ValueError("expected at least one seed, got none")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"expected distinct seeds, got {seeds}")
    n = len(sched) if trials is None else trials
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"trials: expected an int >= 1, got {trials!r}")
    if n > len(sched):
        raise ValueError(f"trials: the schedule has {len(sched)} entries, got trials={n}")
    fixed = dict(overrides or {})
    clash = sorted(set(fixed) & set(sched[0]))
    if clash:
        raise ValueError(
            f"overrides {clash} are set by the schedule; expected only other "
            "hyperparameters (fixed settings such as particles)"
        )
    try:
        base = default_hparams(task, profile).replace(**fixed)
    except ValueError as exc:
        raise ValueError(f"overrides: {exc}") from None
    for t in range(n):
        try:
            base.replace(**sched[t])
        except ValueError as exc:
            raise ValueError(
                f"schedule entry {t} (with profile {profile!r} and the overrides): {exc}"
            ) from None
    agents = [
        PETSAgent(
            task,
            {**fixed, **sched[0]},
            seed=s,
            device=device,
            planner_backend=planner_backend,
            profile=profile,
            # Run one by one, each agent tells of its steps; in lockstep, the executor does.
            progress=False if lockstep else progress,
        )
        for s in seeds
    ]
    executor = (
        LockstepExecutor(plan_population, progress=progress) if lockstep else SequentialExecutor()
    )
    trial_done = getattr(progress, "trial_done", None)
    returns: dict[int, list[float]] = {s: [] for s in seeds}
    fails: list[dict[str, Any]] = []
    try:
        for t in range(n):
            for a in agents:
                a.set_hparams(dict(sched[t]))
            outcomes = executor.run(agents)
            now: dict[int, float] = {}
            for s, a, o in zip(seeds, agents, outcomes, strict=True):
                if o.error is not None:
                    if getattr(a, "_episode", None) is not None:
                        try:  # a sequential run_trial that raised mid-episode
                            a.finish_trial()
                        except Exception:
                            pass
                    fails.append({"seed": s, "trial": t, "cause": repr(o.error)})
                    ret = math.nan
                elif o.result.diverged or not math.isfinite(o.result.ret):
                    fails.append({"seed": s, "trial": t, "cause": "diverged"})
                    ret = math.nan
                else:
                    ret = float(o.result.ret)
                returns[s].append(ret)
                now[s] = ret
                if trial_done is not None:
                    trial_done()
            if on_trial is not None:
                on_trial(t, now)
        used = agents[0].hparams.to_dict()
    finally:
        for a in agents:
            a.close()
    mat = np.array([returns[s] for s in seeds], dtype=np.float64)  # (S x T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        mean = np.nanmean(mat, axis=0).tolist()
    fs = final_scenario(mean)
    fixed_used = {k: v for k, v in used.items() if k not in sched[0]}
    return ReplayResult(
        env=task,
        profile=profile,
        seeds=seeds,
        trials=n,
        returns=returns,
        mean=mean,
        final_scenario=fs,
        score=fs[-1] if fs else math.nan,
        failures=fails,
        hparams=fixed_used,
    )


def _seed(s: Any) -> int:
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
        raise ValueError(f"expected non-negative int seeds, got {s!r}")
    return int(s)
