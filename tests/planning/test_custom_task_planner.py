"""A custom task (mbrlhpo.Task, reward in Python) on the planners: the native CPU planner calling
the numba-compiled functions equals the torch reference evaluating them on the host, equals the
built-in task it copies, and plans with the GIL released."""

import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
import custom_tasks  # noqa: E402

from mbrlhpo import _native  # noqa: E402
from mbrlhpo.envs import get_task  # noqa: E402
from mbrlhpo.models import DynamicsModel  # noqa: E402
from mbrlhpo.planning import CEMConfig, CEMPlanner, plan_population  # noqa: E402

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")

# The stated tolerance of native float32 vs the torch reference (test_native_planner.py).
RTOL, ATOL = 1e-4, 1e-4
CFG = CEMConfig(horizon=5, population=37, elite_ratio=0.2, iterations=3, particles=2)


def _model(seed: int = 3) -> DynamicsModel:
    return DynamicsModel(get_task("halfcheetah"), ensemble_size=2, hidden=30, depth=2, seed=seed)


def _obs(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.3, 18).astype(np.float32)


@pytest.mark.parametrize("name", ["CHEETAH", "CHEETAH_TERMINATING"])
def test_native_calls_of_python_reward_match_torch_reference(name):
    task = getattr(custom_tasks, name)
    model = _model()
    pt = CEMPlanner(task, model, CFG, backend="torch", seed=11)
    pc = CEMPlanner(task, model, CFG, backend="cpu", seed=11)
    for seed in (0, 1):
        at, tt = pt.plan_with_trace(_obs(seed))
        ac, tc = pc.plan_with_trace(_obs(seed))
        np.testing.assert_allclose(tc.returns, tt.returns, rtol=RTOL, atol=ATOL)
        np.testing.assert_array_equal(tc.elites, tt.elites)
        np.testing.assert_allclose(tc.means, tt.means, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(ac, at, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("backend", ["cpu", "torch"])
def test_numba_termination_stops_scoring_as_numpy_says(backend):
    """Reward s'[0], terminal once s'[0] > 0.25, s' = s + 0.1 a (a in [-1, 1]), horizon 5, on
    the numba functions. From s = 1 the first step terminates: every candidate's return is
    1 + 0.1 a_0 alone, in [0.9, 1.1] (scoring on after it would give about 5). From s = -10
    nothing terminates: the return is s_1 + ... + s_5 = 5 s + 0.1 sum_t (5 - t) a_t, within
    -50 +- 1.5."""
    from toy_tasks import make_linear_model

    task = custom_tasks.LINE
    model = make_linear_model(task, np.array([[0.1]]), ensemble_size=2)
    cfg = CEMConfig(horizon=5, population=40, elite_ratio=0.1, iterations=2, particles=2)
    planner = CEMPlanner(task, model, cfg, backend=backend, seed=3)
    _, trace = planner.plan_with_trace(np.array([1.0], np.float32))
    assert ((trace.returns >= 0.9 - 1e-4) & (trace.returns <= 1.1 + 1e-4)).all()
    planner.reset()
    _, trace = planner.plan_with_trace(np.array([-10.0], np.float32))
    assert ((trace.returns >= -51.5 - 1e-3) & (trace.returns <= -48.5 + 1e-3)).all()
    assert trace.returns.std() > 0.05  # the actions did matter


def test_python_cheetah_plans_like_the_builtin_cheetah():
    model = _model()
    builtin = CEMPlanner(get_task("halfcheetah"), model, CFG, backend="cpu", seed=5)
    custom = CEMPlanner(custom_tasks.CHEETAH, model, CFG, backend="cpu", seed=5)
    for seed in (2, 3):
        ab, tb = builtin.plan_with_trace(_obs(seed))
        ac, tc = custom.plan_with_trace(_obs(seed))
        np.testing.assert_allclose(tc.returns, tb.returns, rtol=RTOL, atol=ATOL)
        np.testing.assert_array_equal(tc.elites, tb.elites)
        np.testing.assert_allclose(ac, ab, rtol=RTOL, atol=ATOL)


def test_population_call_with_custom_and_builtin_members_of_one_task():
    planners = [CEMPlanner(custom_tasks.CHEETAH, _model(s), CFG, seed=s) for s in (0, 1)]
    alone = np.stack([p.plan(_obs(9)) for p in planners])
    for p in planners:
        p.reset()
        p.step = 0
    together = plan_population(planners, np.stack([_obs(9), _obs(9)]))
    np.testing.assert_array_equal(together, alone)


def test_plan_releases_the_gil_while_calling_python_rewards():
    cfg = CEMConfig(horizon=15, population=100, iterations=3, particles=10)
    model = DynamicsModel(custom_tasks.CHEETAH, ensemble_size=5, hidden=64, depth=3, seed=0)
    planner = CEMPlanner(custom_tasks.CHEETAH, model, cfg, backend="cpu", num_threads=1)
    ticks, stop = [], threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    planner.plan(_obs(0))  # warm-up
    thread = threading.Thread(target=ticker)
    thread.start()
    start, plans = time.perf_counter(), 0
    while time.perf_counter() - start < 0.4:
        planner.plan(_obs(0))
        plans += 1
    stop.set()
    thread.join()
    planner.close()
    assert plans >= 1 and len(ticks) > 40  # the ticker ran while the main thread planned
