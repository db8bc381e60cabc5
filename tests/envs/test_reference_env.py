"""The environments (reference and, where built, native single envs) against MuJoCo itself."""

import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from mbrlhpo.envs import GYM_IDS, TASK_NAMES, ReferenceEnv, get_task, make_env
from mbrlhpo.envs.reference_env import quat_to_rpy
from mbrlhpo.envs.reset_rng import ResetRng

BACKENDS = ["reference", "auto"]


def _rollout(env, steps, rng):
    obs, _ = env.reset()
    out = [(None, obs, 0.0, False, False, {})]
    for _ in range(steps):
        a = rng.uniform(env.action_space.low * 1.2, env.action_space.high * 1.2)
        obs, r, te, tr, info = env.step(a.astype(np.float32))
        out.append((a, obs, r, te, tr, info))
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", TASK_NAMES)
def test_env_reward_and_termination_equal_task_functions(name, backend):
    env = make_env(name, seed=5, backend=backend)
    task = get_task(name)
    for a, obs, r, te, _tr, info in _rollout(env, 40, np.random.default_rng(0))[1:]:
        clipped = np.clip(a.astype(np.float32), task.action_low, task.action_high)
        assert r == pytest.approx(
            float(task.reward(clipped.astype(np.float64), obs)), rel=1e-12, abs=1e-12
        )
        assert te == bool(task.terminated(obs))
        assert not info["sim_diverged"]
        assert obs.shape == (task.obs_dim,) and obs.dtype == np.float64


def _independent_obs_check(name, env, x_before, obs):
    """Recompute parts of obs from MuJoCo quantities the env does not use."""
    m, d = env.model, env.data
    task = env.task
    if name == "cartpole":
        tip = d.site_xpos[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "tip")]
        # site_xpos is from the last mj_step's forward pass: refresh it for this state.
        mujoco.mj_kinematics(m, d)
        tip = d.site_xpos[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "tip")]
        ee = np.array([obs[0] - 0.6 * np.sin(obs[1]), -0.6 * np.cos(obs[1])])
        np.testing.assert_allclose(ee, tip[[0, 2]], atol=1e-12)
    elif name == "reacher":
        mujoco.mj_kinematics(m, d)
        ee = d.site_xpos[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "ee")]
        goal = d.xpos[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "goal")]
        a = np.zeros(7)
        assert task.reward(a, obs) == pytest.approx(-np.sum((ee - goal) ** 2), rel=1e-10)
    elif name == "pusher":
        tips = np.array([0.1, 0, 0])  # tips_arm centre of mass in the wrist frame
        wrist = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "wrist_roll")
        np.testing.assert_allclose(
            obs[14:17], d.xpos[wrist] + d.xmat[wrist].reshape(3, 3) @ tips, atol=1e-12
        )
        np.testing.assert_allclose(obs[17:19], [0.45 + d.qpos[8], -0.05 + d.qpos[7]], atol=1e-12)
    elif name in ("hopper", "halfcheetah"):
        assert obs[0] == pytest.approx((d.qpos[0] - x_before) / task.dt, rel=1e-12)
        np.testing.assert_array_equal(obs[1 : task.obs_dim - m.nv], d.qpos[1:])
    elif name == "hexapod":
        mujoco.mj_kinematics(m, d)
        rot = d.xmat[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "torso")].reshape(3, 3)
        roll, pitch, yaw = obs[21:24]
        cr, sr, cp, sp, cy, sy = (
            np.cos(roll),
            np.sin(roll),
            np.cos(pitch),
            np.sin(pitch),
            np.cos(yaw),
            np.sin(yaw),
        )
        rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
        ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
        rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
        np.testing.assert_allclose(rz @ ry @ rx, rot, atol=1e-9)
        assert obs[18] == pytest.approx((d.qpos[0] - x_before) / task.dt, rel=1e-12)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_observation_layout_against_mujoco(name):
    env = ReferenceEnv(name, seed=3)
    env.reset()
    rng = np.random.default_rng(1)
    for _ in range(10):
        x_before = float(env.data.qpos[0])
        obs, *_ = env.step(
            env.action_space.sample() * 0
            + rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
        )
        _independent_obs_check(name, env, x_before, obs)


# gymnasium's checker advises on the spaces; the tasks keep theirs on purpose: action bounds are
# the paper's (PETS's) per task, and unbounded observations are what gymnasium's own MuJoCo
# envs declare. Any other checker warning stays visible.
@pytest.mark.filterwarnings("ignore:.*we recommend using a symmetric and normalized space")
@pytest.mark.filterwarnings("ignore:.*A Box observation space (minimum|maximum) value is")
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", TASK_NAMES)
def test_check_env_and_gym_registration(name, backend):
    import gymnasium as gym

    check_env(make_env(name, backend=backend), skip_render_check=True)
    env = gym.make(GYM_IDS[name])
    obs, _ = env.reset(seed=1)
    assert obs.shape == (get_task(name).obs_dim,)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_seed_determinism(name):
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    a = _rollout(make_env(name, seed=11, backend="reference"), 20, rng_a)
    b = _rollout(make_env(name, seed=11, backend="reference"), 20, rng_b)
    for x, y in zip(a, b, strict=False):
        np.testing.assert_array_equal(x[1], y[1])
        assert x[2] == y[2]
    c = make_env(name, seed=12, backend="reference").reset()[0]
    assert not np.array_equal(a[0][1], c)


def test_reset_seed_restarts_stream_and_episodes_differ():
    env = make_env("cartpole", backend="reference")
    o1 = env.reset(seed=4)[0]
    o2 = env.reset()[0]
    o3 = env.reset(seed=4)[0]
    assert np.array_equal(o1, o3) and not np.array_equal(o1, o2)


def test_reset_rng_moments():
    rng_u = ResetRng(1, 2, 3)
    u = np.array([rng_u.uniform(-1.0, 3.0) for _ in range(20000)])
    assert u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 0.03 and abs(u.var() - 16 / 12) < 0.05
    rng_n = ResetRng(1, 2, 4)
    n = np.array([rng_n.normal(2.0) for _ in range(20000)])
    assert abs(n.mean()) < 0.05 and abs(n.std() - 2.0) < 0.04
    assert ResetRng(1, 2, 3).uniform01() != ResetRng(1, 3, 3).uniform01()


def _reset_samples(name, count):
    env = ReferenceEnv(name, seed=21)
    out = [env.reset()[0]]
    out += [env.reset()[0] for _ in range(count - 1)]
    return np.array(out), env


@pytest.mark.parametrize(
    "name,check",
    [
        (
            "cartpole",
            lambda o, e: (
                np.allclose(o.mean(0), 0, atol=0.015) and np.allclose(o.std(0), 0.1, atol=0.01)
            ),
        ),
        (
            "reacher",
            lambda o, e: (
                np.all(o[:, :7] == 0)
                and np.all(o[:, 10:] == 0)
                and np.allclose(o[:, 7:10].mean(0), [0, 0.25, 0], atol=0.015)
                and np.allclose(o[:, 7:10].std(0), 0.1, atol=0.01)
            ),
        ),
        (
            "pusher",
            lambda o, e: (
                np.allclose(o[:, 17:19].mean(0), [0.6, -0.3], atol=0.004)
                and np.allclose(o[:, 17:19].std(0), 0.025, atol=0.003)
                and np.all(np.abs(o[:, 7:14]) <= 0.005)
            ),
        ),
        (
            "hopper",
            lambda o, e: (
                np.all(np.abs(o[:, 1:6] - [1.25, 0, 0, 0, 0]) <= 0.005)
                and np.all(np.abs(o[:, 6:]) <= 0.005)
            ),
        ),
        (
            "halfcheetah",
            lambda o, e: (
                np.all(np.abs(o[:, 1:9]) <= 0.1) and np.allclose(o[:, 9:].std(0), 0.1, atol=0.012)
            ),
        ),
        (
            "hexapod",
            lambda o, e: (
                np.all(np.abs(o[:, :18]) <= 0.1)
                and np.allclose(o[:, 20], 0.155)
                and np.all(np.abs(o[:, 18]) <= 0.05)
            ),
        ),
    ],
)
def test_reset_distributions(name, check):
    obs, env = _reset_samples(name, 400)
    assert check(obs, env)
    assert len({o.tobytes() for o in obs}) == len(obs)  # every episode differs


@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_ends_episode_without_crash(backend):
    env = make_env("halfcheetah", seed=0, backend=backend)
    env.reset()
    env.step(np.zeros(6, np.float32))
    nq = nv = 9
    env.set_state(np.zeros(nq), np.full(nv, 1e300))
    prev = env.set_state(np.zeros(nq), np.full(nv, 1e300))
    obs, r, te, tr, info = env.step(np.zeros(6, np.float32))
    assert info["sim_diverged"] and tr and not te
    assert np.all(np.isfinite(obs)) or np.array_equal(obs, prev)
    assert r == pytest.approx(float(get_task("halfcheetah").reward(np.zeros(6), obs)))
    obs, _ = env.reset()  # and the env is usable again
    assert np.all(np.isfinite(obs))
    assert not env.step(np.zeros(6, np.float32))[4]["sim_diverged"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_actions_raise_and_out_of_bounds_clip(backend):
    env = make_env("hopper", seed=0, backend=backend)
    env.reset()
    with pytest.raises(ValueError, match=r"expected action of shape \(3,\), got \(4,\)"):
        env.step(np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="finite"):
        env.step(np.array([0.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="floating-point"):
        env.step(np.array([0, 1, 0]))
    a = make_env("hopper", seed=0, backend=backend)
    b = make_env("hopper", seed=0, backend=backend)
    a.reset(), b.reset()
    oa = a.step(np.array([5.0, -7.0, 0.5], np.float32))
    ob = b.step(np.array([1.0, -1.0, 0.5], np.float32))
    np.testing.assert_array_equal(oa[0], ob[0])
    assert oa[1] == ob[1]


def test_truncation_at_horizon():
    env = make_env("cartpole", seed=0, backend="reference", max_episode_steps=5)
    env.reset()
    flags = [env.step(np.zeros(1, np.float32))[3] for _ in range(5)]
    assert flags == [False] * 4 + [True]
    assert make_env("cartpole", backend="reference").max_episode_steps == 200


def test_quat_to_rpy_roundtrip():
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        r, p, y = quat_to_rpy(*q)
        back = np.zeros(4)
        mujoco.mju_euler2Quat(back, np.array([r, p, y]), "XYZ")
        assert np.allclose(back, q) or np.allclose(back, -q)


def test_make_env_bad_options():
    with pytest.raises(ValueError, match="unknown make_env options"):
        make_env("cartpole", colour="red")
    with pytest.raises(ValueError, match="expected one of"):
        make_env("walker")
