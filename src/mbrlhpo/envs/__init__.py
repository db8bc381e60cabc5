"""mbrlhpo.envs: the six tasks and their (vectorised) MuJoCo environments.

Names are loaded on first use (PEP 562), so ``mbrlhpo.envs.tasks`` can be imported (by the
gymnasium registration, for instance) without loading MuJoCo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mbrlhpo.gym_registration import GYM_IDS, register_when_gymnasium_loads
from mbrlhpo.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    import gymnasium as gym

_EXPORTS = {
    "ReferenceEnv": "mbrlhpo.envs.reference_env",
    "TASK_NAMES": "mbrlhpo.envs.tasks",
    "TaskSpec": "mbrlhpo.envs.tasks",
    "get_task": "mbrlhpo.envs.tasks",
    "VecEnv": "mbrlhpo.envs.vec_env",
    "Task": "mbrlhpo.envs.custom_task",
    "TaskCompileError": "mbrlhpo.envs.task_compiler",
    "load_task": "mbrlhpo.envs.custom_task",
}

# No step limit: the envs made by gymnasium.make leave truncation to gymnasium's TimeLimit.
NO_STEP_LIMIT = 2**31 - 1


def make_env(name: str, seed: int | None = None, **options: Any) -> gym.Env:
    """A single environment of task ``name`` (see :data:`TASK_NAMES`).

    ``seed``: the reset stream's seed (None: drawn from entropy at the first reset; reset(seed=)
    overrides). Options: ``max_episode_steps`` (default: the task's steps per trial;
    :data:`NO_STEP_LIMIT` for none), ``backend`` ("auto": native where built, else the Python
    reference env; "native"; "reference"), ``render_mode`` (None or "rgb_array": MuJoCo's
    offscreen renderer, on the reference env, which gives the native env's results bit for bit),
    ``width`` and ``height`` of the rendered frames (default 480 x 480).
    """
    from mbrlhpo.envs.tasks import get_task

    get_task(name)  # unknown name -> ValueError listing the names
    backend = options.pop("backend", "auto")
    max_episode_steps = options.pop("max_episode_steps", None)
    render = {k: options.pop(k) for k in ("render_mode", "width", "height") if k in options}
    if options:
        raise ValueError(
            f"unknown make_env options {sorted(options)}; expected 'backend', "
            "'max_episode_steps', 'render_mode', 'width', 'height'"
        )
    if backend not in ("auto", "native", "reference"):
        raise ValueError(f"expected backend 'auto', 'native' or 'reference', got {backend!r}")
    if render.get("render_mode") is not None and backend == "native":
        raise ValueError(
            "expected backend 'auto' or 'reference' with a render_mode (only the reference env "
            "renders), got 'native'"
        )
    if backend != "reference" and render.get("render_mode") is None:
        from mbrlhpo.envs import native_backend

        if native_backend.available():
            from mbrlhpo.envs.native_env import NativeEnv

            return NativeEnv(name, seed=seed, max_episode_steps=max_episode_steps)
        if backend == "native":
            raise RuntimeError(f"the native env is not available: {native_backend.why()}")
    from mbrlhpo.envs.reference_env import ReferenceEnv

    return ReferenceEnv(name, seed=seed, max_episode_steps=max_episode_steps, **render)


__getattr__ = lazy_getattr(__name__, _EXPORTS)


register_when_gymnasium_loads()

__all__ = [
    "GYM_IDS",
    "NO_STEP_LIMIT",
    "TASK_NAMES",
    "Task",
    "TaskCompileError",
    "load_task",
    "ReferenceEnv",
    "TaskSpec",
    "VecEnv",
    "get_task",
    "make_env",
]
