"""A single gymnasium env backed by the native vectorised env (one simulation)."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from mbrlhpo.envs import native_backend
from mbrlhpo.envs.builtin import task_module
from mbrlhpo.envs.reference_env import validate_action
from mbrlhpo.envs.tasks import get_task


class NativeEnv(gym.Env):
    """Task ``name`` on the native core; same semantics and results as :class:`ReferenceEnv`."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self, name: str, seed: int | None = None, max_episode_steps: int | None = None
    ) -> None:
        super().__init__()
        self.task = get_task(name)
        self._hooks = task_module(name)  # env_info
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"expected max_episode_steps >= 1, got {max_episode_steps}")
        self.max_episode_steps = max_episode_steps or self.task.steps_per_trial
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.task.obs_dim,), np.float64)
        self.action_space = gym.spaces.Box(
            self.task.action_low, self.task.action_high, (self.task.act_dim,), np.float32
        )
        self._seed = seed
        self._env = native_backend.NativeBackend(name, 1, 1, 0, self.max_episode_steps)
        self._started = False
        self._ended = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            if int(seed) < 0:
                raise ValueError(f"expected a non-negative seed, got {seed}")
            self._seed = int(seed)
            obs = self._env.reset(self._seed)
        elif not self._started:
            if self._seed is None:
                self._seed = int(self.np_random.integers(0, 2**63))
            obs = self._env.reset(self._seed)
        else:
            obs = self._env.reset(None)
        self._started = True
        self._ended = False
        return obs[0], {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if self._ended:
            raise RuntimeError("the episode has ended; call reset() before step()")
        act = validate_action(action, self.task)
        obs, rew, term, trunc, div = self._env.step(act[None])
        self._ended = bool(term[0] or trunc[0])
        info: dict[str, Any] = {"sim_diverged": bool(div[0])}
        if hasattr(self._hooks, "env_info"):
            info.update(self._hooks.env_info(obs[0]))
        return obs[0], float(rew[0]), bool(term[0]), bool(trunc[0]), info

    def render(self) -> None:
        """None: the native env does not render (make_env(..., render_mode="rgb_array") gives
        the reference env, which does)."""
        return None

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """Overwrite the simulation state (tests, replays); returns the new observation."""
        self._started = True
        self._ended = False
        return self._env.set_state(0, np.asarray(qpos, np.float64), np.asarray(qvel, np.float64))

    def close(self) -> None:
        self._env.close()
