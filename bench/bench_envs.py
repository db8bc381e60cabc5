"""Env steps per second: mbrlhpo's native VecEnv against references, side by side in one run.

    PYTHONPATH=src python bench/bench_envs.py [--tasks halfcheetah hopper] [--batches 8 64 512]
        [--threads 1 2] [--seconds 1.0] [--json out.json]

Rows: mbrlhpo VecEnv (native, mjbatch), mbrlhpo Python backend (batch 8 only), gymnasium's own
MuJoCo env of the same model (single env loop, and gymnasium.make_vec sync), raw MuJoCo physics
on our model (mujoco.rollout with the same frame skip; the upper bound for any env layer), and
envpool (run in the venv that bench/setup_anchors.sh builds, or --envpool-python). All numbers
are env steps (one control step = frame_skip physics steps) per second, on the same machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import mujoco
import numpy as np

from mbrlhpo.envs import VecEnv, get_task

GYM_IDS = {"halfcheetah": "HalfCheetah-v5", "hopper": "Hopper-v5"}
ENVPOOL_IDS = {"halfcheetah": "HalfCheetah-v4", "hopper": "Hopper-v4"}


def _rate(step, n, seconds):
    step()  # warm up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        count += 1
    return count * n / (time.perf_counter() - start)


def bench_vec(task, batch, threads, seconds, backend="native"):
    env = VecEnv(task, batch, num_threads=threads, seed=0, backend=backend)
    env.reset()
    rng = np.random.default_rng(0)
    acts = rng.uniform(-1, 1, (64, batch, env.task.act_dim)).astype(np.float32)
    i = [0]

    def step():
        env.step(acts[i[0] % 64])
        i[0] += 1

    rate = _rate(step, batch, seconds)
    env.close()
    return rate


def bench_gym_single(task, seconds):
    import gymnasium as gym

    env = gym.make(GYM_IDS[task])
    env.reset(seed=0)
    a = env.action_space.sample()

    def step():
        _, _, te, tr, _ = env.step(a)
        if te or tr:
            env.reset()

    return _rate(step, 1, seconds)


def bench_gym_vec(task, batch, seconds):
    import gymnasium as gym

    env = gym.make_vec(GYM_IDS[task], num_envs=batch, vectorization_mode="sync")
    env.reset(seed=0)
    a = env.action_space.sample()
    rate = _rate(lambda: env.step(a), batch, seconds)
    env.close()
    return rate


def bench_raw_rollout(task, batch, threads, seconds):
    """mujoco.rollout on our model: frame_skip physics steps per control step, no env logic."""
    from mujoco import rollout

    spec = get_task(task)
    model = mujoco.MjModel.from_xml_path(spec.model_file)
    datas = [mujoco.MjData(model) for _ in range(threads)]
    state0 = np.zeros((batch, mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_FULLPHYSICS)))
    d = mujoco.MjData(model)
    mujoco.mj_getState(model, d, state0[0], mujoco.mjtState.mjSTATE_FULLPHYSICS)
    state0[:] = state0[0]
    nstep = 50 * spec.frame_skip
    ctrl = np.random.default_rng(0).uniform(-1, 1, (batch, nstep, model.nu))
    with rollout.Rollout(nthread=threads) as r:

        def step():
            r.rollout([model] * batch, datas, state0, ctrl)

        return _rate(step, batch * 50, seconds)


_ENVPOOL_SNIPPET = """
import sys, time, numpy as np, envpool
task, batch, threads, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
env = envpool.make_gymnasium(task, num_envs=batch, num_threads=threads, seed=0)
env.reset()
a = np.random.default_rng(0).uniform(-1, 1, (batch, env.action_space.shape[0])).astype(np.float32)
env.step(a)
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    env.step(a)
    n += 1
print(n * batch / (time.perf_counter() - t0))
"""


def bench_envpool(task, batch, threads, seconds, python):
    """envpool runs in its own venv (its MuJoCo/gym pins clash with ours): a subprocess."""
    out = subprocess.run(
        [python, "-c", _ENVPOOL_SNIPPET, ENVPOOL_IDS[task], str(batch), str(threads), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["halfcheetah", "hopper"])
    parser.add_argument("--batches", nargs="+", type=int, default=[8, 64, 512])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--envpool-python",
        default=str(Path(__file__).resolve().parent / ".anchors" / "envpool" / "bin" / "python"),
        help="python of a venv with envpool (default: the one bench/setup_anchors.sh builds)",
    )
    args = parser.parse_args()
    rows = []

    def record(task, impl, batch, threads, fn):
        try:
            rate = fn()
        except Exception as exc:  # noqa: BLE001 - a missing reference is reported, not fatal
            print(f"{task:12s} {impl:28s} batch {batch:4d} thr {threads}: n/a ({exc})")
            return
        rows.append(
            {"task": task, "impl": impl, "batch": batch, "threads": threads, "steps_per_s": rate}
        )
        print(
            f"{task:12s} {impl:28s} batch {batch:4d} thr {threads}: {rate:12.0f} steps/s",
            flush=True,
        )

    for task in args.tasks:
        record(task, "gymnasium single", 1, 1, lambda t=task: bench_gym_single(t, args.seconds))
        record(
            task,
            "mbrlhpo python backend",
            8,
            1,
            lambda t=task: bench_vec(t, 8, 1, args.seconds, "python"),
        )
        for batch in args.batches:
            record(
                task,
                "gymnasium make_vec sync",
                batch,
                1,
                lambda t=task, b=batch: bench_gym_vec(t, b, args.seconds),
            )
            for threads in args.threads:
                record(
                    task,
                    "mbrlhpo VecEnv native",
                    batch,
                    threads,
                    lambda t=task, b=batch, n=threads: bench_vec(t, b, n, args.seconds),
                )
                record(
                    task,
                    "mujoco.rollout raw",
                    batch,
                    threads,
                    lambda t=task, b=batch, n=threads: bench_raw_rollout(t, b, n, args.seconds),
                )
                record(
                    task,
                    "envpool",
                    batch,
                    threads,
                    lambda t=task, b=batch, n=threads: bench_envpool(
                        t, b, n, args.seconds, args.envpool_python
                    ),
                )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    meta = {
        "machine": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "mujoco": mujoco.__version__,
        "commit": commit,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
    print(meta)


if __name__ == "__main__":
    main()
