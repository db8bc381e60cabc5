"""Search spaces of the paper (Tables 2-4, A.3) as ParamSpecs, and plain-value helpers.

Hyperparameter names are the agent's: ``lr``, ``weight_decay``, ``epochs`` (group ``"model"``);
``iterations``, ``population``, ``alpha``, ``elite_ratio``, ``horizon`` (group ``"planning"``).
Group ``"joint"`` holds all eight. Values handed to the agent are plain Python ``int``/``float``.

The ranges and defaults are each task's row in ``mbrlhpo.protocol_rows`` (cartpole, not in the
paper, and ``hexapod``, the paper's Daisy column, are explained there). A study's space is a
tuple of ParamSpecs (``StudySpec.space``); ConfigSpace is hpbandster's, made only inside its
driver (``runner/hpbandster_driver.py``). See docs/hpo.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mbrlhpo import catalog
from mbrlhpo.protocol_rows import ROWS, SCALES, ProtocolRow

# The names live in mbrlhpo.catalog; the aliases keep this module's vocabulary.
ENV_NAMES: tuple[str, ...] = catalog.TASK_NAMES
MODEL_PARAMS: tuple[str, ...] = catalog.MODEL_PARAMS
PLANNING_PARAMS: tuple[str, ...] = catalog.PLANNING_PARAMS
ALL_PARAMS: tuple[str, ...] = catalog.TUNABLE
GROUPS: dict[str, tuple[str, ...]] = catalog.GROUPS


@dataclass(frozen=True)
class ParamSpec:
    """One hyperparameter: closed range [low, high], default, log scale, integer or float."""

    name: str
    low: float
    high: float
    default: float
    log: bool
    integer: bool

    def __post_init__(self) -> None:
        self.validate()  # a ParamSpec is checked once, where it is made

    def validate(self) -> None:
        """Raise ValueError if the range, default or scale is inconsistent."""
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"{self.name}: expected finite bounds, got [{self.low}, {self.high}]")
        if not self.low < self.high:
            raise ValueError(f"{self.name}: expected low < high, got [{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise ValueError(f"{self.name}: a log-scale range needs low > 0, got low={self.low}")
        if self.integer:
            for what, v in (("low", self.low), ("high", self.high), ("default", self.default)):
                if float(v) != int(v):
                    raise ValueError(f"{self.name} is an integer: expected integer {what}, got {v}")
        if not self.low <= self.default <= self.high:
            raise ValueError(
                f"{self.name}: expected default inside [{self.low}, {self.high}], "
                f"got {self.default}"
            )

    def plain(self, value: Any) -> int | float:
        """Convert a value to the plain Python type of this parameter (int or float)."""
        if self.integer:
            v = float(value)
            if v != round(v):
                raise ValueError(f"{self.name} is an integer: got {value!r}")
            return int(round(v))
        return float(value)


def _p(name: str, low: float, high: float, default: float, log: bool, integer: bool) -> ParamSpec:
    return ParamSpec(name, float(low), float(high), float(default), log, integer)


def _table(row: ProtocolRow) -> dict[str, ParamSpec]:
    """The ParamSpecs of a task's protocol row: its ranges and defaults on the shared scales."""
    return {
        n: _p(n, *row.ranges[n], row.defaults[n], log=SCALES[n][0], integer=SCALES[n][1])
        for n in ALL_PARAMS
    }


# One table per task row (mbrlhpo.protocol_rows: PAPER.md Tables 2-4; cartpole's is ours).
_TABLES: dict[str, dict[str, ParamSpec]] = {task: _table(row) for task, row in ROWS.items()}


def check_env(env: str) -> str:
    """The task whose table ``env`` uses: ``env``, or the ``DEFAULTS_LIKE`` of a built-in task
    without a table of its own (``mbrlhpo.catalog``); else raise ValueError listing the names."""
    table = catalog.defaults_task(env) if isinstance(env, str) else env
    if table not in _TABLES:
        raise ValueError(f"unknown env {env!r}: expected one of {', '.join(ENV_NAMES)}")
    return table


def check_group(group: str) -> tuple[str, ...]:
    """Return the hyperparameter names of ``group``, else raise ValueError."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}: expected one of {', '.join(GROUPS)}")
    return GROUPS[group]


_OVERRIDE_KEYS = ("low", "high", "default", "log")


def param_table(
    env: str, group: str = "joint", overrides: Mapping[str, Any] | None = None
) -> dict[str, ParamSpec]:
    """The validated ParamSpecs of ``group`` for ``env``, with ``overrides`` applied, by name
    (the order a study draws its hyperparameters in: ``StudySpec.space``'s).

    ``overrides`` maps a hyperparameter name to a dict with any of ``low``, ``high``,
    ``default``, ``log``, or to a ``(low, high)`` pair.
    """
    table = _TABLES[check_env(env)]
    names = check_group(group)
    specs = {n: table[n] for n in names}
    for name, ov in (overrides or {}).items():
        if name not in table:
            raise ValueError(
                f"unknown hyperparameter {name!r} in overrides: "
                f"expected one of {', '.join(ALL_PARAMS)}"
            )
        if name not in specs:
            raise ValueError(
                f"hyperparameter {name!r} is not in group {group!r} ({', '.join(names)})"
            )
        if isinstance(ov, (tuple, list)):
            if len(ov) != 2:
                raise ValueError(f"override of {name!r}: expected (low, high), got {ov!r}")
            ov = {"low": ov[0], "high": ov[1]}
        if not isinstance(ov, Mapping):
            raise ValueError(
                f"override of {name!r}: expected a dict with keys "
                f"{_OVERRIDE_KEYS} or a (low, high) pair, got {ov!r}"
            )
        bad = set(ov) - set(_OVERRIDE_KEYS)
        if bad:
            raise ValueError(
                f"override of {name!r}: unknown keys {sorted(bad)}, "
                f"expected some of {_OVERRIDE_KEYS}"
            )
        kw: dict[str, Any] = {}
        for k, v in ov.items():
            if k == "log":
                if not isinstance(v, bool):
                    raise ValueError(f"override of {name!r}: 'log' must be a bool, got {v!r}")
                kw[k] = v
            else:
                if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                    raise ValueError(f"override of {name!r}: {k!r} must be a number, got {v!r}")
                kw[k] = float(v)
        old = specs[name]
        low, high = kw.get("low", old.low), kw.get("high", old.high)
        if "default" not in ov and low <= high and not low <= old.default <= high:
            # A narrowed range keeps the expert default if it can, else clips it into range.
            d = min(max(old.default, low), high)
            kw["default"] = float(round(d)) if old.integer else d
        specs[name] = replace(old, **kw)  # checked as it is made
    return dict(sorted(specs.items()))


def defaults(env: str, group: str = "joint") -> dict[str, int | float]:
    """The expert (Chua et al.) defaults of ``group`` for ``env`` as plain Python values."""
    return {n: s.plain(s.default) for n, s in param_table(env, group).items()}


def to_plain(
    config: Mapping[str, Any], specs: Mapping[str, ParamSpec] | None = None
) -> dict[str, int | float]:
    """A configuration as a dict of plain Python ints and floats (never NumPy scalars).

    With ``specs``, names must be theirs, values must lie inside their ranges, and integer
    hyperparameters become ``int`` (:func:`validate_config`). Without them, integral
    NumPy/Python integers become ``int`` and everything else ``float``.
    """
    items = dict(config)
    if specs is None:
        out: dict[str, int | float] = {}
        for k, v in items.items():
            if isinstance(v, bool):
                raise ValueError(f"{k}: expected a number, got bool {v!r}")
            if isinstance(v, (int, np.integer)):
                out[str(k)] = int(v)
            elif isinstance(v, (float, np.floating)):
                out[str(k)] = float(v)
            else:
                raise ValueError(f"{k}: expected an int or float, got {type(v).__name__} {v!r}")
        return out
    return validate_config(specs, items)


def validate_config(
    specs: Mapping[str, ParamSpec], config: Mapping[str, Any]
) -> dict[str, int | float]:
    """Check that ``config`` sets exactly the hyperparameters of ``specs``, inside their ranges.

    Returns the configuration as plain values; raises ValueError naming what was expected.
    """
    specs = dict(specs)
    missing = [n for n in specs if n not in config]
    extra = [n for n in config if n not in specs]
    if missing or extra:
        raise ValueError(
            f"expected hyperparameters {sorted(specs)}, got {sorted(config)}"
            f" (missing {missing}, unknown {extra})"
        )
    out: dict[str, int | float] = {}
    for n, s in specs.items():
        v = config[n]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{n}: expected a number, got {type(v).__name__} {v!r}")
        pv = s.plain(v)
        if not (math.isfinite(pv) and s.low <= pv <= s.high):
            raise ValueError(
                f"{n}: expected a value in [{s.plain(s.low)}, {s.plain(s.high)}], got {v!r}"
            )
        out[n] = pv
    return out


# ConfigSpace 0.4.10 (the paper's version) maps an integer hyperparameter onto the unit cube
# over [low - 0.49999, high + 0.49999], not +-0.5, and rounds half to even (numpy.round). The
# margin decides real moves: epochs 5 in [3, 20] perturbed x1.2 lands on 5.499998 and stays 5.
INTEGER_MARGIN = 0.49999


def unit_bounds(s: ParamSpec) -> tuple[float, float]:
    """The interval ConfigSpace 0.4.10 maps onto [0, 1] for ``s``: ``[low, high]``, for
    integers ``[low - 0.49999, high + 0.49999]``; its logarithm where ``s.log``."""
    lo, hi = (s.low - INTEGER_MARGIN, s.high + INTEGER_MARGIN) if s.integer else (s.low, s.high)
    return (math.log(lo), math.log(hi)) if s.log else (lo, hi)


def to_unit(s: ParamSpec, value: float) -> float:
    """``value``'s position in the unit cube for ``s`` (0 = low end, 1 = high end), clipped to
    [0, 1] as ConfigSpace's inverse transform does."""
    lo, hi = unit_bounds(s)
    v = math.log(float(value)) if s.log else float(value)
    return min(max((v - lo) / (hi - lo), 0.0), 1.0)


def from_unit(s: ParamSpec, u: float) -> int | float:
    """The value at unit-cube position ``u`` (clipped to [0, 1]). Integers are rounded half to
    even (Python's ``round``, as ``numpy.round``) and lie in ``[low, high]`` by the margin."""
    lo, hi = unit_bounds(s)
    v = lo + min(max(float(u), 0.0), 1.0) * (hi - lo)
    if s.log:
        v = math.exp(v)
    if s.integer:
        return int(min(max(round(v), int(s.low)), int(s.high)))
    return float(min(max(v, s.low), s.high))


def sample_config(
    specs: Mapping[str, ParamSpec], rng: np.random.Generator
) -> dict[str, int | float]:
    """One configuration drawn uniformly (log-uniformly where ``log``) from ``specs``: a
    uniform unit-cube position per hyperparameter, mapped back by :func:`from_unit` (integers:
    every value in range has non-zero probability, the end values a share 0.99998 of the
    others')."""
    return {n: from_unit(s, float(rng.random())) for n, s in specs.items()}
