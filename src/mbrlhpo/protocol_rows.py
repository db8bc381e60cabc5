"""One row per task: everything a study of it takes from the paper's tuning protocol.

A row holds the expert (Chua et al.) defaults of the eight tunables (PAPER.md, Tables 2-4), the
values the paper's code ran where they differ from the tables, the agent's fixed settings where
the task's reference model differs from the agent's, the search ranges, Hyperband's (min, max)
MPC trials and PBT's trials between exploit/explore steps (Sec. 5.1, A.2). Three modules read
it: ``agent/hparams.py`` (defaults), ``hpo/space.py`` (ranges) and ``tuning.py`` (budgets,
interval). A built-in task without a row borrows one with its ``DEFAULTS_LIKE`` line
(``mbrlhpo.catalog``); adding a row: docs/new_task.md.

Like the catalog it imports nothing heavy (the agent reads it without loading ConfigSpace).

Cartpole is not in the paper: its defaults are PETS's own cartpole settings (3 x 500 network,
lr 1e-3, 5 epochs, CEM 5 iterations, population 400, 40 elites = ratio 0.1, alpha 0.1, plan
horizon 25; weight decay 2.5e-4, the median of PETS's per-layer cartpole values
1e-4/2.5e-4/2.5e-4/5e-4), its ranges those of Table 4, its budgets a small ladder of ours.
``hexapod`` is the paper's Daisy column. See docs/hpo.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from mbrlhpo.catalog import FIXED, TUNABLE, defaults_task

# Each tunable's scale, the same for every task: (log, integer).
SCALES: dict[str, tuple[bool, bool]] = {
    "lr": (True, False),
    "weight_decay": (True, False),
    "epochs": (False, True),
    "iterations": (False, True),
    "population": (True, True),
    "alpha": (False, False),
    "elite_ratio": (True, False),
    "horizon": (False, True),
}


@dataclass(frozen=True)
class ProtocolRow:
    """A task's tuning protocol. Checked when built: a row names every tunable once.

    ``defaults``: the tables' expert value of each tunable (ints for integer ones).
    ``ranges``: each tunable's search range ``(low, high)``, on the scale of ``SCALES``.
    ``budgets``: Hyperband's (min, max) MPC trials. ``pbt_interval``: PBT's trials between
    exploit/explore steps. ``code_defaults``: where the paper's code ran other values than its
    tables. ``model``: the agent's fixed settings where the task's reference model differs.
    """

    defaults: Mapping[str, int | float]
    ranges: Mapping[str, tuple[float, float]]
    budgets: tuple[int, int]
    pbt_interval: int
    code_defaults: Mapping[str, int | float] = field(default_factory=dict)
    model: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for what, names in (("defaults", self.defaults), ("ranges", self.ranges)):
            if sorted(names) != sorted(TUNABLE):
                raise ValueError(f"{what}: expected one value for each of {TUNABLE}, got {names}")
        if not set(self.code_defaults) <= set(TUNABLE):
            raise ValueError(f"code_defaults: expected some of {TUNABLE}, got {self.code_defaults}")
        if not set(self.model) <= set(FIXED):
            raise ValueError(f"model: expected some of {FIXED}, got {self.model}")
        for name, (low, high) in self.ranges.items():
            for value in (self.defaults[name], self.code_defaults.get(name, low)):
                if not low <= value <= high:
                    raise ValueError(f"{name}: expected a default in [{low}, {high}], got {value}")
        low, high = self.budgets
        if not 1 <= low <= high or self.pbt_interval < 1:
            raise ValueError(
                f"expected budgets 1 <= min <= max and pbt_interval >= 1, got {self.budgets} "
                f"and {self.pbt_interval}"
            )
        # Shared by the modules that read it: nobody changes a row in place.
        for name in ("defaults", "ranges", "code_defaults", "model"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


# Epochs and the elite ratio are searched over the same ranges for every task.
_SHARED_RANGES = dict(epochs=(3, 20), elite_ratio=(0.04, 0.5))
# Table 4 (Hopper, HalfCheetah, Daisy).
_TABLE4_RANGES = dict(
    lr=(1e-5, 4e-2),
    weight_decay=(1e-7, 1e-1),
    iterations=(3, 8),
    population=(200, 700),
    alpha=(0.05, 0.2),
    horizon=(5, 60),
    **_SHARED_RANGES,
)
_TABLE4_DEFAULTS = dict(
    lr=1e-3,
    weight_decay=7.5e-5,
    epochs=5,
    iterations=5,
    population=500,
    alpha=0.1,
    elite_ratio=0.1,
    horizon=30,
)
_TABLE4 = dict(defaults=_TABLE4_DEFAULTS, ranges=_TABLE4_RANGES, budgets=(33, 300), pbt_interval=5)
# Pusher and Reacher: short tasks, short ladders and intervals (Sec. 5.1).
_SHORT = dict(budgets=(8, 80), pbt_interval=4)

ROWS: dict[str, ProtocolRow] = {
    # PETS's cartpole (see the module's docstring) over Table 4's ranges.
    "cartpole": ProtocolRow(
        defaults={**_TABLE4_DEFAULTS, "weight_decay": 2.5e-4, "population": 400, "horizon": 25},
        ranges=_TABLE4_RANGES,
        budgets=(5, 15),
        pbt_interval=5,
        model=dict(hidden=500, depth=3),
    ),
    # Where the paper's code ran other defaults than its tables (its replayed default schedules
    # ``<env>_default.json`` in automl/HPO_for_RL ``learned_schedule/``): HalfCheetah's weight
    # decay is 7.5e-4 (Table 4: 7.5e-5).
    "halfcheetah": ProtocolRow(**_TABLE4, code_defaults=dict(weight_decay=7.5e-4)),
    "hexapod": ProtocolRow(**_TABLE4),
    "hopper": ProtocolRow(**_TABLE4),
    # Table 2; the paper's code ran plan horizon 25 and weight decay 5e-4 (the table: 30 and
    # 4e-4); the table's values are shipped as the defaults (docs/hpo.md).
    "pusher": ProtocolRow(
        defaults=dict(
            lr=1e-3,
            weight_decay=4e-4,
            epochs=5,
            iterations=5,
            population=500,
            alpha=0.1,
            elite_ratio=0.1,
            horizon=30,
        ),
        ranges=dict(
            lr=(3e-5, 3e-3),
            weight_decay=(1e-7, 1e-1),
            iterations=(3, 8),
            population=(100, 700),
            alpha=(0.01, 0.5),
            horizon=(5, 40),
            **_SHARED_RANGES,
        ),
        code_defaults=dict(horizon=25, weight_decay=5e-4),
        model=dict(depth=3),
        **_SHORT,
    ),
    # Table 3.
    "reacher": ProtocolRow(
        defaults=dict(
            lr=7.5e-4,
            weight_decay=5e-4,
            epochs=5,
            iterations=5,
            population=400,
            alpha=0.1,
            elite_ratio=0.1,
            horizon=25,
        ),
        ranges=dict(
            lr=(1e-5, 4e-2),
            weight_decay=(1e-7, 1e-1),
            iterations=(4, 6),
            population=(200, 700),
            alpha=(0.05, 0.4),
            horizon=(5, 40),
            **_SHARED_RANGES,
        ),
        **_SHORT,
    ),
}


def row_name(task: str) -> str | None:
    """The task whose row ``task`` uses (itself, or its ``DEFAULTS_LIKE``), or None if no row."""
    name = defaults_task(task)
    return name if name in ROWS else None


def protocol_row(task: str) -> ProtocolRow:
    """The row ``task`` uses (its own or its ``DEFAULTS_LIKE`` task's), else ValueError."""
    name = row_name(task)
    if name is None:
        raise ValueError(
            f"no tuning protocol for task {task!r}: expected one of {sorted(ROWS)} or a task "
            "whose definition has a line DEFAULTS_LIKE = '<task>' (docs/new_task.md)"
        )
    return ROWS[name]
