"""A planner's native problem is built once per CEM configuration, not at every plan: it
aliases the model's live weights, so training in place needs no rebuild."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import native_test_task, pendulum_transitions

from mbrlhpo import _native
from mbrlhpo.models import DynamicsModel
from mbrlhpo.planning import CEMConfig, CEMPlanner

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")

CFG = CEMConfig(horizon=6, population=48, elite_ratio=0.1, iterations=3, alpha=0.1, particles=4)


def _model(seed: int = 0) -> DynamicsModel:
    return DynamicsModel(native_test_task("test_pendulum"), ensemble_size=2, hidden=16, seed=seed)


def test_the_problem_is_built_once_per_configuration_and_follows_training():
    model = _model()
    task = native_test_task("test_pendulum")
    planner = CEMPlanner(task, model, CFG, backend="cpu", seed=3)
    obs = np.array([0.3, -0.2], np.float32)
    planner.plan(obs)
    first = planner._native.spec()
    planner.plan(obs)
    assert planner._native.spec() is first  # not rebuilt (nor re-checked) per step
    # Trained in place: the cached problem sees the new weights, as a fresh planner does.
    r = np.random.default_rng(0)
    model.train(*pendulum_transitions(200, r), epochs=1, lr=1e-3, weight_decay=1e-4, rng=r)
    fresh = CEMPlanner(task, model, CFG, backend="cpu", seed=3)
    fresh.set_state(planner.get_state())
    assert np.array_equal(planner.plan(obs), fresh.plan(obs))
    assert planner._native.spec() is first
    # A new configuration is a new problem, planned with its own settings.
    wider = CEMConfig(
        horizon=8, population=64, elite_ratio=0.1, iterations=2, alpha=0.1, particles=4
    )
    planner.set_config(wider)
    assert planner._native.spec() is not first
    other = CEMPlanner(task, model, wider, backend="cpu", seed=3)
    other.set_state(planner.get_state())
    assert np.array_equal(planner.plan(obs), other.plan(obs))
