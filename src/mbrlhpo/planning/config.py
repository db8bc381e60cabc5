"""Typed CEM planner settings."""

from __future__ import annotations

import math
from dataclasses import dataclass


def _check_int(name: str, value: object, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"expected {name} to be an int >= {low}, got {value!r}")


def _check_float(
    name: str, value: object, low: float, high: float, low_open: bool, high_open: bool = False
) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high
        )
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(f"expected {name} in {interval}, got {value!r}")


@dataclass(frozen=True)
class CEMConfig:
    """CEM + trajectory sampling settings (defaults: PETS HalfCheetah, Chua et al. 2018).

    Attributes:
        horizon: planning horizon H (steps).
        population: candidate action sequences N per iteration.
        elite_ratio: fraction of N kept as elites; K = ceil(elite_ratio * N), at least 1.
        iterations: CEM iterations I (fixed, no early stop).
        alpha: smoothing, ``mean <- alpha * old + (1 - alpha) * elite mean`` (same for var).
        particles: particles P per candidate (TS-inf; must be a multiple of the ensemble size).
    """

    horizon: int = 30
    population: int = 500
    elite_ratio: float = 0.1
    iterations: int = 5
    alpha: float = 0.1
    particles: int = 20

    def __post_init__(self) -> None:
        _check_int("horizon", self.horizon, 1)
        _check_int("population", self.population, 1)
        _check_int("iterations", self.iterations, 1)
        _check_int("particles", self.particles, 1)
        _check_float("elite_ratio", self.elite_ratio, 0.0, 1.0, low_open=True)
        # alpha = 1 never moves the mean off its start.
        _check_float("alpha", self.alpha, 0.0, 1.0, low_open=False, high_open=True)

    @property
    def num_elites(self) -> int:
        """K = ceil(elite_ratio * population) (a 1e-9 slack absorbs float error), >= 1."""
        return max(
            1,
            min(self.population, math.ceil(self.elite_ratio * self.population - 1e-9)),
        )
