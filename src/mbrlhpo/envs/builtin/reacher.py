"""Task "reacher" (PETS's reacher3d). C++ twin: ``csrc/include/mbrlhpo/tasks/reacher.h``.

Observation (17): ``[7 arm qpos, goal xyz, 7 arm qvel]``. Reward ``-|EE(q) - goal|^2 - 0.01 |a|^2``,
EE by forward kinematics of the 7 joints (:func:`reacher_ee`).
"""

from __future__ import annotations

import numpy as np

from mbrlhpo.envs.array_ops import Array, ops, stack_last, sumsq

# The task is built-in: mbrlhpo.catalog lists this file by this line. Its gymnasium id is
# mbrlhpo/Reacher-v0; the C++ struct is mbrlhpo::tasks::Reacher.
TITLE = "Reacher"
OBS_DIM = 17
ACT_DIM = 7
ACTION_BOUND = 20.0
STEPS_PER_TRIAL = 150
DEFAULT_TRIALS = 80
FRAME_SKIP = 2
TIMESTEP = 0.01
ANGLE_DIMS = ()
ABSOLUTE_TARGET_DIMS = ()

# Arm geometry (PETS reacher3d): shoulder at (0, -0.188, 0); link offsets along the local x axis:
# 0.1 (pan -> lift), 0.4 (upper arm), 0.321 (forearm), 0.16828 (wrist -> tip).
SHOULDER = (0.0, -0.188, 0.0)
LINKS = (0.1, 0.4, 0.321, 0.16828)


def _rot(axis: str, c: Array, s: Array) -> list:
    one = c * 0 + 1
    zero = c * 0
    if axis == "x":
        return [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    if axis == "y":
        return [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    return [[c, -s, zero], [s, c, zero], [zero, zero, one]]


def _matmul3(a: list, b: list) -> list:
    return [
        [a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j] for j in range(3)]
        for i in range(3)
    ]


def reacher_ee(qpos: Array) -> Array:
    """End-effector position of the reacher arm by forward kinematics. ``(..., >=7) -> (..., 3)``.

    Joint axes in order: z (shoulder pan), y (shoulder lift), x (upper arm roll), y (elbow),
    x (forearm roll), y (wrist flex), x (wrist roll; does not move the tip, which is on its axis).
    """
    xp = ops(qpos)
    axes = ("z", "y", "x", "y", "x", "y")
    rots = [_rot(a, xp.cos(qpos[..., i]), xp.sin(qpos[..., i])) for i, a in enumerate(axes)]
    frame = rots[0]
    # Position = shoulder + R1 l0 + R1R2R3 l1 + R1..R5 l2 + R1..R6 l3, each l along local x.
    pos = [frame[k][0] * LINKS[0] + SHOULDER[k] for k in range(3)]
    frame = _matmul3(_matmul3(frame, rots[1]), rots[2])
    pos = [pos[k] + frame[k][0] * LINKS[1] for k in range(3)]
    frame = _matmul3(_matmul3(frame, rots[3]), rots[4])
    pos = [pos[k] + frame[k][0] * LINKS[2] for k in range(3)]
    frame = _matmul3(frame, rots[5])
    pos = [pos[k] + frame[k][0] * LINKS[3] for k in range(3)]
    return stack_last(pos, qpos)


def reward(action: Array, next_obs: Array) -> Array:
    """Reacher 3-D reward ``-|EE - goal|^2 - 0.01 |a|^2``. ``(..., 7), (..., 17) -> (...)``."""
    ee = reacher_ee(next_obs[..., :7])
    return -sumsq(ee - next_obs[..., 7:10]) - 0.01 * sumsq(action)


def reset(m, d, rng) -> None:
    # PETS: arm at rest at zero; goal = initial goal position (0, 0.25, 0) + N(0, 0.1).
    for i in range(7, 10):
        d.qpos[i] = m.qpos0[i] + rng.normal(0.1)


def observe(ctx, m, d, x_velocity: float) -> np.ndarray:
    return np.concatenate([d.qpos, d.qvel[:7]])
