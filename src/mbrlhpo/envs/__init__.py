"""mbrlhpo.envs: the six tasks and their (vectorised) MuJoCo environments."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from mbrlhpo.envs.reference_env import ReferenceEnv
from mbrlhpo.envs.tasks import TASK_NAMES, TaskSpec, get_task
from mbrlhpo.envs.vec_env import VecEnv

GYM_IDS: dict[str, str] = {
    "cartpole": "mbrlhpo/Cartpole-v0",
    "reacher": "mbrlhpo/Reacher-v0",
    "pusher": "mbrlhpo/Pusher-v0",
    "hopper": "mbrlhpo/Hopper-v0",
    "halfcheetah": "mbrlhpo/HalfCheetah-v0",
    "hexapod": "mbrlhpo/Hexapod-v0",
}


def make_env(name: str, seed: int | None = None, **options: Any) -> gym.Env:
    """A single environment of task ``name`` (see :data:`TASK_NAMES`).

    ``seed``: the reset stream's seed (None: drawn from entropy at the first reset; reset(seed=)
    overrides). Options: ``max_episode_steps`` (default: the task's steps per trial),
    ``backend`` ("auto": native where built, else the Python reference env; "native";
    "reference").
    """
    get_task(name)  # unknown name -> ValueError listing the names
    backend = options.pop("backend", "auto")
    max_episode_steps = options.pop("max_episode_steps", None)
    if options:
        raise ValueError(
            f"unknown make_env options {sorted(options)}; expected 'backend', 'max_episode_steps'"
        )
    if backend not in ("auto", "native", "reference"):
        raise ValueError(f"expected backend 'auto', 'native' or 'reference', got {backend!r}")
    if backend != "reference":
        from mbrlhpo.envs import native_backend

        if native_backend.available():
            from mbrlhpo.envs.native_env import NativeEnv

            return NativeEnv(name, seed=seed, max_episode_steps=max_episode_steps)
        if backend == "native":
            raise RuntimeError(f"the native env is not available: {native_backend.why()}")
    return ReferenceEnv(name, seed=seed, max_episode_steps=max_episode_steps)


def _register() -> None:
    for name, env_id in GYM_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=make_env, kwargs={"name": name})


_register()

__all__ = ["GYM_IDS", "TASK_NAMES", "ReferenceEnv", "TaskSpec", "VecEnv", "get_task", "make_env"]
