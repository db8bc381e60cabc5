"""``mbrlhpo report`` (analyses of one study, or a comparison of several) and ``mbrlhpo replay``
(a hyperparameter schedule, e.g. one of the paper's learned schedules, replayed over seeds)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from mbrlhpo.catalog import PROFILES


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="figures and a summary of a study (several: compare)")
    p.add_argument(
        "--db",
        type=Path,
        nargs="+",
        required=True,
        help="study database(s); two or more are compared",
    )
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument(
        "--labels",
        nargs="+",
        default=None,
        help="names of the compared studies (default: their methods)",
    )
    p.add_argument("--top", type=int, default=5, help="k of the top-k curves (default 5)")
    p.add_argument(
        "--no-plots", action="store_true", help="markdown and JSON only (no matplotlib needed)"
    )
    p.add_argument(
        "--no-mismatch",
        action="store_true",
        help="skip the objective-mismatch analysis (it loads the final models)",
    )
    p.set_defaults(func=run_report)

    r = sub.add_parser("replay", help="replay a per-trial hyperparameter schedule over seeds")
    r.add_argument(
        "--schedule",
        type=Path,
        required=True,
        help="JSON list with one dict per trial (paper or mbrlhpo names), an "
        "mbrlhpo study database or its report's summary.json (its best schedule)",
    )
    r.add_argument(
        "--env", default=None, help="task (default: from a paper file's name; daisy = hexapod)"
    )
    r.add_argument("--seeds", type=int, nargs="+", default=[0])
    r.add_argument(
        "--trials", type=int, default=None, help="trials to run (default: the schedule's length)"
    )
    r.add_argument(
        "--profile",
        default="paper",
        choices=PROFILES,
        help="fixed settings and unscheduled defaults (default: paper)",
    )
    r.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a fixed setting or unscheduled tunable",
    )
    r.add_argument("--device", default="cpu")
    r.add_argument("--planner", default="auto", help="planner backend: auto, cpu, torch, cuda")
    r.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory for replay.json (and replay.png with matplotlib)",
    )
    r.set_defaults(func=run_replay)


def run_report(args: argparse.Namespace) -> int:
    from mbrlhpo.analysis.report import compare, report

    if not args.no_plots:  # before anything is written (no empty folder left behind)
        _need_matplotlib("report's figures", "--no-plots")
    if len(args.db) == 1:
        if args.labels:
            raise ValueError("--labels is for comparing two or more studies")
        paths = report(
            args.db[0], args.out, k=args.top, plots=not args.no_plots, mismatch=not args.no_mismatch
        )
        print(paths["summary_md"].read_text(), end="")
    else:
        paths = compare(args.db, args.out, labels=args.labels, k=args.top, plots=not args.no_plots)
        print(paths["comparison_md"].read_text(), end="")
    print("\nwritten: " + ", ".join(str(p) for p in paths.values()))
    return 0


def _need_matplotlib(what: str, instead: str) -> None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError(
            f"{what} need matplotlib: pip install matplotlib (or '.[plots]' from "
            f"a clone), or use {instead}"
        )


def run_replay(args: argparse.Namespace) -> int:
    from mbrlhpo.analysis.replay import replay_schedule, schedule_env
    from mbrlhpo.cli_pets import parse_overrides

    env = args.env or schedule_env(args.schedule)
    if env is None:
        raise ValueError(f"--env is needed: {args.schedule.name} does not name a paper environment")
    print(
        f"replaying {args.schedule} on {env}: seeds {args.seeds}, profile {args.profile}",
        flush=True,
    )

    def on_trial(t: int, rets: dict[int, float]) -> None:
        t += 1  # replay_schedule counts from 0; the figure and replay.json's trials from 1
        vals = [r for r in rets.values() if math.isfinite(r)]
        mean = sum(vals) / len(vals) if vals else math.nan
        per = "  ".join(f"{r:9.2f}" for r in rets.values())
        print(f"trial {t:4d}  mean {mean:10.2f}  |  {per}", flush=True)

    res = replay_schedule(
        env,
        args.schedule,
        seeds=args.seeds,
        trials=args.trials,
        profile=args.profile,
        device=args.device,
        planner_backend=args.planner,
        overrides=parse_overrides(args.overrides),
        on_trial=on_trial,
    )
    print(f"final scenario (max so far of the mean over seeds): {res.score:.2f}")
    if res.failures:
        print(f"{len(res.failures)} failed or diverged trials")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        data = res.to_dict()
        data["schedule_file"] = str(args.schedule)
        (args.out / "replay.json").write_text(
            json.dumps(data, indent=2, default=lambda x: str(x)) + "\n"
        )
        written = [args.out / "replay.json"]
        try:
            from mbrlhpo.analysis.plots import plot_replay

            written.append(
                plot_replay(data, args.out / "replay.png", f"{args.schedule.name} on {res.env}")
            )
        except ImportError as exc:
            print(f"no figure: {exc}")
        print("written: " + ", ".join(str(p) for p in written))
    return 0
