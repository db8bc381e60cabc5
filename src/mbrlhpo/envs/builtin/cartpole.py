"""Task "cartpole" (PETS's cartpole swing-up). C++ twin: ``csrc/include/mbrlhpo/tasks/cartpole.h``.

Observation (4): ``[x, theta, xdot, thetadot]``. Reward
``exp(-|ee - (0, 0.6)|^2 / 0.6^2) - 0.01 a^2`` with ``ee = (x - 0.6 sin theta, -0.6 cos theta)``.
"""

from __future__ import annotations

import numpy as np

from mbrlhpo.envs.array_ops import Array, ops, sumsq

# The task is built-in: mbrlhpo.catalog lists this file by this line. Its gymnasium id is
# mbrlhpo/Cartpole-v0; the C++ struct is mbrlhpo::tasks::Cartpole.
TITLE = "Cartpole"
OBS_DIM = 4
ACT_DIM = 1
ACTION_BOUND = 3.0
STEPS_PER_TRIAL = 200
DEFAULT_TRIALS = 15
FRAME_SKIP = 2
TIMESTEP = 0.02
ANGLE_DIMS = (1,)
ABSOLUTE_TARGET_DIMS = ()
CAMERA = {"distance": 3.0, "lookat": (0.0, 0.0, 0.0)}

POLE_LENGTH = 0.6


def reward(action: Array, next_obs: Array) -> Array:
    """Cartpole swing-up reward. ``(..., 1), (..., 4) -> (...)``."""
    xp = ops(next_obs)
    length = POLE_LENGTH
    x, theta = next_obs[..., 0], next_obs[..., 1]
    ee_x = x - length * xp.sin(theta)
    ee_y = -length * xp.cos(theta)
    dist2 = ee_x * ee_x + (ee_y - length) * (ee_y - length)
    return xp.exp(-dist2 / (length * length)) - 0.01 * sumsq(action)


def reset(m, d, rng) -> None:
    # PETS: qpos, qvel = init + N(0, 0.1) each.
    for i in range(m.nq):
        d.qpos[i] = m.qpos0[i] + rng.normal(0.1)
    for i in range(m.nv):
        d.qvel[i] = rng.normal(0.1)


def observe(ctx, m, d, x_velocity: float) -> np.ndarray:
    return np.concatenate([d.qpos, d.qvel])
