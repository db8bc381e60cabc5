"""What ``gymnasium.make`` and ``gymnasium.make_vec`` call for the ids in ``GYM_IDS``.

``make``: a single env without its own step limit; gymnasium's ``TimeLimit`` truncates at the
spec's ``max_episode_steps`` (the task's steps per trial) or at ``make(id, max_episode_steps=N)``.

``make_vec`` with ``vectorization_mode="vector_entry_point"`` (the default for these ids): the
native :class:`~mbrlhpo.envs.vec_env.VecEnv` (C++ threads, GIL released), with gymnasium's
NEXT_STEP autoreset, equal step for step to gymnasium's ``SyncVectorEnv`` over the single envs
(tests/envs/test_gym_api.py). Seeding differs between the modes: ``VecEnv.reset(seed=s)`` gives
env ``i`` the reset stream ``(s, i, episode)``, while ``SyncVectorEnv`` seeds env ``i`` with
``s + i``; both are reproducible, their draws differ. ``"sync"`` and ``"async"`` modes build
gymnasium's own vector envs over :func:`make_single_env` (and can render).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from mbrlhpo.envs import NO_STEP_LIMIT, make_env
from mbrlhpo.envs.vec_env import VecEnv


def make_single_env(name: str, **options: Any) -> gym.Env:
    """``gymnasium.make(id, ...)``: :func:`mbrlhpo.make_env` options, step limit left to
    gymnasium."""
    if "max_episode_steps" in options:
        raise ValueError(
            "expected max_episode_steps as gymnasium.make's own argument "
            "(gymnasium.make(id, max_episode_steps=N)), got it as an env option"
        )
    return make_env(name, max_episode_steps=NO_STEP_LIMIT, **options)


# gymnasium.make reads the creator's render modes: "rgb_array_list" then gets gymnasium's
# RenderCollection wrapper over "rgb_array" (and "human" its HumanRendering, which needs pygame).
make_single_env.metadata = {"render_modes": ["rgb_array"]}


def make_vector_env(
    name: str,
    num_envs: int,
    max_episode_steps: int | None = None,
    render_mode: str | None = None,
    **options: Any,
) -> VecEnv:
    """``gymnasium.make_vec(id, num_envs, ...)``: a native :class:`VecEnv`. Options: ``seed``
    (the first reset's seed), ``num_threads``, ``backend`` ("auto", "native", "python");
    ``max_episode_steps=-1``: no step limit, as in ``gymnasium.make``."""
    if render_mode is not None:
        raise ValueError(
            f"the native VecEnv does not render; expected render_mode=None, got {render_mode!r} "
            "(use gymnasium.make_vec(..., vectorization_mode='sync') to render)"
        )
    if max_episode_steps == -1:
        max_episode_steps = NO_STEP_LIMIT
    return VecEnv(name, num_envs, max_episode_steps=max_episode_steps, **options)
