"""Scheduler + store overhead per PBT round (40 members), HPO workstream.

Times a synchronous PBT study of cheap deterministic toy members (``QuadraticMember``: its
trials take microseconds, its checkpoints a few KB) so that what remains is the runner's own
cost per round: 40 trial transactions with checkpoint references, the decision step (every
``interval`` rounds), the round transaction, checkpoint bookkeeping and garbage collection.
Also times the pieces alone: the pure decision function, the store writes of one round, and a
toy checkpoint save + sha256. The checkpoint I/O of a real agent (its replay buffer) is not
the scheduler's overhead and is reported separately by the agent's own benchmark.

Usage: PYTHONPATH=src python bench/bench_hpo_overhead.py [--members 40] [--rounds 30]
       [--interval 5] [--trial-seconds 10] [--json out.json]
``--trial-seconds``: the time of one cartpole trial to compare against (the target is an
overhead under 1% of it).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from mbrlhpo.hpo.pbt import PBTSettings, exploit_explore
from mbrlhpo.hpo.space import defaults, param_table, sample_config
from mbrlhpo.runner.checkpoints import CheckpointDir
from mbrlhpo.runner.spec import StudySpec
from mbrlhpo.runner.study import run_study
from mbrlhpo.runner.testing import QuadraticMember, quadratic_factory
from mbrlhpo.store.sqlite_store import StudyStore


def time_study(members: int, rounds: int, interval: int, tmp: Path) -> dict:
    spec = StudySpec(
        method="pbt",
        space=param_table("cartpole", "joint"),
        trials=rounds,
        population=members,
        seed=0,
        pbt=PBTSettings(interval=interval),
    )
    db = tmp / "study.db"
    t0 = time.perf_counter()
    run_study(spec, quadratic_factory(), db)
    total = time.perf_counter() - t0
    with StudyStore(db) as st:
        member_time = sum(t["wall_time"] for t in st.trials())
    return {
        "total_s": total,
        "member_trial_s": member_time,
        "overhead_per_round_ms": 1e3 * (total - member_time) / rounds,
    }


def time_decisions(members: int, reps: int) -> float:
    specs = param_table("cartpole", "joint")
    rng = np.random.default_rng(0)
    configs = {m: sample_config(specs, rng) for m in range(members)}
    scores = {m: float(rng.normal()) for m in range(members)}
    ts = []
    for r in range(reps):
        t0 = time.perf_counter()
        exploit_explore(scores, configs, specs, np.random.default_rng([0, r]), PBTSettings(), r)
        ts.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(ts)


def time_store_round(members: int, reps: int, tmp: Path) -> float:
    cfg = defaults("cartpole")
    ts = []
    with StudyStore(tmp / "store.db") as st:
        for r in range(1, reps + 1):
            t0 = time.perf_counter()
            for m in range(members):
                st.record_trial(m, r, cfg, 1.0, 0.1, checkpoint=(f"m{m}/t{r}", "0" * 64, 1000))
            st.record_round(
                r,
                {m: 1.0 for m in range(members)},
                [{"kind": "exploit", "src": 0, "src_round": r, "dst": 1}],
            )
            ts.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(ts)


def time_toy_checkpoint(reps: int, tmp: Path) -> float:
    ck = CheckpointDir(tmp / "ck")
    m = QuadraticMember(defaults("cartpole"), 0)
    ts = []
    for r in range(reps):
        m.run_trial()
        t0 = time.perf_counter()
        ck.save(m, 0, r)
        ts.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(ts)


def time_real_trial(tmp: Path) -> dict:
    """One MPC trial of a real PETS agent on cartpole (quick profile) and the save of its
    checkpoint into a study's episode store: what the overhead is compared with."""
    from mbrlhpo.agent import PETSAgent

    agent = PETSAgent("cartpole", seed=0, profile="quick", episode_store=tmp / "episodes")
    agent.run_trial()  # the random trial
    t0 = time.perf_counter()
    agent.run_trial()
    trial = time.perf_counter() - t0
    t0 = time.perf_counter()
    agent.save(tmp / "ckpt")
    save = time.perf_counter() - t0
    return {"cartpole_quick_trial_s": trial, "agent_checkpoint_save_ms": 1e3 * save}


def provenance() -> dict:
    import subprocess

    import mbrlhpo

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
    ).stdout.strip()
    return {
        "commit": commit,
        "mbrlhpo": mbrlhpo.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpus": __import__("os").cpu_count(),
        "load_avg": __import__("os").getloadavg(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--interval", type=int, default=5)
    ap.add_argument("--trial-seconds", type=float, default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        study = time_study(args.members, args.rounds, args.interval, tmp)
        res = {
            "members": args.members,
            "rounds": args.rounds,
            "interval": args.interval,
            "machine": platform.processor() or platform.machine(),
            "study": study,
            "decision_step_ms": time_decisions(args.members, 200),
            "store_round_ms": time_store_round(args.members, 30, tmp),
            "toy_checkpoint_save_ms": time_toy_checkpoint(50, tmp),
            "real": time_real_trial(tmp),
            **provenance(),
        }
    per_round = study["overhead_per_round_ms"]
    print(f"PBT, {args.members} members, {args.rounds} rounds (interval {args.interval}):")
    print(f"  overhead per round (runner + store + toy checkpoints): {per_round:.1f} ms")
    print(
        f"  decision step alone: {res['decision_step_ms']:.3f} ms; store writes of one round "
        f"alone ({args.members} trial txns + round txn): {res['store_round_ms']:.1f} ms; "
        f"toy checkpoint save + sha256: {res['toy_checkpoint_save_ms']:.2f} ms"
    )
    trial_s = args.trial_seconds or res["real"]["cartpole_quick_trial_s"]
    print(
        f"  one real cartpole trial (quick profile): {res['real']['cartpole_quick_trial_s']:.2f}"
        f" s; its checkpoint save: {res['real']['agent_checkpoint_save_ms']:.1f} ms"
    )
    if trial_s:
        # one round = one trial of every member; the members' trials may run concurrently,
        # so compare against one trial (conservative)
        frac = per_round / (1e3 * trial_s)
        res["fraction_of_one_trial"] = frac
        print(f"  = {100 * frac:.2f}% of one {trial_s:.2f} s trial")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
