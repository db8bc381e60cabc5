"""``StudySpec``: everything that defines a study, typed, validated once where it is built.

``mbrlhpo.tune``, ``mbrlhpo tune`` and the benchmark harness build one (``tuning.study_spec``)
and hand it to ``run_study(spec, factory, store)``; the runner reads it and nothing else. The
searched space is a tuple of ``ParamSpec`` (ConfigSpace lives only inside the hpbandster
driver); the agents' settings (profile, defaults, group, fixed settings) are here once and
stored once (``record``).

Stored format: ``record()`` carries ``spec_version``. A study stored before it (the agents'
settings twice, as ``agent`` and ``fixed``) is matched with ``legacy_record()`` and resumed
as it is stored, never rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mbrlhpo.catalog import GROUPS, METHODS
from mbrlhpo.hpo.hyperband import HyperbandSettings
from mbrlhpo.hpo.objective import DEFAULT_LAST_K
from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.pbt_bt import PBTBTSettings
from mbrlhpo.hpo.space import ParamSpec, to_plain
from mbrlhpo.limits import MAX_MEMBERS, MAX_TRIALS

SPEC_VERSION = 2  # 1: the settings row before StudySpec (agent settings stored twice)
EXECUTORS = ("lockstep", "sequential", "ray")
DEFAULTS = ("table", "code")


def check_int(name: str, value: Any, low: int = 1, high: int | None = None) -> int:
    """``value`` as a plain int in [``low``, ``high``] (NumPy integers accepted), else a
    one-line ValueError naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < low
        or (high is not None and value > high)
    ):
        expected = f"an int >= {low}" if high is None else f"an integer from {low} to {high}"
        raise ValueError(f"{name}: expected {expected}, got {type(value).__name__} {value!r}")
    return int(value)


def check_mapping(name: str, value: Any, example: str) -> dict[str, Any]:
    """``value`` (a mapping or None) as a plain dict, else a TypeError naming what was expected."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name}: expected a mapping of names to values (e.g. {example}), got "
            f"{type(value).__name__} {value!r}"
        )
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise TypeError(f"{name}: expected names (str) as keys, got {bad!r}")
    return dict(value)


def _plain_json(obj: Any) -> Any:
    """A JSON round trip: NumPy scalars as numbers, tuples as lists (what the store keeps)."""
    return json.loads(json.dumps(obj, sort_keys=True, default=lambda o: o.item()))


@dataclass(frozen=True)
class AgentSettings:
    """How every member (and the baseline) is built: ``profile`` (fixed settings and unsearched
    defaults), ``defaults`` (``table`` or ``code``), the searched ``group`` and ``fixed``
    settings (``tune(agent_overrides=...)`` that are not tunables, e.g. ``particles``)."""

    profile: str
    defaults: str = "table"
    group: str = "model"
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.profile, str) or not self.profile:
            raise TypeError(f"profile: expected a profile name (str), got {self.profile!r}")
        if self.defaults not in DEFAULTS:
            raise ValueError(
                f"defaults: expected one of {', '.join(DEFAULTS)}, got {self.defaults!r}"
            )
        if self.group not in GROUPS:
            raise ValueError(f"unknown group {self.group!r}: expected one of {', '.join(GROUPS)}")
        fixed = check_mapping("agent_overrides", self.fixed, "{'particles': 5}")
        try:
            object.__setattr__(self, "fixed", _plain_json(fixed))
        except (TypeError, ValueError, AttributeError) as e:
            raise TypeError(
                f"agent_overrides: expected JSON-like values, got {fixed!r} ({e})"
            ) from None


@dataclass(frozen=True)
class StudySpec:
    """One study: the method and its settings, the searched space, the fixed settings, the
    budget and the seed. Checked in full by the constructor (ValueError/TypeError, one line).

    ``trials``: MPC trials per member after the random first one (random, pbt, pbt-bt);
    Hyperband/BOHB's come from ``hyperband``. ``base_config``: the unsearched tunables every
    member receives. ``executor``: how a round's trials run (``lockstep``, ``sequential``,
    ``ray`` with ``ray_address``); it does not change the study, so it is not stored, and
    neither is ``workers`` (Hyperband/BOHB jobs at once; a study may resume with another).
    """

    method: str
    space: tuple[ParamSpec, ...]
    trials: int
    population: int = 40
    seed: int = 0
    task: str | None = None
    base_config: Mapping[str, Any] = field(default_factory=dict)
    pbt: PBTSettings | None = None
    hyperband: HyperbandSettings | None = None
    last_k: int = DEFAULT_LAST_K
    agent: AgentSettings | None = None
    executor: str = "sequential"
    ray_address: str | None = None
    workers: int = 1
    keep_final_checkpoints: bool = False
    keep_checkpoints_every: int | None = None
    keep_all_checkpoints: bool = False

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if self.method not in METHODS:
            raise ValueError(
                f"unknown method {self.method!r}: expected one of {', '.join(METHODS)}"
            )
        put("space", _check_space(self.space))
        put("trials", check_int("trials", self.trials, high=MAX_TRIALS))
        put("population", check_int("population (members)", self.population, high=MAX_MEMBERS))
        put("seed", check_int("seed", self.seed, low=0))
        put("last_k", check_int("last_k", self.last_k))
        # One Pyro4 daemon and thread each.
        put("workers", check_int("workers", self.workers, high=MAX_MEMBERS))
        if self.task is not None and (not isinstance(self.task, str) or not self.task):
            raise TypeError(f"task: expected a task name or reference (str), got {self.task!r}")
        base = check_mapping("base_config", self.base_config, "{'horizon': 20}")
        put("base_config", to_plain(base))
        if self.method == "pbt-bt":
            put("pbt", PBTBTSettings() if self.pbt is None else self.pbt)
            if not isinstance(self.pbt, PBTBTSettings):
                raise ValueError("method 'pbt-bt' expects pbt=PBTBTSettings(...)")
        elif self.method == "pbt":
            put("pbt", PBTSettings() if self.pbt is None else self.pbt)
            if not isinstance(self.pbt, PBTSettings):
                raise ValueError(f"pbt: expected PBTSettings(...), got {self.pbt!r}")
        if self.method in ("hyperband", "bohb") and not isinstance(
            self.hyperband, HyperbandSettings
        ):
            raise ValueError(f"method {self.method!r} needs hyperband=HyperbandSettings(...)")
        if self.agent is not None and not isinstance(self.agent, AgentSettings):
            raise TypeError(f"agent: expected AgentSettings(...), got {self.agent!r}")
        if self.executor not in EXECUTORS:
            raise ValueError(f"unknown executor {self.executor!r}: expected {', '.join(EXECUTORS)}")
        if self.workers > 1:
            if self.method not in ("hyperband", "bohb"):
                raise ValueError(
                    f"workers: only hyperband and bohb run jobs in parallel, got "
                    f"{self.workers} workers for {self.method!r} (population methods run a "
                    "round's trials together through the executor)"
                )
            if self.executor == "lockstep":
                raise ValueError(
                    f"workers: {self.workers} parallel jobs need executor sequential or ray, "
                    "got lockstep (one shared population planner)"
                )
        if self.keep_checkpoints_every is not None:
            put(
                "keep_checkpoints_every",
                check_int("keep_checkpoints_every", self.keep_checkpoints_every),
            )
        for name in ("keep_final_checkpoints", "keep_all_checkpoints"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name}: expected True or False, got {getattr(self, name)!r}")

    @property
    def specs(self) -> dict[str, ParamSpec]:
        """The searched hyperparameters by name (in the space's order: by name)."""
        return {s.name: s for s in self.space}

    def record(self) -> dict[str, Any]:
        """What the store keeps as the study's settings (plain JSON values)."""
        return _plain_json(
            {
                "spec_version": SPEC_VERSION,
                "env": self.task,
                "trials": self.trials,
                "population": self.population,
                "last_k": self.last_k,
                "base_config": self.base_config,
                "pbt": None if self.pbt is None else asdict(self.pbt),
                "hyperband": None if self.hyperband is None else asdict(self.hyperband),
                "agent": None if self.agent is None else asdict(self.agent),
            }
        )

    def legacy_record(self) -> dict[str, Any]:
        """This spec's settings as a study stored before ``spec_version`` holds them (the
        agent settings twice: ``agent`` and ``fixed``), to resume such a study unchanged."""
        out = self.record()
        del out["spec_version"]
        agent = out.pop("agent")
        out["fixed"] = {}
        if agent is not None:
            out["agent"] = agent
            out["fixed"] = {
                "profile": agent["profile"],
                "defaults": agent["defaults"],
                "group": agent["group"],
                "agent": agent["fixed"],
            }
        return out

    def space_record(self) -> dict[str, dict]:
        """The searched space as the store keeps it."""
        return {s.name: asdict(s) for s in self.space}


def is_legacy_record(settings: Mapping[str, Any]) -> bool:
    """A settings row stored before ``StudySpec`` (no ``spec_version``)."""
    return "spec_version" not in settings


def _check_space(space: Any) -> tuple[ParamSpec, ...]:
    if isinstance(space, Mapping):
        space = list(space.values())
    if not isinstance(space, Iterable) or isinstance(space, (str, bytes)):
        raise TypeError(
            "space: expected ParamSpecs (mbrlhpo.hpo.space.param_table), got "
            f"{type(space).__name__}"
        )
    specs = list(space)
    bad = [s for s in specs if not isinstance(s, ParamSpec)]
    if bad or not specs:
        raise TypeError(
            "space: expected one or more ParamSpecs (mbrlhpo.hpo.space.param_table), got "
            f"{type(bad[0]).__name__ if bad else 'none'}"
        )
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"space: expected each hyperparameter once, got {names}")
    # Each ParamSpec was checked when it was made. By name: the order ConfigSpace gives, which
    # the draws of every stored study follow.
    return tuple(sorted(specs, key=lambda s: s.name))
