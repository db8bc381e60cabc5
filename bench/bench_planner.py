"""Milliseconds per planning step of the native CPU planner and the torch reference.

Preliminary harness (models workstream): until the C++ task headers are on main the native
planner only knows the test tasks, so this times `test_pendulum` (obs 2, act 1) with the
paper's network (E=5, 4 x 200 swish). GEMM FLOP per row differ from HalfCheetah's by ~8%.
Usage: PYTHONPATH=src python bench/bench_planner.py [--backends cpu,torch] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
from toy_tasks import native_test_task  # noqa: E402

from mbrlhpo.models import DynamicsModel  # noqa: E402
from mbrlhpo.planning import CEMConfig, CEMPlanner  # noqa: E402

SETTINGS = {
    "paper": CEMConfig(horizon=30, population=500, elite_ratio=0.1, iterations=5, particles=20),
    "small": CEMConfig(horizon=15, population=100, elite_ratio=0.1, iterations=3, particles=10),
}


def flop_per_row(model: DynamicsModel) -> int:
    s = model.ensemble.layer_sizes
    return 2 * sum(a * b for a, b in zip(s[:-1], s[1:], strict=True))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="cpu,torch")
    ap.add_argument("--settings", default="paper,small")
    ap.add_argument("--calls", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    task = native_test_task("test_pendulum")
    model = DynamicsModel(task, ensemble_size=5, hidden=200, depth=4, seed=0)
    results = []
    for name in args.settings.split(","):
        cfg = SETTINGS[name]
        rows = cfg.population * cfg.particles * cfg.horizon * cfg.iterations
        gflop = rows * flop_per_row(model) / 1e9
        for backend in args.backends.split(","):
            p = CEMPlanner(task, model, cfg, backend=backend, seed=0)
            obs = np.array([0.1, 0.0], np.float32)
            p.plan(obs)  # warm-up
            ts = []
            for _ in range(args.calls if backend == "cpu" or name == "small" else 1):
                t0 = time.perf_counter()
                p.plan(obs)
                ts.append(time.perf_counter() - t0)
            med = statistics.median(ts)
            r = dict(setting=name, backend=backend, ms=med * 1e3, gflop=gflop,
                     gflops=gflop / med, calls=len(ts))
            results.append(r)
            print(json.dumps(r), flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mb": peak_mb}))
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "peak_rss_mb": peak_mb}))


if __name__ == "__main__":
    main()
