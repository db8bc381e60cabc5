"""Small TaskSpec-compatible tasks for model and planner tests (analytic, or a tiny MuJoCo one).

They follow the TaskSpec contract (envs/tasks.py): array functions accept NumPy or torch,
batched over leading dims.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


def _xp(x: Any) -> Any:
    return torch if isinstance(x, torch.Tensor) else np


def _cat(xp: Any, parts: list[Any]) -> Any:
    return torch.cat(parts, dim=-1) if xp is torch else np.concatenate(parts, axis=-1)


@dataclass(frozen=True)
class ToyTask:
    name: str
    obs_dim: int
    act_dim: int
    action_low: np.ndarray
    action_high: np.ndarray
    reward_fn: Callable[[Any, Any], Any]
    terminated_fn: Callable[[Any], Any] | None = None
    angle_dims: tuple[int, ...] = ()
    absolute_target_dims: tuple[int, ...] = ()
    steps_per_trial: int = 50
    default_trials: int = 3
    frame_skip: int = 1
    dt: float = 0.05
    model_file: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def model_input_dim(self) -> int:
        return self.obs_dim + len(self.angle_dims)

    def reward(self, action: Any, next_obs: Any) -> Any:
        return self.reward_fn(action, next_obs)

    def terminated(self, next_obs: Any) -> Any:
        if self.terminated_fn is None:
            xp = _xp(next_obs)
            if xp is torch:
                return torch.zeros(next_obs.shape[:-1], dtype=torch.bool, device=next_obs.device)
            return np.zeros(next_obs.shape[:-1], dtype=bool)
        return self.terminated_fn(next_obs)

    def model_input(self, obs: Any) -> Any:
        if not self.angle_dims:
            return obs
        xp = _xp(obs)
        keep = [i for i in range(self.obs_dim) if i not in self.angle_dims]
        ang = obs[..., list(self.angle_dims)]
        return _cat(xp, [obs[..., keep], xp.sin(ang), xp.cos(ang)])

    def _abs_mask(self, like: Any) -> Any:
        m = np.zeros(self.obs_dim, dtype=bool)
        m[list(self.absolute_target_dims)] = True
        return torch.from_numpy(m).to(like.device) if isinstance(like, torch.Tensor) else m

    def model_target(self, obs: Any, next_obs: Any) -> Any:
        xp = _xp(obs)
        return xp.where(self._abs_mask(obs), next_obs, next_obs - obs)

    def next_obs_from_target(self, obs: Any, target: Any) -> Any:
        xp = _xp(obs)
        return xp.where(self._abs_mask(obs), target, obs + target)


def linear_task(obs_dim: int = 2, act_dim: int = 1, goal: float = 1.0) -> ToyTask:
    """Reward ``-(|s' - goal|^2) - 0.01 |a|^2`` (no angles, delta targets)."""

    def reward(action: Any, next_obs: Any) -> Any:
        return -((next_obs - goal) ** 2).sum(-1) - 0.01 * (action**2).sum(-1)

    return ToyTask(
        name="linear",
        obs_dim=obs_dim,
        act_dim=act_dim,
        action_low=-np.ones(act_dim, np.float32),
        action_high=np.ones(act_dim, np.float32),
        reward_fn=reward,
    )


PENDULUM_XML = """
<mujoco>
  <option timestep="0.01"/>
  <worldbody>
    <body name="pole" pos="0 0 1">
      <joint name="hinge" type="hinge" axis="0 1 0" damping="0.05"/>
      <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.04" mass="1"/>
    </body>
  </worldbody>
  <actuator><motor joint="hinge" gear="1" ctrllimited="true" ctrlrange="-2 2"/></actuator>
</mujoco>
"""


def pendulum_task() -> ToyTask:
    """A MuJoCo pendulum: obs ``[theta, thetadot]``, reward for holding the pole up."""

    def reward(action: Any, next_obs: Any) -> Any:
        xp = _xp(next_obs)
        return -xp.cos(next_obs[..., 0]) - 0.01 * (action**2).sum(-1)

    return ToyTask(
        name="pendulum",
        obs_dim=2,
        act_dim=1,
        action_low=np.array([-2.0], np.float32),
        action_high=np.array([2.0], np.float32),
        reward_fn=reward,
        angle_dims=(0,),
        frame_skip=5,
        dt=0.05,
    )


def pendulum_transitions(num: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """``num`` transitions of the MuJoCo pendulum under random actions (episodes of 50)."""
    import mujoco

    model = mujoco.MjModel.from_xml_string(PENDULUM_XML)
    data = mujoco.MjData(model)
    obs, act, nxt = [], [], []
    while len(obs) < num:
        mujoco.mj_resetData(model, data)
        data.qpos[0] = rng.uniform(-np.pi, np.pi)
        data.qvel[0] = rng.uniform(-1, 1)
        for _ in range(50):
            o = np.array([data.qpos[0], data.qvel[0]])
            a = rng.uniform(-2, 2, size=1)
            data.ctrl[:] = a
            for _ in range(5):
                mujoco.mj_step(model, data)
            obs.append(o)
            act.append(a)
            nxt.append(np.array([data.qpos[0], data.qvel[0]]))
    f = np.float32
    return np.array(obs[:num], f), np.array(act[:num], f), np.array(nxt[:num], f)


def action_target_task(target: np.ndarray) -> ToyTask:
    """Reward ``-|a - target|^2`` (state ignored): the CEM optimum is ``target`` at every step."""
    tgt = np.asarray(target, np.float32)

    def reward(action: Any, next_obs: Any) -> Any:
        t = torch.from_numpy(tgt) if isinstance(action, torch.Tensor) else tgt
        return -((action - t) ** 2).sum(-1)

    act_dim = tgt.shape[0]
    return ToyTask(
        name="action_target",
        obs_dim=2,
        act_dim=act_dim,
        action_low=-np.ones(act_dim, np.float32),
        action_high=np.ones(act_dim, np.float32),
        reward_fn=reward,
    )


def make_linear_model(task: ToyTask, b_matrix: np.ndarray, ensemble_size: int = 2, hidden: int = 8):
    """A DynamicsModel whose every member computes ``s' = s + B a`` (nearly deterministic).

    One hidden layer: ``h = swish(x + 20)`` is ``x + 20`` to float precision (sigmoid(20) ~ 1),
    the output layer subtracts the offset. Normaliser: identity.
    """
    from mbrlhpo.models import DynamicsModel

    o, a = task.obs_dim, task.act_dim
    d = o + a
    assert hidden >= d
    m = DynamicsModel(task, ensemble_size=ensemble_size, hidden=hidden, depth=1, seed=0)
    ens = m.ensemble
    with torch.no_grad():
        w0 = torch.zeros(ensemble_size, d, hidden)
        w0[:, torch.arange(d), torch.arange(d)] = 1.0
        ens.weights[0].copy_(w0)
        ens.biases[0].fill_(20.0)
        w1 = torch.zeros(ensemble_size, hidden, 2 * o)
        w1[:, o:d, :o] = torch.as_tensor(np.asarray(b_matrix, np.float32).T)
        ens.weights[1].copy_(w1)
        b1 = torch.zeros(ensemble_size, 1, 2 * o)
        b1[..., :o] = -20.0 * w1[:, :, :o].sum(1, keepdim=True)
        b1[..., o:] = -25.0  # raw logvar, clamped into [min, max]
        ens.biases[1].copy_(b1)
        ens.max_logvar.fill_(-18.0)
        ens.min_logvar.fill_(-20.0)
    return m


def native_test_task(name: str) -> ToyTask:
    """Python twins of the C++ planner test tasks (csrc/src/planner_test_tasks.h). The native
    planner knows them once mbrlhpo._core_testing is imported (it registers them; the production
    registry holds only the built-in tasks)."""
    from dataclasses import replace

    from mbrlhpo import _native

    if _native.available():
        import mbrlhpo._core_testing  # noqa: F401 - registers test_linear and test_pendulum

    if name == "test_linear":
        return replace(
            linear_task(obs_dim=2, act_dim=1, goal=1.0),
            name="test_linear",
            terminated_fn=lambda s: s[..., 1] > 1.5,
        )
    if name == "test_pendulum":
        return replace(
            pendulum_task(),
            name="test_pendulum",
            absolute_target_dims=(1,),
            action_low=-np.ones(1, np.float32),
            action_high=np.ones(1, np.float32),
        )
    raise ValueError(name)
