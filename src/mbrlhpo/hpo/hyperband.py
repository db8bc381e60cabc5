"""Hyperband and BOHB: the budget ladder and a study's settings (pure decisions).

Fidelity = number of MPC trials: a job of budget b runs ``1 + floor(b)`` trials, the random
first trial plus ``floor(b)`` MPC trials, as the paper's code does (hpbandster's budgets are
``max_budget * eta**-k``, e.g. 8.89/26.67/80 for 8/80). 15 iterations then spend 3140 MPC
trials plus one random trial for each of the 100 jobs (3240 in all) at 8/80, and
11985 + 100 = 12085 at 33/300; the paper reports 3130 and 11982 (MPC trials).

The paper ran them through hpbandster; the driver that does so (its master, worker, name
server, the NumPy RNG swap and shutdown) is ``mbrlhpo.runner.hpbandster_driver``. This module
needs no hpbandster.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mbrlhpo.limits import MAX_TRIALS

_BUDGET_EPS = 1e-6
SAMPLER_VERSION = 2


def budget_to_trials(budget: float) -> int:
    """MPC trials of an hpbandster budget: floor (with a 1e-6 tolerance), at least 1."""
    b = float(budget)
    if not (math.isfinite(b) and b > 0):
        raise ValueError(f"budget: expected a finite number > 0, got {budget!r}")
    return max(1, int(math.floor(b + _BUDGET_EPS)))


def job_trials(budget: float) -> int:
    """Trials a job of ``budget`` runs: the random first trial plus ``budget_to_trials``
    MPC trials (the paper's code: ``1 + int(b)``)."""
    return 1 + budget_to_trials(budget)


@dataclass(frozen=True)
class Stage:
    """One successive-halving rung: ``n_configs`` configurations on ``budget``, each running
    ``trials`` trials (``job_trials(budget)``: the random trial included)."""

    n_configs: int
    budget: float
    trials: int


def _check_budgets(min_budget: float, max_budget: float, eta: float) -> None:
    if not (min_budget > 0 and max_budget > min_budget):
        raise ValueError(f"expected 0 < min_budget < max_budget, got {min_budget}/{max_budget}")
    if not max_budget <= MAX_TRIALS:  # a job's trials: the trial limit of every member
        raise ValueError(
            f"max_budget: expected at most {MAX_TRIALS} trials (the trial limit), "
            f"got {max_budget:g}"
        )
    if not eta >= 2:
        raise ValueError(f"eta: expected >= 2, got {eta}")


def n_brackets(min_budget: float, max_budget: float, eta: float = 3) -> int:
    """Successive-halving brackets (= rungs of the largest one): floor(log_eta(max/min)) + 1."""
    _check_budgets(min_budget, max_budget, eta)
    return int(math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9)) + 1


def hyperband_ladder(
    min_budget: float, max_budget: float, eta: float = 3, n_iterations: int | None = None
) -> list[list[Stage]]:
    """The Hyperband budget ladder: for each iteration, its rungs (Algorithm 2 / hpbandster).

    Iteration i runs bracket s = s_max - (i mod (s_max + 1)) with
    n0 = floor((s_max + 1) / (s + 1)) * eta**s configurations on budget max * eta**-s, keeping
    max(floor(n0 / eta**j), 1) for rung j. ``n_iterations`` defaults to s_max + 1.
    """
    m = n_brackets(min_budget, max_budget, eta)
    budgets = [float(max_budget) * float(eta) ** -(m - 1 - j) for j in range(m)]
    n_it = m if n_iterations is None else n_iterations
    if n_it < 1:
        raise ValueError(f"n_iterations: expected >= 1, got {n_iterations}")
    out: list[list[Stage]] = []
    for it in range(n_it):
        s = m - 1 - it % m
        n0 = (m // (s + 1)) * int(round(eta**s))
        rungs = []
        for j in range(s + 1):
            b = budgets[m - 1 - s + j]
            rungs.append(Stage(max(int(n0 * float(eta) ** -j + 1e-9), 1), b, job_trials(b)))
        out.append(rungs)
    return out


def ladder_trials(ladder: list[list[Stage]]) -> int:
    """Total trials a ladder spends (every rung's configurations times its trials)."""
    return sum(st.n_configs * st.trials for rungs in ladder for st in rungs)


@dataclass(frozen=True)
class HyperbandSettings:
    """Settings of a Hyperband/BOHB study. The paper: eta 3, 15 iterations, 8/80 (Pusher,
    Reacher) or 33/300 trials (others); joint groups: 30 iterations."""

    min_budget: float
    max_budget: float
    eta: float = 3
    n_iterations: int = 15
    nameserver_host: str = "127.0.0.1"
    stall_timeout: float = 120.0
    ping_interval: float = 1.0
    bohb: Mapping[str, Any] = field(default_factory=dict)
    # How configurations are drawn, stored with the study so that a study drawn another way is
    # refused on resume. 2 (since issue 16): each from its own stream seeded by (seed, config
    # id), the same for any number of workers. 1 (before): one stream in the order of the draws.
    sampler_version: int = SAMPLER_VERSION

    def __post_init__(self) -> None:
        _check_budgets(self.min_budget, self.max_budget, self.eta)
        if self.sampler_version != SAMPLER_VERSION:
            raise ValueError(
                f"sampler_version: expected {SAMPLER_VERSION} (this mbrlhpo's way of drawing "
                f"configurations), got {self.sampler_version!r}"
            )
        if self.n_iterations < 1:
            raise ValueError(f"n_iterations: expected >= 1, got {self.n_iterations}")
        if not self.stall_timeout > 0:
            raise ValueError(f"stall_timeout: expected > 0, got {self.stall_timeout}")
        allowed = {
            "min_points_in_model",
            "top_n_percent",
            "num_samples",
            "random_fraction",
            "bandwidth_factor",
            "min_bandwidth",
        }
        bad = set(self.bohb) - allowed
        if bad:
            raise ValueError(
                f"unknown BOHB settings {sorted(bad)}: expected some of {sorted(allowed)}"
            )
