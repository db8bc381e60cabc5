"""Parallel Hyperband and the Ray Tune example: wall time with one worker against two, measured
in the same run on this machine (issue 16).

1. ``mbrlhpo.tune(..., method="hyperband", workers=N)`` for N = 1 and 2, with the jobs' trials
   in threads of this process (``executor="sequential"``) and as Ray tasks on a local Ray of
   2 CPUs (one CPU per trial). All four runs are the same study: their stored trials and jobs
   are checked equal.
2. ``examples/ray_tune_pets.py``'s ASHA (Tune's asynchronous successive halving) on the same
   local Ray with at most 1 and then 2 agents at once (``max_concurrent_trials``).

Usage: PYTHONPATH=src python bench/bench_hyperband_parallel.py [--tiny] [--budgets 1 3]
       [--iterations 2] [--tune-samples 4] [--tune-trials 3] [--skip-tune]
       [--json bench/results/hyperband_parallel.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ray

import mbrlhpo
from mbrlhpo.integrations.ray_local import init_local_ray
from mbrlhpo.runner.ray_executor import RayExecutor
from mbrlhpo.tuning import tune

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
WORKERS = (1, 2)


def stored(db: Path) -> tuple[list, list]:
    with sqlite3.connect(db) as con:
        return (
            con.execute("SELECT member, trial, ret, status FROM trials ORDER BY 1, 2").fetchall(),
            con.execute(
                "SELECT config_id, member, config, loss FROM hb_jobs ORDER BY 2"
            ).fetchall(),
        )


def hyperband(args, db: Path, executor, workers: int) -> dict:
    start = time.perf_counter()
    tune(
        "cartpole",
        "hyperband",
        budgets=tuple(args.budgets),
        hb_iterations=args.iterations,
        profile=args.profile,
        baseline=False,
        db=db,
        executor=executor,
        workers=workers,
        agent_overrides=TINY if args.tiny else None,
    )
    wall = time.perf_counter() - start
    with sqlite3.connect(db) as con:
        trial_s = con.execute("SELECT SUM(wall_time) FROM trials").fetchone()[0]
    return {"wall_s": wall, "trials_wall_time_sum_s": trial_s, "load_after": os.getloadavg()}


def tune_example(args, storage: str, concurrent: int) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from ray_tune_pets import run  # noqa: PLC0415 (the example, as a user runs it)

    start = time.perf_counter()
    run("asha", args.tune_samples, args.tune_trials, storage, concurrent)
    return {"wall_s": time.perf_counter() - start, "load_after": os.getloadavg()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tiny", action="store_true", help="a tiny agent (smoke run)")
    p.add_argument("--profile", default="quick")
    p.add_argument("--budgets", type=int, nargs=2, default=[1, 3])
    p.add_argument("--iterations", type=int, default=2)
    p.add_argument("--tune-samples", type=int, default=4)
    p.add_argument("--tune-trials", type=int, default=3)
    p.add_argument("--skip-tune", action="store_true")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    load_before = os.getloadavg()
    runs: dict[str, dict] = {}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in WORKERS:
            db = Path(tmp) / f"threads{n}.db"
            runs[f"hyperband_threads_{n}"] = hyperband(args, db, "sequential", n)
            rows[f"threads{n}"] = stored(db)
        init_local_ray(num_cpus=2)  # listens on 127.0.0.1 only
        try:
            for n in WORKERS:
                db = Path(tmp) / f"ray{n}.db"
                runs[f"hyperband_ray_{n}"] = hyperband(args, db, RayExecutor(), n)
                rows[f"ray{n}"] = stored(db)
            if not args.skip_tune:
                for n in WORKERS:
                    runs[f"tune_asha_{n}"] = tune_example(args, str(Path(tmp) / f"tune{n}"), n)
        finally:
            ray.shutdown()
    first = next(iter(rows.values()))
    same = all(r == first for r in rows.values())
    ratios = {
        f"{kind}_wall_1_over_2": runs[f"{kind}_1"]["wall_s"] / runs[f"{kind}_2"]["wall_s"]
        for kind in ("hyperband_threads", "hyperband_ray", "tune_asha")
        if f"{kind}_1" in runs
    }
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    report = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg(),
        },
        "commit": commit,
        "versions": {
            "mbrlhpo": getattr(mbrlhpo, "__version__", "?"),
            "ray": ray.__version__,
            "python": platform.python_version(),
        },
        "settings": vars(args) | {"json": str(args.json)},
        "trials": len(first[0]),
        "jobs": len(first[1]),
        "same_study_for_every_run": same,
        "runs": runs,
        "speedup": ratios,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "settings"}, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
