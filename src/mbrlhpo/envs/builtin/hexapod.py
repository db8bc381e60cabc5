"""Task "hexapod" (ours; the paper's Daisy stand-in). C++ twin:
``csrc/include/mbrlhpo/tasks/hexapod.h``.

Observation (24): ``[18 joint angles, forward (x) velocity, base y, base z, roll, pitch, yaw]``;
reward = forward velocity ``s'[18]``. The paper's Daisy obs has base xyz; ours puts the forward
velocity in place of base x (as HalfCheetah does) so that the reward is a function of the next
observation.
"""

from __future__ import annotations

import math

import numpy as np

from mbrlhpo.envs.array_ops import Array

# The task is built-in: mbrlhpo.catalog lists this file by this line. Its gymnasium id is
# mbrlhpo/Hexapod-v0; the C++ struct is mbrlhpo::tasks::Hexapod.
TITLE = "Hexapod"
OBS_DIM = 24
ACT_DIM = 18
ACTION_BOUND = 1.0
STEPS_PER_TRIAL = 1000
DEFAULT_TRIALS = 300
FRAME_SKIP = 4
TIMESTEP = 0.005
ANGLE_DIMS = (21, 22, 23)
ABSOLUTE_TARGET_DIMS = (18,)
CAMERA = {"track": True, "distance": 1.5}


def reward(action: Array, next_obs: Array) -> Array:
    """Hexapod reward: forward velocity ``s'[18]``. ``(..., 18), (..., 24) -> (...)``."""
    return next_obs[..., 18] * 1.0


def quat_to_rpy(w: float, x: float, y: float, z: float) -> tuple[float, float, float]:
    """Roll, pitch, yaw (ZYX Tait-Bryan, radians) of a unit quaternion (w, x, y, z)."""
    roll = math.atan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y))
    sin_pitch = max(-1.0, min(1.0, 2.0 * (w * y - z * x)))
    pitch = math.asin(sin_pitch)
    yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    return roll, pitch, yaw


def reset(m, d, rng) -> None:
    # Ours: standing pose; joint angles + U(-0.1, 0.1); all velocities U(-0.05, 0.05).
    for i in range(7, m.nq):
        d.qpos[i] = m.qpos0[i] + rng.uniform(-0.1, 0.1)
    for i in range(m.nv):
        d.qvel[i] = rng.uniform(-0.05, 0.05)


def observe(ctx, m, d, x_velocity: float) -> np.ndarray:
    qpos = d.qpos
    roll, pitch, yaw = quat_to_rpy(*qpos[3:7])
    return np.concatenate([qpos[7:25], [x_velocity, qpos[1], qpos[2], roll, pitch, yaw]])
