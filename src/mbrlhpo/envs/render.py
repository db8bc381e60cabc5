"""Frames of a task's simulation from MuJoCo's offscreen renderer (``render_mode="rgb_array"``).

The camera is MuJoCo's default free camera for the model (it frames the whole scene), adjusted by
the task module's ``CAMERA`` (``mbrlhpo.envs.builtin.<name>``): ``track`` follows the torso (the
locomotion tasks hopper, halfcheetah, hexapod, which would otherwise run out of the picture),
``distance`` (m) frames the robot (MuJoCo's default, from the model's extent, frames the whole
scene, in which cartpole's long rail and the locomotion floors dwarf the robot), ``lookat`` aims.
Headless machines need ``MUJOCO_GL=egl`` or ``osmesa`` (``reference_env`` sets ``egl`` where
there is no display).
"""

from __future__ import annotations

import mujoco
import numpy as np

from mbrlhpo.envs.builtin import task_module
from mbrlhpo.envs.tasks import TaskSpec


class FrameRenderer:
    """Renders ``(height x width x 3)`` uint8 frames of one model; owns a GL context."""

    def __init__(self, task: TaskSpec, model: mujoco.MjModel, width: int, height: int) -> None:
        # The offscreen buffer must hold the frame (the model's default is 640 x 480).
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, height)
        try:
            self._renderer = mujoco.Renderer(model, height, width)
        except Exception as exc:  # noqa: BLE001 - the GL backend's errors vary by platform
            raise RuntimeError(
                f"MuJoCo's offscreen renderer failed ({type(exc).__name__}: {exc}); on a "
                "machine without a display set MUJOCO_GL=egl (or osmesa) before MuJoCo is "
                "imported"
            ) from exc
        self._camera = mujoco.MjvCamera()
        mujoco.mjv_defaultFreeCamera(model, self._camera)
        camera = getattr(task_module(task.name), "CAMERA", {})
        if camera.get("track"):
            self._camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
            self._camera.trackbodyid = 1  # the torso: the first body after the world
            self._camera.elevation = -15.0
        if "distance" in camera:
            self._camera.distance = camera["distance"]
        if "lookat" in camera:
            self._camera.lookat[:] = camera["lookat"]

    def render(self, data: mujoco.MjData) -> np.ndarray:
        self._renderer.update_scene(data, self._camera)
        return self._renderer.render()

    def close(self) -> None:
        self._renderer.close()
