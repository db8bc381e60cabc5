"""A planner's native member receives its problem when its CEM configuration changes, not at
every plan: the problem aliases the model's live weights, so training in place needs no rebuild.
The CPU and CUDA members share that path (``engine.Member``); the CUDA member's part is checked
here without a device."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import native_test_task, pendulum_transitions

from mbrlhpo import _native
from mbrlhpo.models import DynamicsModel
from mbrlhpo.planning import CEMConfig, CEMPlanner
from mbrlhpo.planning.cuda_planner import CudaEngine, CudaMember, plan_members
from mbrlhpo.planning.engine import Engine, Member

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
    first = planner._native.problem
    planner.plan(obs)
    assert planner._native.problem is first  # not rebuilt (nor re-checked) per step
    # Trained in place: the cached problem sees the new weights, as a fresh planner does.
    r = np.random.default_rng(0)
    model.train(*pendulum_transitions(200, r), epochs=1, lr=1e-3, weight_decay=1e-4, rng=r)
    fresh = CEMPlanner(task, model, CFG, backend="cpu", seed=3)
    fresh.set_state(planner.get_state())
    assert np.array_equal(planner.plan(obs), fresh.plan(obs))
    assert planner._native.problem is first
    # A new configuration is a new problem, planned with its own settings.
    wider = CEMConfig(
        horizon=8, population=64, elite_ratio=0.1, iterations=2, alpha=0.1, particles=4
    )
    planner.set_config(wider)
    assert planner._native.problem is not first
    other = CEMPlanner(task, model, wider, backend="cpu", seed=3)
    other.set_state(planner.get_state())
    assert np.array_equal(planner.plan(obs), other.plan(obs))


def test_an_equal_configuration_keeps_the_problem_and_a_refused_one_changes_nothing():
    task = native_test_task("test_pendulum")
    planner = CEMPlanner(task, _model(), CFG, backend="cpu", seed=3)
    first = planner._native.problem
    planner.set_config(CEMConfig(**{**CFG.__dict__}))  # equal values: the same problem
    assert planner._native.problem is first
    builds = []
    build = planner._native._build
    planner._native._build = lambda settings: builds.append(settings) or build(settings)
    planner.set_config(CEMConfig(**{**CFG.__dict__, "horizon": 9}))
    assert len(builds) == 1 and builds[0]["horizon"] == 9 and planner.config.horizon == 9
    assert planner.warm_start.shape == (9, 1)
    # Where the core refuses a new problem, the planner keeps its configuration and problem.
    problem = planner._native.problem
    planner.low = np.zeros(3, np.float32)  # not the task's action shape: the core refuses it
    with pytest.raises(ValueError, match="action_low"):
        planner.set_config(CEMConfig(**{**CFG.__dict__, "horizon": 4}))
    assert planner.config.horizon == 9 and planner.warm_start.shape == (9, 1)
    assert planner._native.problem is problem and len(builds) == 2


class _RecordingHandle:
    """A native CUDA planner stand-in: records the problems each call was given."""

    def __init__(self) -> None:
        self.calls: list[list] = []

    def plan(self, problems, obs, init_means, steps, trace, stream):
        self.calls.append(list(problems))
        return [(np.zeros_like(m), None) for m in init_means]


def test_the_cuda_member_plans_with_the_problem_it_received(monkeypatch):
    # No GPU here: a CudaMember without its constructor's device checks, its problem a marker.
    member = object.__new__(CudaMember)
    Member.__init__(member, planner=None, precision="tf32")
    member.device = torch.device("cuda", 0)
    builds = []
    member._build = lambda settings: builds.append(settings) or object()
    assert CudaMember.configure is Member.configure  # one path for the CPU and CUDA members
    member.configure({"horizon": 5, "seed": 1})
    first = member.problem
    assert builds == [{"horizon": 5, "seed": 1, "precision": "tf32"}]
    engine = object.__new__(CudaEngine)
    Engine.__init__(engine, _RecordingHandle())
    engine.device = 0
    stream = type("Stream", (), {"cuda_stream": 7})
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device: stream)
    obs, init = [np.zeros(2, np.float32)], [np.zeros((5, 1), np.float32)]
    for step in range(3):
        plan_members(engine, [member], obs, init, [step])
    assert engine.handle.calls == [[first]] * 3 and len(builds) == 1  # not rebuilt per plan
    member.configure({"horizon": 7, "seed": 1})
    plan_members(engine, [member], obs, [np.zeros((7, 1), np.float32)], [3])
    assert engine.handle.calls[-1] == [member.problem] and member.problem is not first
