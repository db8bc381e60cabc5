"""``mbrlhpo pets``: run PETS on one task, a line per trial, JSON lines and a checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

# From the catalog (not from mbrlhpo.agent), so building the CLI parser loads no torch.
from mbrlhpo.catalog import PROFILES, TASK_NAMES, TUNABLE
from mbrlhpo.cli_checks import PLANNER_BACKENDS, torch_device


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["lr=3e-4", "population=200"]`` -> ``{"lr": 3e-4, "population": 200}``."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"expected NAME=VALUE, got {item!r}")
        try:
            value: Any = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"expected a number for {name}, got {text!r}") from None
        out[name.strip()] = value
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pets", help="run PETS (Algorithm 1) on one task")
    p.add_argument("--env", required=True, help=f"task: {', '.join(TASK_NAMES)}")
    p.add_argument("--trials", type=int, default=None, help="trials to run (default: the task's)")
    p.add_argument("--profile", choices=PROFILES, default="paper")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"override a hyperparameter ({', '.join(TUNABLE)}, ...)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--device", default="cpu", type=torch_device, help="torch device for model training"
    )
    p.add_argument("--planner", default="auto", choices=PLANNER_BACKENDS, help="planner backend")
    p.add_argument(
        "--out", type=Path, default=None, help="directory for trials.jsonl and the final checkpoint"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from the checkpoint in --out instead of starting anew",
    )
    p.add_argument(
        "--video",
        type=Path,
        default=None,
        metavar="PATH.gif",
        help="after the last trial, record one episode of the agent (rendered offscreen)",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress (bars on a terminal; elsewhere a line on stderr at most every 10 s)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mbrlhpo.agent import PETSAgent
    from mbrlhpo.envs import get_task

    task = get_task(args.env)
    trials = args.trials if args.trials is not None else task.default_trials
    if trials < 1:
        raise ValueError(f"expected --trials >= 1, got {trials}")
    overrides = parse_overrides(args.overrides)
    if args.video is not None:
        from mbrlhpo.video import check_video_path

        check_video_path(args.video)
    if args.resume:
        if args.out is None:
            raise ValueError("--resume needs --out (the directory holding the checkpoint)")
        agent = PETSAgent.load(args.out, device=args.device)
        if overrides:
            agent.set_hparams(overrides)
    else:
        agent = PETSAgent(
            args.env,
            overrides or None,
            seed=args.seed,
            device=args.device,
            planner_backend=args.planner,
            profile=args.profile,
        )
    log = None
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        log = open(args.out / "trials.jsonl", "a" if args.resume else "w")  # noqa: SIM115
    print(
        f"PETS on {task.name}: {trials} trials, profile {agent.profile}, "
        f"planner {agent.backend}, seed {agent.seed}",
        flush=True,
    )
    progress = None
    if not args.no_progress:  # said at once: trials done (a resumed run's) of the total
        from mbrlhpo.progress import progress_on_stderr

        progress = progress_on_stderr(None, name="PETS", steps_of="trial")
        progress.phase("PETS", total=trials, done=agent.trial)
        agent.progress = progress
    try:
        while agent.trial < trials:
            result = agent.run_trial()
            flags = " diverged" if result.diverged else ""
            flags += " model-diverged" if result.model_diverged else ""
            loss = f"{result.model_loss:9.4f}" if result.model_loss is not None else "        -"
            print(
                f"trial {result.trial:4d}  return {result.ret:10.2f}  steps {result.steps:5d}  "
                f"loss {loss}  train {result.train_time:6.1f}s  total {result.wall_time:6.1f}s"
                f"{flags}",
                flush=True,
            )
            if log is not None:
                log.write(json.dumps(result.to_dict()) + "\n")
                log.flush()
            if progress is not None:
                progress.trial_done()
        if progress is not None:
            progress.close()
        if args.out is not None:
            path = agent.save(args.out)
            print(f"checkpoint: {path}")
        if args.video is not None:
            from mbrlhpo.video import record_agent_video

            print(f"video: {record_agent_video(agent, args.video, seed=args.seed)}", flush=True)
    finally:
        if progress is not None:
            progress.close()
        if log is not None:
            log.close()
        agent.close()
    return 0
