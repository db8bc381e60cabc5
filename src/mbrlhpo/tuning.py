"""``mbrlhpo.tune``: a whole HPO study of PETS on one task, resumable from its database.

Composes the layers: the search space and method settings (``mbrlhpo.hpo``), PETS agents as the
members (``mbrlhpo.agent``), the study runner and store (``mbrlhpo.runner``, ``mbrlhpo.store``).
The group not being searched stays at the profile's defaults, the paper's protocol.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mbrlhpo.hpo.hyperband import HyperbandSettings
from mbrlhpo.hpo.objective import DEFAULT_LAST_K, objective
from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.pbt_bt import PBTBTSettings
from mbrlhpo.hpo.space import GROUPS, ParamSpec, check_env, check_group, param_table
from mbrlhpo.limits import MAX_HB_ITERATIONS, check_count, check_planner_memory
from mbrlhpo.protocol_rows import protocol_row
from mbrlhpo.runner.hpbandster_driver import require_hpbandster
from mbrlhpo.runner.spec import AgentSettings, StudySpec, check_mapping
from mbrlhpo.runner.study import Study, check_method, run_study, study_dir_for
from mbrlhpo.store.leftovers import temp_name


def default_budgets(env: str) -> tuple[int, int]:
    """Hyperband's (min, max) trials, the task's protocol row: 8/80 (Pusher, Reacher), 33/300
    (others), 5/15 cartpole (ours: a small ladder); PAPER.md Sec. 5.1/A.2."""
    return protocol_row(env).budgets


def default_interval(env: str) -> int:
    """PBT's trials between exploit/explore steps, the task's protocol row: 4 (Pusher,
    Reacher), else 5."""
    return protocol_row(env).pbt_interval


def default_population(group: str) -> int:
    """Random search's configurations and PBT's members: 40, or 80 for the joint group (the
    paper's A.4 doubles the budget; Hyperband doubles its iterations to 30)."""
    return 80 if check_group(group) == GROUPS["joint"] else 40


@dataclass(frozen=True)
class Baseline:
    """The defaults run on the same task, seed and trials: what a study must beat.
    ``profile`` (``paper``: the expert settings; ``quick``: a small variant) and ``defaults``
    (``table``: the paper's Tables 2-4; ``code``: what the paper's code ran) say which."""

    config: dict
    returns: list[float]
    score: float
    profile: str = "paper"
    defaults: str = "table"

    def describe(self) -> str:
        """Which baseline this is, for every comparison that uses it."""
        return describe_baseline(self.profile, self.defaults)


def describe_baseline(profile: str | None, defaults: str | None) -> str:
    """``"the paper profile's defaults (Tables 2-4)"`` and the like."""
    source = {"table": "Tables 2-4", "code": "the paper's code"}.get(
        defaults or "table", str(defaults)
    )
    return f"the {profile or '?'} profile's defaults ({source})"


def make_factory(
    env: Any,
    profile: str,
    device: str,
    planner_backend: str,
    fixed: dict[str, Any] | None = None,
    episode_store: str | os.PathLike | None = None,
) -> Callable[[dict, int], Any]:
    """``factory(hparams, seed) -> PETSAgent`` for the study runner."""
    from mbrlhpo.agent import PETSAgent

    def factory(hparams: dict, seed: int) -> PETSAgent:
        return PETSAgent(
            env,
            {**(fixed or {}), **hparams},
            seed=seed,
            device=device,
            planner_backend=planner_backend,
            profile=profile,
            episode_store=episode_store,
        )

    def amend(agent: PETSAgent) -> None:
        """A checkpointed agent takes this run's fixed settings (the profile's, updated by
        ``fixed``): a study resumed after every member failed, with a corrected ``--set``.
        The architecture (ensemble size, width, depth) cannot change: set_hparams refuses."""
        from mbrlhpo.agent.hparams import FIXED, default_hparams, defaults_name

        profile_values = default_hparams(defaults_name(agent.task), profile)
        agent.set_hparams({k: getattr(profile_values, k) for k in FIXED} | dict(fixed or {}))

    factory.member_class = PETSAgent  # lets a resumed study load checkpoints without a member
    factory.amend = amend
    return factory


def _narrow_space(specs: dict[str, ParamSpec], names: Any, group: str) -> dict[str, ParamSpec]:
    """``specs`` with only the hyperparameters ``names`` (a non-empty subset of ``group``)."""
    if isinstance(names, str) or not isinstance(names, (list, tuple, set, frozenset)):
        raise TypeError(
            f"searched: expected a list of hyperparameter names, got {type(names).__name__} "
            f"{names!r}"
        )
    names = list(names)
    unknown = sorted(set(names) - set(GROUPS[group]))
    if not names or unknown:
        raise ValueError(
            f"searched: expected some of group {group!r}'s {', '.join(GROUPS[group])}, got {names}"
        )
    return {n: s for n, s in specs.items() if n in names}


def _base_config(
    env: str,
    group: str,
    profile: str,
    defaults: str = "table",
    searched: list[str] | tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The unsearched tunables at the profile's defaults (``defaults``: ``table`` or
    ``code``, see ``mbrlhpo.agent.default_hparams``); ``searched`` narrows the group."""
    from mbrlhpo.agent import default_hparams

    searched = set(check_group(group) if searched is None else searched)
    values = default_hparams(env, profile, defaults).to_dict()
    return {k: values[k] for k in GROUPS["joint"] if k not in searched}


def tune(
    env: Any,
    method: str,
    group: str = "model",
    population: int | None = None,
    trials: int | None = None,
    db: str | os.PathLike = "runs/study.db",
    seed: int = 0,
    profile: str = "quick",
    device: str = "cpu",
    planner_backend: str = "auto",
    copy: str = "all",
    last_k: int = DEFAULT_LAST_K,
    pbt_interval: int | None = None,
    budgets: tuple[int, int] | None = None,
    hb_iterations: int | None = None,
    space_overrides: dict | None = None,
    baseline: bool = True,
    defaults: str = "table",
    keep_final_checkpoints: bool = False,
    keep_checkpoints_every: int | None = None,
    searched: list[str] | tuple[str, ...] | None = None,
    on_round: Callable[[int], None] | None = None,
    agent_overrides: dict[str, Any] | None = None,
    progress: Any = False,
    executor: str | Any | None = None,
    ray_address: str | None = None,
    on_baseline_trial: Callable[[int, int], None] | None = None,
    workers: int = 1,
    tensorboard: str | os.PathLike | None = None,
    on_start: Callable[[], None] | None = None,
    **unknown: Any,
) -> Study:
    """Runs (or resumes, if ``db`` holds it) a study of PETS on ``env``.

    Args:
        env: a built-in task name, a :class:`mbrlhpo.Task` or an importable reference
            ``"package.module:NAME"`` to one (what a resumed study, the CLI and Ray workers
            rebuild it from; the study records it). A custom task's hyperparameter defaults,
            search space, budgets and PBT interval are those of its ``defaults_like`` task.
        method: ``random``, ``hyperband``, ``bohb``, ``pbt`` or ``pbt-bt``.
        group: ``model`` (lr, weight decay, epochs), ``planning`` (CEM) or ``joint``.
        population: members (random/pbt/pbt-bt; paper: 40, 80 for the joint group).
        trials: MPC trials per member after the random first one (default: the task's; 300
            -> 301 trials, as the paper's code). budgets: Hyperband's (min, max) MPC trials.
        profile: the agents' fixed settings and unsearched defaults: ``quick`` or ``paper``.
        copy: what a PBT exploit copies: ``all`` (weights, optimiser, hyperparameters, replay
            buffer) or ``hparams`` (the paper's no-copy-history ablation: hyperparameters only).
        baseline: also run the defaults once (same seed and trials) to compare with.
        defaults: ``table`` (the paper's Tables 2-4, e.g. HalfCheetah weight decay 7.5e-5) or
            ``code`` (what the paper's code and its replayed default schedules ran: 7.5e-4);
            used for the baseline and the unsearched group.
        keep_final_checkpoints: keep every member's / Hyperband job's last checkpoint (for the
            objective-mismatch analysis of ``mbrlhpo report``); ``keep_checkpoints_every=k``
            also every member's after trials k, 2k, ... (its NLL curves over training).
        searched: search only these hyperparameters of ``group`` (the paper's Fig. 10
            searches the plan horizon alone); the others stay at the defaults.
        progress: True for a tqdm bar of each round's steps; or a
            :class:`mbrlhpo.progress.StudyProgress`, told of every stored trial and every
            lockstep step (the CLI's study bar and plain log lines).
        executor: ``lockstep`` (default: every step's planning for the whole round in one
            native call), ``sequential`` or ``ray`` (each trial a Ray task, members carried
            through Ray's object store; the database stays on the driver, see
            docs/cluster.md), or an Executor object (e.g. a ``RayExecutor`` with its own
            resource requests); ``ray_address``: the cluster.
        on_baseline_trial: called with (trial, trials) as each trial of the defaults starts.
        workers: Hyperband/BOHB jobs evaluated at once (hpbandster workers). With
            ``executor="ray"`` each job's trials are Ray tasks (as many run at once as Ray has
            CPUs for); otherwise they run in threads of this process (``lockstep`` then means
            ``sequential``: a job has one member). The study is the same for any number
            (docs/hpo.md); a study may resume with another.
        agent_overrides: hyperparameters fixed for every member and the baseline (unsearched
            tunables or fixed settings such as ``particles``); a searched name is an error.
        tensorboard: a directory for TensorBoard event files (one run per member: return,
            model loss, hyperparameters, PBT decisions; ``mbrlhpo[tensorboard]``).
        on_start: called once every setting is checked, before any file is made (the CLI
            prints its first line there, so a refused study prints nothing but its error).
    Returns the Study (trials, schedules, lineage, best configuration/schedule, top-5 curve)
    with ``study.baseline`` set when ``baseline``.
    """
    _refuse_unknown("tune", unknown)
    executor_object = None if executor is None or isinstance(executor, str) else executor
    spec = study_spec(
        env,
        method,
        group=group,
        population=population,
        trials=trials,
        seed=seed,
        profile=profile,
        copy=copy,
        last_k=last_k,
        pbt_interval=pbt_interval,
        budgets=budgets,
        hb_iterations=hb_iterations,
        space_overrides=space_overrides,
        defaults=defaults,
        keep_final_checkpoints=keep_final_checkpoints,
        keep_checkpoints_every=keep_checkpoints_every,
        searched=searched,
        agent_overrides=agent_overrides,
        executor=executor if executor_object is None else "sequential",
        ray_address=ray_address,
        workers=workers,
        device=device,
    )
    return run_spec(
        spec,
        db,
        env=env,
        device=device,
        planner_backend=planner_backend,
        baseline=baseline,
        on_round=on_round,
        progress=progress,
        executor=executor_object,
        on_baseline_trial=on_baseline_trial,
        tensorboard=tensorboard,
        on_start=on_start,
    )


def study_spec(
    env: Any,
    method: str,
    group: str = "model",
    population: int | None = None,
    trials: int | None = None,
    seed: int = 0,
    profile: str = "quick",
    copy: str = "all",
    last_k: int = DEFAULT_LAST_K,
    pbt_interval: int | None = None,
    budgets: tuple[int, int] | None = None,
    hb_iterations: int | None = None,
    space_overrides: dict | None = None,
    defaults: str = "table",
    keep_final_checkpoints: bool = False,
    keep_checkpoints_every: int | None = None,
    searched: list[str] | tuple[str, ...] | None = None,
    agent_overrides: dict[str, Any] | None = None,
    executor: str | None = None,
    ray_address: str | None = None,
    workers: int = 1,
    device: str = "cpu",
    **unknown: Any,
) -> StudySpec:
    """The :class:`~mbrlhpo.runner.spec.StudySpec` of ``tune``'s keywords (see ``tune``): the
    task's protocol row fills what is not given; the spec checks itself, this adds what needs
    the agent (known settings, the planner's memory, the device)."""
    _refuse_unknown("study_spec", unknown)
    _, task, env_name, like = resolve_env(env)
    check_method(method)
    if method in ("hyperband", "bohb"):
        require_hpbandster(method)  # before anything is built or written
    check_group(group)
    overrides = check_mapping("agent_overrides", agent_overrides, "{'particles': 5}")
    specs = param_table(
        like, group, check_mapping("space_overrides", space_overrides, "{'horizon': (10, 30)}")
    )
    if searched is not None:
        specs = _narrow_space(specs, searched, group)
    clash = sorted(set(overrides) & set(specs))
    if clash:
        raise ValueError(
            f"agent_overrides {clash} are searched in group {group!r}; "
            "narrow the search space instead (space_overrides)"
        )
    base = {
        **_base_config(like, group, profile, defaults, list(specs)),
        **{k: v for k, v in overrides.items() if k in GROUPS["joint"]},
    }
    interval = default_interval(like) if pbt_interval is None else pbt_interval
    pbt = None
    if method == "pbt":
        pbt = PBTSettings(interval=interval, copy=copy)
    elif method == "pbt-bt":
        pbt = PBTBTSettings(interval=interval, copy=copy)
    hyperband = None
    if hb_iterations is not None:
        check_count("hb_iterations", hb_iterations, MAX_HB_ITERATIONS)
    if method in ("hyperband", "bohb"):
        low, high = budgets or default_budgets(like)
        iterations = (
            hb_iterations if hb_iterations is not None else (30 if group == "joint" else 15)
        )
        hyperband = HyperbandSettings(min_budget=low, max_budget=high, n_iterations=iterations)
    executor = executor or "lockstep"
    if executor == "lockstep" and isinstance(workers, int) and workers > 1:
        executor = "sequential"  # parallel jobs of one member each: nothing to plan in lockstep
    spec = StudySpec(
        method=method,
        space=tuple(specs.values()),
        trials=task.default_trials if trials is None else trials,
        population=default_population(group) if population is None else population,
        seed=seed,
        task=env_name,
        base_config=base,
        pbt=pbt,
        hyperband=hyperband,
        last_k=last_k,
        agent=AgentSettings(
            profile=profile,
            defaults=defaults,
            group=group,
            fixed={k: v for k, v in overrides.items() if k not in GROUPS["joint"]},
        ),
        executor=executor,
        ray_address=ray_address,
        workers=workers,
        keep_final_checkpoints=keep_final_checkpoints,
        keep_checkpoints_every=keep_checkpoints_every,
    )
    _check_sizes(spec, like, task, overrides, device)
    return spec


def run_spec(
    spec: StudySpec,
    db: str | os.PathLike,
    env: Any = None,
    device: str = "cpu",
    planner_backend: str = "auto",
    baseline: bool = True,
    on_round: Callable[[int], None] | None = None,
    progress: Any = False,
    executor: Any = None,
    on_baseline_trial: Callable[[int, int], None] | None = None,
    tensorboard: str | os.PathLike | None = None,
    on_start: Callable[[], None] | None = None,
) -> Study:
    """Runs (or resumes) ``spec`` with PETS agents in the database ``db``: ``tune`` once its
    keywords are a spec (the CLI and the harness call it with their own). ``env``: the task
    as the user gave it (a :class:`mbrlhpo.Task` object; default: ``spec.task``)."""
    from mbrlhpo.runner.executors import LockstepExecutor

    if not isinstance(db, (str, os.PathLike)) or not str(db).strip():
        raise ValueError(
            f"db: expected the path of a study database (e.g. runs/study.db), got {db!r}"
        )
    if spec.agent is None or spec.task is None:
        raise ValueError("run_spec: expected a spec with its task and agent settings (study_spec)")
    agent_env, _, _, _ = resolve_env(spec.task if env is None else env)
    agent = spec.agent
    if hasattr(progress, "begin"):  # the study's trials: members x (the random trial + MPC)
        hb = spec.method in ("hyperband", "bohb")
        progress.begin(None if hb else spec.population * (spec.trials + 1))
    # Absolute: the study's folders are found from it, whatever the working directory of
    # whoever reads it later (a resumed driver, a report).
    db = Path(db).absolute()
    if tensorboard is not None:
        from mbrlhpo.runner.tensorboard_log import need_tensorboard

        need_tensorboard()  # before the study starts
    if on_start is not None:
        on_start()
    db.parent.mkdir(parents=True, exist_ok=True)
    population_planner = None
    if executor is None and spec.executor == "lockstep":
        from mbrlhpo.planning import PopulationPlanner

        # The study owns the population's planning engine: created at its first plan, freed
        # when the study returns (or fails).
        population_planner = PopulationPlanner()
        executor = LockstepExecutor(population_planner, progress=progress)
    # Episodes are stored once per study, shared by every member's checkpoints.
    factory = make_factory(
        agent_env,
        agent.profile,
        device,
        planner_backend,
        dict(agent.fixed),
        episode_store=study_dir_for(db) / "episodes",
    )
    tb = None
    if tensorboard is not None:
        from mbrlhpo.runner.tensorboard_log import TensorBoardLogger

        tb = TensorBoardLogger(tensorboard, db)
        user_on_round = on_round

        def on_round(r: int) -> None:
            tb.sync()
            if user_on_round is not None:
                user_on_round(r)

    try:
        study = run_study(
            spec,
            factory,
            db,
            executor=executor,
            on_round=on_round,
            on_trial=_chain_trial_hooks(
                None if tb is None else tb.on_trial, getattr(progress, "trial_done", None)
            ),
        )
    finally:
        if population_planner is not None:
            population_planner.close()
        if tb is not None:
            tb.close()
    if baseline:
        max_trials = spec.hyperband.max_budget if spec.hyperband else spec.trials
        # The defaults with the study's unsearched tunables and fixed settings.
        overrides = {**agent.fixed, **spec.base_config}
        study.baseline = run_baseline(
            agent_env,
            agent.profile,
            int(max_trials),
            spec.seed,
            db,
            device,
            planner_backend,
            spec.last_k,
            overrides,
            agent.defaults,
            on_baseline_trial,
            progress=progress,
        )
        if tensorboard is not None:
            from mbrlhpo.runner.tensorboard_log import log_defaults

            log_defaults(tensorboard, study.baseline.returns)
    return study


def resolve_env(env: Any) -> tuple[Any, Any, str, str]:
    """``(what PETSAgent is given, the task, the name the study records, the built-in task
    whose defaults it uses)`` for a built-in name, a ``"package.module:NAME"`` Task reference or
    a :class:`mbrlhpo.Task`."""
    from mbrlhpo.envs import Task, get_task, load_task
    from mbrlhpo.envs.custom_task import name_task

    if isinstance(env, Task):  # named by the user: its study's checkpoints may name it
        return name_task(env), env, env.ref or env.name, env.defaults_like
    if isinstance(env, str) and ":" in env:
        task = load_task(env)
        return env, task, env, task.defaults_like
    if not isinstance(env, str):
        raise ValueError(
            f"expected env to be a task name, a mbrlhpo.Task or 'package.module:NAME', "
            f"got {type(env).__name__}"
        )
    return env, get_task(env), env, check_env(env)


def _check_sizes(spec: StudySpec, like: str, task: Any, overrides: dict, device: str) -> None:
    """What needs the agent, checked before a file is written: known settings, sizes, memory."""
    from mbrlhpo.agent import default_hparams
    from mbrlhpo.limits import check_settings

    profile = spec.agent.profile if spec.agent is not None else "quick"
    base = default_hparams(like, profile).replace(**overrides)  # unknown names: error
    for name, s in spec.specs.items():  # every value drawn lies between the ends: check them
        for end in (s.low, s.high):
            try:
                base.replace(**{name: s.plain(end)})
            except ValueError as e:
                raise ValueError(
                    f"{name}: expected a search range of values the agent accepts, got "
                    f"[{s.plain(s.low)}, {s.plain(s.high)}] ({e})"
                ) from None
    hp = base.to_dict()
    searched = {n: s for n, s in spec.specs.items() if s.integer}
    for name, s in searched.items():  # searched sizes at the top of their range
        hp[name] = int(s.high)
    check_settings(hp, searched)
    agents = spec.workers if spec.method in ("hyperband", "bohb") else spec.population
    check_planner_memory(hp, task.obs_dim, task.act_dim, agents, overrides)
    if str(device).startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r}: no CUDA GPU is available here (use --device cpu)")


def run_baseline(
    env: Any,
    profile: str,
    trials: int,
    seed: int,
    db: Path,
    device: str,
    planner_backend: str,
    last_k: int = DEFAULT_LAST_K,
    overrides: dict[str, Any] | None = None,
    defaults: str = "table",
    on_trial: Callable[[int, int], None] | None = None,
    progress: Any = False,
) -> Baseline:
    """The profile's defaults on ``env`` for the random trial plus ``trials`` MPC trials (as
    every member runs them); cached next to the database
    (``<study dir>/baseline.json``) so a resumed study does not rerun it. ``progress``: the
    agent's (a study's watcher is told of each trial's steps and training)."""
    from mbrlhpo.agent import PETSAgent, default_hparams

    _, _, env_name, like = resolve_env(env)
    path = study_dir_for(db) / "baseline.json"
    config = default_hparams(like, profile, defaults).replace(**(overrides or {})).to_dict()
    key = {
        "env": env_name,
        "profile": profile,
        "defaults": defaults,
        "mpc_trials": trials,
        "seed": seed,
        "config": config,
    }
    if path.is_file():
        try:
            cached = json.loads(path.read_text())
        except ValueError as e:
            raise ValueError(
                f"{path} is damaged ({e}); delete it to run the defaults again"
            ) from None
        if cached.get("key") == key:
            returns = [math.nan if r is None else r for r in cached["returns"]]
            return Baseline(
                cached["config"], returns, objective(returns, last_k), profile, defaults
            )
    agent = PETSAgent(
        env,
        config,
        seed=seed,
        device=device,
        planner_backend=planner_backend,
        profile=profile,
        progress=progress,
    )
    returns = []
    for t in range(1 + trials):
        if on_trial is not None:
            on_trial(t + 1, 1 + trials)  # progress: trial t + 1 of 1 + trials is starting
        result = agent.run_trial()
        returns.append(result.ret if not result.diverged else math.nan)
    score = objective(returns, last_k)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)  # a kill before the rename leaves it: the next writer removes it
    tmp.write_text(
        json.dumps(
            {
                "key": key,
                "config": config,
                "returns": returns,
                "score": score if math.isfinite(score) else None,
            }
        )
    )
    os.replace(tmp, path)
    return Baseline(config, returns, score, profile, defaults)


def _refuse_unknown(function: str, unknown: dict[str, Any]) -> None:
    """A keyword ``function`` does not take: a TypeError, pointing a removed one to its
    replacement (``lockstep=`` was a second parameter for the executor's choice)."""
    if "lockstep" in unknown:
        raise TypeError(
            f"{function}(lockstep=...) was removed: one parameter chooses how trials run, "
            'executor="lockstep" (the default) or executor="sequential"'
        )
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {next(iter(unknown))!r}")


def _chain_trial_hooks(*hooks: Callable[..., None] | None) -> Callable[..., None] | None:
    """One ``on_trial`` callback that calls each given hook in order (None: none given)."""
    given = [h for h in hooks if h is not None]
    if not given:
        return None

    def on_trial(member: int, trial: int, result: Any) -> None:
        for hook in given:
            hook(member, trial, result)

    return on_trial
