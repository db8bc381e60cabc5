"""The native engine is owned: created by whoever owns the planners, passed in, closed."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import native_test_task

from mbrlhpo import _native
from mbrlhpo.models import DynamicsModel
from mbrlhpo.planning import (
    CEMConfig,
    CEMPlanner,
    CpuEngine,
    PopulationPlanner,
    cpu_planner,
    plan_population,
)

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")

CFG = CEMConfig(horizon=4, population=24, elite_ratio=0.25, iterations=2, alpha=0.1, particles=2)
OBS = np.array([[0.3, -0.2], [1.0, 0.5], [-0.7, 0.1]], np.float32)


def model(task, seed: int) -> DynamicsModel:
    return DynamicsModel(task, ensemble_size=2, hidden=16, depth=2, seed=seed)


def planners(backend: str = "cpu", **kwargs) -> list[CEMPlanner]:
    task = native_test_task("test_pendulum")
    return [
        CEMPlanner(task, model(task, s), CFG, backend=backend, seed=s, **kwargs) for s in range(3)
    ]


def test_engine_closes_and_works_as_context_manager():
    with CpuEngine(num_threads=2) as engine:
        assert engine.num_threads == 2 and not engine.closed
    assert engine.closed
    with pytest.raises(RuntimeError, match="engine is closed"):
        _ = engine.handle
    engine.close()  # idempotent
    with pytest.raises(ValueError, match="num_threads to be an int >= 0, got -1"):
        CpuEngine(-1)


def test_no_engine_cache_per_process():
    assert not hasattr(cpu_planner, "_ENGINES") and not hasattr(cpu_planner, "engine")
    a, b = planners(), planners()
    a[0].plan(OBS[0])
    b[0].plan(OBS[0])
    assert a[0].engine is not b[0].engine  # each planner's own, not a shared global


def test_given_engine_equals_own_engine_and_is_not_closed_by_the_planner():
    own = planners()
    expected = [p.plan(o) for p, o in zip(own, OBS, strict=True)]
    with CpuEngine(num_threads=1) as engine:
        given = planners(engine=engine)
        got = [p.plan(o) for p, o in zip(given, OBS, strict=True)]
        for p in given:
            assert p.engine is engine
            p.close()
        assert not engine.closed
    np.testing.assert_array_equal(np.stack(got), np.stack(expected))
    own[0].close()
    assert own[0].engine is None  # its own engine freed; a later plan makes a new one
    own[0].plan(OBS[0])


def test_population_on_its_owners_engine_equals_solo_plans():
    solo, team, team2 = planners(), planners(), planners()
    expected = np.stack([p.plan(o) for p, o in zip(solo, OBS, strict=True)])
    with CpuEngine(num_threads=2) as engine:
        np.testing.assert_array_equal(plan_population(team, OBS, engine=engine), expected)
    with PopulationPlanner(num_threads=1) as population:
        np.testing.assert_array_equal(population(team2, OBS), expected)
        assert population.engine is not None and population.engine.num_threads == 1
        assert all(p.engine is None for p in team2)  # no per-planner engines were made
    assert population.engine is None


def test_wrong_engine_is_a_clear_error():
    class NotAnEngine:
        pass

    with pytest.raises(TypeError, match="expected a CpuEngine for backend 'cpu', got NotAnEngine"):
        planners(engine=NotAnEngine())
    with CpuEngine(1) as engine, pytest.raises(ValueError, match="backend 'torch' runs no"):
        planners("torch", engine=engine)
    closed = CpuEngine(1)
    closed.close()
    with pytest.raises(RuntimeError, match="engine is closed"):
        plan_population(planners(), OBS, engine=closed)
