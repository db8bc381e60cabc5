import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import make_linear_model, native_test_task, pendulum_transitions

from mbrlhpo import _native
from mbrlhpo.models import DynamicsModel
from mbrlhpo.planning import CEMConfig, CEMPlanner, plan_population, rng

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")

# Stated tolerance: native float32 vs torch reference on identical noise.
RTOL, ATOL = 1e-4, 1e-4
CFG = CEMConfig(horizon=6, population=48, elite_ratio=0.1, iterations=3, alpha=0.1, particles=4)


def trained_pendulum_model(seed: int = 0) -> DynamicsModel:
    task = native_test_task("test_pendulum")
    model = DynamicsModel(task, ensemble_size=2, hidden=32, depth=3, seed=seed)
    r = np.random.default_rng(seed)
    o, a, n = pendulum_transitions(400, r)
    model.train(o, a, n, epochs=2, lr=1e-3, weight_decay=1e-4, rng=r)
    return model


def test_rng_bits_match_numpy_and_torch():
    from mbrlhpo import _core_testing as core

    rows = np.array([0, 7, 123456])
    for seed, stream, step, it, k in [
        (0, 0, 0, 0, 0),
        (2**40 + 7, 1, 3, 2, 17),
        (99, 1, 7, 4, 539),
    ]:
        ref = rng.np_bits(rng.np_row_key(seed, stream, step, it, rows), k)
        got = [core.rng_bits(seed, stream, step, it, int(r), k) for r in rows]
        assert got == [int(x) for x in ref]
    u = rng.np_uniform(np.arange(0, 2**32, 2**20 + 12345, dtype=np.uint64))
    zt = (np.sqrt(2) * torch.erfinv(rng.ERF_SQRT2 * (2 * torch.from_numpy(u).double() - 1))).numpy()
    zc = np.array([core.rng_truncated_normal(float(x)) for x in u])
    np.testing.assert_allclose(zc, zt, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("task_name", ["test_pendulum", "test_linear"])
def test_native_matches_torch_reference(task_name):
    task = native_test_task(task_name)
    if task_name == "test_pendulum":
        model = trained_pendulum_model()
        observations = [np.array([0.3, -0.5]), np.array([3.0, 2.0])]
    else:  # known linear model; termination reached within the horizon
        model = make_linear_model(task, np.array([[0.1], [0.2]]), ensemble_size=2)
        observations = [np.array([0.5, 1.2]), np.array([0.0, 0.0])]
    pt = CEMPlanner(task, model, CFG, backend="torch", seed=5)
    pc = CEMPlanner(task, model, CFG, backend="cpu", seed=5)
    for obs in observations:
        at, tt = pt.plan_with_trace(obs)
        ac, tc = pc.plan_with_trace(obs)
        np.testing.assert_allclose(tc.returns, tt.returns, rtol=RTOL, atol=ATOL)
        np.testing.assert_array_equal(tc.elites, tt.elites)
        np.testing.assert_allclose(tc.means, tt.means, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(tc.variances, tt.variances, rtol=RTOL, atol=1e-6)
        np.testing.assert_allclose(ac, at, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(pc.warm_start, pt.warm_start, rtol=RTOL, atol=ATOL)


def test_native_matches_torch_on_halfcheetah_with_partial_vectors():
    """Real task; sizes that leave partial 16-lane vectors everywhere: 37 rows per member
    (tiles of 19 + 18), hidden width 30 (swish period lcm(30, 16) = 240), obs 18."""
    from mbrlhpo.envs import get_task

    task = get_task("halfcheetah")
    model = DynamicsModel(task, ensemble_size=2, hidden=30, depth=2, seed=3)
    cfg = CEMConfig(horizon=4, population=37, elite_ratio=0.2, iterations=2, particles=2)
    obs = np.random.default_rng(0).normal(0, 0.3, task.obs_dim)
    pt = CEMPlanner(task, model, cfg, backend="torch", seed=11)
    pc = CEMPlanner(task, model, cfg, backend="cpu", seed=11)
    at, tt = pt.plan_with_trace(obs)
    ac, tc = pc.plan_with_trace(obs)
    np.testing.assert_allclose(tc.returns, tt.returns, rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(tc.elites, tt.elites)
    np.testing.assert_allclose(tc.means, tt.means, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ac, at, rtol=RTOL, atol=ATOL)
    for threads in (1, 3):
        p = CEMPlanner(task, model, cfg, backend="cpu", seed=11, num_threads=threads)
        np.testing.assert_array_equal(p.plan_with_trace(obs)[1].returns, tc.returns)


def test_plan_independent_of_thread_count_and_batching():
    task = native_test_task("test_pendulum")
    model = trained_pendulum_model()
    obs = np.array([1.0, 0.5], np.float32)
    actions = []
    for threads in (1, 2, 3):
        p = CEMPlanner(task, model, CFG, backend="cpu", seed=9, num_threads=threads)
        a, tr = p.plan_with_trace(obs)
        actions.append((a, tr.returns))
    for a, r in actions[1:]:
        np.testing.assert_array_equal(a, actions[0][0])
        np.testing.assert_array_equal(r, actions[0][1])
    # a population call equals the members planned one by one (own weights, config, seed)
    model2 = trained_pendulum_model(seed=1)
    cfg2 = CEMConfig(horizon=4, population=30, elite_ratio=0.2, iterations=2, particles=2)
    specs = [(model, CFG, 1), (model2, cfg2, 2), (model, cfg2, 3)]
    solo = [CEMPlanner(task, m, c, backend="cpu", seed=s) for m, c, s in specs]
    team = [CEMPlanner(task, m, c, backend="cpu", seed=s) for m, c, s in specs]
    obs_all = np.array([[0.1, 0.2], [1.0, -1.0], [2.0, 0.0]], np.float32)
    for _ in range(2):  # second step exercises the warm start
        expected = np.stack([p.plan(o) for p, o in zip(solo, obs_all, strict=True)])
        got = plan_population(team, obs_all)
        np.testing.assert_array_equal(got, expected)


def test_new_two_thread_planners_plan_as_one_thread():
    """Two fresh threads run tiles of different sizes at once (37 rows per ensemble member:
    19 + 18). OpenBLAS 0.3.34's row-major TT sgemm, which the output layer once used, returned
    wrong values in about one such first plan in 20 (docs/planner.md, "Threads and OpenBLAS"):
    150 new two-thread planners must each plan as the one-thread planner does, bit for bit."""
    from mbrlhpo.envs import get_task

    task = get_task("halfcheetah")
    model = DynamicsModel(task, ensemble_size=2, hidden=30, depth=2, seed=3)
    cfg = CEMConfig(horizon=5, population=37, elite_ratio=0.2, iterations=3, particles=2)
    obs = np.random.default_rng(2).normal(0, 0.3, 18).astype(np.float32)
    _, one = CEMPlanner(task, model, cfg, backend="cpu", seed=5, num_threads=1).plan_with_trace(obs)
    for call in range(150):
        two = CEMPlanner(task, model, cfg, backend="cpu", seed=5, num_threads=2)
        _, trace = two.plan_with_trace(obs)
        assert np.array_equal(trace.returns, one.returns), f"planner {call} differs"


def test_native_nan_and_inf_outputs_never_give_nan_actions():
    task = native_test_task("test_linear")
    model = make_linear_model(task, np.array([[0.1], [0.2]]))
    p = CEMPlanner(task, model, CFG, backend="cpu")
    with torch.no_grad():
        model.ensemble.biases[1][0, 0, 0] = float("nan")
    a, tr = p.plan_with_trace(np.zeros(2))
    assert np.isfinite(a).all() and np.all(tr.returns == -np.inf)
    with torch.no_grad():
        model.ensemble.biases[1][0, 0, 0] = 0.0
        model.ensemble.weights[1][1, :, 1] = 3e38
    a = p.plan(np.zeros(2))
    assert np.isfinite(a).all()
    with torch.no_grad():
        model.ensemble.weights[0][:] = float("inf")
    assert np.isfinite(p.plan(np.zeros(2))).all()


def test_native_bad_inputs():
    core = _native.core()
    task = native_test_task("test_linear")
    model = make_linear_model(task, np.array([[0.1], [0.2]]))
    w = model.planner_weights()
    kw = dict(
        task="test_linear",
        weights=[x.numpy() for x in w.weights],
        biases=[x.numpy() for x in w.biases],
        max_logvar=w.max_logvar.numpy(),
        min_logvar=w.min_logvar.numpy(),
        input_mean=w.input_mean.numpy(),
        input_std=w.input_std.numpy(),
        action_low=task.action_low,
        action_high=task.action_high,
        horizon=3,
        population=10,
        num_elites=2,
        iterations=1,
        alpha=0.1,
        particles=2,
        seed=0,
    )
    core.CemMemberSpec(**kw)
    with pytest.raises(ValueError, match="no native planner task named 'nope'"):
        core.CemMemberSpec(**{**kw, "task": "nope"})
    with pytest.raises(
        ValueError, match=r"expected biases\[1\] of shape \(2, 1, 4\), got \(2, 1, 3\)"
    ):
        core.CemMemberSpec(**{**kw, "biases": [kw["biases"][0], kw["biases"][1][..., :3].copy()]})
    with pytest.raises(ValueError, match="expected weights\\[0\\] of dtype float32"):
        core.CemMemberSpec(
            **{**kw, "weights": [kw["weights"][0].astype(np.float64), kw["weights"][1]]}
        )
    with pytest.raises(ValueError, match="C-contiguous"):
        core.CemMemberSpec(**{**kw, "input_std": np.ones((2, 6), np.float32)[:1, ::2]})
    with pytest.raises(ValueError, match="multiple of the ensemble size 2, got 3"):
        core.CemMemberSpec(**{**kw, "particles": 3})
    with pytest.raises(ValueError, match="num_elites"):
        core.CemMemberSpec(**{**kw, "num_elites": 11})
    spec = core.CemMemberSpec(**kw)
    eng = core.CemPlanner(1)
    with pytest.raises(ValueError, match=r"expected obs of shape \(2,\), got \(3,\)"):
        eng.plan([spec], [np.zeros(3, np.float32)], [np.zeros((3, 1), np.float32)], [0])
    with pytest.raises(ValueError, match=r"expected init_mean of shape \(3, 1\)"):
        eng.plan([spec], [np.zeros(2, np.float32)], [np.zeros((4, 1), np.float32)], [0])
    with pytest.raises(ValueError, match="the native planner has no task 'linear'"):
        from toy_tasks import linear_task

        t = linear_task()
        CEMPlanner(t, make_linear_model(t, np.array([[0.1], [0.2]])), CFG, backend="cpu")
