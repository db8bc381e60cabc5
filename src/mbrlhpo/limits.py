"""Sanity limits for a study, checked before anything is built or written.

A study's sizes are checked against fixed limits (far above the paper's: 40 members, 300 trials,
30 Hyperband iterations; at most 20 model epochs, 8 CEM iterations, horizon 60), and the memory
of its agents (planner working sets and models) against this machine's: a setting such as
``particles=1e9`` or ``depth=1e6`` is refused with the bytes it needs, instead of every trial
failing in ``std::bad_alloc``. Settings whose cost is time, not memory (``epochs=1e9``), have a
ceiling of their own (``MAX_SETTINGS``).
"""

from __future__ import annotations

import operator
import os
from collections.abc import Collection, Mapping
from typing import Any

MAX_MEMBERS = 1000  # PBT population / random-search configurations (paper: 40)
MAX_TRIALS = 100_000  # trials per member (paper: at most 300)
MAX_HB_ITERATIONS = 1000  # Hyperband/BOHB iterations (paper: 15 or 30)
MEMORY_SHARE = 0.5  # the agents of a round may use at most this share of the machine's RAM
# Ceilings of the agent's settings that cost time rather than memory (so the memory estimate
# cannot refuse them); a searched one is checked at the top of its range.
MAX_SETTINGS = {"epochs": 10_000, "iterations": 1_000, "horizon": 10_000}
MAX_ENVS = 10_000  # environments of one VecEnv (a MuJoCo state is ~100-170 KB: ~1.7 GB)
MAX_THREADS = 1024  # threads of one VecEnv or planner
MODEL_COPIES = 5  # a model's float32 weights in memory: itself, its gradients, Adam's two
# moments and the native planner's copy


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as a plain int in [low, high]: a TypeError when it is not an integer (a
    bool, float or string is not), a ValueError naming the range when it is out of it."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {value!r}")
    value = operator.index(value)
    if not low <= value <= high:
        raise ValueError(f"{name}: expected an integer from {low} to {high}, got {value}")
    return value


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


def model_bytes(hp: Mapping[str, Any], obs_dim: int, act_dim: int) -> int:
    """An estimate of one agent's model in bytes: the ensemble's float32 weights
    (``ensemble_size`` MLPs, input -> hidden x depth -> 2 x obs) ``MODEL_COPIES`` times over.
    The input is bounded by ``2 * obs_dim + act_dim``, as in ``planner_bytes``."""
    hidden, depth = int(hp["hidden"]), int(hp["depth"])
    first = (2 * obs_dim + act_dim) * hidden + hidden
    inner = (depth - 1) * (hidden * hidden + hidden)  # in closed form: depth may be absurd
    last = hidden * 2 * obs_dim + 2 * obs_dim
    per_member = first + inner + last
    return 4 * MODEL_COPIES * int(hp["ensemble_size"]) * per_member


def check_settings(hp: Mapping[str, Any], searched: Collection[str] = ()) -> None:
    """Refuse a setting above its ceiling in ``MAX_SETTINGS``; ``searched`` names those whose
    value in ``hp`` is the top of their search range (the message then says so)."""
    for name, high in MAX_SETTINGS.items():
        value = hp.get(name)
        if value is None or value <= high:
            continue
        if name in searched:
            raise ValueError(
                f"{name}: expected a search range with a top of at most {high}, got {value}"
            )
        raise ValueError(f"{name}={value}: expected at most {high}")


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
    """Refuse settings whose agents (``agents`` planning and training at once: planner working
    sets and models) need more than ``MEMORY_SHARE`` of ``memory`` (default: this machine's),
    naming the settings."""
    memory = machine_memory() if memory is None else memory
    planner, model = planner_bytes(hp, obs_dim, act_dim), model_bytes(hp, obs_dim, act_dim)
    need = (planner + model) * agents
    if need > MEMORY_SHARE * memory:
        named = (
            ", ".join(
                f"{k}={hp[k]}"
                for k in ("population", "particles", "horizon", "hidden", "depth", "ensemble_size")
                if k in fixed
            )
            or "the defaults"
        )
        raise ValueError(
            f"{named}: the planners and models would need about {_size(need)} "
            f"({agents} agent(s) x {_size(planner + model)}: the planner {_size(planner)} for CEM "
            f"population {hp['population']} x particles {hp['particles']}, the model "
            f"{_size(model)} for {hp['ensemble_size']} x depth {hp['depth']} x hidden "
            f"{hp['hidden']}), more than {MEMORY_SHARE:.0%} of this machine's {_size(memory)}"
        )


def _size(n: float) -> str:
    """Bytes as KiB, MiB or GiB (3 significant digits)."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n / 2**10:.3g} KiB"
