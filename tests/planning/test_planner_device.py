"""The torch reference runs on the model's device: no tensor is built on another device.

On the CPU this is caught with the ``meta`` device (shapes only; any CPU tensor mixed into a
meta computation raises); with a GPU the reference on a CUDA model is compared with the same
reference on a CPU copy of the model.
"""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))

from mbrlhpo.envs import get_task
from mbrlhpo.envs.tasks import TASK_NAMES
from mbrlhpo.models import DynamicsModel
from mbrlhpo.planning import CEMConfig, CEMPlanner, torch_planner

CFG = CEMConfig(horizon=3, population=16, elite_ratio=0.25, iterations=2, alpha=0.1, particles=2)


def _on(weights, device):
    def move(t):
        return t.to(device)

    return dataclasses.replace(
        weights,
        weights=tuple(move(w) for w in weights.weights),
        biases=tuple(move(b) for b in weights.biases),
        max_logvar=move(weights.max_logvar),
        min_logvar=move(weights.min_logvar),
        input_mean=move(weights.input_mean),
        input_std=move(weights.input_std),
    )


@pytest.mark.parametrize("name", TASK_NAMES)
def test_torch_reference_builds_every_tensor_on_the_model_device(name):
    task = get_task(name)
    model = DynamicsModel(task, ensemble_size=2, hidden=8, depth=2, seed=0)
    weights = _on(model.planner_weights(), "meta")
    obs = torch.zeros(task.obs_dim)  # CPU inputs are moved to the model's device
    init = torch.zeros(CFG.horizon, task.act_dim)
    mean, _ = torch_planner.cem_plan(task, weights, CFG, obs, init, seed=1, step=0)
    assert mean.device.type == "meta" and tuple(mean.shape) == (CFG.horizon, task.act_dim)


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["halfcheetah", "reacher"])
def test_torch_reference_on_a_gpu_model_matches_the_cpu_model(name):
    task = get_task(name)
    cpu_model = DynamicsModel(task, ensemble_size=2, hidden=16, depth=2, seed=4)
    gpu_model = DynamicsModel(task, ensemble_size=2, hidden=16, depth=2, device="cuda", seed=4)
    gpu_model.load_state_dict(cpu_model.state_dict())
    obs = np.random.default_rng(0).normal(0, 0.3, task.obs_dim)
    pc = CEMPlanner(task, cpu_model, CFG, backend="torch", seed=3)
    pg = CEMPlanner(task, gpu_model, CFG, backend="torch", seed=3)
    for _ in range(2):  # the second plan starts from the warm start
        ac, tc = pc.plan_with_trace(obs)
        ag, tg = pg.plan_with_trace(obs)
        # different GEMM and libm on the GPU: near-equal, not bit-equal
        np.testing.assert_allclose(tg.returns, tc.returns, rtol=1e-3, atol=1e-3)
        span = float(np.max(task.action_high - task.action_low))
        np.testing.assert_allclose(ag, ac, atol=1e-3 * span)
        assert ag.dtype == np.float32 and np.isfinite(ag).all()
