"""Re-scoring on held-out test seeds: a winner (or the defaults, or a fixed schedule) replayed by
a fresh agent per test seed, each run kept in its own file so that a killed harness reruns only
the run in flight.

Tuning overfits its own seed (a configuration that won on the study's seeds is partly lucky), so
a cell's score is what its winner does on seeds no study used. A run's score is the tuning
objective, the mean return of its last ``last_k`` trials; ``-inf`` (stored as null) if one of
them failed.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mbrlhpo.harness.state import write_json
from mbrlhpo.hpo.objective import objective


def hardware() -> str:
    """The machine a run ran on, for the table: CPU model, cores, and the torch device."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:  # not Linux: platform's name
        pass
    return f"{cpu} ({os.cpu_count()} cores), {platform.system()}"


def finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def defaults_schedule(
    task: str, profile: str, defaults: str, agent: Mapping[str, Any], trials: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The profile's defaults as a schedule of ``trials`` entries (tunables; ``[agent]``'s
    tunables included) and the fixed settings (``[agent]``'s others)."""
    from mbrlhpo.agent import default_hparams
    from mbrlhpo.catalog import TUNABLE
    from mbrlhpo.tuning import resolve_env

    like = resolve_env(task)[3]
    values = default_hparams(like, profile, defaults).to_dict()
    config = {k: agent.get(k, values[k]) for k in TUNABLE}
    fixed = {k: v for k, v in agent.items() if k not in TUNABLE}
    return [config] * trials, fixed


def fit_schedule(
    schedule: Sequence[Mapping[str, Any]], agent: Mapping[str, Any], trials: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A fixed schedule cut or extended (its last entry repeated) to ``trials`` entries, with
    ``[agent]``'s tunables the schedule does not set added to every entry; and the fixed
    settings."""
    from mbrlhpo.catalog import TUNABLE

    entries = [dict(e) for e in schedule]
    entries = (entries + [entries[-1]] * trials)[:trials]
    extra = {k: v for k, v in agent.items() if k in TUNABLE}
    entries = [{**{k: v for k, v in extra.items() if k not in e}, **e} for e in entries]
    fixed = {k: v for k, v in agent.items() if k not in TUNABLE}
    return entries, fixed


def test_run(
    task: str,
    schedule: Sequence[Mapping[str, Any]],
    seed: int,
    profile: str,
    fixed: Mapping[str, Any],
    last_k: int,
    path: Path,
) -> dict[str, Any]:
    """One test run (``mbrlhpo.analysis.replay_schedule`` on one seed), cached at ``path``:
    returns per trial (None for a failed or diverged one), each trial's wall and CPU time
    (of this process; the first includes building the agent), the score and failures."""
    from mbrlhpo.analysis.replay import replay_schedule

    key = {"task": task, "schedule": list(schedule), "seed": seed, "profile": profile}
    key = json.loads(json.dumps({**key, "fixed": dict(fixed), "last_k": last_k}))
    if path.is_file():
        cached = json.loads(path.read_text())
        if cached.get("key") == key:
            return cached["run"]
    wall, cpu = [], []
    clock = [time.perf_counter(), time.process_time()]

    def on_trial(t: int, _: dict[int, float]) -> None:
        now = [time.perf_counter(), time.process_time()]
        wall.append(now[0] - clock[0])
        cpu.append(now[1] - clock[1])
        clock[:] = now

    res = replay_schedule(
        task,
        list(schedule),
        seeds=[seed],
        trials=len(schedule),
        profile=profile,
        overrides=dict(fixed),
        lockstep=False,
        on_trial=on_trial,
    )
    returns = [float(r) for r in res.returns[seed]]
    run = {
        "seed": seed,
        "returns": [finite_or_none(r) for r in returns],
        "wall_time": wall,
        "cpu_time": cpu,
        "score": finite_or_none(objective(returns, last_k)),
        "failures": [{k: v for k, v in f.items() if k != "seed"} for f in res.failures],
        "hardware": hardware(),
    }
    write_json(path, {"key": key, "run": run})
    return run
