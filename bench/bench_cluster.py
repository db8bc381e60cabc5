"""A PBT study of PETS on a two-node Ray cluster simulated on this machine, against the same
study in one process: wall time and per-round overhead (ray workstream).

Both runs are the same study (same seed, same members; their stored trials are checked equal):
1. in process, one member after another (``executor="sequential"``);
2. ``RayExecutor`` on a head and a worker node on 127.0.0.1 with one CPU each, so that two
   trials run at once (``--population`` should be a multiple of 2).

Per round: the in-process overhead is the round's wall time minus its trials' time (checkpoints
and store writes); the Ray overhead is the round's wall time minus the work a perfectly
balanced two-node round would take (the tasks' own time / 2), i.e. shipping members through
the object store, scheduling, packing and restoring, plus any imbalance. Also recorded: per
trial, the driver's time minus the task's time, and the blob sizes.

Usage: PYTHONPATH=src python bench/bench_cluster.py [--population 4] [--trials 4]
       [--profile quick] [--tiny] [--json bench/results/cluster.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import ray
from ray.cluster_utils import Cluster

import mbrlhpo
from mbrlhpo.integrations.ray_local import loopback_only
from mbrlhpo.runner.ray_executor import RayExecutor
from mbrlhpo.tuning import tune

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


def trials(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT member, trial, ret, status, wall_time FROM trials ORDER BY member, trial"
        ).fetchall()


def run(args, db: Path, executor) -> dict:
    marks = [time.perf_counter()]
    per_round_timings = []

    def on_round(_: int) -> None:
        marks.append(time.perf_counter())
        if isinstance(executor, RayExecutor):
            per_round_timings.append(list(executor.timings))

    tune(
        "cartpole",
        "pbt",
        population=args.population,
        trials=args.trials,
        pbt_interval=2,
        profile=args.profile,
        baseline=False,
        db=db,
        executor=executor,
        on_round=on_round,
        agent_overrides=TINY if args.tiny else None,
    )
    rounds = [b - a for a, b in zip(marks, marks[1:], strict=False)]
    rows = trials(db)
    out = {"wall_s": marks[-1] - marks[0], "rounds": len(rounds), "round_s": rounds}
    if per_round_timings:
        task = [sum(t["task_s"] for t in r) for r in per_round_timings]
        out["round_task_s"] = task
        out["overhead_per_round_s"] = statistics.median(
            w - s / 2 for w, s in zip(rounds, task, strict=True)
        )
        flat = [t for r in per_round_timings for t in r]
        out["driver_minus_task_s_median"] = statistics.median(
            t["driver_s"] - t["task_s"] for t in flat
        )
        out["blob_bytes_median"] = statistics.median(t["received"] for t in flat)
    else:
        by_trial: dict[int, float] = {}
        for _, trial, _, _, wall in rows:
            by_trial[trial] = by_trial.get(trial, 0.0) + wall
        out["round_trial_s"] = [by_trial[k] for k in sorted(by_trial)]
        out["overhead_per_round_s"] = statistics.median(
            w - by_trial[k] for k, w in zip(sorted(by_trial), rounds, strict=True)
        )
    out["trials"] = [r[:4] for r in rows]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--population", type=int, default=4)
    p.add_argument("--trials", type=int, default=4)
    p.add_argument("--profile", default="quick")
    p.add_argument("--tiny", action="store_true", help="a tiny agent (smoke run)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        local = run(args, Path(tmp) / "local.db", "sequential")
        with loopback_only():
            cluster = Cluster(
                initialize_head=True, head_node_args=dict(num_cpus=1, include_dashboard=False)
            )
            cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        try:
            on_ray = run(args, Path(tmp) / "ray.db", RayExecutor())
        finally:
            ray.shutdown()
            cluster.shutdown()
    same = local.pop("trials") == on_ray.pop("trials")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    report = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "load": os.getloadavg(),
        },
        "commit": commit,
        "versions": {
            "mbrlhpo": getattr(mbrlhpo, "__version__", "?"),
            "ray": ray.__version__,
            "python": platform.python_version(),
        },
        "settings": vars(args) | {"json": str(args.json)},
        "in_process": local,
        "ray_two_nodes": on_ray,
        "same_trials": same,
        "wall_ratio_ray_over_in_process": on_ray["wall_s"] / local["wall_s"],
    }
    print(json.dumps({k: v for k, v in report.items() if k != "settings"}, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
