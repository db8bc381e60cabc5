"""Videos: GIF writing, one planned episode of an agent, ``pets --video``, ``evaluate --video``
(headless rendering through MuJoCo's EGL/OSMesa backends; skipped where neither works)."""

from __future__ import annotations

import numpy as np
import pytest

from mbrlhpo.cli import main
from mbrlhpo.envs import ReferenceEnv
from mbrlhpo.video import record_agent_video, write_gif

PIL = pytest.importorskip("PIL.Image", reason="videos need Pillow (mbrlhpo[video])")
TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2, epochs=3)
TINY_CLI = [x for k, v in TINY.items() for x in ("--set", f"{k}={v}")]


@pytest.fixture(scope="module", autouse=True)
def renderer_works():
    env = ReferenceEnv("cartpole", render_mode="rgb_array", width=8, height=8)
    env.reset(seed=0)
    try:
        env.render()
    except RuntimeError as exc:
        pytest.skip(f"no headless OpenGL here (EGL/OSMesa): {exc}")
    finally:
        env.close()


def _frames(path):
    with PIL.open(path) as im:
        return im.n_frames, im.info["duration"], im.size


def test_write_gif_keeps_real_time(tmp_path):
    frames = [np.full((6, 8, 3), 20 * i, np.uint8) for i in range(11)]
    assert _frames(write_gif(frames, tmp_path / "a.gif", 0.04)) == (11, 40, (8, 6))
    # 8 ms control period (hopper): every 5th frame, 40 ms apart (real time)
    assert _frames(write_gif(frames, tmp_path / "b.gif", 0.008)) == (3, 40, (8, 6))
    # 5 ms (hexapod's physics step, as a control period): every 4th, 20 ms apart
    assert _frames(write_gif(frames, tmp_path / "c.gif", 0.005)) == (3, 20, (8, 6))
    with pytest.raises(ValueError, match=r"ending in \.gif"):
        write_gif(frames, tmp_path / "a.mp4", 0.04)
    with pytest.raises(ValueError, match="at least one frame"):
        write_gif([], tmp_path / "c.gif", 0.04)


def test_record_agent_video_leaves_the_agent_as_it_was(tmp_path):
    from mbrlhpo.agent import PETSAgent

    agent = PETSAgent("cartpole", TINY, seed=1, profile="quick")
    agent.run_trial()  # the random trial; the video then plans every step
    before = (agent.planner.get_state(), agent.rng.bit_generator.state)
    path = record_agent_video(agent, tmp_path / "v.gif", max_steps=6, width=40, height=30)
    n, duration, size = _frames(path)
    assert (n, duration, size) == (7, 40, (40, 30))  # the first frame + 6 steps
    after = (agent.planner.get_state(), agent.rng.bit_generator.state)
    np.testing.assert_array_equal(after[0]["warm_start"], before[0]["warm_start"])
    assert after[0]["step"] == before[0]["step"] and after[1] == before[1]
    agent.close()


def test_pets_and_evaluate_write_videos(tmp_path, capsys):
    out, video = tmp_path / "run", tmp_path / "pets.gif"
    args = ["pets", "--env", "cartpole", "--profile", "quick", "--trials", "1", "--no-progress"]
    assert main([*args, "--out", str(out), "--video", str(video), *TINY_CLI]) == 0
    assert f"video: {video}" in capsys.readouterr().out
    assert _frames(video)[0] > 100  # one whole episode (200 steps; equal frames merge)
    assert main([*args, "--video", str(tmp_path / "x.mp4")]) != 0  # refused before running
    assert "ending in .gif" in capsys.readouterr().err

    from mbrlhpo.tuning import tune

    db = tmp_path / "rs.db"
    tune(
        "cartpole",
        "random",
        population=2,
        trials=1,
        db=db,
        agent_overrides=TINY,
        baseline=False,
        searched=["lr"],
    )
    video = tmp_path / "best.gif"
    assert main(["evaluate", "--db", str(db), "--seeds", "0", "--video", str(video)]) == 0
    assert _frames(video)[0] > 100
    assert main(["evaluate", "--db", str(db), "--seeds", "0"]) != 0
    assert "--seeds >= 1 (or 0 with --video)" in capsys.readouterr().err
