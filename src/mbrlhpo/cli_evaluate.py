"""``mbrlhpo evaluate``: the paper's final scenario (Fig. 1/8) for one study."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from mbrlhpo.catalog import PROFILES
from mbrlhpo.cli_checks import PLANNER_BACKENDS, torch_device


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="replay a study's best configuration or schedule and "
        "its baseline over seeds (the paper's final scenario)",
    )
    p.add_argument("--db", type=Path, required=True, help="study database")
    p.add_argument(
        "--seeds",
        type=int,
        default=5,
        help="evaluation seeds (default 5; 0 with --video: only the video)",
    )
    p.add_argument(
        "--trials",
        type=int,
        default=None,
        help="trials per run (default: the study's, the random trial included)",
    )
    p.add_argument(
        "--profile",
        default=None,
        choices=PROFILES,
        help="only for studies that did not store their agents' profile",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a fixed setting (only for such studies)",
    )
    p.add_argument("--device", default="cpu", type=torch_device)
    p.add_argument("--planner", default="auto", choices=PLANNER_BACKENDS, help="planner backend")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default: <db stem>.study/evaluation)",
    )
    p.add_argument("--no-plots", action="store_true", help="no figure (no matplotlib needed)")
    p.add_argument(
        "--video",
        type=Path,
        default=None,
        metavar="PATH.gif",
        help="record one episode of the study's best agent (its kept checkpoint)",
    )
    p.add_argument(
        "--study-dir",
        type=Path,
        default=None,
        help="for --video: the study's directory (default: next to the database)",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress (bars on a terminal; elsewhere a line on stderr at most every 10 s)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mbrlhpo.analysis.evaluate import evaluate_study
    from mbrlhpo.cli_pets import parse_overrides

    if not args.db.is_file():
        raise ValueError(f"expected an existing study database, got {str(args.db)!r}")
    if args.seeds < 0 or (args.seeds == 0 and args.video is None):
        raise ValueError(f"expected --seeds >= 1 (or 0 with --video), got {args.seeds}")
    if args.video is not None:
        _record_best(args)
        if args.seeds == 0:
            return 0
    from mbrlhpo.analysis.verdict import MIN_SEEDS

    if args.seeds < MIN_SEEDS:
        print(
            f"note: {args.seeds} seed{'s' if args.seeds > 1 else ''} give no confidence "
            f"interval ({MIN_SEEDS} or more do); the curves are still measured",
            flush=True,
        )
    print(f"evaluating {args.db}: {args.seeds} seeds", flush=True)

    def on_trial(arm: str, t: int, rets: dict[int, float]) -> None:
        vals = [r for r in rets.values() if math.isfinite(r)]
        mean = sum(vals) / len(vals) if vals else math.nan
        print(f"{arm:8s} trial {t + 1:4d}  mean {mean:10.2f}", flush=True)

    from mbrlhpo.progress import progress_on_stderr

    # Trials of all seeds and both arms with an estimate; the steps of each round in lockstep.
    progress = None if args.no_progress else progress_on_stderr(None, name="evaluation")
    try:
        ev, paths = evaluate_study(
            args.db,
            seeds=args.seeds,
            trials=args.trials,
            profile=args.profile,
            overrides=parse_overrides(args.overrides),
            device=args.device,
            planner_backend=args.planner,
            out_dir=args.out,
            plots=not args.no_plots,
            on_trial=on_trial,
            progress=progress if progress is not None else False,
        )
    finally:
        if progress is not None:
            progress.close()
    print(paths["md"].read_text(), end="")
    print("written: " + ", ".join(str(p) for p in paths.values()) + " (and stored in the study)")
    return 0


def _record_best(args: argparse.Namespace) -> None:
    from mbrlhpo.agent import PETSAgent
    from mbrlhpo.runner.best import best_checkpoint
    from mbrlhpo.video import check_video_path, record_agent_video

    check_video_path(args.video)
    path = best_checkpoint(args.db, args.study_dir)
    agent = PETSAgent.load(path, device=args.device)
    try:
        print(f"video of the best agent ({path}): ", end="", flush=True)
        print(record_agent_video(agent, args.video, seed=agent.seed), flush=True)
    finally:
        agent.close()
