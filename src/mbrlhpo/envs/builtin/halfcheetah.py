"""Task "halfcheetah" (the paper's HalfCheetah, gym v3). C++ twin:
``csrc/include/mbrlhpo/tasks/halfcheetah.h``.

Observation (18): ``[x velocity, qpos[1:] (8), qvel (9)]``. Reward ``s'[0] - 0.1 |a|^2``.
"""

from __future__ import annotations

import numpy as np

from mbrlhpo.envs.array_ops import Array, sumsq

# The task is built-in: mbrlhpo.catalog lists this file by this line. Its gymnasium id is
# mbrlhpo/HalfCheetah-v0; the C++ struct is mbrlhpo::tasks::HalfCheetah.
TITLE = "HalfCheetah"
OBS_DIM = 18
ACT_DIM = 6
ACTION_BOUND = 1.0
STEPS_PER_TRIAL = 1000
DEFAULT_TRIALS = 300
FRAME_SKIP = 5
TIMESTEP = 0.01
ANGLE_DIMS = (2,)
ABSOLUTE_TARGET_DIMS = (0,)
CAMERA = {"track": True, "distance": 4.0}


def reward(action: Array, next_obs: Array) -> Array:
    """HalfCheetah reward ``s'[0] - 0.1 |a|^2``. ``(..., 6), (..., 18) -> (...)``."""
    return next_obs[..., 0] - 0.1 * sumsq(action)


def reset(m, d, rng) -> None:
    # HPO_for_RL / gym v3: qpos = init + U(-0.1, 0.1), qvel = N(0, 0.1).
    for i in range(m.nq):
        d.qpos[i] = m.qpos0[i] + rng.uniform(-0.1, 0.1)
    for i in range(m.nv):
        d.qvel[i] = rng.normal(0.1)


def observe(ctx, m, d, x_velocity: float) -> np.ndarray:
    return np.concatenate([[x_velocity], d.qpos[1:], d.qvel])
