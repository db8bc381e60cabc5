"""backend="cuda": errors checked everywhere; parity with the CPU planner where a GPU exists.

Tolerances (docs/planner.md): float32 on the GPU against the CPU planner: returns within 1e-4
relative, elites equal except at near-ties, first action within 1e-4 of the action range; TF32
is checked against float32 with the looser tolerance its 10-bit mantissa implies.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import make_linear_model, native_test_task

from mbrlhpo import _native
from mbrlhpo.envs import get_task
from mbrlhpo.envs.tasks import TASK_NAMES
from mbrlhpo.models import DynamicsModel
from mbrlhpo.planning import CEMConfig, CEMPlanner, plan_population
from mbrlhpo.planning.cuda_planner import cuda_planner_available

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")
CFG = CEMConfig(horizon=5, population=40, elite_ratio=0.1, iterations=3, alpha=0.1, particles=4)


def _models(name, hidden=32, depth=3, seed=0):
    task = get_task(name)
    cpu = DynamicsModel(task, ensemble_size=2, hidden=hidden, depth=depth, seed=seed)
    with torch.no_grad():  # weights and normaliser away from their initial values
        gen = torch.Generator().manual_seed(seed)
        for b in cpu.ensemble.biases:
            b.add_(0.1 * torch.randn(b.shape, generator=gen))
        cpu.normalizer.mean.add_(0.2 * torch.randn(cpu.normalizer.mean.shape, generator=gen))
    gpu = DynamicsModel(task, ensemble_size=2, hidden=hidden, depth=depth, device="cuda", seed=seed)
    gpu.load_state_dict(cpu.state_dict())
    return task, cpu, gpu


def _assert_near_ties_only(got, want, returns, rtol):
    """Elite lists equal except where the returns of swapped candidates are within rtol."""
    for it in range(got.shape[0]):
        r = returns[it]
        for a, b in zip(got[it], want[it], strict=True):
            if a != b:
                assert abs(r[a] - r[b]) <= rtol * max(1.0, abs(r[b])), (it, a, b)


# ------------------------------------------------------------------ errors (run everywhere)
def test_precision_needs_its_backend():
    task = native_test_task("test_linear")
    model = make_linear_model(task, np.array([[0.1], [0.2]]))
    with pytest.raises(ValueError, match="precision 'tf32' needs backend 'cuda', got 'cpu'"):
        CEMPlanner(task, model, CFG, backend="cpu", precision="tf32")
    with pytest.raises(ValueError, match="precision 'bf16' needs backend 'cpu', got 'cuda'"):
        CEMPlanner(task, model, CFG, backend="cuda", precision="bf16")
    with pytest.raises(ValueError, match="expected precision in"):
        CEMPlanner(task, model, CFG, backend="cuda", precision="fp16")


def test_tensor_checks_name_what_was_expected():
    """The checks applied to every model tensor before its pointer goes to the CUDA planner
    (exercised here with the CPU as the 'expected' device)."""
    from mbrlhpo.planning.cuda_planner import _checked

    cpu = torch.device("cpu")
    t = torch.zeros(2, 3, 4)
    assert _checked(t, "w", (2, 3, 4), cpu) == t.data_ptr()
    with pytest.raises(ValueError, match=r"expected w on cuda:0, got cpu"):
        _checked(t, "w", (2, 3, 4), torch.device("cuda", 0))
    with pytest.raises(ValueError, match="expected w of dtype float32, got torch.float64"):
        _checked(t.double(), "w", (2, 3, 4), cpu)
    with pytest.raises(ValueError, match=r"expected w of shape \(2, 4, 3\), got \(2, 3, 4\)"):
        _checked(t, "w", (2, 4, 3), cpu)
    with pytest.raises(ValueError, match="expected w to be contiguous"):
        _checked(t.transpose(1, 2).contiguous().transpose(1, 2), "w", (2, 3, 4), cpu)


@pytest.mark.skipif(cuda_planner_available(), reason="this machine can run the CUDA planner")
def test_cuda_backend_without_a_device_or_build_says_why():
    task = get_task("cartpole")
    model = DynamicsModel(task, ensemble_size=2, hidden=8, depth=2, seed=0)
    with pytest.raises(RuntimeError, match="backend 'cuda' needs .*use backend 'cpu' or 'torch'"):
        CEMPlanner(task, model, CFG, backend="cuda")


# ------------------------------------------------------------------ on a GPU
@pytest.mark.cuda
def test_model_on_the_cpu_or_wrong_tensors_give_clear_errors():
    task, cpu, gpu = _models("cartpole", hidden=8, depth=2)
    with pytest.raises(ValueError, match="expected the model on a CUDA device, got cpu"):
        CEMPlanner(task, cpu, CFG, backend="cuda")
    p = CEMPlanner(task, gpu, CFG, backend="cuda")
    obs = np.zeros(task.obs_dim, np.float32)
    w0 = gpu.ensemble.weights[0]
    keep = w0.data
    w0.data = keep.double()
    with pytest.raises(
        ValueError, match=r"expected weights\[0\] of dtype float32, got torch.float64"
    ):
        p.plan(obs)
    w0.data = keep.transpose(1, 2).contiguous().transpose(1, 2)
    with pytest.raises(ValueError, match=r"expected weights\[0\] to be contiguous"):
        p.plan(obs)
    w0.data = keep[:, :-1]
    with pytest.raises(ValueError, match=r"expected weights\[0\] of shape"):
        p.plan(obs)
    w0.data = keep
    with pytest.raises(ValueError, match=r"expected obs of shape \(4,\)"):
        p.plan(np.zeros(3))
    assert np.isfinite(p.plan(obs)).all()


@pytest.mark.cuda
@pytest.mark.parametrize("name", TASK_NAMES)
def test_cuda_float32_matches_the_cpu_planner(name):
    task, cpu, gpu = _models(name)
    obs = np.random.default_rng(1).normal(0, 0.3, task.obs_dim).astype(np.float32)
    pc = CEMPlanner(task, cpu, CFG, backend="cpu", seed=7)
    pg = CEMPlanner(task, gpu, CFG, backend="cuda", seed=7, precision="float32")
    span = task.action_high - task.action_low
    for _ in range(2):  # the second plan starts from the warm start
        ac, tc = pc.plan_with_trace(obs)
        ag, tg = pg.plan_with_trace(obs)
        np.testing.assert_allclose(tg.returns, tc.returns, rtol=1e-4, atol=1e-4)
        _assert_near_ties_only(tg.elites, tc.elites, tc.returns, 1e-4)
        assert np.all(np.abs(ag - ac) <= 1e-4 * span + 1e-6)
        np.testing.assert_allclose(pg.warm_start, pc.warm_start, atol=1e-3)


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["halfcheetah", "reacher"])
def test_cuda_tf32_is_near_float32(name):
    task, _, gpu = _models(name, hidden=64)
    obs = np.random.default_rng(2).normal(0, 0.3, task.obs_dim).astype(np.float32)
    p32 = CEMPlanner(task, gpu, CFG, backend="cuda", seed=3, precision="float32")
    ptf = CEMPlanner(task, gpu, CFG, backend="cuda", seed=3)
    assert ptf.precision == "tf32"
    _, t32 = p32.plan_with_trace(obs)
    _, ttf = ptf.plan_with_trace(obs)
    scale = np.abs(t32.returns[0]).max()
    assert np.abs(ttf.returns[0] - t32.returns[0]).max() <= 3e-3 * scale + 1e-4


@pytest.mark.cuda
def test_cuda_population_equals_single_calls_and_nan_gives_no_nan_action():
    task, _, gpu = _models("halfcheetah", hidden=16, depth=2)
    _, _, gpu2 = _models("halfcheetah", hidden=24, depth=3, seed=1)
    cfg2 = CEMConfig(horizon=3, population=24, elite_ratio=0.25, iterations=2, particles=2)
    specs = [(gpu, CFG, 1), (gpu2, cfg2, 2), (gpu, cfg2, 3)]
    solo = [CEMPlanner(task, m, c, backend="cuda", seed=s) for m, c, s in specs]
    team = [CEMPlanner(task, m, c, backend="cuda", seed=s) for m, c, s in specs]
    obs = np.random.default_rng(3).normal(0, 0.3, (3, task.obs_dim)).astype(np.float32)
    for _ in range(2):
        expected = np.stack([p.plan(o) for p, o in zip(solo, obs, strict=True)])
        np.testing.assert_array_equal(plan_population(team, obs), expected)
    with torch.no_grad():
        gpu.ensemble.biases[-1][0, 0, 0] = float("nan")
    a, tr = solo[0].plan_with_trace(obs[0])
    assert np.isfinite(a).all() and np.all(tr.returns == -np.inf)


@pytest.mark.cuda
@pytest.mark.parametrize("backend", ["cuda", "auto"])
def test_pets_agent_on_the_gpu_end_to_end(backend):
    from mbrlhpo import PETSAgent

    hp = dict(epochs=1, iterations=2, population=16, horizon=4, particles=4, hidden=16, depth=2)
    agent = PETSAgent(
        "cartpole", hp, seed=0, device="cuda", planner_backend=backend, profile="quick"
    )
    assert agent.backend == "cuda" and agent.planner.precision == "tf32"
    agent.run_trial()  # random
    result = agent.run_trial()  # trains on the GPU, plans with the CUDA planner
    assert result.steps == agent.task.steps_per_trial and np.isfinite(result.ret)
