"""``mbrlhpo report`` (analyses of one study, or a comparison of several) and ``mbrlhpo replay``
(a hyperparameter schedule, e.g. one of the paper's learned schedules, replayed over seeds)."""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from mbrlhpo.catalog import PROFILES
from mbrlhpo.cli_checks import PLANNER_BACKENDS, torch_device


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
    p.add_argument(
        "--html",
        action="store_true",
        help="also write report.html: one self-contained interactive page (needs plotly: "
        "pip install 'mbrlhpo[report]')",
    )
    p.add_argument(
        "--watch",
        type=float,
        default=None,
        metavar="N",
        help="with --html: rewrite report.html every N seconds while the study runs (read-only: "
        "never blocks the study), until it ends; no other files are written",
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
    r.add_argument("--device", default="cpu", type=torch_device)
    r.add_argument("--planner", default="auto", choices=PLANNER_BACKENDS, help="planner backend")
    r.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory for replay.json (and replay.png with matplotlib)",
    )
    r.set_defaults(func=run_replay)


def run_report(args: argparse.Namespace) -> int:
    from mbrlhpo.analysis.report import compare, report

    if args.watch is not None:
        if not args.html:
            raise ValueError("--watch N rewrites the HTML page: add --html")
        if not args.watch > 0 or not math.isfinite(args.watch):
            raise ValueError(f"--watch: expected seconds > 0, got {args.watch:g}")
    if args.html:
        from mbrlhpo.analysis.html_report import need_plotly

        need_plotly()
        if len(args.db) != 1:
            raise ValueError("--html is the page of one study: give one --db")
    if args.watch is not None:
        return _watch(args)
    if not args.no_plots:  # before anything is written (no empty folder left behind)
        _need_matplotlib("report's figures", "--no-plots")
    if len(args.db) == 1:
        if args.labels:
            raise ValueError("--labels is for comparing two or more studies")
        paths = report(
            args.db[0], args.out, k=args.top, plots=not args.no_plots, mismatch=not args.no_mismatch
        )
        if args.html:
            from mbrlhpo.analysis.html_report import write_html_report

            paths["html"], _ = write_html_report(args.db[0], args.out / "report.html", k=args.top)
        print(paths["summary_md"].read_text(), end="")
    else:
        paths = compare(args.db, args.out, labels=args.labels, k=args.top, plots=not args.no_plots)
        print(paths["comparison_md"].read_text(), end="")
    print("\nwritten: " + ", ".join(str(p) for p in paths.values()))
    return 0


def _watch(args: argparse.Namespace) -> int:
    from mbrlhpo.analysis.watch import watch

    page = args.out / "report.html"
    print(f"watching {args.db[0]}: {page} rewritten every {args.watch:g} s (Ctrl-C stops)")

    def on_write(n: int, state: str) -> None:
        if state != "running" or n == 1:
            print(f"{time.strftime('%H:%M:%S')} {page}: study {state}", flush=True)

    try:
        state = watch(args.db[0], page, args.watch, k=args.top, on_write=on_write)
    except KeyboardInterrupt:
        print(f"stopped; {page} is the last page written")
        return 0
    print(f"the study is {state}; final page: {page}")
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
