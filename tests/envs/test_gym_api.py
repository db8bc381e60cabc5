"""Gymnasium habits: registration on ``import mbrlhpo``, ``make(max_episode_steps=)``,
``make_vec`` reaching the native VecEnv with gymnasium's autoreset, ``render_mode``."""

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import mbrlhpo
from mbrlhpo.envs import GYM_IDS, NO_STEP_LIMIT, ReferenceEnv, VecEnv, get_task, native_backend


def _python(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize("gym_first", [False, True])
def test_import_mbrlhpo_registers_the_ids_in_either_order(gym_first):
    first, second = ("gymnasium", "mbrlhpo") if gym_first else ("mbrlhpo", "gymnasium")
    out = _python(
        f"import sys, {first}\n"
        "loaded = 'gymnasium' in sys.modules\n"
        f"import {second}\n"
        "import gymnasium as gym\n"
        f"print(loaded, 'torch' in sys.modules, sorted(i for i in gym.registry if "
        "i.startswith('mbrlhpo/')))"
    )
    ids = sorted(GYM_IDS.values())
    # import mbrlhpo alone loads neither gymnasium nor torch
    assert out == f"{gym_first} False {ids}"


def test_ids_registered_here():
    assert mbrlhpo.__version__
    for name, env_id in GYM_IDS.items():
        assert gym.spec(env_id).max_episode_steps == get_task(name).steps_per_trial


def _episode_length(env, seed=0, cap=5000):
    env.reset(seed=seed)
    for n in range(1, cap + 1):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            return n
    return cap


def test_make_honours_max_episode_steps():
    env_id = GYM_IDS["cartpole"]
    assert _episode_length(gym.make(env_id)) == get_task("cartpole").steps_per_trial
    assert _episode_length(gym.make(env_id, max_episode_steps=350)) == 350
    assert _episode_length(gym.make(env_id, max_episode_steps=7)) == 7


def test_env_option_max_episode_steps_is_refused_with_a_clear_error():
    from mbrlhpo.envs.gym_entry_points import make_single_env

    with pytest.raises(ValueError, match="gymnasium.make's own argument"):
        make_single_env("cartpole", max_episode_steps=3)


def _rollout(venv, actions):
    obs, _ = venv.reset()
    out = {"obs": [obs], "rew": [], "term": [], "trunc": []}
    for a in actions:
        obs, rew, term, trunc, _ = venv.step(a)
        for k, v in zip(("obs", "rew", "term", "trunc"), (obs, rew, term, trunc), strict=True):
            out[k].append(np.array(v))
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("name", ["cartpole", "halfcheetah"])
def test_make_vec_is_the_native_vec_env_and_matches_gymnasiums_sync_vector_env(name):
    """make_vec's default mode builds VecEnv (native where built); against gymnasium's own
    SyncVectorEnv over single reference envs in TimeLimit (env i on reset stream (seed, i)):
    same observations, rewards, terminations and truncations, autoresets included."""
    n, limit, steps, seed = 3, 4, 11, 17
    venv = gym.make_vec(GYM_IDS[name], n, max_episode_steps=limit, seed=seed)
    assert isinstance(venv, VecEnv)
    assert venv.backend == ("native" if native_backend.available() else "python")
    assert venv.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP

    def single(i):
        return lambda: gym.wrappers.TimeLimit(
            ReferenceEnv(name, seed=seed, env_index=i, max_episode_steps=NO_STEP_LIMIT), limit
        )

    sync = gym.vector.SyncVectorEnv([single(i) for i in range(n)])
    task = get_task(name)
    actions = np.random.default_rng(0).uniform(
        task.action_low, task.action_high, (steps, n, task.act_dim)
    )
    ours, theirs = _rollout(venv, actions), _rollout(sync, actions)
    assert theirs["trunc"].any()  # the run crosses autoresets
    for key in ("obs", "term", "trunc"):
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)
    # Rewards: the reference computes exp/sin/cos with NumPy's SIMD math (numpy 2.4 differs
    # from glibc's by an ulp on some inputs), the native env with libm: equal to a few ulp.
    np.testing.assert_allclose(ours["rew"], theirs["rew"], rtol=1e-13, atol=1e-16, err_msg="rew")
    venv.close()
    sync.close()


def test_make_vec_sync_mode_and_bad_options():
    venv = gym.make_vec(GYM_IDS["cartpole"], 2, vectorization_mode="sync", max_episode_steps=5)
    assert isinstance(venv, gym.vector.SyncVectorEnv)
    out = _rollout(venv, np.zeros((6, 2, 1)))
    assert out["trunc"][4].all() and not out["trunc"][:4].any()
    with pytest.raises(ValueError, match="does not render"):
        gym.make_vec(GYM_IDS["cartpole"], 2, render_mode="rgb_array")
    with pytest.raises(ValueError, match="max_episode_steps: expected an integer from 1 to"):
        gym.make_vec(GYM_IDS["cartpole"], 2, max_episode_steps=0)


def _renderer_or_skip(env):
    try:
        return env.render()
    except RuntimeError as exc:
        pytest.skip(f"no headless OpenGL here (EGL/OSMesa): {exc}")


@pytest.mark.parametrize("name", ["cartpole", "halfcheetah"])
def test_render_rgb_array(name):
    env = gym.make(GYM_IDS[name], render_mode="rgb_array", width=64, height=48)
    env.reset(seed=0)
    first = _renderer_or_skip(env)
    assert first.shape == (48, 64, 3) and first.dtype == np.uint8
    assert first.std() > 0  # not a blank image
    for _ in range(10):
        env.step(env.action_space.sample())
    assert not np.array_equal(env.render(), first)  # the robot moved
    env.close()
    plain = gym.make(GYM_IDS[name])
    plain.reset(seed=0)
    assert plain.render() is None  # no render mode: None


def test_render_rgb_array_list_collects_frames():
    env = gym.make(GYM_IDS["reacher"], render_mode="rgb_array_list", width=32, height=24)
    env.reset(seed=0)
    for _ in range(3):
        env.step(env.action_space.sample())
    frames = _renderer_or_skip(env)
    assert len(frames) == 4 and frames[0].shape == (24, 32, 3)  # reset + 3 steps
    env.close()


def test_render_bad_mode_and_native_backend():
    with pytest.raises(ValueError, match="render_mode None or 'rgb_array'"):
        ReferenceEnv("cartpole", render_mode="human_please")
    with pytest.raises(ValueError, match="only the reference env renders"):
        mbrlhpo.make_env("cartpole", backend="native", render_mode="rgb_array")
