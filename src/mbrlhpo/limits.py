"""Sanity limits for a study, checked before anything is built or written.

A study's sizes are checked against fixed limits (far above the paper's: 40 members, 300 trials,
30 Hyperband iterations) and the planner's memory against this machine's: a setting such as
``particles=1e9`` is refused with the bytes it needs, instead of every trial failing in
``std::bad_alloc``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

MAX_MEMBERS = 1000  # PBT population / random-search configurations (paper: 40)
MAX_TRIALS = 100_000  # trials per member (paper: at most 300)
MAX_HB_ITERATIONS = 1000  # Hyperband/BOHB iterations (paper: 15 or 30)
MEMORY_SHARE = 0.5  # the planners of a round may use at most this share of the machine's RAM


def check_count(name: str, value: Any, high: int) -> int:
    """``value`` as an int in [1, high], or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ValueError(f"{name}: expected an integer from 1 to {high}, got {value!r}")
    return value


def planner_bytes(hp: Mapping[str, Any], obs_dim: int, act_dim: int) -> int:
    """An estimate of one agent's CEM working set in bytes (float32): every sample's particles
    carry a state and two activations of the widest layer, every sample an action sequence.
    The same estimate bounds a policy file's settings in the C++ loader (model_file.cpp)."""
    pop, particles = int(hp["population"]), int(hp["particles"])
    widest = max(int(hp["hidden"]), 2 * obs_dim + act_dim)
    floats = pop * particles * (2 * widest + 2 * obs_dim + act_dim)
    floats += (pop + 2) * int(hp["horizon"]) * act_dim
    return 4 * floats


def machine_memory() -> int:
    """This machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_planner_memory(
    hp: Mapping[str, Any],
    obs_dim: int,
    act_dim: int,
    agents: int,
    fixed: Mapping[str, Any],
    memory: int | None = None,
) -> None:
    """Refuse settings whose planners (``agents`` planning at once) need more than
    ``MEMORY_SHARE`` of ``memory`` (default: this machine's), naming the settings."""
    memory = machine_memory() if memory is None else memory
    need = planner_bytes(hp, obs_dim, act_dim) * agents
    if need > MEMORY_SHARE * memory:
        named = (
            ", ".join(
                f"{k}={hp[k]}"
                for k in ("population", "particles", "horizon", "hidden")
                if k in fixed
            )
            or "the defaults"
        )
        raise ValueError(
            f"{named}: the planners would need about {need / 2**30:.3g} GiB "
            f"({agents} agent(s) x {planner_bytes(hp, obs_dim, act_dim)} bytes; CEM population "
            f"{hp['population']} x particles {hp['particles']}), more than "
            f"{MEMORY_SHARE:.0%} of this machine's {memory / 2**30:.3g} GiB"
        )
