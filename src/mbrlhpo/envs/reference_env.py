"""Pure-Python environments over the ``mujoco`` bindings: the fallback and the independent check
of the native vectorised environments.

What the task spec does not fix, the task's module (``mbrlhpo.envs.builtin.<name>``) does: how
the observation is read from the simulation, and the reset distribution (drawn with
:class:`~mbrlhpo.envs.reset_rng.ResetRng`, so the native envs, which run the C++ twins in
``csrc/src/task_envs/``, reproduce it exactly). Sources of the facts: PETS
(kchua/handful-of-trials) for cartpole, reacher and pusher; the paper's code (automl/HPO_for_RL,
gym v3 envs) for hopper and halfcheetah; the hexapod is ours.

Step semantics (shared with the native envs):
- the action is validated (shape, floating dtype, finite) and clipped to the bounds;
- ``ctrl = action``, then ``frame_skip`` physics steps; x velocity = displacement / dt;
- reward = ``task.reward(action_clipped, next_obs)``; terminated = ``task.terminated(next_obs)``;
- the episode is truncated after ``max_episode_steps`` steps (default: the task's horizon);
  stepping an ended episode without ``reset()`` raises RuntimeError;
- a step whose simulation produces NaN/inf or a MuJoCo bad qpos/qvel/qacc warning ends the
  episode: ``truncated=True``, ``info["sim_diverged"]=True``, and the observation returned is the
  last valid one (the step's reward is computed on it, so reward == task.reward always holds).
"""

from __future__ import annotations

from typing import Any, ClassVar

from mbrlhpo.envs.headless_gl import use_headless_gl_default

use_headless_gl_default()  # before mujoco is imported (it reads MUJOCO_GL then)

import gymnasium as gym  # noqa: E402
import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from mbrlhpo.envs.builtin import task_module  # noqa: E402
from mbrlhpo.envs.builtin.hexapod import quat_to_rpy  # noqa: E402, F401 (tests import it here)
from mbrlhpo.envs.render import FrameRenderer  # noqa: E402
from mbrlhpo.envs.reset_rng import ResetRng  # noqa: E402
from mbrlhpo.envs.tasks import TaskSpec, get_task  # noqa: E402

_DIVERGENCE_WARNINGS = (
    mujoco.mjtWarning.mjWARN_BADQACC,
    mujoco.mjtWarning.mjWARN_BADQPOS,
    mujoco.mjtWarning.mjWARN_BADQVEL,
)


def validate_action(action: Any, task: TaskSpec) -> np.ndarray:
    """Check an action's shape, dtype and finiteness; return it clipped to the bounds as float64.

    Raises ValueError naming what was expected and what came.
    """
    arr = np.asarray(action)
    if arr.dtype.kind != "f":
        raise ValueError(f"{task.name}: expected a floating-point action, got dtype {arr.dtype}")
    if arr.shape != (task.act_dim,):
        raise ValueError(
            f"{task.name}: expected action of shape ({task.act_dim},), got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{task.name}: expected a finite action, got {arr}")
    # Clip in float32 (the action space's dtype) then widen, like the native envs.
    clipped = np.clip(arr.astype(np.float32), task.action_low, task.action_high)
    return clipped.astype(np.float64)


class ReferenceEnv(gym.Env):
    """One task as a gymnasium env over the ``mujoco`` Python bindings.

    ``seed``: reset streams are keyed by (seed, env_index, episode); ``reset(seed=s)`` restarts
    the episode counter at 0 with seed ``s``. Observations are float64 ``(O,)``.
    ``render_mode="rgb_array"``: :meth:`render` returns a ``(height x width x 3)`` uint8 frame
    from MuJoCo's offscreen renderer (headless: EGL, or OSMesa with ``MUJOCO_GL=osmesa``).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        name: str,
        seed: int | None = None,
        max_episode_steps: int | None = None,
        env_index: int = 0,
        render_mode: str | None = None,
        width: int = 480,
        height: int = 480,
    ) -> None:
        super().__init__()
        self.task = get_task(name)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"expected render_mode None or 'rgb_array', got {render_mode!r}")
        if width < 1 or height < 1:
            raise ValueError(f"expected a frame size >= 1 x 1, got {width} x {height}")
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": round(1.0 / self.task.dt)}
        self._frame_size = (int(width), int(height))
        self._renderer: FrameRenderer | None = None
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"expected max_episode_steps >= 1, got {max_episode_steps}")
        self.max_episode_steps = max_episode_steps or self.task.steps_per_trial
        self.model = mujoco.MjModel.from_xml_path(self.task.model_file)
        self.data = mujoco.MjData(self.model)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.task.obs_dim,), np.float64)
        self.action_space = gym.spaces.Box(
            self.task.action_low, self.task.action_high, (self.task.act_dim,), np.float32
        )
        self._hooks = task_module(name)  # reset, observe, optional prepare and env_info
        prepare = getattr(self._hooks, "prepare", None)
        self._obs_ctx = prepare(self.model) if prepare is not None else None
        self._env_index = env_index
        self._seed = seed
        self._episode = 0
        self._elapsed = 0
        self._obs: np.ndarray | None = None
        self._ended = False

    # ---- gymnasium API --------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            self._seed, self._episode = int(seed), 0
        elif self._seed is None:
            self._seed = int(self.np_random.integers(0, 2**63))
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        self._hooks.reset(m, d, ResetRng(self._seed, self._env_index, self._episode))
        mujoco.mj_forward(m, d)
        self._episode += 1
        self._elapsed = 0
        self._ended = False
        self._obs = self._observe(float(d.qvel[0]))
        return self._obs.copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        if self._ended:
            raise RuntimeError("the episode has ended; call reset() before step()")
        act = validate_action(action, self.task)
        m, d = self.model, self.data
        x_before = float(d.qpos[0])
        warnings_before = sum(d.warning[w].number for w in _DIVERGENCE_WARNINGS)
        d.ctrl[:] = act
        mujoco.mj_step(m, d, self.task.frame_skip)
        obs = self._observe((float(d.qpos[0]) - x_before) / self.task.dt)
        diverged = sum(
            d.warning[w].number for w in _DIVERGENCE_WARNINGS
        ) > warnings_before or not np.all(np.isfinite(obs))
        if diverged:
            obs = self._obs
        self._elapsed += 1
        reward = float(self.task.reward(act, obs))
        terminated = bool(self.task.terminated(obs))
        truncated = diverged or self._elapsed >= self.max_episode_steps
        info: dict[str, Any] = {"sim_diverged": diverged}
        if hasattr(self._hooks, "env_info"):
            info.update(self._hooks.env_info(obs))
        self._obs = obs
        self._ended = terminated or truncated
        return obs.copy(), reward, terminated, truncated, info

    def _observe(self, x_velocity: float) -> np.ndarray:
        return self._hooks.observe(self._obs_ctx, self.model, self.data, x_velocity)

    def render(self) -> np.ndarray | None:
        """The current frame ``(height x width x 3)`` uint8 with ``render_mode="rgb_array"``;
        None without a render mode (gymnasium's convention)."""
        if self.render_mode is None:
            return None
        if self._renderer is None:
            self._renderer = FrameRenderer(self.task, self.model, *self._frame_size)
        return self._renderer.render(self.data)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ---- extras ---------------------------------------------------------------------------
    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """Overwrite the simulation state (tests, replays); returns the new observation."""
        qpos = np.asarray(qpos, dtype=np.float64)
        qvel = np.asarray(qvel, dtype=np.float64)
        if qpos.shape != (self.model.nq,) or qvel.shape != (self.model.nv,):
            raise ValueError(
                f"expected qpos ({self.model.nq},) and qvel ({self.model.nv},), "
                f"got {qpos.shape} and {qvel.shape}"
            )
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)
        self._ended = False
        self._obs = self._observe(float(self.data.qvel[0]))
        return self._obs.copy()
