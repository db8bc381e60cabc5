"""Milliseconds per planning step on a GPU: the CUDA planner (TF32, float32; one member and a
population of 40), the torch reference on the same GPU, mbrl-lib 0.2.0 where it is carried, and
the card's measured GEMM rates (8192^3 float32 and TF32 through torch), all in one run.

Setting (the issue's paper step): HalfCheetah, E=5 ensemble of 4 x 200 swish MLPs, 20 particles
(TS-inf), population 500, 50 elites, 5 iterations, horizon 30: 396 GFLOP of MLP work per step
(ms and TFLOP/s are per step; a population's per step covers all its members). Each timing is
the median of --calls plans after two warm-ups (the first captures the CUDA graph), with
torch.cuda.synchronize() around each plan, so host copies and the graph launch are included.

Usage (GPU machine; scripts/gpu_check.sh runs it):
  PYTHONPATH=src python bench/bench_cuda_planner.py [--calls 20] [--json PATH]
Exits 77 without a CUDA device.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER = dict(horizon=30, population=500, iterations=5, particles=20)
ENSEMBLE, HIDDEN, DEPTH, POPULATION_MEMBERS = 5, 200, 4, 40
MBRL_ANCHOR = Path(os.environ.get("MBRL_ANCHOR", ROOT / "bench" / "mbrl_lib_speed.py"))


def gemm_rate(torch, tf32: bool, n: int = 8192, reps: int = 10) -> float:
    """TFLOP/s of an n^3 float32 matmul (TF32 tensor cores if tf32), median of reps."""
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    for _ in range(3):
        a @ b
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        a @ b
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    torch.backends.cuda.matmul.allow_tf32 = False
    return 2 * n**3 / statistics.median(times) / 1e9


def time_plans(torch, plan, calls: int) -> list[float]:
    out = []
    for i in range(calls + 2):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        plan()
        torch.cuda.synchronize()
        if i >= 2:
            out.append((time.perf_counter() - t0) * 1e3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "cuda_planner.json"))
    ap.add_argument("--skip-torch", action="store_true", help="skip the torch reference rows")
    args = ap.parse_args()
    import numpy as np
    import torch

    if not torch.cuda.is_available():
        print("bench_cuda_planner: no CUDA device (exit 77)")
        return 77
    from mbrlhpo.envs import get_task
    from mbrlhpo.models import DynamicsModel
    from mbrlhpo.planning import CEMConfig, CEMPlanner, plan_population
    from mbrlhpo.planning.cuda_planner import cuda_planner_available

    task = get_task("halfcheetah")
    cfg = CEMConfig(elite_ratio=0.1, alpha=0.1, **PAPER)
    sizes = [task.model_input_dim + task.act_dim] + [HIDDEN] * DEPTH + [2 * task.obs_dim]
    gflop = sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False)) * 1e-9
    gflop *= cfg.population * cfg.particles * cfg.horizon * cfg.iterations
    obs = np.random.default_rng(0).normal(0, 0.3, task.obs_dim).astype(np.float32)
    rows = []
    rates = {"float32": gemm_rate(torch, False), "tf32": gemm_rate(torch, True)}

    def row(name, members, precision, times):
        ms = statistics.median(times)
        tflops = members * gflop / ms
        rows.append(
            dict(
                backend=name,
                members=members,
                precision=precision,
                ms=ms,
                ms_best=min(times),
                tflops=tflops,
                of_gemm_rate=tflops / rates.get(precision, rates["float32"]),
            )
        )

    def model(seed):
        return DynamicsModel(task, ENSEMBLE, HIDDEN, DEPTH, device="cuda", seed=seed)

    if cuda_planner_available():
        m = model(0)
        for precision in ("tf32", "float32"):
            p = CEMPlanner(task, m, cfg, backend="cuda", seed=0, precision=precision)
            row("cuda", 1, precision, time_plans(torch, lambda p=p: p.plan(obs), args.calls))
            team = [
                CEMPlanner(task, model(i), cfg, backend="cuda", seed=i, precision=precision)
                for i in range(POPULATION_MEMBERS)
            ]
            batch = np.tile(obs, (POPULATION_MEMBERS, 1))
            row(
                "cuda",
                POPULATION_MEMBERS,
                precision,
                time_plans(
                    torch, lambda t=team, b=batch: plan_population(t, b), max(3, args.calls // 4)
                ),
            )
            del team
    else:
        rows.append(dict(backend="cuda", reason="CUDA planner not in this build"))
    if not args.skip_torch:
        m = model(0)
        for tf32 in (True, False):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            p = CEMPlanner(task, m, cfg, backend="torch", seed=0)
            row(
                "torch",
                1,
                "tf32" if tf32 else "float32",
                time_plans(torch, lambda p=p: p.plan(obs), max(3, args.calls // 4)),
            )
        torch.backends.cuda.matmul.allow_tf32 = False
    mbrl = None
    if MBRL_ANCHOR.exists():
        try:
            # mbrl-lib's own imports (mujoco 3.3.4 for its env module) on the anchor's path only
            env = dict(os.environ)
            extra = os.environ.get("MBRL_ANCHOR_PATH", "")
            if extra:
                env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, env.get("PYTHONPATH")) if p)
            out = subprocess.run(
                [sys.executable, str(MBRL_ANCHOR), "--device", "cuda", "--json", "/dev/stdout"],
                capture_output=True,
                text=True,
                timeout=240,
                check=True,
                env=env,
            )
            mbrl = out.stdout[-4000:]
        except Exception as e:  # noqa: BLE001 - the anchor is optional: record why it is absent
            mbrl = f"not available ({type(e).__name__}: {str(e)[:200]})"
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    result = dict(
        device=torch.cuda.get_device_name(0),
        torch=torch.__version__,
        commit=commit,
        date=time.strftime("%Y-%m-%d %H:%M:%S"),
        gflop_per_step=gflop,
        gemm_tflops=rates,
        rows=rows,
        mbrl_lib=mbrl,
    )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(
        f"{result['device']}: GEMM {rates['float32']:.1f} (fp32) / {rates['tf32']:.1f} (tf32) "
        f"TFLOP/s; paper step {gflop:.0f} GFLOP"
    )
    for r in rows:
        if "ms" in r:
            print(
                f"  {r['backend']:6s} {r['members']:3d} member(s) {r['precision']:8s} "
                f"{r['ms']:9.2f} ms  {r['tflops']:7.1f} TFLOP/s  "
                f"({100 * r['of_gemm_rate']:.0f}% of GEMM)"
            )
        else:
            print(f"  {r['backend']:6s} {r['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
