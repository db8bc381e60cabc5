"""Task "hopper" (the paper's Hopper, gym v3). C++ twin: ``csrc/include/mbrlhpo/tasks/hopper.h``.

Observation (12): ``[x velocity, qpos[1:] (5), clip(qvel, +-10) (6)]``. Reward
``s'[0] - 1e-3 |a|^2`` (the paper's code adds an alive bonus in the env only; see
:func:`hopper_alive_bonus`, reported by the envs in ``info``).
"""

from __future__ import annotations

import numpy as np

from mbrlhpo.envs.array_ops import Array, ops, sumsq

# The task is built-in: mbrlhpo.catalog lists this file by this line. Its gymnasium id is
# mbrlhpo/Hopper-v0; the C++ struct is mbrlhpo::tasks::Hopper.
TITLE = "Hopper"
OBS_DIM = 12
ACT_DIM = 3
ACTION_BOUND = 1.0
STEPS_PER_TRIAL = 1000
DEFAULT_TRIALS = 300
FRAME_SKIP = 4
TIMESTEP = 0.002
ANGLE_DIMS = ()
ABSOLUTE_TARGET_DIMS = (0,)
CAMERA = {"track": True, "distance": 4.0}


def reward(action: Array, next_obs: Array) -> Array:
    """Hopper planning reward ``s'[0] - 1e-3 |a|^2``. ``(..., 3), (..., 12) -> (...)``."""
    return next_obs[..., 0] - 1e-3 * sumsq(action)


def hopper_alive_bonus(next_obs: Array) -> Array:
    """The paper's env-only Hopper alive bonus (1 while healthy, else 0). ``(..., 12) -> (...)``.

    Healthy: all finite, ``|s[2:]| < 100``, height ``s[1] > 0.7`` and ``|angle s[2]| < 0.2``.
    Not part of the task reward (the planner never used it); envs report it in ``info``.
    """
    xp = ops(next_obs)
    healthy = (
        (xp.abs(next_obs[..., 2:]) < 100).all(-1)
        & (next_obs[..., 1] > 0.7)
        & (xp.abs(next_obs[..., 2]) < 0.2)
    )
    return healthy * 1.0


def env_info(next_obs: np.ndarray) -> dict:
    return {"alive_bonus": float(hopper_alive_bonus(next_obs))}


def reset(m, d, rng) -> None:
    # HPO_for_RL / gym v3: qpos, qvel = init + U(-0.005, 0.005).
    for i in range(m.nq):
        d.qpos[i] = m.qpos0[i] + rng.uniform(-0.005, 0.005)
    for i in range(m.nv):
        d.qvel[i] = rng.uniform(-0.005, 0.005)


def observe(ctx, m, d, x_velocity: float) -> np.ndarray:
    return np.concatenate([[x_velocity], d.qpos[1:], np.clip(d.qvel, -10.0, 10.0)])
