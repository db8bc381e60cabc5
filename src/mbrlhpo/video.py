"""A video of an agent: one episode planned by the agent, rendered offscreen, written as a GIF.

GIF because Pillow (already installed with matplotlib) writes it and every browser and viewer
plays it; no ffmpeg is needed. GIF frame delays are whole centiseconds and viewers stretch
delays under 20 ms to 100 ms, so a task whose control period is shorter or not a whole number of
centiseconds keeps every k-th frame (:func:`gif_stride`; hopper's 8 ms: every 5th, 40 ms apart)
to play in real time.
The episode runs on the reference env (bit for bit the native env's physics) with the reset
stream ``(seed, 0, 0)``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

MIN_GIF_FRAME_S = 0.02


def check_video_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it names a GIF file, else ValueError (checked before long runs)."""
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"expected a video path ending in .gif, got {str(path)!r}")
    return path


def gif_stride(frame_s: float) -> int:
    """Keep every k-th frame: the smallest k whose delay ``k frame_s`` is at least 20 ms and a
    whole number of centiseconds (real time exactly), else the smallest at least 20 ms."""
    if frame_s <= 0:
        raise ValueError(f"expected a frame period > 0 s, got {frame_s}")
    first = max(1, math.ceil(MIN_GIF_FRAME_S / frame_s - 1e-9))
    for k in range(first, first + 10):
        centis = 100 * k * frame_s
        if abs(centis - round(centis)) < 1e-6:
            return k
    return first


def write_gif(frames: list[np.ndarray], path: str | os.PathLike, frame_s: float) -> Path:
    """Writes ``frames`` (each ``(H x W x 3)`` uint8) to ``path`` (``.gif``), ``frame_s``
    seconds apart in real time (frames are dropped to keep GIF delays >= 20 ms)."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("writing a video needs Pillow: pip install 'mbrlhpo[video]'") from exc
    path = check_video_path(path)
    if not frames:
        raise ValueError("expected at least one frame, got none")
    stride = gif_stride(frame_s)
    kept = frames[::stride]
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in kept]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    images[0].save(
        tmp,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(20, round(1000 * frame_s * stride, -1)),
        loop=0,
    )
    os.replace(tmp, path)
    return path


def record_agent_video(
    agent: Any,
    path: str | os.PathLike,
    *,
    seed: int = 0,
    max_steps: int | None = None,
    width: int = 320,
    height: int = 240,
) -> Path:
    """One episode of ``agent`` (a :class:`~mbrlhpo.agent.PETSAgent`) planning every step
    (random actions if it has not finished its random trial yet), as a GIF at ``path``.

    The agent's planner state and RNG are restored afterwards, so recording does not change what the
    agent does next. ``max_steps``: stop earlier than the task's horizon."""
    from mbrlhpo.envs.reference_env import ReferenceEnv

    task = agent.task
    steps = task.steps_per_trial if max_steps is None else int(max_steps)
    if steps < 1:
        raise ValueError(f"expected max_steps >= 1, got {max_steps}")
    env = ReferenceEnv(task.name, seed=seed, render_mode="rgb_array", width=width, height=height)
    saved, rng_state = agent.planner.get_state(), agent.rng.bit_generator.state
    try:
        agent.planner.reset()
        obs, _ = env.reset()
        frames = [env.render()]
        for _ in range(steps):
            action = agent.random_action() if agent.in_random_trial else agent.act(obs)
            obs, _, terminated, truncated, _ = env.step(action)
            frames.append(env.render())
            if terminated or truncated:
                break
    finally:
        agent.planner.set_state(saved)
        agent.rng.bit_generator.state = rng_state
        env.close()
    return write_gif(frames, path, task.dt)
