"""A custom task's reward written in Python (mbrlhpo.Task, compiled by numba) against the same
task built in (C++), on the native CPU planner: milliseconds per planning step, one run.

The custom task is HalfCheetah again (same dims, bounds, angle and absolute dims), its reward
``s'[0] - 0.1 |a|^2`` written in Python two ways: with NumPy on the small arrays
(``np.sum(action * action)``, a temporary array per call) and as a plain loop. Goal (issue 14):
the custom task plans within 1.3x of the built-in one's time.

Both run in one process, on one engine (threads) and one untrained model, in alternating calls
(built-in, numpy, loop, built-in, ...) so that the machine's load falls on all alike; the
ratios are of medians (and of best calls) of the same run. Settings as bench_planner.py:
``paper`` (population 500, horizon 30, 5 iterations, 20 particles, 5 x 4 x 200) and ``small``
(100, 15, 3, 10).

Usage:
  PYTHONPATH=src python bench/bench_custom_task.py [--settings small,paper] [--calls 7]
      [--json bench/results/custom_task.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mbrlhpo  # noqa: E402
from bench_planner import DEPTH, ENSEMBLE, HIDDEN, SETTINGS, loadavg, meta  # noqa: E402
from mbrlhpo.envs import get_task  # noqa: E402
from mbrlhpo.models import DynamicsModel  # noqa: E402
from mbrlhpo.planning import CEMConfig, CEMPlanner, CpuEngine  # noqa: E402


def cheetah_reward_numpy(action, next_obs):
    return next_obs[0] - 0.1 * np.sum(action * action)


def cheetah_reward_loop(action, next_obs):
    cost = 0.0
    for a in action:
        cost += a * a
    return next_obs[0] - 0.1 * cost


def custom_cheetah(name: str, reward) -> mbrlhpo.Task:
    hc = get_task("halfcheetah")
    return mbrlhpo.Task(
        name,
        hc.obs_dim,
        hc.act_dim,
        hc.action_low,
        hc.action_high,
        reward,
        angle_dims=hc.angle_dims,
        absolute_target_dims=hc.absolute_target_dims,
        steps_per_trial=hc.steps_per_trial,
    )


def run_setting(setting: str, calls: int, engine: CpuEngine) -> dict:
    tasks = {
        "builtin": get_task("halfcheetah"),
        "python_numpy": custom_cheetah("bench_cheetah_numpy", cheetah_reward_numpy),
        "python_loop": custom_cheetah("bench_cheetah_loop", cheetah_reward_loop),
    }
    model = DynamicsModel(
        tasks["builtin"], ensemble_size=ENSEMBLE, hidden=HIDDEN, depth=DEPTH, seed=0
    )
    cfg = CEMConfig(elite_ratio=0.1, alpha=0.1, **SETTINGS[setting])
    planners = {
        k: CEMPlanner(t, model, cfg, backend="cpu", seed=0, engine=engine) for k, t in tasks.items()
    }
    obs = np.random.default_rng(0).normal(0, 0.1, 18).astype(np.float32)
    actions = {}
    for k, p in planners.items():
        actions[k] = p.plan(obs)  # warm-up; the same model, seed and step: the same plan
        p.reset()
    times: dict[str, list[float]] = {k: [] for k in planners}
    load0 = loadavg()
    for _ in range(calls):
        for k, p in planners.items():
            t0 = time.perf_counter()
            p.plan(obs)
            times[k].append(time.perf_counter() - t0)
    base_med = statistics.median(times["builtin"])
    base_min = min(times["builtin"])
    rows = {
        k: dict(
            ms=statistics.median(ts) * 1e3,
            ms_min=min(ts) * 1e3,
            per_call_ms=[t * 1e3 for t in ts],
            ratio_median=statistics.median(ts) / base_med,
            ratio_best=min(ts) / base_min,
        )
        for k, ts in times.items()
    }
    return dict(
        setting=setting,
        threads=engine.num_threads,
        calls=calls,
        load_before=load0,
        load_after=loadavg(),
        first_action_max_abs_diff_vs_builtin={
            k: float(np.abs(a - actions["builtin"]).max()) for k, a in actions.items()
        },
        backends=rows,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", default="small,paper")
    ap.add_argument("--calls", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    engine = CpuEngine(args.threads)
    results = [run_setting(s, args.calls, engine) for s in args.settings.split(",")]
    engine.close()
    out = dict(meta=meta(), goal="custom (Python reward) within 1.3x of built-in", results=results)
    import numba

    out["meta"]["numba"] = numba.__version__
    for r in results:
        for k, row in r["backends"].items():
            print(
                f"{r['setting']:6s} {k:13s} {row['ms']:9.1f} ms (best {row['ms_min']:8.1f})"
                f"  x{row['ratio_median']:.3f} median, x{row['ratio_best']:.3f} best"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
