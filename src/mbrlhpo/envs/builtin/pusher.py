"""Task "pusher" (PETS's pusher). C++ twin: ``csrc/include/mbrlhpo/tasks/pusher.h``.

Observation (20): ``[7 qpos, 7 qvel, fingertip xyz, object xyz]``. Reward
``-(0.5 |tip - obj|_1 + 1.25 |goal - obj|_1 + 0.1 |a|^2)``, goal fixed at (0.45, -0.05, -0.323).
"""

from __future__ import annotations

import numpy as np

from mbrlhpo.envs.array_ops import Array, ops, sumsq

# The task is built-in: mbrlhpo.catalog lists this file by this line. Its gymnasium id is
# mbrlhpo/Pusher-v0; the C++ struct is mbrlhpo::tasks::Pusher.
TITLE = "Pusher"
OBS_DIM = 20
ACT_DIM = 7
ACTION_BOUND = 2.0
STEPS_PER_TRIAL = 150
DEFAULT_TRIALS = 80
FRAME_SKIP = 4
TIMESTEP = 0.01
ANGLE_DIMS = ()
ABSOLUTE_TARGET_DIMS = ()

GOAL = (0.45, -0.05, -0.323)


def reward(action: Array, next_obs: Array) -> Array:
    """Pusher reward. ``(..., 7), (..., 20) -> (...)``."""
    xp = ops(next_obs)
    tip = next_obs[..., 14:17]
    obj = next_obs[..., 17:20]
    near = xp.abs(obj - tip).sum(-1)
    dist = sum(xp.abs(obj[..., k] - GOAL[k]) for k in range(3))
    return -(0.5 * near + 1.25 * dist + 0.1 * sumsq(action))


def reset(m, d, rng) -> None:
    # PETS: object slides (y, x) = (-0.25, 0.15) + N(0, 0.025); goal slides 0;
    # arm qvel ~ U(-0.005, 0.005), object and goal at rest.
    d.qpos[7] = -0.25 + rng.normal(0.025)
    d.qpos[8] = 0.15 + rng.normal(0.025)
    for i in range(7):
        d.qvel[i] = rng.uniform(-0.005, 0.005)


def prepare(m) -> tuple[int, int]:
    """Body ids of the fingertip and the object."""
    import mujoco

    return (
        mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "tips_arm"),
        mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "object"),
    )


def observe(ctx: tuple[int, int], m, d, x_velocity: float) -> np.ndarray:
    import mujoco

    # A step leaves xipos at the state before its last physics step: refresh the body positions
    # (after a reset, which ends in mj_forward, this recomputes the same values).
    mujoco.mj_kinematics(m, d)
    tips, obj = ctx
    return np.concatenate([d.qpos[:7], d.qvel[:7], d.xipos[tips], d.xipos[obj]])
