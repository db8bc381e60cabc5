"""PlanTrace: what one plan did, iteration by iteration (same fields on every backend)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PlanTrace:
    """Per-iteration internals of one plan: ``returns (I x N)``, ``elites (I x K)`` (sorted
    best first), ``means (I x H x A)`` and ``variances (I x H x A)`` after each update."""

    returns: np.ndarray
    elites: np.ndarray
    means: np.ndarray
    variances: np.ndarray
