"""Task specs: dims, bounds, reward functions against MuJoCo, model input/target."""

import mujoco
import numpy as np
import pytest
import torch

from mbrlhpo.envs import TASK_NAMES, get_task
from mbrlhpo.envs.tasks import PUSHER_GOAL, reacher_ee

EXPECTED = {  # the shipped tasks (PAPER.md): name: obs, act, bound, steps, trials, dt
    "cartpole": (4, 1, 3.0, 200, 15, 0.04),
    "reacher": (17, 7, 20.0, 150, 80, 0.02),
    "pusher": (20, 7, 2.0, 150, 80, 0.04),
    "hopper": (12, 3, 1.0, 1000, 300, 0.008),
    "halfcheetah": (18, 6, 1.0, 1000, 300, 0.05),
    "hexapod": (24, 18, 1.0, 1000, 300, 0.02),
}


def test_the_shipped_tasks_are_built_in():
    assert set(EXPECTED) <= set(TASK_NAMES)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_dims_bounds_and_model_file(name):
    """The shipped tasks against the paper's numbers; every task (one added since too) against
    its own MJCF."""
    task = get_task(name)
    if name in EXPECTED:
        obs, act, bound, steps, trials, dt = EXPECTED[name]
        assert (task.obs_dim, task.act_dim, task.steps_per_trial, task.default_trials) == (
            obs,
            act,
            steps,
            trials,
        )
        assert task.dt == pytest.approx(dt)
    act, bound = task.act_dim, float(task.action_high[0])
    assert task.action_low.dtype == np.float32 and task.action_high.dtype == np.float32
    np.testing.assert_array_equal(task.action_low, -bound)
    np.testing.assert_array_equal(task.action_high, bound)
    model = mujoco.MjModel.from_xml_path(task.model_file)
    assert model.nu == act
    assert model.opt.timestep * task.frame_skip == pytest.approx(task.dt)
    np.testing.assert_allclose(model.actuator_ctrlrange, [[-bound, bound]] * act)
    assert task.model_input_dim == task.obs_dim + len(task.angle_dims)


def test_unknown_task_lists_names():
    with pytest.raises(ValueError, match=", ".join(TASK_NAMES)):
        get_task("walker")


def test_reacher_forward_kinematics_matches_mujoco_site():
    task = get_task("reacher")
    model = mujoco.MjModel.from_xml_path(task.model_file)
    data = mujoco.MjData(model)
    site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "ee")
    rng = np.random.default_rng(0)
    qs, sites = [], []
    for _ in range(50):
        data.qpos[:] = rng.uniform(-3, 3, model.nq)
        mujoco.mj_kinematics(model, data)
        qs.append(data.qpos[:7].copy())
        sites.append(data.site_xpos[site].copy())
    qs, sites = np.array(qs), np.array(sites)
    np.testing.assert_allclose(reacher_ee(qs), sites, atol=1e-12)
    np.testing.assert_allclose(reacher_ee(torch.from_numpy(qs)).numpy(), sites, atol=1e-12)


def test_reacher_goal_qpos_is_goal_world_position():
    model = mujoco.MjModel.from_xml_path(get_task("reacher").model_file)
    data = mujoco.MjData(model)
    data.qpos[7:10] = [0.1, -0.2, 0.3]
    mujoco.mj_kinematics(model, data)
    goal = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "goal")
    np.testing.assert_allclose(data.xpos[goal], [0.1, -0.2, 0.3], atol=1e-15)


def test_pusher_goal_constant_is_goal_body():
    model = mujoco.MjModel.from_xml_path(get_task("pusher").model_file)
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    goal = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "goal")
    np.testing.assert_allclose(data.xipos[goal], PUSHER_GOAL, atol=1e-12)


def _random_batch(task, rng, lead=(3, 5)):
    action = rng.uniform(-2, 2, lead + (task.act_dim,))
    obs = rng.normal(size=lead + (task.obs_dim,))
    return action, obs


def test_reward_formulas_by_hand():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(1,))
    s = np.array([0.3, 2.0, 0.1, -0.4])
    ee = np.array([0.3 - 0.6 * np.sin(2.0), -0.6 * np.cos(2.0)])
    want = np.exp(-np.sum((ee - [0, 0.6]) ** 2) / 0.36) - 0.01 * a[0] ** 2
    assert get_task("cartpole").reward(a, s) == pytest.approx(want, rel=1e-14)
    a6, s18 = rng.normal(size=6), rng.normal(size=18)
    assert get_task("halfcheetah").reward(a6, s18) == pytest.approx(s18[0] - 0.1 * a6 @ a6)
    a3, s12 = rng.normal(size=3), rng.normal(size=12)
    assert get_task("hopper").reward(a3, s12) == pytest.approx(s12[0] - 1e-3 * a3 @ a3)
    a18, s24 = rng.normal(size=18), rng.normal(size=24)
    assert get_task("hexapod").reward(a18, s24) == pytest.approx(s24[18])
    a7, s20 = rng.normal(size=7), rng.normal(size=20)
    tip, obj = s20[14:17], s20[17:20]
    want = -(
        0.5 * np.abs(tip - obj).sum()
        + 1.25 * np.abs(np.array(PUSHER_GOAL) - obj).sum()
        + 0.1 * a7 @ a7
    )
    assert get_task("pusher").reward(a7, s20) == pytest.approx(want)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_numpy_and_torch_agree_and_batch(name):
    task = get_task(name)
    action, obs = _random_batch(task, np.random.default_rng(2))
    r_np = task.reward(action, obs)
    assert r_np.shape == (3, 5)
    r_t = task.reward(torch.from_numpy(action), torch.from_numpy(obs))
    assert isinstance(r_t, torch.Tensor)
    np.testing.assert_allclose(r_t.numpy(), r_np, rtol=1e-12, atol=1e-12)
    # batched == one at a time
    np.testing.assert_allclose(task.reward(action[1, 2], obs[1, 2]), r_np[1, 2], rtol=1e-14)
    term = task.terminated(obs)
    assert term.shape == (3, 5) and term.dtype == bool
    assert task.terminated(torch.from_numpy(obs)).dtype == torch.bool


@pytest.mark.parametrize("name", TASK_NAMES)
def test_model_input_and_target_roundtrip(name):
    task = get_task(name)
    rng = np.random.default_rng(3)
    obs, next_obs = rng.normal(size=(2, 4, task.obs_dim))
    inp = task.model_input(obs)
    assert inp.shape == (4, task.model_input_dim)
    keep = [i for i in range(task.obs_dim) if i not in task.angle_dims]
    np.testing.assert_array_equal(inp[:, : len(keep)], obs[:, keep])
    ang = obs[:, list(task.angle_dims)]
    n = len(task.angle_dims)
    np.testing.assert_allclose(inp[:, len(keep) : len(keep) + n], np.sin(ang))
    np.testing.assert_allclose(inp[:, len(keep) + n :], np.cos(ang))
    inp_t = task.model_input(torch.from_numpy(obs))
    np.testing.assert_allclose(inp_t.numpy(), inp, atol=1e-15)
    target = task.model_target(obs, next_obs)
    for d in range(task.obs_dim):
        want = next_obs[:, d] if d in task.absolute_target_dims else next_obs[:, d] - obs[:, d]
        np.testing.assert_allclose(target[:, d], want)
    np.testing.assert_allclose(task.next_obs_from_target(obs, target), next_obs, atol=1e-14)
    tt = task.model_target(torch.from_numpy(obs), torch.from_numpy(next_obs))
    np.testing.assert_allclose(tt.numpy(), target)


def test_absolute_and_angle_dims():
    assert get_task("halfcheetah").absolute_target_dims == (0,)
    assert get_task("hopper").absolute_target_dims == (0,)
    assert get_task("hexapod").absolute_target_dims == (18,)
    assert get_task("cartpole").angle_dims == (1,)
    assert get_task("halfcheetah").angle_dims == (2,)


def test_shape_errors_are_clear():
    task = get_task("halfcheetah")
    with pytest.raises(ValueError, match=r"expected next_obs of shape \(\.\.\., 18\), got \(17,\)"):
        task.reward(np.zeros(6), np.zeros(17))
    with pytest.raises(ValueError, match="expected action"):
        task.reward(np.zeros(5), np.zeros(18))
