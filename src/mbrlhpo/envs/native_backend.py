"""Adapter between :class:`VecEnv` and the native vectorised env in ``mbrlhpo._core``."""

from __future__ import annotations

import numpy as np

_WHY: str | None = None
_CORE = None


def _load():
    global _CORE, _WHY
    if _CORE is not None or _WHY is not None:
        return _CORE
    try:
        from mbrlhpo import _native  # the only module that imports _core

        core = _native.core()
        if not hasattr(core, "NativeVecEnv"):
            raise ImportError("mbrlhpo._core has no NativeVecEnv")
        _CORE = core
    except Exception as exc:  # noqa: BLE001 - any failure means: use the Python backend
        _WHY = f"{type(exc).__name__}: {exc}"
    return _CORE


def available() -> bool:
    """Whether the native vectorised env is built and importable."""
    return _load() is not None


def why() -> str:
    """Why the native env is unavailable ('' if it is available)."""
    _load()
    return _WHY or ""


class NativeBackend:
    """Owns a ``_core.NativeVecEnv``; all arrays are float64 / bool NumPy."""

    def __init__(
        self, name: str, num_envs: int, num_threads: int | None, seed: int, max_episode_steps: int
    ) -> None:
        core = _load()
        from mbrlhpo.envs.tasks import get_task

        self._env = core.NativeVecEnv(
            name, get_task(name).model_file, num_envs, num_threads or 0, seed, max_episode_steps
        )
        self.num_envs = num_envs

    def reset(self, seed: int | None) -> np.ndarray:
        return self._env.reset(seed)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        return self._env.step(np.ascontiguousarray(actions, dtype=np.float64))

    def set_state(self, index: int, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        return self._env.set_state(index, np.ascontiguousarray(qpos), np.ascontiguousarray(qvel))

    def close(self) -> None:
        self._env.close()
