"""The built-in tasks as :class:`TaskSpec`: dimensions, bounds, horizons, and reward/termination
as array functions.

Each task is defined once in Python, by its module ``mbrlhpo.envs.builtin.<name>`` (numbers,
reward, reset and observation; the list of names is ``mbrlhpo.catalog.TASK_NAMES``), and once in
C++ (``csrc/include/mbrlhpo/tasks/<name>.h`` and ``csrc/src/task_envs/<name>.cpp``);
tests/envs/test_task_tables.py checks that the two agree. Adding a task: docs/new_task.md.

Every array function accepts NumPy arrays or torch tensors (the same type comes out), is batched
over leading dimensions, and is the ground truth that the C++ versions match. The observation
layouts and rewards are in the task modules' docstrings; in short (O = obs dim, A = action dim):
cartpole (O=4, A=1), reacher (O=17, A=7), pusher (O=20, A=7), hopper (O=12, A=3), halfcheetah
(O=18, A=6), hexapod (O=24, A=18).

No task terminates (PETS's tasks and the paper's Hopper run the full horizon); ``terminated``
returns all False with the batch shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from types import ModuleType

import numpy as np

from mbrlhpo.catalog import TASK_NAMES
from mbrlhpo.envs.array_ops import Array, cat_last, ops
from mbrlhpo.envs.array_ops import no_termination as _no_termination
from mbrlhpo.envs.builtin import task_module
from mbrlhpo.envs.builtin.hopper import hopper_alive_bonus
from mbrlhpo.envs.builtin.pusher import GOAL as PUSHER_GOAL
from mbrlhpo.envs.builtin.reacher import reacher_ee


def _check_last(x: Array, size: int, what: str, task: str) -> None:
    shape = tuple(x.shape)
    if len(shape) == 0 or shape[-1] != size:
        raise ValueError(f"{task}: expected {what} of shape (..., {size}), got {shape}")


# --------------------------------------------------------------------------------------------
# The spec.


@dataclass(frozen=True)
class TaskSpec:
    """Everything the model, planner and agent need to know about a task.

    ``dt`` is the control period (physics timestep x frame_skip); ``model_file`` the MJCF shipped
    as package data; ``angle_dims`` the obs dims fed to the model as sin/cos;
    ``absolute_target_dims`` the dims predicted as absolute values (all others as deltas).
    """

    name: str
    obs_dim: int
    act_dim: int
    action_low: np.ndarray
    action_high: np.ndarray
    steps_per_trial: int
    default_trials: int
    frame_skip: int
    dt: float
    model_file: str
    angle_dims: tuple[int, ...]
    absolute_target_dims: tuple[int, ...]
    _reward: Callable[[Array, Array], Array] = field(repr=False, compare=False)
    _terminated: Callable[[Array], Array] = field(
        repr=False, compare=False, default=_no_termination
    )

    # ---- reward / termination -----------------------------------------------------------
    def reward(self, action: Array, next_obs: Array) -> Array:
        """Reward of ``action`` landing in ``next_obs``. ``(..., A), (..., O) -> (...)``."""
        _check_last(action, self.act_dim, "action", self.name)
        _check_last(next_obs, self.obs_dim, "next_obs", self.name)
        return self._reward(action, next_obs)

    def terminated(self, next_obs: Array) -> Array:
        """Whether ``next_obs`` is terminal. ``(..., O) -> bool (...)``."""
        _check_last(next_obs, self.obs_dim, "next_obs", self.name)
        return self._terminated(next_obs)

    # ---- model input / target -------------------------------------------------------------
    @property
    def model_input_dim(self) -> int:
        """Width of :meth:`model_input`'s output: ``O + len(angle_dims)``."""
        return self.obs_dim + len(self.angle_dims)

    def model_input(self, obs: Array) -> Array:
        """``(..., O) -> (..., O + n_angles)``: ``[obs w/o angles, sin(angles), cos(angles)]``."""
        _check_last(obs, self.obs_dim, "obs", self.name)
        if not self.angle_dims:
            return obs
        xp = ops(obs)
        keep = [i for i in range(self.obs_dim) if i not in self.angle_dims]
        angles = obs[..., list(self.angle_dims)]
        return cat_last([obs[..., keep], xp.sin(angles), xp.cos(angles)], obs)

    def model_target(self, obs: Array, next_obs: Array) -> Array:
        """``(..., O), (..., O) -> (..., O)``: ``next_obs - obs``, absolute dims = ``next_obs``."""
        _check_last(obs, self.obs_dim, "obs", self.name)
        _check_last(next_obs, self.obs_dim, "next_obs", self.name)
        target = next_obs - obs
        if self.absolute_target_dims:
            idx = list(self.absolute_target_dims)
            target[..., idx] = next_obs[..., idx]
        return target

    def next_obs_from_target(self, obs: Array, target: Array) -> Array:
        """Inverse of :meth:`model_target`. ``(..., O), (..., O) -> (..., O)``."""
        _check_last(obs, self.obs_dim, "obs", self.name)
        _check_last(target, self.obs_dim, "target", self.name)
        next_obs = obs + target
        if self.absolute_target_dims:
            idx = list(self.absolute_target_dims)
            next_obs[..., idx] = target[..., idx]
        return next_obs


def _asset(name: str) -> str:
    return str(resources.files("mbrlhpo.envs").joinpath("assets", f"{name}.xml"))


def _bounds(low: float, high: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    low_arr = np.full(n, low, dtype=np.float32)
    high_arr = np.full(n, high, dtype=np.float32)
    low_arr.flags.writeable = False
    high_arr.flags.writeable = False
    return low_arr, high_arr


def _spec_of(name: str, task: ModuleType) -> TaskSpec:
    """The spec of built-in task ``name`` from its module (mbrlhpo.envs.builtin)."""
    low, high = _bounds(-task.ACTION_BOUND, task.ACTION_BOUND, task.ACT_DIM)
    return TaskSpec(
        name=name,
        obs_dim=task.OBS_DIM,
        act_dim=task.ACT_DIM,
        action_low=low,
        action_high=high,
        steps_per_trial=task.STEPS_PER_TRIAL,
        default_trials=task.DEFAULT_TRIALS,
        frame_skip=task.FRAME_SKIP,
        dt=task.TIMESTEP * task.FRAME_SKIP,
        model_file=_asset(name),
        angle_dims=tuple(task.ANGLE_DIMS),
        absolute_target_dims=tuple(task.ABSOLUTE_TARGET_DIMS),
        _reward=task.reward,
        _terminated=getattr(task, "terminated", _no_termination),
    )


# One spec per name of the catalog, in its order.
_TASKS: dict[str, TaskSpec] = {name: _spec_of(name, task_module(name)) for name in TASK_NAMES}


def get_task(name: str) -> TaskSpec:
    """The :class:`TaskSpec` of task ``name`` (one of :data:`TASK_NAMES`)."""
    try:
        return _TASKS[name]
    except (KeyError, TypeError):
        names = ", ".join(TASK_NAMES)
        raise ValueError(f"unknown task {name!r}; expected one of {names}") from None


__all__ = ["PUSHER_GOAL", "TASK_NAMES", "TaskSpec", "get_task", "hopper_alive_bonus", "reacher_ee"]
