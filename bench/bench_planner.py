"""Milliseconds per planning step: native CPU planner, torch reference and mbrl-lib, one run.

Settings (the issue's): `paper` = HalfCheetah, E=5 ensemble of 4 x 200 swish MLPs, 20 particles
(TS-inf), CEM population 500, 10% elites, 5 iterations, horizon 30; `small` = population 100,
horizon 15, particles 10, 3 iterations. Task: `mbrlhpo.envs.get_task("halfcheetah")`, an
untrained `DynamicsModel` (planning cost does not depend on the weights).

Each (setting, backend) runs in its own subprocess (clean peak memory, no shared BLAS state),
one after the other, with the machine's load recorded around each. mbrl-lib 0.2.0's PETS agent
is timed by bench/mbrl_lib_speed.py (or $MBRL_ANCHOR) in the virtual environment
bench/.anchors/mbrl (or $MBRL_VENV) that bench/setup_anchors.sh builds; without it the row says
"not available".

Also measured, in every round: the machine's float32 GEMM rate at the planner's own shapes
(the float32 layer GEMMs of one row tile, a single-threaded BLAS in each of T processes started
together, i.e. what the planner's T threads do), and NumPy's 2-thread sgemm at
(2000 x 200) @ (200 x 200). Under load, compare the best calls ("best") with the best round's
ceiling: medians mix in other jobs' use of the cores.

Usage:
  PYTHONPATH=src python bench/bench_planner.py [--settings paper,small]
      [--backends cpu,cpu-bf16,torch,mbrl] [--calls 5] [--json bench/results/planner.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "paper": dict(horizon=30, population=500, iterations=5, particles=20),
    "small": dict(horizon=15, population=100, iterations=3, particles=10),
}
ENSEMBLE, HIDDEN, DEPTH = 5, 200, 4
# mbrl-lib's venv, built by bench/setup_anchors.sh; the timing script is in the repo.
MBRL_VENV = Path(os.environ.get("MBRL_VENV", ROOT / "bench" / ".anchors" / "mbrl"))
MBRL_ANCHOR = Path(os.environ.get("MBRL_ANCHOR", ROOT / "bench" / "mbrl_lib_speed.py"))


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def layer_shapes(obs_dim: int, act_dim: int, model_input_dim: int) -> list[tuple[int, int]]:
    sizes = [model_input_dim + act_dim] + [HIDDEN] * DEPTH + [2 * obs_dim]
    return list(zip(sizes[:-1], sizes[1:], strict=True))


def planner_tile(setting: str, tile_rows: int) -> int:
    """Rows per GEMM of the native planner in `setting` (the split of cem_planner.cpp)."""
    st = SETTINGS[setting]
    rows = st["population"] * st["particles"] // ENSEMBLE
    num_tiles = min(rows, max(2, -(-rows // tile_rows)))
    return -(-rows // num_tiles)


def flop_per_row(shapes: list[tuple[int, int]]) -> int:
    return 2 * sum(k * n for k, n in shapes)


# ---------------------------------------------------------------- child: one backend
def child(setting: str, backend: str, calls: int, tile: int, threads: int) -> dict:
    """Times one backend in this process; returns its result row."""
    import numpy as np
    import torch

    from mbrlhpo.envs import get_task
    from mbrlhpo.models import DynamicsModel
    from mbrlhpo.planning import CEMConfig, CEMPlanner

    s = SETTINGS[setting]
    task = get_task("halfcheetah")
    model = DynamicsModel(task, ensemble_size=ENSEMBLE, hidden=HIDDEN, depth=DEPTH, seed=0)
    cfg = CEMConfig(elite_ratio=0.1, alpha=0.1, **s)
    native = backend in ("cpu", "cpu-bf16")
    precision = "bf16" if backend == "cpu-bf16" else "float32"
    engine = None
    if native:
        from mbrlhpo.planning import CpuEngine

        engine = CpuEngine(threads, tile_rows=tile or None)
    p = CEMPlanner(
        task,
        model,
        cfg,
        backend="cpu" if native else backend,
        seed=0,
        precision=precision,
        engine=engine,
    )
    rng = np.random.default_rng(0)
    obs = rng.normal(0, 0.1, task.obs_dim).astype(np.float32)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    p.plan(obs)  # warm-up (buffers sized here)
    ts, cpu_ratio = [], []
    load0 = loadavg()
    for _ in range(calls):
        c0, t0 = time.process_time(), time.perf_counter()
        p.plan(obs)
        dt = time.perf_counter() - t0
        ts.append(dt)
        cpu_ratio.append((time.process_time() - c0) / dt)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n_threads = engine.num_threads if engine is not None else torch.get_num_threads()
    return dict(
        setting=setting,
        backend=backend,
        ms=statistics.median(ts) * 1e3,
        ms_min=min(ts) * 1e3,
        calls=calls,
        threads=n_threads,
        tile_rows=engine.tile_rows if engine is not None else None,
        own_cpu_per_wall=statistics.median(cpu_ratio),
        per_call_ms=[t * 1e3 for t in ts],
        load_before=load0,
        load_after=loadavg(),
        peak_rss_mb=rss1 / 1024,
        planning_rss_increase_mb=(rss1 - rss0) / 1024,
        shapes=layer_shapes(task.obs_dim, task.act_dim, task.model_input_dim),
    )


def child_gemm_worker(tile: int, start: float, seconds: float) -> dict:
    """One worker of the sgemm ceiling: the layer GEMMs of one `tile`-row tile, in a loop,
    from wall time `start` for `seconds` (run with OPENBLAS_NUM_THREADS=1)."""
    import numpy as np

    from mbrlhpo.envs import get_task

    task = get_task("halfcheetah")
    shapes = layer_shapes(task.obs_dim, task.act_dim, task.model_input_dim)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((tile, k), dtype=np.float32) for k, _ in shapes]
    ws = [rng.standard_normal((k, n), dtype=np.float32) for k, n in shapes]
    ys = [np.empty((tile, n), np.float32) for _, n in shapes]
    for x, w, y in zip(xs, ws, ys, strict=True):
        np.matmul(x, w, out=y)
    while time.time() < start:
        pass
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for x, w, y in zip(xs, ws, ys, strict=True):
            np.matmul(x, w, out=y)
        count += 1
    dt = time.perf_counter() - t0
    return dict(gflops=count * tile * flop_per_row(shapes) / dt / 1e9)


def ceiling_at(tile: int, threads: int, seconds: float) -> dict:
    """sgemm rate at the planner's shapes: `threads` processes (no GIL), each a 1-thread BLAS
    running the layer GEMMs of one tile, started together; the sum of their rates."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["OPENBLAS_NUM_THREADS"] = "1"
    start = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", "gemm", str(tile), str(start), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(threads)
    ]
    rates = [json.loads(p.communicate()[0].strip().splitlines()[-1])["gflops"] for p in procs]
    return dict(tile=tile, threads=threads, tile_mix_gflops=sum(rates), load=loadavg())


def child_numpy_big(seconds: float) -> dict:
    import numpy as np

    a = np.random.default_rng(0).standard_normal((2000, 200), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((200, 200), dtype=np.float32)
    c = np.empty((2000, 200), np.float32)
    for _ in range(5):
        np.matmul(a, b, out=c)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        np.matmul(a, b, out=c)
        n += 1
    return dict(
        numpy_2000x200x200_gflops=2 * 2000 * 200 * 200 * n / (time.perf_counter() - t0) / 1e9
    )


# ---------------------------------------------------------------- parent
def run_child(args: list[str], env_extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_mbrl(setting: str, calls: int) -> dict:
    py = MBRL_VENV / "bin" / "python"
    if not py.exists() or not MBRL_ANCHOR.exists():
        return dict(
            setting=setting,
            backend="mbrl-lib",
            available=False,
            reason=f"not available ({py} or {MBRL_ANCHOR} missing)",
        )
    with tempfile.TemporaryDirectory() as d:
        js = Path(d) / "out.json"
        load0 = loadavg()
        # The anchor runs under a wrapper that prints its peak RSS (last line of stderr).
        wrapper = (
            "import resource, runpy, sys; sys.argv = sys.argv[1:]\n"
            "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
            "finally:\n    print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF)"
            ".ru_maxrss, file=sys.stderr)"
        )
        cmd = [
            str(py),
            "-c",
            wrapper,
            str(MBRL_ANCHOR),
            "--device",
            "cpu",
            "--configs",
            setting,
            "--warmup",
            "2",
            "--calls",
            str(calls),
            "--no-ceilings",
            "--json",
            str(js),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0 or not js.exists():
            return dict(
                setting=setting,
                backend="mbrl-lib",
                available=False,
                reason="not available (anchor failed: " + out.stderr[-500:] + ")",
            )
        data = json.loads(js.read_text())
    peak = [ln.split()[1] for ln in out.stderr.splitlines() if ln.startswith("PEAK_RSS_KB")]
    act = data["act"][0]
    return dict(
        setting=setting,
        backend="mbrl-lib",
        available=True,
        ms=act["median_s"] * 1e3,
        ms_min=act["min_s"] * 1e3,
        per_call_ms=[t * 1e3 for t in act["per_call_s"]],
        calls=act["n"],
        threads=act["torch_threads"],
        own_cpu_per_wall=act["own_cpu_per_wall"],
        load_before=load0,
        load_after=loadavg(),
        versions={k: data["info"].get(k) for k in ("mbrl", "torch", "hydra", "omegaconf")},
        rows=act["rows_measured"],
        env=data["info"].get("env"),
        peak_rss_mb=int(peak[-1]) / 1024 if peak else None,
    )


def meta() -> dict:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.machine(),
    )
    import numpy as np
    import torch

    from mbrlhpo import _native

    info = dict(
        machine=cpu,
        cores=os.cpu_count(),
        platform=platform.platform(),
        python=platform.python_version(),
        numpy=np.__version__,
        torch=torch.__version__,
        commit=commit + ("-dirty" if dirty else ""),
        date=time.strftime("%Y-%m-%d %H:%M:%S"),
        # OpenBLAS honours these: OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU costs the native
        # planner ~1.6x (bench/README.md, 2026-12-08), while torch (mbrl-lib) is unaffected
        blas_env={k: v for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")},
    )
    try:
        info["core_build"] = _native.core().build_info()
    except Exception as e:  # noqa: BLE001
        info["core_build"] = f"n/a ({e})"
    return info


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settings", default="paper,small")
    ap.add_argument("--backends", default="cpu,torch,mbrl")
    ap.add_argument("--calls", type=int, default=5, help="timed calls (paper: torch/mbrl use 3)")
    ap.add_argument("--tile", type=int, default=0, help="native tile rows (0: the default)")
    ap.add_argument("--threads", type=int, default=0, help="native threads (0: one per core)")
    ap.add_argument("--rounds", type=int, default=2, help="passes over all backends")
    ap.add_argument("--json", default=None)
    ap.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        kind = args.child[0]
        if kind == "plan":
            r = child(
                args.child[1],
                args.child[2],
                int(args.child[3]),
                int(args.child[4]),
                int(args.child[5]),
            )
        elif kind == "gemm":
            r = child_gemm_worker(int(args.child[1]), float(args.child[2]), float(args.child[3]))
        else:
            r = child_numpy_big(float(args.child[1]))
        print(json.dumps(r))
        return

    info = meta()
    print(json.dumps(info), flush=True)
    threads = args.threads or os.cpu_count() or 1
    tile_rows = args.tile or 512  # CemPlanner::kDefaultTileRows
    settings = args.settings.split(",")
    tiles = {name: planner_tile(name, tile_rows) for name in settings}
    runs: dict[tuple[str, str], list[dict]] = {}
    ceilings: dict[int, list[dict]] = {}
    # Rounds: every backend once per round, so all of them see the same spread of machine load
    # (the 2 cores are shared); the sgemm ceilings are re-measured in every round.
    for rnd in range(args.rounds):
        for tile in sorted(set(tiles.values())):
            c = ceiling_at(tile, threads, 2.0)
            c.update(run_child(["--child", "numpy_big", "1"]))
            ceilings.setdefault(tile, []).append(c)
            print(json.dumps(dict(round=rnd, **c)), flush=True)
        for name in settings:
            for backend in args.backends.split(","):
                full = name == "small" or backend.startswith("cpu")
                calls = args.calls if full else min(args.calls, 3)
                if backend == "mbrl":
                    r = run_mbrl(name, calls)
                else:
                    child_args = [name, backend, str(calls), str(args.tile), str(args.threads)]
                    r = run_child(["--child", "plan", *child_args])
                runs.setdefault((name, r["backend"]), []).append(r)
                print(json.dumps({k: v for k, v in r.items() if k != "shapes"}), flush=True)
    ceiling = {
        name: dict(
            tile=tiles[name],
            threads=threads,
            tile_mix_gflops=max(c["tile_mix_gflops"] for c in ceilings[tiles[name]]),
            tile_mix_gflops_median=statistics.median(
                c["tile_mix_gflops"] for c in ceilings[tiles[name]]
            ),
            numpy_2000x200x200_gflops=max(
                c["numpy_2000x200x200_gflops"] for c in ceilings[tiles[name]]
            ),
            rounds=ceilings[tiles[name]],
        )
        for name in settings
    }
    # merged rows: median over all calls of all rounds, and the best call
    from mbrlhpo.envs import get_task

    task = get_task("halfcheetah")
    fpr = flop_per_row(layer_shapes(task.obs_dim, task.act_dim, task.model_input_dim))
    results = []
    for (name, backend), rs in runs.items():
        ok = [r for r in rs if r.get("per_call_ms")]
        r = dict(setting=name, backend=backend, rounds=rs)
        st = SETTINGS[name]
        r["rows"] = st["population"] * st["particles"] * st["horizon"] * st["iterations"]
        r["gflop"] = r["rows"] * fpr / 1e9
        if not ok:
            r["reason"] = rs[0].get("reason", "n/a")
            results.append(r)
            continue
        calls = [t for x in ok for t in x["per_call_ms"]]
        r.update(
            ms=statistics.median(calls),
            ms_best=min(calls),
            calls=len(calls),
            threads=ok[0]["threads"],
            own_cpu_per_wall=statistics.median(x["own_cpu_per_wall"] for x in ok),
            load=[x["load_before"] for x in ok],
            peak_rss_mb=max((x.get("peak_rss_mb") or 0) for x in ok) or None,
            planning_rss_increase_mb=max((x.get("planning_rss_increase_mb") or 0) for x in ok)
            or None,
        )
        r["gflops"] = r["gflop"] / (r["ms"] / 1e3)
        r["gflops_best"] = r["gflop"] / (r["ms_best"] / 1e3)
        r["sgemm_fraction_best"] = r["gflops_best"] / ceiling[name]["tile_mix_gflops"]
        results.append(r)
    by = {(r["setting"], r["backend"]): r for r in results}
    for r in results:
        for other, key in (("mbrl-lib", "vs_mbrl"), ("torch", "vs_torch"), ("cpu", "vs_cpu")):
            o = by.get((r["setting"], other))
            if r.get("ms") and o and o.get("ms"):
                r[key + "_median"] = o["ms"] / r["ms"]
                r[key + "_best"] = o["ms_best"] / r["ms_best"]
    nan = float("nan")
    print(
        f"\n{'setting':7s} {'backend':9s} {'ms med':>9s} {'ms best':>9s} {'GFLOP/s':>8s} "
        f"{'sgemm%':>7s} {'vs mbrl':>13s} {'vs torch':>13s} {'peakMB':>7s} {'cpu/wall':>8s}"
    )
    print(
        f"{'':7s} {'':9s} {'':>9s} {'':>9s} {'(best)':>8s} {'(best)':>7s} "
        f"{'med / best':>13s} {'med / best':>13s}"
    )
    for r in results:
        if not r.get("ms"):
            print(f"{r['setting']:7s} {r['backend']:9s} {r.get('reason', 'n/a')}")
            continue
        print(
            f"{r['setting']:7s} {r['backend']:9s} {r['ms']:9.1f} {r['ms_best']:9.1f} "
            f"{r['gflops_best']:8.1f} {100 * r['sgemm_fraction_best']:6.0f}% "
            f"{r.get('vs_mbrl_median', nan):5.2f}/{r.get('vs_mbrl_best', nan):5.2f}x "
            f"{r.get('vs_torch_median', nan):5.2f}/{r.get('vs_torch_best', nan):5.2f}x "
            f"{r.get('peak_rss_mb') or nan:7.0f} {r['own_cpu_per_wall']:8.2f}"
            + (
                f"  vs cpu {r['vs_cpu_median']:.2f}/{r['vs_cpu_best']:.2f}x"
                if "vs_cpu_median" in r and r["backend"] != "cpu"
                else ""
            )
        )
    for name, c in ceiling.items():
        print(
            f"{name}: sgemm at the planner's shapes ({c['tile']}-row tiles, {threads} threads x "
            f"1-thread BLAS), best round {c['tile_mix_gflops']:.1f} GFLOP/s (median "
            f"{c['tile_mix_gflops_median']:.1f}); NumPy 2000x200x200 best "
            f"{c['numpy_2000x200x200_gflops']:.1f} GFLOP/s"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                dict(info=info, flop_per_row=fpr, ceiling=ceiling, results=results), indent=1
            )
        )


if __name__ == "__main__":
    main()
