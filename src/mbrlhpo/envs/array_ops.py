"""Helpers that let one task function run on NumPy arrays and torch tensors alike.

Nothing is imported at module level: torch is imported only when a tensor comes in, so the task
modules (``mbrlhpo.envs.builtin``) load with NumPy alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any  # np.ndarray or torch.Tensor


def is_torch(x: Array) -> bool:
    return type(x).__module__.startswith("torch")


def ops(x: Array):
    """The module of ``x``'s backend (``numpy`` or ``torch``), for ``xp.sin`` and the like."""
    if is_torch(x):
        import torch

        return torch
    return np


def sumsq(x: Array) -> Array:
    """Sum of squares over the last dim."""
    return (x * x).sum(-1)


def stack_last(parts: list, like: Array) -> Array:
    if is_torch(like):
        import torch

        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def cat_last(parts: list, like: Array) -> Array:
    if is_torch(like):
        import torch

        return torch.cat(parts, dim=-1)
    return np.concatenate(parts, axis=-1)


def no_termination(next_obs: Array) -> Array:
    """All False with the batch shape ``next_obs.shape[:-1]``."""
    if is_torch(next_obs):
        import torch

        return torch.zeros(next_obs.shape[:-1], dtype=torch.bool, device=next_obs.device)
    return np.zeros(next_obs.shape[:-1], dtype=bool)
