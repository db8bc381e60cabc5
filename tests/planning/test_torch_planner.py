import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import action_target_task, linear_task, make_linear_model

from mbrlhpo.models import DynamicsModel
from mbrlhpo.planning import CEMConfig, CEMPlanner, plan_population

SMALL = CEMConfig(horizon=5, population=64, elite_ratio=0.125, iterations=4, alpha=0.1, particles=4)


def test_config_validation_and_elites():
    assert CEMConfig().num_elites == 50
    assert CEMConfig(population=10, elite_ratio=0.3).num_elites == 3
    assert CEMConfig(population=7, elite_ratio=0.01).num_elites == 1
    with pytest.raises(ValueError, match="expected horizon to be an int >= 1, got 0"):
        CEMConfig(horizon=0)
    with pytest.raises(ValueError, match=r"expected elite_ratio in \(0.0, 1.0\], got 1.5"):
        CEMConfig(elite_ratio=1.5)
    with pytest.raises(ValueError, match="expected alpha"):
        CEMConfig(alpha=-0.1)
    with pytest.raises(ValueError, match="expected population"):
        CEMConfig(population=2.5)


def test_cem_finds_analytic_optimum():
    target = np.array([0.5, -0.3, 0.8], np.float32)
    task = action_target_task(target)
    model = make_linear_model(task, np.zeros((2, 3)), ensemble_size=2)
    cfg = CEMConfig(
        horizon=2,
        population=300,
        elite_ratio=0.1,
        iterations=12,
        alpha=0.1,
        particles=2,
    )
    planner = CEMPlanner(task, model, cfg, backend="torch", seed=3)
    action, trace = planner.plan_with_trace(np.zeros(2, np.float32))
    np.testing.assert_allclose(action, target, atol=0.005)
    np.testing.assert_allclose(trace.means[-1], np.tile(target, (2, 1)), atol=0.005)
    # elites are the top-K returns, best first; returns rise over iterations
    for it in range(cfg.iterations):
        r = trace.returns[it]
        assert np.all(np.diff(r[trace.elites[it]]) <= 0)
        assert r[trace.elites[it]].min() >= np.sort(r)[-cfg.num_elites]
    assert trace.returns[-1].mean() > trace.returns[0].mean()
    # samples never leave the bounds even when the target is at the bound
    task2 = action_target_task(np.array([1.0, -1.0, 1.0], np.float32))
    p2 = CEMPlanner(task2, make_linear_model(task2, np.zeros((2, 3))), cfg, backend="torch")
    a2 = p2.plan(np.zeros(2))
    assert np.all(a2 <= 1.0) and np.all(a2 >= -1.0) and a2[0] > 0.8 and a2[1] < -0.8


def test_linear_system_steering_closed_loop():
    task = linear_task(obs_dim=2, act_dim=1, goal=1.0)  # reward -(s' - 1)^2 summed over dims
    b = np.array([[0.1], [0.2]], np.float32)
    model = make_linear_model(task, b)
    planner = CEMPlanner(task, model, SMALL, backend="torch", seed=0)
    assert planner.plan(np.zeros(2)) > 0.8  # far below the goal: full throttle
    planner.reset()
    assert planner.plan(np.full(2, 3.0)) < -0.8  # above: full reverse
    # closed loop on the true system: the best constant state reachable along B is near the goal
    planner.reset()
    s = np.zeros(2, np.float32)
    for _ in range(25):
        a = planner.plan(s)
        s = s + b @ a
    # optimum of (s1 - 1)^2 + (s2 - 1)^2 on the line s = t (0.1, 0.2): t = 6
    np.testing.assert_allclose(s, [0.6, 1.2], atol=0.05)


def test_plan_is_deterministic_and_warm_start_shifts():
    task = linear_task(obs_dim=2, act_dim=1)
    model = make_linear_model(task, np.array([[0.1], [0.2]]))
    p1 = CEMPlanner(task, model, SMALL, backend="torch", seed=11)
    p2 = CEMPlanner(task, model, SMALL, backend="torch", seed=11)
    p3 = CEMPlanner(task, model, SMALL, backend="torch", seed=12)
    obs = np.array([0.3, -0.2], np.float32)
    a1, t1 = p1.plan_with_trace(obs)
    a2 = p2.plan(obs)
    a3 = p3.plan(obs)
    np.testing.assert_array_equal(a1, a2)
    assert not np.array_equal(a1, a3)
    np.testing.assert_array_equal(p1.warm_start[:-1], t1.means[-1][1:])
    np.testing.assert_array_equal(p1.warm_start[-1], [0.0])
    assert p1.step == 1
    p1.reset()
    np.testing.assert_array_equal(p1.warm_start, np.zeros((5, 1)))
    p1.set_config(CEMConfig(horizon=7, population=32, particles=2))
    assert p1.warm_start.shape == (7, 1)
    out = plan_population([p1, p2], np.stack([obs, obs]))
    assert out.shape == (2, 1) and np.isfinite(out).all()


def test_nan_and_inf_model_outputs_never_give_nan_actions():
    task = linear_task(obs_dim=2, act_dim=1)
    model = make_linear_model(task, np.array([[0.1], [0.2]]))
    with torch.no_grad():
        model.ensemble.biases[1][0, 0, 0] = float("nan")  # member 0: NaN mean
    planner = CEMPlanner(task, model, SMALL, backend="torch")
    action, trace = planner.plan_with_trace(np.zeros(2))
    assert np.isfinite(action).all() and -1 <= action[0] <= 1
    assert np.all(trace.returns == -np.inf)  # every candidate has a NaN particle
    with torch.no_grad():
        model.ensemble.biases[1][0, 0, 0] = 0.0
        model.ensemble.biases[1][1, 0, 1] = 3e38  # member 1: overflow to inf
        model.ensemble.weights[1][1, :, 1] = 3e38
    action = planner.plan(np.zeros(2))
    assert np.isfinite(action).all()


def test_termination_stops_scoring():
    # reward 1 per step, terminated when s'[0] > 0.25: with s' = s + 0.1 a from 0, full
    # throttle terminates on step 3 and scores 3; a = 0 scores H
    def reward(action, next_obs):
        return torch.ones(next_obs.shape[:-1])

    base = linear_task(obs_dim=1, act_dim=1)
    from dataclasses import replace

    task = replace(base, reward_fn=reward, terminated_fn=lambda s: s[..., 0] > 0.25)
    model = make_linear_model(task, np.array([[0.1]]))
    from mbrlhpo.planning.torch_planner import rollout_returns

    w = model.planner_weights()
    acts = torch.stack([torch.full((5, 1), 1.0), torch.zeros(5, 1)])
    ret = rollout_returns(task, w, torch.zeros(1), acts, particles=2, seed=0, step=0, iteration=0)
    np.testing.assert_allclose(ret.numpy(), [3.0, 5.0])


def test_bad_inputs():
    task = linear_task(obs_dim=2, act_dim=1)
    model = DynamicsModel(task, ensemble_size=5, hidden=8, depth=1, seed=0)
    with pytest.raises(ValueError, match="multiple of the ensemble size 5, got 4"):
        CEMPlanner(task, model, SMALL, backend="torch")
    cfg = CEMConfig(horizon=3, population=10, particles=5)
    with pytest.raises(ValueError, match="expected backend in"):
        CEMPlanner(task, model, cfg, backend="gpu")
    with pytest.raises(TypeError, match="expected a CEMConfig"):
        CEMPlanner(task, model, {"horizon": 3}, backend="torch")
    p = CEMPlanner(task, model, cfg, backend="torch")
    with pytest.raises(ValueError, match=r"expected obs of shape \(2,\), got \(3,\)"):
        p.plan(np.zeros(3))
    with pytest.raises(ValueError, match="obs contains NaN"):
        p.plan(np.array([np.nan, 0.0]))
    other = DynamicsModel(linear_task(obs_dim=3), ensemble_size=5, hidden=8, depth=1, seed=0)
    with pytest.raises(ValueError, match="do not match task"):
        CEMPlanner(task, other, cfg, backend="torch")
    with pytest.raises(ValueError, match=r"expected observations of shape \(1, O\)"):
        plan_population([p], np.zeros(2))
