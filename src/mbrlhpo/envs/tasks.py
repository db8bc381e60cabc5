"""The six tasks: dimensions, bounds, horizons, and reward/termination as array functions.

Every array function here accepts NumPy arrays or torch tensors (the same type comes out), is
batched over leading dimensions, and is the ground truth that the C++ versions in
``csrc/include/mbrlhpo/tasks/*.h`` match. Observation layouts (O = obs dim, A = action dim):

- cartpole (O=4, A=1): ``[x, theta, xdot, thetadot]``; reward
  ``exp(-|ee - (0, 0.6)|^2 / 0.6^2) - 0.01 a^2`` with ``ee = (x - 0.6 sin theta, -0.6 cos theta)``.
- reacher (O=17, A=7): ``[7 arm qpos, goal xyz, 7 arm qvel]``; reward
  ``-|EE(q) - goal|^2 - 0.01 |a|^2``, EE by forward kinematics of the 7 joints (:func:`reacher_ee`).
- pusher (O=20, A=7): ``[7 qpos, 7 qvel, fingertip xyz, object xyz]``; reward
  ``-(0.5 |tip - obj|_1 + 1.25 |goal - obj|_1 + 0.1 |a|^2)``, goal fixed at (0.45, -0.05, -0.323).
- hopper (O=12, A=3): ``[x velocity, qpos[1:] (5), clip(qvel, +-10) (6)]``; reward
  ``s'[0] - 1e-3 |a|^2`` (the paper's code adds an alive bonus in the env only; see
  :func:`hopper_alive_bonus`, reported by the envs in ``info``).
- halfcheetah (O=18, A=6): ``[x velocity, qpos[1:] (8), qvel (9)]``; reward ``s'[0] - 0.1 |a|^2``.
- hexapod (O=24, A=18): ``[18 joint angles, forward (x) velocity, base y, base z, roll, pitch,
  yaw]``; reward = forward velocity ``s'[18]``. The paper's Daisy obs has base xyz; ours puts the
  forward velocity in place of base x (as HalfCheetah does) so that the reward is a function of
  the next observation.

No task terminates (PETS's tasks and the paper's Hopper run the full horizon); ``terminated``
returns all False with the batch shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

TASK_NAMES: tuple[str, ...] = ("cartpole", "reacher", "pusher", "hopper", "halfcheetah", "hexapod")

Array = Any  # np.ndarray or torch.Tensor


# --------------------------------------------------------------------------------------------
# Backend helpers: the same code runs on NumPy arrays and torch tensors.


def _is_torch(x: Array) -> bool:
    return type(x).__module__.startswith("torch")


def _ops(x: Array):
    if _is_torch(x):
        import torch

        return torch
    return np


def _sumsq(x: Array) -> Array:
    return (x * x).sum(-1)


def _stack_last(parts: list, like: Array) -> Array:
    if _is_torch(like):
        import torch

        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def _cat_last(parts: list, like: Array) -> Array:
    if _is_torch(like):
        import torch

        return torch.cat(parts, dim=-1)
    return np.concatenate(parts, axis=-1)


def _check_last(x: Array, size: int, what: str, task: str) -> None:
    shape = tuple(x.shape)
    if len(shape) == 0 or shape[-1] != size:
        raise ValueError(f"{task}: expected {what} of shape (..., {size}), got {shape}")


def _no_termination(next_obs: Array) -> Array:
    if _is_torch(next_obs):
        import torch

        return torch.zeros(next_obs.shape[:-1], dtype=torch.bool, device=next_obs.device)
    return np.zeros(next_obs.shape[:-1], dtype=bool)


# --------------------------------------------------------------------------------------------
# Rewards.

CARTPOLE_POLE_LENGTH = 0.6


def cartpole_reward(action: Array, next_obs: Array) -> Array:
    """Cartpole swing-up reward. ``(..., 1), (..., 4) -> (...)``."""
    xp = _ops(next_obs)
    length = CARTPOLE_POLE_LENGTH
    x, theta = next_obs[..., 0], next_obs[..., 1]
    ee_x = x - length * xp.sin(theta)
    ee_y = -length * xp.cos(theta)
    dist2 = ee_x * ee_x + (ee_y - length) * (ee_y - length)
    return xp.exp(-dist2 / (length * length)) - 0.01 * _sumsq(action)


# Reacher arm geometry (PETS reacher3d): shoulder at (0, -0.188, 0); link offsets along the
# local x axis: 0.1 (pan -> lift), 0.4 (upper arm), 0.321 (forearm), 0.16828 (wrist -> tip).
REACHER_SHOULDER = (0.0, -0.188, 0.0)
REACHER_LINKS = (0.1, 0.4, 0.321, 0.16828)


def _rot(axis: str, c: Array, s: Array) -> list:
    one = c * 0 + 1
    zero = c * 0
    if axis == "x":
        return [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    if axis == "y":
        return [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    return [[c, -s, zero], [s, c, zero], [zero, zero, one]]


def _matmul3(a: list, b: list) -> list:
    return [
        [a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j] for j in range(3)]
        for i in range(3)
    ]


def reacher_ee(qpos: Array) -> Array:
    """End-effector position of the reacher arm by forward kinematics. ``(..., >=7) -> (..., 3)``.

    Joint axes in order: z (shoulder pan), y (shoulder lift), x (upper arm roll), y (elbow),
    x (forearm roll), y (wrist flex), x (wrist roll; does not move the tip, which is on its axis).
    """
    xp = _ops(qpos)
    axes = ("z", "y", "x", "y", "x", "y")
    rots = [_rot(a, xp.cos(qpos[..., i]), xp.sin(qpos[..., i])) for i, a in enumerate(axes)]
    frame = rots[0]
    # Position = shoulder + R1 l0 + R1R2R3 l1 + R1..R5 l2 + R1..R6 l3, each l along local x.
    pos = [frame[k][0] * REACHER_LINKS[0] + REACHER_SHOULDER[k] for k in range(3)]
    frame = _matmul3(_matmul3(frame, rots[1]), rots[2])
    pos = [pos[k] + frame[k][0] * REACHER_LINKS[1] for k in range(3)]
    frame = _matmul3(_matmul3(frame, rots[3]), rots[4])
    pos = [pos[k] + frame[k][0] * REACHER_LINKS[2] for k in range(3)]
    frame = _matmul3(frame, rots[5])
    pos = [pos[k] + frame[k][0] * REACHER_LINKS[3] for k in range(3)]
    return _stack_last(pos, qpos)


def reacher_reward(action: Array, next_obs: Array) -> Array:
    """Reacher 3-D reward ``-|EE - goal|^2 - 0.01 |a|^2``. ``(..., 7), (..., 17) -> (...)``."""
    ee = reacher_ee(next_obs[..., :7])
    return -_sumsq(ee - next_obs[..., 7:10]) - 0.01 * _sumsq(action)


PUSHER_GOAL = (0.45, -0.05, -0.323)


def pusher_reward(action: Array, next_obs: Array) -> Array:
    """Pusher reward. ``(..., 7), (..., 20) -> (...)``."""
    xp = _ops(next_obs)
    tip = next_obs[..., 14:17]
    obj = next_obs[..., 17:20]
    near = xp.abs(obj - tip).sum(-1)
    dist = sum(xp.abs(obj[..., k] - PUSHER_GOAL[k]) for k in range(3))
    return -(0.5 * near + 1.25 * dist + 0.1 * _sumsq(action))


def hopper_reward(action: Array, next_obs: Array) -> Array:
    """Hopper planning reward ``s'[0] - 1e-3 |a|^2``. ``(..., 3), (..., 12) -> (...)``."""
    return next_obs[..., 0] - 1e-3 * _sumsq(action)


def hopper_alive_bonus(next_obs: Array) -> Array:
    """The paper's env-only Hopper alive bonus (1 while healthy, else 0). ``(..., 12) -> (...)``.

    Healthy: all finite, ``|s[2:]| < 100``, height ``s[1] > 0.7`` and ``|angle s[2]| < 0.2``.
    Not part of the task reward (the planner never used it); envs report it in ``info``.
    """
    xp = _ops(next_obs)
    healthy = (
        (xp.abs(next_obs[..., 2:]) < 100).all(-1)
        & (next_obs[..., 1] > 0.7)
        & (xp.abs(next_obs[..., 2]) < 0.2)
    )
    return healthy * 1.0


def halfcheetah_reward(action: Array, next_obs: Array) -> Array:
    """HalfCheetah reward ``s'[0] - 0.1 |a|^2``. ``(..., 6), (..., 18) -> (...)``."""
    return next_obs[..., 0] - 0.1 * _sumsq(action)


def hexapod_reward(action: Array, next_obs: Array) -> Array:
    """Hexapod reward: forward velocity ``s'[18]``. ``(..., 18), (..., 24) -> (...)``."""
    return next_obs[..., 18] * 1.0


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
        xp = _ops(obs)
        keep = [i for i in range(self.obs_dim) if i not in self.angle_dims]
        angles = obs[..., list(self.angle_dims)]
        return _cat_last([obs[..., keep], xp.sin(angles), xp.cos(angles)], obs)

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


def _make(
    name: str,
    obs_dim: int,
    act_dim: int,
    bound: float,
    steps: int,
    trials: int,
    frame_skip: int,
    timestep: float,
    angle_dims: tuple[int, ...],
    absolute_target_dims: tuple[int, ...],
    reward: Callable,
) -> TaskSpec:
    low, high = _bounds(-bound, bound, act_dim)
    return TaskSpec(
        name=name,
        obs_dim=obs_dim,
        act_dim=act_dim,
        action_low=low,
        action_high=high,
        steps_per_trial=steps,
        default_trials=trials,
        frame_skip=frame_skip,
        dt=timestep * frame_skip,
        model_file=_asset(name),
        angle_dims=angle_dims,
        absolute_target_dims=absolute_target_dims,
        _reward=reward,
    )


_TASKS: dict[str, TaskSpec] = {
    "cartpole": _make("cartpole", 4, 1, 3.0, 200, 15, 2, 0.02, (1,), (), cartpole_reward),
    "reacher": _make("reacher", 17, 7, 20.0, 150, 80, 2, 0.01, (), (), reacher_reward),
    "pusher": _make("pusher", 20, 7, 2.0, 150, 80, 4, 0.01, (), (), pusher_reward),
    "hopper": _make("hopper", 12, 3, 1.0, 1000, 300, 4, 0.002, (), (0,), hopper_reward),
    "halfcheetah": _make(
        "halfcheetah", 18, 6, 1.0, 1000, 300, 5, 0.01, (2,), (0,), halfcheetah_reward
    ),
    "hexapod": _make(
        "hexapod", 24, 18, 1.0, 1000, 300, 4, 0.005, (21, 22, 23), (18,), hexapod_reward
    ),
}


def get_task(name: str) -> TaskSpec:
    """The :class:`TaskSpec` of task ``name`` (one of :data:`TASK_NAMES`)."""
    try:
        return _TASKS[name]
    except (KeyError, TypeError):
        names = ", ".join(TASK_NAMES)
        raise ValueError(f"unknown task {name!r}; expected one of {names}") from None


__all__ = ["TASK_NAMES", "TaskSpec", "get_task", "hopper_alive_bonus", "reacher_ee"]
