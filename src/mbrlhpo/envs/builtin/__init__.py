"""One module per built-in task: its Python definition (``docs/new_task.md``).

Module ``mbrlhpo.envs.builtin.<name>`` (``name`` as listed in ``mbrlhpo.catalog.TASK_NAMES``)
defines, as the C++ header ``csrc/include/mbrlhpo/tasks/<name>.h`` and its host-only sibling
``csrc/src/task_envs/<name>.cpp`` do:

- the numbers: ``OBS_DIM``, ``ACT_DIM``, ``ACTION_BOUND`` (actions in ``[-bound, bound]``),
  ``STEPS_PER_TRIAL``, ``DEFAULT_TRIALS``, ``FRAME_SKIP``, ``TIMESTEP`` (the MJCF's physics
  step), ``ANGLE_DIMS`` (fed to the model as sin/cos), ``ABSOLUTE_TARGET_DIMS`` (predicted as
  absolute values, the others as deltas);
- ``reward(action, next_obs)`` and optionally ``terminated(next_obs)`` (default: never), batched
  over leading dims, on NumPy arrays or torch tensors (``mbrlhpo.envs.array_ops``);
- for the Python reference environment: ``reset(m, d, rng)`` (the initial state, after
  ``mj_resetData``; ``mj_forward`` follows) and ``observe(ctx, m, d, x_velocity)`` (the
  observation after a reset or a step; ``ctx`` is what the optional ``prepare(m)`` returned);
- optionally ``env_info(next_obs)``: extra ``info`` entries of a step (hopper's alive bonus), and
  ``CAMERA``: render settings (``mbrlhpo.envs.render``).

MuJoCo is imported inside the functions that need it, so ``mbrlhpo.envs.tasks`` loads without it.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def task_module(name: str) -> ModuleType:
    """The module of built-in task ``name`` (a name of ``mbrlhpo.catalog.TASK_NAMES``)."""
    return importlib.import_module(f"{__name__}.{name}")
