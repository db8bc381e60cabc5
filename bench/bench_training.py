"""Model training time per trial: one member alone vs M members batched, one run.

The paper's HalfCheetah dynamics model (`mbrlhpo.envs.get_task("halfcheetah")`, ensemble 5 of
4 x 200 swish MLPs, batch 32) trained for ``--epochs`` epochs on N random transitions, for each
N of ``--sizes``. Rows, timed one after the other in one run (ratios are what to quote; the
machine's load and each row's CPU seconds are recorded with it):

- ``loop``: the training loop this project used before population batching (one member, one
  Python step per batch, ``torch.optim.Adam``, ``float(loss)`` per batch), once per member;
- ``alone``: ``train_population`` with one job, once per member (what ``DynamicsModel.train``
  does today);
- ``batched``: ``train_population`` with all M jobs at once (one M x E network);
- ``mbrl``: mbrl-lib 0.2.0's ``ModelTrainer`` on the same data and model shape, once per member,
  in a subprocess of mbrl-lib's venv (``bench/setup_anchors.sh mbrl`` builds it in
  bench/.anchors/mbrl; ``$MBRL_PYTHON`` to use another); without it the row says "not
  available".

Each member has its own data, seed, lr, weight decay. Per-trial time of one member =
total / M. On the CPU (default) use small sizes on a shared machine; the GPU mode is
``--device cuda --members 40 --sizes 10000 100000 300000`` (the CUDA graph step is on by
default there).

Usage: PYTHONPATH=src python bench/bench_training.py [--device cpu] [--members 8]
       [--sizes 10000] [--epochs 1] [--rows loop,alone,batched,mbrl] [--threads T]
       [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

ENSEMBLE, HIDDEN, DEPTH, BATCH = 5, 200, 4, 32
OBS_DIM, ACT_DIM = 18, 6  # HalfCheetah (checked against get_task in the main process)
# mbrl-lib's venv, built by bench/setup_anchors.sh (its pins clash with mbrlhpo's).
MBRL_PYTHON = Path(
    os.environ.get(
        "MBRL_PYTHON", Path(__file__).resolve().parent / ".anchors" / "mbrl" / "bin" / "python"
    )
)


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def loadavg() -> float:
    return os.getloadavg()[0]


def synced(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def member_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, OBS_DIM)).astype(np.float32)
    act = rng.uniform(-1, 1, size=(n, ACT_DIM)).astype(np.float32)
    nxt = (obs + 0.05 * rng.normal(size=obs.shape)).astype(np.float32)
    return obs, act, nxt


def member_hparams(i: int) -> tuple[float, float]:
    return 1e-3 * (0.5 + 0.1 * i), 1e-4 * (1 + i % 3)


def new_model(task, device: str, seed: int):
    from mbrlhpo.models import DynamicsModel

    return DynamicsModel(
        task, ensemble_size=ENSEMBLE, hidden=HIDDEN, depth=DEPTH, device=device, seed=seed
    )


def old_loop(model, obs, act, nxt, epochs, lr, wd, rng) -> None:
    """The pre-batching training loop (one member, a Python step per batch)."""
    from mbrlhpo.models import gaussian_nll_terms

    x_all, y_all = model.training_tensors(obs, act, nxt)
    for group in model.optimizer.param_groups:
        group["lr"] = lr
    num = x_all.shape[0]
    boot = rng.integers(0, num, size=(model.ensemble_size, num))
    for _ in range(epochs):
        boot = rng.permuted(boot, axis=1)
        idx_all = torch.from_numpy(boot).to(x_all.device)
        total = 0.0
        for b in range(math.ceil(num / BATCH)):
            idx = idx_all[:, b * BATCH : (b + 1) * BATCH]
            mean, logvar = model.ensemble(x_all[idx])
            loss = gaussian_nll_terms(mean, logvar, y_all[idx])
            loss = loss + model.ensemble.logvar_bound_penalty() + wd * model.ensemble.weight_l2()
            model.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            model.optimizer.step()
            total += float(loss.detach())


def mbrl_alone(device, data, epochs, seed) -> tuple[float, float]:
    """mbrl-lib's own training loop (ModelTrainer) for one member; returns wall and CPU seconds.

    As mbrl-lib's PETS trains: ``ModelTrainer.train`` with no validation set evaluates on the
    training set after every epoch (a forward pass over the data), which is timed too."""
    import mbrl.models
    import mbrl.util.common
    import mbrl.util.replay_buffer

    obs, act, nxt = data
    in_size, out_size = OBS_DIM + ACT_DIM, OBS_DIM
    net = mbrl.models.GaussianMLP(
        in_size,
        out_size,
        device,
        num_layers=DEPTH,
        ensemble_size=ENSEMBLE,
        hid_size=HIDDEN,
        deterministic=False,
        propagation_method="fixed_model",
        activation_fn_cfg={"_target_": "torch.nn.SiLU"},
    )
    model = mbrl.models.OneDTransitionRewardModel(
        net, target_is_delta=True, normalize=True, learned_rewards=False
    )
    buf = mbrl.util.replay_buffer.ReplayBuffer(
        len(obs), (OBS_DIM,), (ACT_DIM,), rng=np.random.default_rng(seed)
    )
    done = np.zeros(len(obs), bool)
    buf.add_batch(
        obs, act, nxt, np.zeros(len(obs), np.float32), done, done
    )  # terminated, truncated
    lr, wd = member_hparams(seed)
    synced(device)
    start, cpu = time.perf_counter(), time.process_time()
    model.update_normalizer(buf.get_all())
    train_it, _ = mbrl.util.common.get_basic_buffer_iterators(
        buf, BATCH, 0.0, ensemble_size=ENSEMBLE, shuffle_each_epoch=True, bootstrap_permutes=False
    )
    trainer = mbrl.models.ModelTrainer(model, optim_lr=lr, weight_decay=wd)
    trainer.train(train_it, dataset_val=None, num_epochs=epochs)
    synced(device)
    return time.perf_counter() - start, time.process_time() - cpu


def mbrl_child(device: str, members: int, n: int, epochs: int) -> tuple[float, float]:
    """The mbrl row, run in mbrl-lib's venv: all members one after the other; wall and CPU
    seconds of the timed regions (not the imports)."""
    times = [mbrl_alone(device, member_data(n, 100 + i), epochs, i) for i in range(members)]
    return sum(t[0] for t in times), sum(t[1] for t in times)


def mbrl_row(device: str, members: int, n: int, epochs: int) -> tuple[float, float] | str:
    """Wall and CPU seconds of the mbrl row (a subprocess in mbrl-lib's venv), or why it is not
    available."""
    if not MBRL_PYTHON.exists():
        return f"not available (no {MBRL_PYTHON}: run bench/setup_anchors.sh mbrl)"
    cmd = [str(MBRL_PYTHON), __file__, "--mbrl-child", "--device", device]
    cmd += ["--members", str(members), "--sizes", str(n), "--epochs", str(epochs)]
    cmd += ["--threads", str(torch.get_num_threads())]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return f"not available (mbrl-lib run failed: {out.stderr.strip()[-400:]})"
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def time_size(task, device, members, n, epochs, rows) -> dict:
    from mbrlhpo.models import TrainingJob, train_population

    data = [member_data(n, 100 + i) for i in range(members)]
    out: dict = {"transitions": n, "members": members, "epochs": epochs}

    def jobs(models, seed0):
        return [
            TrainingJob(m, *d, epochs, *member_hparams(i), BATCH, np.random.default_rng(seed0 + i))
            for i, (m, d) in enumerate(zip(models, data, strict=True))
        ]

    for row in rows:
        load = loadavg()
        models = [new_model(task, device, i) for i in range(members)]
        cpu = cpu_seconds()
        if row == "mbrl":
            timed = mbrl_row(device, members, n, epochs)
            if isinstance(timed, str):
                out["mbrl"] = timed
                print(f"N={n:>7}     mbrl: {timed}", flush=True)
                continue
            secs, child_cpu = timed
        else:
            synced(device)
            start = time.perf_counter()
            if row == "loop":
                for i, m in enumerate(models):
                    lr, wd = member_hparams(i)
                    old_loop(m, *data[i], epochs, lr, wd, np.random.default_rng(i))
            elif row == "alone":
                for job in jobs(models, 0):
                    train_population([job])
            elif row == "batched":
                train_population(jobs(models, 0))
            else:
                raise ValueError(f"expected rows among loop,alone,batched,mbrl, got {row!r}")
            synced(device)
            secs = time.perf_counter() - start
        cpu = child_cpu if row == "mbrl" else cpu_seconds() - cpu
        out[row] = {
            "seconds_all_members": secs,
            "seconds_per_member_trial": secs / members,
            # CPU seconds of the timed region (this process, or the mbrl child's): on a loaded
            # machine wall time is mostly waiting; CPU time is closer to the work done.
            "cpu_seconds_all_members": cpu,
            "load_before": load,
            "load_after": loadavg(),
        }
        print(
            f"N={n:>7} {row:>8}: {secs:8.2f} s for {members} members "
            f"({secs / members:.2f} s per member-trial), {cpu:8.2f} CPU-s, load {load:.1f}",
            flush=True,
        )
    for row in ("loop", "alone", "mbrl"):
        if isinstance(out.get(row), dict) and isinstance(out.get("batched"), dict):
            b = out["batched"]["seconds_all_members"]
            out[f"speedup_batched_vs_{row}"] = out[row]["seconds_all_members"] / b
            out[f"cpu_ratio_{row}_over_batched"] = (
                out[row]["cpu_seconds_all_members"] / out["batched"]["cpu_seconds_all_members"]
            )
    return out


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--members", type=int, default=8)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--rows", default="loop,alone,batched,mbrl")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--mbrl-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.mbrl_child:
        print(*mbrl_child(args.device, args.members, args.sizes[0], args.epochs))
        return
    from mbrlhpo.envs import get_task

    task = get_task("halfcheetah")
    if (task.obs_dim, task.act_dim) != (OBS_DIM, ACT_DIM):
        raise SystemExit(f"expected HalfCheetah of dims {(OBS_DIM, ACT_DIM)}, got {task}")
    rows = [r for r in args.rows.split(",") if r]
    result = {
        "benchmark": "training",
        "commit": commit(),
        "time": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
        },
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
        "model": {"ensemble": ENSEMBLE, "hidden": HIDDEN, "depth": DEPTH, "batch": BATCH},
        "device": args.device,
        "runs": [
            time_size(task, args.device, args.members, n, args.epochs, rows) for n in args.sizes
        ],
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["runs"], indent=2))


if __name__ == "__main__":
    main()
