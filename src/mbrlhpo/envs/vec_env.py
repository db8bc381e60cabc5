"""``VecEnv``: N copies of one task behind gymnasium 1.x's vector env API.

The native backend (``mbrlhpo._core``) steps all environments in C++ threads with the GIL
released; where it is not built, a Python backend over :class:`ReferenceEnv` gives the same
results (same reset streams, same physics calls). Autoreset is gymnasium's default NEXT_STEP
mode: the step after an episode ends resets that environment and returns its first observation
with reward 0 and terminated = truncated = False.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from mbrlhpo.envs.reference_env import ReferenceEnv
from mbrlhpo.envs.tasks import TaskSpec, get_task
from mbrlhpo.limits import MAX_ENVS, MAX_THREADS, check_int


def validate_actions(actions: Any, task: TaskSpec, num_envs: int) -> np.ndarray:
    """Check a batch of actions; return it clipped to the bounds as float64 ``(N x A)``."""
    arr = np.asarray(actions)
    if arr.dtype.kind != "f":
        raise ValueError(f"{task.name}: expected floating-point actions, got dtype {arr.dtype}")
    if arr.shape != (num_envs, task.act_dim):
        raise ValueError(
            f"{task.name}: expected actions of shape ({num_envs}, {task.act_dim}), got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1)).tolist()
        raise ValueError(
            f"{task.name}: expected finite actions, got non-finite values in rows {bad}"
        )
    clipped = np.clip(arr.astype(np.float32), task.action_low, task.action_high)
    return clipped.astype(np.float64)


class _PythonBackend:
    """Reference envs in a loop, with NEXT_STEP autoreset."""

    def __init__(self, name: str, num_envs: int, seed: int, max_episode_steps: int) -> None:
        self.envs = [
            ReferenceEnv(name, seed=seed, max_episode_steps=max_episode_steps, env_index=i)
            for i in range(num_envs)
        ]
        self.seed = seed
        self.done = np.zeros(num_envs, dtype=bool)

    def reset(self, seed: int | None) -> np.ndarray:
        self.done[:] = False
        return np.stack([env.reset(seed=seed)[0] for env in self.envs])

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        n = len(self.envs)
        obs = np.empty((n, self.envs[0].task.obs_dim))
        rew = np.zeros(n)
        term = np.zeros(n, dtype=bool)
        trunc = np.zeros(n, dtype=bool)
        div = np.zeros(n, dtype=bool)
        for i, env in enumerate(self.envs):
            if self.done[i]:
                obs[i] = env.reset()[0]
                self.done[i] = False
                continue
            obs[i], rew[i], term[i], trunc[i], info = env.step(actions[i])
            div[i] = info["sim_diverged"]
            self.done[i] = term[i] or trunc[i]
        return obs, rew, term, trunc, div

    def set_state(self, index: int, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        return self.envs[index].set_state(qpos, qvel)

    def close(self) -> None:
        self.envs = []


class VecEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of task ``name``. Observations ``(N x O)`` float64, actions ``(N x A)``.

    Environment ``i`` draws its resets from the stream ``(seed, i, episode)``: results do not
    depend on ``num_threads``. ``backend``: "auto" (native where built), "native", "python".
    """

    metadata: ClassVar[dict[str, Any]] = {
        "autoreset_mode": AutoresetMode.NEXT_STEP,
        "render_modes": [],
    }

    def __init__(
        self,
        name: str,
        num_envs: int,
        num_threads: int | None = None,
        seed: int = 0,
        max_episode_steps: int | None = None,
        backend: str = "auto",
    ) -> None:
        self.task = get_task(name)
        # Types and sizes here, once: the native backend would otherwise fail in pybind11's
        # conversion or allocate ~170 KB per environment until memory runs out.
        num_envs = check_int("num_envs", num_envs, 1, MAX_ENVS)
        if num_threads is not None:
            num_threads = check_int("num_threads", num_threads, 1, MAX_THREADS)
        seed = check_int("seed", seed, 0, 2**64 - 1)
        if max_episode_steps is not None:
            max_episode_steps = check_int("max_episode_steps", max_episode_steps, 1, 2**31 - 1)
        if backend not in ("auto", "native", "python"):
            raise ValueError(f"expected backend 'auto', 'native' or 'python', got {backend!r}")
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps or self.task.steps_per_trial
        self._seed = seed
        self._backend = _make_backend(
            name, num_envs, num_threads, seed, self.max_episode_steps, backend
        )
        self.backend = "python" if isinstance(self._backend, _PythonBackend) else "native"
        self.single_observation_space = gym.spaces.Box(
            -np.inf, np.inf, (self.task.obs_dim,), np.float64
        )
        self.single_action_space = gym.spaces.Box(
            self.task.action_low, self.task.action_high, (self.task.act_dim,), np.float32
        )
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self._closed_backend = False
        self._first_reset = True

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every environment: ``seed`` (an int) restarts all reset streams with it; without
        a seed each env starts its next episode (the first reset uses the constructor's seed)."""
        if seed is not None:
            if isinstance(seed, (list, tuple)) or int(seed) < 0:
                raise ValueError(f"expected a non-negative int seed, got {seed!r}")
            seed = int(seed)
        elif self._first_reset:
            seed = self._seed
        self._first_reset = False
        self._check_open()
        return self._backend.reset(seed), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        self._check_open()
        act = validate_actions(actions, self.task, self.num_envs)
        obs, rew, term, trunc, div = self._backend.step(act)
        info = {"sim_diverged": div, "_sim_diverged": np.ones(self.num_envs, dtype=bool)}
        return obs, rew, term, trunc, info

    def set_state(self, index: int, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """Overwrite environment ``index``'s simulation state; returns its new observation."""
        self._check_open()
        if not 0 <= index < self.num_envs:
            raise ValueError(f"expected an env index in [0, {self.num_envs}), got {index}")
        return self._backend.set_state(
            index, np.asarray(qpos, np.float64), np.asarray(qvel, np.float64)
        )

    def __enter__(self) -> VecEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close_extras(self, **kwargs: Any) -> None:
        if not self._closed_backend:
            self._backend.close()
            self._closed_backend = True

    def _check_open(self) -> None:
        if self._closed_backend:
            raise RuntimeError("this VecEnv is closed")


def _make_backend(
    name: str,
    num_envs: int,
    num_threads: int | None,
    seed: int,
    max_episode_steps: int,
    backend: str,
):
    if backend != "python":
        from mbrlhpo.envs import native_backend

        if native_backend.available():
            return native_backend.NativeBackend(
                name, num_envs, num_threads, seed, max_episode_steps
            )
        if backend == "native":
            raise RuntimeError(f"the native VecEnv is not available: {native_backend.why()}")
    return _PythonBackend(name, num_envs, seed, max_episode_steps)
