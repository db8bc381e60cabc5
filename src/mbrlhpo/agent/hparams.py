"""The PETS agent's hyperparameters: the paper's eight tunable ones plus the fixed settings.

Names are shared with the HPO layer's search spaces (`mbrlhpo.hpo.space.param_table`): ``lr``,
``weight_decay``, ``epochs`` (model training); ``iterations``, ``population``, ``alpha``,
``elite_ratio``, ``horizon`` (CEM).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from mbrlhpo.catalog import DEFAULTS, FIXED, PROFILES, TASK_NAMES, TUNABLE, defaults_task
from mbrlhpo.planning.config import CEMConfig
from mbrlhpo.protocol_rows import ROWS, row_name


@dataclass(frozen=True)
class PETSHparams:
    """Every hyperparameter of one PETS agent. Frozen: change with :meth:`replace`."""

    lr: float
    weight_decay: float
    epochs: int
    iterations: int
    population: int
    alpha: float
    elite_ratio: float
    horizon: int
    ensemble_size: int = 5
    hidden: int = 200
    depth: int = 4
    particles: int = 20
    batch_size: int = 32

    def __post_init__(self) -> None:
        # The six CEM values are checked by the CEMConfig they make (their one check in Python);
        # the rest are the model's and training's.
        object.__setattr__(
            self,
            "_cem",
            CEMConfig(
                horizon=self.horizon,
                population=self.population,
                elite_ratio=self.elite_ratio,
                iterations=self.iterations,
                alpha=self.alpha,
                particles=self.particles,
            ),
        )
        for name in ("epochs", "ensemble_size", "hidden", "depth", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"expected {name} to be an int >= 1, got {value!r}")
        for name in ("lr", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"expected {name} to be a float, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"expected {name} to be finite, got {value!r}")
        if self.lr <= 0:
            raise ValueError(f"expected lr > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"expected weight_decay >= 0, got {self.weight_decay}")
        if self.particles % self.ensemble_size:
            raise ValueError(
                f"expected particles to be a multiple of ensemble_size={self.ensemble_size} "
                f"(TS-inf splits particles evenly over members), got {self.particles}"
            )

    @property
    def cem(self) -> CEMConfig:
        """The planner's settings, made (and checked) with these hyperparameters."""
        return self._cem

    def replace(self, **changes: Any) -> PETSHparams:
        """A copy with some values changed; unknown names raise ValueError."""
        unknown = sorted(set(changes) - set(TUNABLE + FIXED))
        if unknown:
            raise ValueError(
                f"unknown hyperparameters {unknown}; expected some of {TUNABLE + FIXED}"
            )
        return dataclasses.replace(self, **{k: _plain(k, v) for k, v in changes.items()})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PETSHparams:
        unknown = sorted(set(values) - set(TUNABLE + FIXED))
        if unknown:
            raise ValueError(
                f"unknown hyperparameters {unknown}; expected some of {TUNABLE + FIXED}"
            )
        return cls(**{k: _plain(k, v) for k, v in values.items()})


_INT_NAMES = {
    "epochs",
    "iterations",
    "population",
    "horizon",
    "ensemble_size",
    "hidden",
    "depth",
    "particles",
    "batch_size",
}


def _plain(name: str, value: Any) -> Any:
    """NumPy scalars and integral floats from a search space become plain int/float."""
    if name in _INT_NAMES:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return int(value) if hasattr(value, "__index__") and not isinstance(value, bool) else value
    return float(value) if hasattr(value, "__float__") and not isinstance(value, bool) else value


# Small enough to learn cartpole on 2 CPU cores within minutes (see docs/agent.md).
_QUICK = dict(epochs=5, iterations=3, population=60, horizon=20, particles=5, hidden=64, depth=3)


def defaults_name(task: Any) -> str:
    """The built-in task whose defaults ``task`` uses: a custom task's ``defaults_like``
    (:class:`mbrlhpo.Task`), a built-in task's ``DEFAULTS_LIKE`` (``mbrlhpo.catalog``), else its
    own name."""
    return getattr(task, "defaults_like", None) or defaults_task(task.name)


def default_hparams(task: str, profile: str = "paper", defaults: str = "table") -> PETSHparams:
    """The expert defaults of a task (``paper``) or a small, fast variant (``quick``).

    ``defaults``: ``table`` (the paper's Tables 2-4) or ``code`` (the values the paper's code
    ran where they differ from the tables: the row's ``code_defaults``). The quick profile's
    own settings win over both. The values are the task's row in ``mbrlhpo.protocol_rows``.
    """
    row_task = row_name(task)  # a built-in task without a row of its own (DEFAULTS_LIKE)
    if task in TASK_NAMES and row_task is None:
        raise ValueError(
            f"built-in task {task!r} has no expert defaults: expected a line DEFAULTS_LIKE = "
            f"'<task>' in its definition (envs/builtin/{task}.py) or a row in "
            "mbrlhpo/protocol_rows.py (docs/new_task.md)"
        )
    if row_task is None:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(ROWS)}")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    if defaults not in DEFAULTS:
        raise ValueError(f"unknown defaults {defaults!r}; expected one of {DEFAULTS}")
    row = ROWS[row_task]
    values = {**row.defaults, **row.model}
    if defaults == "code":
        values.update(row.code_defaults)
    if profile == "quick":
        values.update(_QUICK)
    return PETSHparams(**values)
