"""A benchmark suite: tasks x methods x study seeds, each winner re-scored on held-out test seeds.

Read from TOML (``load_suite``), validated once, frozen. The format is documented in
docs/bench.md; ``bench/suites/smoke.toml`` is an example. ``Suite.content()`` is the suite as
plain JSON data (a replayed schedule's entries included, not only its file name): the harness
records it in its output directory and compares it on resume (``mbrlhpo.harness.state``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mbrlhpo.catalog import DEFAULTS, GROUPS, METHODS, PROFILES, TASK_NAMES, TUNABLE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# Methods that tune (one study per study seed) and those that do not (run once per task).
TUNED = METHODS
UNTUNED = ("defaults", "replay")
ALL_METHODS = TUNED + UNTUNED

_TOP_KEYS = {
    "name",
    "tasks",
    "profile",
    "group",
    "defaults",
    "last_k",
    "budget",
    "seeds",
    "agent",
    "analysis",
    "methods",
}
_BUDGET_KEYS = {"trials", "population"}
_SEED_KEYS = {"study", "test"}
_ANALYSIS_KEYS = {"bootstrap", "level", "seed"}
# What a method's table may set: tune()'s keywords (space = space_overrides), or a schedule.
_METHOD_KEYS = {
    "method",
    "population",
    "group",
    "searched",
    "space",
    "pbt_interval",
    "copy",
    "budgets",
    "hb_iterations",
    "schedule",
    "seeds",
}
_TUNED_ONLY = {"population", "group", "searched", "space", "seeds"}
_PBT_ONLY = {"pbt_interval", "copy"}
_HB_ONLY = {"budgets", "hb_iterations"}
MAX_SEEDS = 1000
MAX_TRIALS = 10_000
MAX_MEMBERS = 4096


@dataclass(frozen=True)
class MethodSpec:
    """One column of the suite. ``label`` names it in the tables (the TOML table's name);
    ``method`` is an HPO method, ``defaults`` (the profile's defaults, untuned) or ``replay``
    (a fixed schedule, untuned). ``settings``: the keywords it passes to ``mbrlhpo.tune``."""

    label: str
    method: str
    settings: dict[str, Any] = field(default_factory=dict)
    schedule: tuple[dict[str, Any], ...] = ()  # replay: one entry per trial
    schedule_file: str | None = None

    @property
    def tuned(self) -> bool:
        return self.method in TUNED


@dataclass(frozen=True)
class Suite:
    """A validated suite (see the module docstring and docs/bench.md)."""

    name: str
    tasks: tuple[str, ...]
    methods: tuple[MethodSpec, ...]
    study_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    trials: int  # MPC trials per member; every test run has 1 + trials trials
    population: int
    profile: str = "quick"
    group: str = "model"
    defaults: str = "table"
    last_k: int = 3
    agent: dict[str, Any] = field(default_factory=dict)
    bootstrap: int = 2000
    level: float = 0.95
    analysis_seed: int = 0  # the summary's bootstrap generator
    source: str | None = None  # the TOML file it was read from

    def method(self, label: str) -> MethodSpec:
        for m in self.methods:
            if m.label == label:
                return m
        raise KeyError(label)

    def content(self) -> dict[str, Any]:
        """Everything that decides the cells' results, as JSON data (``analysis`` apart:
        it only changes the summary)."""
        return {
            "name": self.name,
            "tasks": list(self.tasks),
            "profile": self.profile,
            "group": self.group,
            "defaults": self.defaults,
            "last_k": self.last_k,
            "budget": {"trials": self.trials, "population": self.population},
            "seeds": {"study": list(self.study_seeds), "test": list(self.test_seeds)},
            "agent": dict(self.agent),
            "methods": {
                m.label: {"method": m.method, **m.settings, "schedule": list(m.schedule)}
                if m.method == "replay"
                else {"method": m.method, **m.settings}
                for m in self.methods
            },
        }

    def analysis(self) -> dict[str, Any]:
        return {"bootstrap": self.bootstrap, "level": self.level, "seed": self.analysis_seed}


# ---------------------------------------------------------------------------------------------
def load_suite(path: str | os.PathLike) -> Suite:
    """The suite in the TOML file ``path``; ValueError naming the first thing that is wrong."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"expected a suite file (TOML), got {str(p)!r} (no such file)")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p}: not valid TOML ({exc})") from None
    return suite_from_dict(raw, base_dir=p.parent, source=str(p), where=str(p))


def suite_from_dict(
    raw: Mapping[str, Any],
    base_dir: str | os.PathLike = ".",
    source: str | None = None,
    where: str = "suite",
) -> Suite:
    """A suite from its parsed TOML (a dict); schedule files are relative to ``base_dir``."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected a table, got {type(raw).__name__}")
    _known(raw, _TOP_KEYS, where)
    name = _str(raw, "name", where, None)
    if not name:
        raise ValueError(f'{where}: expected name = "<suite name>"')
    tasks = raw.get("tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks):
        raise ValueError(f'{where}: expected tasks = ["cartpole", ...] (a non-empty list)')
    for t in tasks:
        if t not in TASK_NAMES:  # built-in tasks: test runs replay through analysis.replay
            names = ", ".join(TASK_NAMES)
            raise ValueError(f"{where}: unknown task {t!r}: expected one of {names}")
    _unique(tasks, "tasks", where)
    profile = _choice(raw, "profile", PROFILES, where, "quick")
    group = _choice(raw, "group", tuple(GROUPS), where, "model")
    defaults = _choice(raw, "defaults", DEFAULTS, where, "table")
    last_k = _int(raw, "last_k", where, 3, 1, MAX_TRIALS)

    budget = _table(raw, "budget", where)
    _known(budget, _BUDGET_KEYS, f"{where} [budget]")
    trials = _int(budget, "trials", f"{where} [budget]", None, 1, MAX_TRIALS)
    population = _int(budget, "population", f"{where} [budget]", 4, 1, MAX_MEMBERS)

    seeds = _table(raw, "seeds", where)
    _known(seeds, _SEED_KEYS, f"{where} [seeds]")
    study_seeds = _seeds(seeds, "study", f"{where} [seeds]")
    test_seeds = _seeds(seeds, "test", f"{where} [seeds]")
    shared = sorted(set(study_seeds) & set(test_seeds))
    if shared:
        raise ValueError(
            f"{where} [seeds]: test seeds must be held out, but {shared} are also study seeds"
        )
    _check_held_out(study_seeds, test_seeds, where)

    agent = dict(_table(raw, "agent", where))
    for k, v in agent.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{where} [agent]: expected {k} = <number>, got {v!r}")
    analysis = _table(raw, "analysis", where)
    _known(analysis, _ANALYSIS_KEYS, f"{where} [analysis]")
    reps = _int(analysis, "bootstrap", f"{where} [analysis]", 2000, 1, 1_000_000)
    level = analysis.get("level", 0.95)
    if isinstance(level, bool) or not isinstance(level, float) or not 0 < level < 1:
        raise ValueError(f"{where} [analysis]: expected level in (0, 1), got {level!r}")
    analysis_seed = _int(analysis, "seed", f"{where} [analysis]", 0, 0, 2**63 - 1)

    methods_raw = _table(raw, "methods", where)
    if not methods_raw:
        raise ValueError(f"{where}: expected at least one [methods.<label>] table")
    methods = tuple(
        _method(label, spec, group, agent, Path(base_dir), f"{where} [methods.{label}]")
        for label, spec in methods_raw.items()
    )
    for m in methods:
        if "seeds" in m.settings:
            mine, at = tuple(m.settings["seeds"]), f"{where} [methods.{m.label}]"
            if set(mine) & set(test_seeds):
                raise ValueError(f"{at}: test seeds must be held out, but {mine} holds one")
            _check_held_out(mine, test_seeds, at)
    return Suite(
        name=name,
        tasks=tuple(tasks),
        methods=methods,
        study_seeds=study_seeds,
        test_seeds=test_seeds,
        trials=trials,
        population=population,
        profile=profile,
        group=group,
        defaults=defaults,
        last_k=last_k,
        agent=agent,
        bootstrap=reps,
        level=float(level),
        analysis_seed=analysis_seed,
        source=source,
    )


def _method(
    label: str, raw: Any, group: str, agent: Mapping[str, Any], base_dir: Path, where: str
) -> MethodSpec:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected a table of settings, got {raw!r}")
    if not label.replace("-", "_").isidentifier():
        raise ValueError(f"{where}: expected a label of letters, digits, - and _")
    _known(raw, _METHOD_KEYS, where)
    method = raw.get("method", label)
    if method not in ALL_METHODS:
        raise ValueError(
            f"{where}: unknown method {method!r}: expected method = one of {', '.join(ALL_METHODS)}"
        )
    settings = {k: v for k, v in raw.items() if k not in ("method", "schedule")}
    wrong = sorted(
        k
        for k in settings
        if (k in _TUNED_ONLY and method not in TUNED)
        or (k in _PBT_ONLY and method not in ("pbt", "pbt-bt"))
        or (k in _HB_ONLY and method not in ("hyperband", "bohb"))
    )
    if wrong:
        raise ValueError(f"{where}: {', '.join(wrong)} do not apply to method {method!r}")
    if "seeds" in settings:  # this method's own study seeds: no arm shares another's members
        settings["seeds"] = list(_seeds(settings, "seeds", where))
    if "population" in settings:
        _int(settings, "population", where, None, 1, MAX_MEMBERS)
    if "pbt_interval" in settings:
        _int(settings, "pbt_interval", where, None, 1, MAX_TRIALS)
    if "hb_iterations" in settings:
        _int(settings, "hb_iterations", where, None, 1, 1000)
    if "copy" in settings:
        _choice(settings, "copy", ("all", "hparams"), where, None)
    if "group" in settings:
        _choice(settings, "group", tuple(GROUPS), where, None)
    if "budgets" in settings:
        b = settings["budgets"]
        if not (
            isinstance(b, list)
            and len(b) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in b)
            and 1 <= b[0] <= b[1]
        ):
            raise ValueError(f"{where}: expected budgets = [min, max] trials, got {b!r}")
    if "searched" in settings:
        s = settings["searched"]
        if not isinstance(s, list) or not s or not all(x in TUNABLE for x in s):
            raise ValueError(f"{where}: expected searched = [names of {', '.join(TUNABLE)}]")
    if "space" in settings:
        space = settings["space"]
        if not isinstance(space, Mapping) or not all(
            k in TUNABLE
            and isinstance(v, list)
            and len(v) == 2
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            for k, v in space.items()
        ):
            raise ValueError(f"{where}: expected space = {{ name = [low, high], ... }}")
        settings["space"] = {k: list(v) for k, v in space.items()}
    if method in TUNED:
        searched = set(settings.get("searched") or GROUPS[settings.get("group", group)])
        clash = sorted(searched & set(agent))
        if clash:
            raise ValueError(
                f"{where}: {', '.join(clash)} are searched by this method but fixed in [agent]"
            )
    schedule: tuple[dict[str, Any], ...] = ()
    schedule_file = None
    if method == "replay":
        if not isinstance(raw.get("schedule"), str):
            raise ValueError(f'{where}: expected schedule = "<schedule file>" for method replay')
        from mbrlhpo.analysis.replay import load_schedule

        path = Path(raw["schedule"])
        path = path if path.is_absolute() else base_dir / path
        schedule = tuple(load_schedule(path))
        schedule_file = str(raw["schedule"])
    elif "schedule" in raw:
        raise ValueError(f"{where}: schedule applies to method replay only")
    return MethodSpec(label, method, settings, schedule, schedule_file)


# ---------------------------------------------------------------------------------------------
def _known(table: Mapping[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}: expected some of {sorted(keys)}")


def _table(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected [{key}] to be a table, got {value!r}")
    return value


def _str(raw: Mapping[str, Any], key: str, where: str, default: str | None) -> str | None:
    value = raw.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ValueError(f'{where}: expected {key} = "...", got {value!r}')
    return value


def _choice(
    raw: Mapping[str, Any], key: str, choices: tuple[str, ...], where: str, default: str | None
) -> str:
    value = raw.get(key, default)
    if value not in choices:
        raise ValueError(f"{where}: expected {key} = one of {', '.join(choices)}, got {value!r}")
    return value


def _int(
    raw: Mapping[str, Any], key: str, where: str, default: int | None, low: int, high: int
) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"{where}: expected {key} = an integer from {low} to {high}, got {value!r}"
        )
    return value


def _seeds(raw: Mapping[str, Any], key: str, where: str) -> tuple[int, ...]:
    value = raw.get(key)
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_SEEDS
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)
    ):
        raise ValueError(f"{where}: expected {key} = [non-negative integer seeds], got {value!r}")
    _unique(value, key, where)
    return tuple(value)


def _unique(values: list, key: str, where: str) -> None:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ValueError(f"{where}: {key} lists {seen[0]!r} twice")


def _check_held_out(study_seeds: tuple[int, ...], test_seeds: tuple[int, ...], where: str) -> None:
    """No test seed is a member's seed of any study (``member_seed``): a test run must not
    replay an agent the tuning already saw."""
    from mbrlhpo.runner.study import member_seed

    for s in study_seeds:
        members = {member_seed(s, m) for m in range(MAX_MEMBERS)}
        hit = sorted(set(test_seeds) & members)
        if hit:
            raise ValueError(
                f"{where} [seeds]: test seed {hit[0]} is the seed of a member of the study "
                f"with seed {s}; pick held-out test seeds (e.g. from 9000000)"
            )
