"""The gymnasium ids of mbrlhpo's tasks, registered by ``import mbrlhpo`` without loading
gymnasium.

``import gymnasium`` costs about 0.3 s (NumPy included) against about 0.02 s for ``import mbrlhpo``
(``bench`` note in docs/tasks.md), so ``import mbrlhpo`` does not import it: if gymnasium is
already loaded the ids are registered at once, otherwise a one-shot import hook registers them
right after gymnasium itself has loaded. Either way ``gymnasium.make("mbrlhpo/Cartpole-v0")``
works after ``import mbrlhpo``, in whichever order the two were imported. This module imports
nothing heavy; the entry points (``mbrlhpo.envs.gym_entry_points``) load only on ``make``.
"""

from __future__ import annotations

import sys
import warnings

from mbrlhpo.catalog import TASK_TITLES

# Task name -> gymnasium id, e.g. "halfcheetah" -> "mbrlhpo/HalfCheetah-v0".
GYM_IDS: dict[str, str] = {name: f"mbrlhpo/{title}-v0" for name, title in TASK_TITLES.items()}

_ENTRY = "mbrlhpo.envs.gym_entry_points"


def register_env_ids() -> None:
    """Register every id in :data:`GYM_IDS` with gymnasium (idempotent; imports gymnasium).

    Each id's ``max_episode_steps`` is the task's steps per trial (the default horizon), applied
    by gymnasium's ``TimeLimit``, so ``gymnasium.make(id, max_episode_steps=N)`` sets it."""
    import gymnasium as gym

    from mbrlhpo.envs.tasks import get_task

    for name, env_id in GYM_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point=f"{_ENTRY}:make_single_env",
                vector_entry_point=f"{_ENTRY}:make_vector_env",
                max_episode_steps=get_task(name).steps_per_trial,
                kwargs={"name": name},
            )


class _AfterGymnasiumLoads:
    """A meta path finder (not derived from ``importlib.abc``, whose import costs 30 ms) that
    finds ``gymnasium`` with the other finders and registers the ids once it has executed."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)  # one shot; the other finders locate the real package
        spec = None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_gymnasium = spec.loader.exec_module

        def exec_module(module):
            exec_gymnasium(module)
            _register_or_warn()

        spec.loader.exec_module = exec_module  # this loader instance serves gymnasium only
        return spec


def _register_or_warn() -> None:
    try:
        register_env_ids()
    except Exception as exc:  # noqa: BLE001 - never break someone's `import gymnasium`
        warnings.warn(f"mbrlhpo could not register its gymnasium ids: {exc}", stacklevel=2)


def register_when_gymnasium_loads() -> None:
    """Register the ids now if gymnasium is loaded, else as soon as it is imported."""
    if "gymnasium" in sys.modules:
        _register_or_warn()
    elif not any(isinstance(f, _AfterGymnasiumLoads) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterGymnasiumLoads())
