"""Random search (the paper's A.2): independent configurations, each run on the full budget."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mbrlhpo.hpo.space import ParamSpec, sample_config


def sample_configurations(
    specs: Mapping[str, ParamSpec], n: int, rng: np.random.Generator
) -> list[dict[str, int | float]]:
    """``n`` independent configurations drawn from ``specs`` (plain Python values)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected an int >= 1, got {n!r}")
    return [sample_config(specs, rng) for _ in range(n)]


def total_trials(n_configs: int, trials_per_config: int) -> int:
    """Random search's budget in trials: every configuration runs the random trial plus
    ``trials_per_config`` MPC trials (the paper's code)."""
    return n_configs * (1 + trials_per_config)
