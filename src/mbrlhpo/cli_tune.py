"""``mbrlhpo tune``: an HPO study of PETS with a live table and a final summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mbrlhpo.catalog import DEFAULTS, GROUPS, METHODS, PROFILES, TASK_NAMES
from mbrlhpo.cli_checks import PLANNER_BACKENDS, check_planner_backend, torch_device


def _env_arg(value: str) -> str:
    if value in TASK_NAMES or ":" in value:
        return value
    raise argparse.ArgumentTypeError(
        f"expected one of {', '.join(TASK_NAMES)} or 'package.module:NAME', got {value!r}"
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tune",
        help="tune PETS on one task (resumes a study from --db)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--env",
        required=True,
        type=_env_arg,
        help=f"the task: one of {{{','.join(TASK_NAMES)}}}, or a custom mbrlhpo.Task as "
        "'package.module:NAME' (importable: installed or on PYTHONPATH; docs/custom_task.md)",
    )
    p.add_argument("--method", required=True, choices=METHODS, help="the HPO method")
    p.add_argument(
        "--group",
        default="model",
        choices=tuple(GROUPS),
        help="the searched hyperparameters",
    )
    p.add_argument(
        "--population",
        type=int,
        default=None,
        help="PBT population / random-search configurations, i.e. the study's "
        "members (default 40, joint group 80, as the paper; not CEM's population, "
        "a searched hyperparameter)",
    )
    p.add_argument(
        "--trials",
        type=int,
        default=None,
        help="MPC trials per member, after the random first trial (default: the task's)",
    )
    p.add_argument(
        "--db",
        type=Path,
        default=Path("runs/study.db"),
        help="study database; an existing study there is resumed",
    )
    p.add_argument("--seed", type=int, default=0, help="the study's seed")
    p.add_argument(
        "--profile",
        default="quick",
        choices=PROFILES,
        help="the agents' fixed settings and unsearched defaults",
    )
    p.add_argument(
        "--device", default="cpu", type=torch_device, help="torch device for model training"
    )
    p.add_argument("--planner", default="auto", choices=PLANNER_BACKENDS, help="planner backend")
    p.add_argument(
        "--copy",
        default="all",
        choices=("all", "hparams"),
        help="what a PBT exploit copies: all (weights, optimiser, hyperparameters, replay "
        "buffer) or hparams (hyperparameters only)",
    )
    p.add_argument(
        "--no-copy-history",
        action="store_true",
        help="the paper's PBT ablation (Sec. 5.7): same as --copy hparams",
    )
    p.add_argument(
        "--interval",
        type=int,
        default=None,
        help="PBT MPC trials between steps (default: 4 pusher/reacher, else 5)",
    )
    p.add_argument(
        "--budgets",
        type=int,
        nargs=2,
        default=None,
        metavar=("MIN", "MAX"),
        help="Hyperband budgets in trials (default: the task's, e.g. 5 15 for cartpole)",
    )
    p.add_argument(
        "--hb-iterations",
        type=int,
        default=None,
        help="Hyperband/BOHB iterations (default: 15, joint group 30)",
    )
    p.add_argument("--no-baseline", action="store_true", help="do not run the defaults")
    p.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NAME",
        help="search only these hyperparameters of the group (Fig. 10: --only horizon)",
    )
    p.add_argument(
        "--keep-final-checkpoints",
        action="store_true",
        help="keep every member's / Hyperband job's last checkpoint (objective mismatch)",
    )
    p.add_argument(
        "--keep-checkpoints-every",
        type=int,
        default=None,
        metavar="K",
        help="also keep every member's checkpoint after trials K, 2K, ... (NLL over training)",
    )
    p.add_argument(
        "--defaults",
        default="table",
        choices=DEFAULTS,
        help="defaults of the baseline and the unsearched group: the paper's tables, or what "
        "its code ran (HalfCheetah weight decay 7.5e-4, Pusher horizon 25 / weight decay 5e-4)",
    )
    p.add_argument(
        "--executor",
        default="lockstep",
        choices=("lockstep", "sequential", "ray"),
        help="how a round's trials run (ray: one Ray task per trial)",
    )
    p.add_argument("--ray-address", default=None, help="Ray cluster address (with --executor ray)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="hyperband/bohb: jobs evaluated at once (with --executor ray their trials are Ray "
        "tasks, else threads of this process); the study is the same for any number",
    )
    p.add_argument(
        "--range",
        dest="ranges",
        action="append",
        default=[],
        metavar="NAME=LOW:HIGH",
        help="narrow a searched hyperparameter's range",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a hyperparameter for every member (not one that is searched)",
    )
    p.add_argument(
        "--tensorboard",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write TensorBoard event files to DIR (a run per member: return, model loss, "
        "hyperparameters, PBT decisions); pip install 'mbrlhpo[tensorboard]'",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from mbrlhpo.cli_pets import parse_overrides
    from mbrlhpo.progress import StudyProgress
    from mbrlhpo.store.sqlite_store import StudyStore
    from mbrlhpo.tuning import run_spec, study_spec

    check_planner_backend(args.planner)  # before anything is printed or created
    console = Console(stderr=False)
    # Read before the run changes the database; printed once tune has checked every setting,
    # so that a refused study prints nothing but its error line.
    resuming = resume_line(args.db)
    total = _total_rounds(args)

    def on_start() -> None:
        console.print(
            f"[bold]mbrlhpo tune[/]: {args.method} on {args.env} ({args.group} group), "
            f"database {args.db}"
        )
        console.print(resuming)

    # A bar on a terminal; plain lines on stderr otherwise (at most every 10 s: logs stay
    # readable and show the study is alive).
    tty = console.is_terminal
    progress = StudyProgress(
        None,
        _stored_trials(args.db),
        console=console if tty else None,
        stream=None if tty else sys.stderr,
    )

    def on_round(r: int) -> None:
        with StudyStore(args.db, readonly=True, verify=False) as store:
            console.print(round_table(store, r, total))

    def on_baseline_trial(t: int, n: int) -> None:
        if t == 1:
            progress.phase("defaults (baseline)", total=n)
        else:
            progress.trial_done()
        console.print(f"defaults (baseline): trial {t}/{n}", highlight=False)

    try:
        spec = study_spec(
            args.env,
            args.method,
            group=args.group,
            population=args.population,
            trials=args.trials,
            seed=args.seed,
            profile=args.profile,
            copy="hparams" if args.no_copy_history else args.copy,
            pbt_interval=args.interval,
            budgets=tuple(args.budgets) if args.budgets else None,
            hb_iterations=args.hb_iterations,
            defaults=args.defaults,
            searched=args.only,
            keep_final_checkpoints=args.keep_final_checkpoints,
            keep_checkpoints_every=args.keep_checkpoints_every,
            agent_overrides=parse_overrides(args.overrides),
            space_overrides=parse_ranges(args.ranges),
            executor=args.executor,
            ray_address=args.ray_address,
            workers=args.workers,
            device=args.device,
        )
        study = run_spec(
            spec,
            args.db,
            device=args.device,
            planner_backend=args.planner,
            baseline=not args.no_baseline,
            on_round=on_round,
            progress=progress,
            on_baseline_trial=on_baseline_trial,
            tensorboard=args.tensorboard,
            on_start=on_start,
        )
    finally:
        progress.close()
    console.print(summary(study, args.db))
    if study.best_member is None:
        raise ValueError(
            f"every member of the study failed ({len(study.failures)} failed trials; causes "
            f"in {args.db}): no configuration is better than none"
        )
    return 0


def _stored_trials(db: Path) -> int:
    """Trials a resumed study already holds (0 for a new one, or one the run will refuse)."""
    import sqlite3

    from mbrlhpo.store.sqlite_store import StoreError, StudyStore

    if not db.is_file():
        return 0
    try:
        with StudyStore(db, readonly=True, verify=False) as store:
            return len(store.trials())
    except (StoreError, sqlite3.Error, OSError):  # the run itself names it, in one line
        return 0


def resume_line(db: Path) -> str:
    """Says whether this run starts a study or resumes one (and from which round). A file
    that is not a study raises the store's one-line StoreError (foreign, damaged, lost
    commits); a blank one (0 bytes, no tables: a kill while it was created) is replaced. A
    new study whose checkpoint folder holds another study's files is refused here too (the
    run would refuse it; this says so before any line is printed)."""
    from mbrlhpo.runner.study import claim_study_dir, study_dir_for
    from mbrlhpo.store.sqlite_store import EmptyDatabase, StudyStore

    if not db.parent.exists():
        return f"creating the directory {db.parent} for a new study"
    if not db.is_file():
        claim_study_dir(study_dir_for(db), None, new=True)  # only refuses, creates nothing
        return "new study"
    try:
        store = StudyStore(db, readonly=True)
    except EmptyDatabase:  # the writer creates the study in its place
        claim_study_dir(study_dir_for(db), None, new=True)
        return "new study (the database file is blank: it holds no tables yet)"
    with store:
        head = store.study()
        if head is None:
            return "new study"
        rounds = store.rounds_done()
        trials = len(store.trials())
        jobs = len(store.hb_jobs())
        lifecycle = store.events(("study_start", "study_resume", "study_done", "all_failed"))
    last_event = lifecycle[-1]["kind"] if lifecycle else None
    if last_event == "study_done":
        return f"the study is already finished ({trials} trials stored); its results:"
    if last_event == "all_failed":
        return (
            f"every member failed in round {lifecycle[-1]['round']} last time: running it again "
            f"({trials} trials stored)"
        )
    if head["method"] in ("hyperband", "bohb"):
        return f"resuming: {trials} trials and {jobs} Hyperband jobs stored"
    return f"resuming after round {rounds[-1] if rounds else 0} ({trials} trials stored)"


def _total_rounds(args: argparse.Namespace) -> int | None:
    """Rounds of a population study: the random trial, then ``--trials`` MPC trials."""
    if args.method in ("hyperband", "bohb"):
        return None
    if args.trials is not None:
        return args.trials + 1
    from mbrlhpo.envs import get_task, load_task

    task = load_task(args.env) if ":" in args.env else get_task(args.env)
    return task.default_trials + 1


def parse_ranges(items: list[str]) -> dict[str, tuple[float, float]]:
    """``["lr=1e-4:1e-2"]`` -> ``{"lr": (1e-4, 1e-2)}`` (validated by the search space)."""
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        low, colon, high = text.partition(":")
        try:
            if not (sep and colon and name):
                raise ValueError
            out[name.strip()] = (float(low), float(high))
        except ValueError:
            raise ValueError(f"expected NAME=LOW:HIGH, got {item!r}") from None
    return out


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def round_title(r: int, total: int | None = None) -> str:
    """``round 1/16 (random actions)``: round 1 is every member's random trial, the others
    its MPC trials, so a study of ``--trials 15`` has 16 rounds."""
    title = f"round {r}/{total}" if total else f"round {r}"
    return title + (" (random actions)" if r == 1 else "")


def round_table(store, r: int, total: int | None = None):
    """Members after round ``r``: hyperparameters, last returns, best so far."""
    from rich.table import Table

    trials = store.trials()
    sched = {(s["member"], s["trial"]): s["config"] for s in store.schedule()}
    by_member: dict[int, list[dict]] = {}
    for t in trials:
        by_member.setdefault(t["member"], []).append(t)
    table = Table(title=round_title(r, total), show_lines=False)
    table.add_column("member", justify="right")
    study = store.study() or {}
    names = sorted(study.get("space") or {})  # only the searched hyperparameters
    for name in names:
        table.add_column(name, justify="right")  # the name --set/--range/--only take
    table.add_column("last returns", justify="right")
    table.add_column("best", justify="right")
    for m in sorted(by_member):
        rows = sorted(by_member[m], key=lambda t: t["trial"])
        if not rows or rows[-1]["trial"] != r:
            continue
        cfg = sched.get((m, r), {})
        last = [("x" if t["status"] != "ok" else f"{t['ret']:.0f}") for t in rows[-3:]]
        oks = [t["ret"] for t in rows if t["status"] == "ok" and t["ret"] is not None]
        table.add_row(
            str(m),
            *(_fmt(cfg.get(n, "")) for n in names),
            ",".join(last),
            f"{max(oks):.0f}" if oks else "-",
        )
    return table


def summary(study, db: Path) -> str:
    if study.best_member is None:
        lines = ["", "[bold]best[/]: none (every member failed)"]
    else:
        lines = [
            "",
            f"[bold]best[/]: member {study.best_member} score {study.best_score:.2f} "
            "(mean of the last returns)",
        ]
    if study.best_config:
        lines.append(
            "  configuration: "
            + ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(study.best_config.items()))
        )
    if study.method in ("pbt", "pbt-bt") and study.best_schedule:
        changes = [
            s
            for i, s in enumerate(study.best_schedule)
            if i == 0 or s["config"] != study.best_schedule[i - 1]["config"]
        ]
        lines.append(
            f"  schedule: {len(changes)} configuration(s) over {len(study.best_schedule)} trials"
        )
        for s in changes:
            lines.append(
                f"    from trial {s['trial']}: "
                + ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(s["config"].items()))
            )
    if study.baseline is not None:
        lines.append(f"  baseline, {study.baseline.describe()}: score {study.baseline.score:.2f}")
        lines.extend(f"  {line}" for line in honest_comparison(db))
    divergences = getattr(study, "model_divergences", [])
    if divergences:
        lines.append(
            f"  model divergences: {len(divergences)} trials (training produced NaN/inf; "
            "the model was rolled back, the trial kept)"
        )
    lines.append(
        f"  failures: {len(study.failures)}; stored in {db} "
        f"(checkpoints in {db.with_name(db.stem + '.study')})"
    )
    return "\n".join(lines)


def honest_comparison(db: Path) -> list[str]:
    """What this one study (one seed) can say of its best against the defaults, and the
    anytime figure of merit beside the final score: the words ``mbrlhpo report`` prints."""
    from mbrlhpo.analysis.records import learning_curves, read_study, summarize
    from mbrlhpo.analysis.report import best_vs_defaults_text, study_anytime
    from mbrlhpo.analysis.verdict import anytime_text

    rec = read_study(db)
    summ = summarize(rec, 5)
    return [
        best_vs_defaults_text(rec, summ),
        anytime_text(study_anytime(rec, learning_curves(rec, 5))),
    ]
