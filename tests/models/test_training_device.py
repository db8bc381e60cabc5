"""Training stays on the model's device: no tensor from another device, no host sync per batch.

On the CPU two checks stand in for a GPU:
- the batched training step (forward, loss, backward, Adam) runs on the ``meta`` device (shapes
  only): any CPU tensor mixed into it raises;
- host synchronisations (``item``, ``tolist``, ``float``, ``bool``, ``cpu``, ``numpy`` of a
  tensor: each one waits for the GPU) are counted while training: their number does not grow
  with the number of batches (one readback per epoch).
With a GPU, a PETS agent trains and plans on it; its data, normaliser, weights and Adam state
stay there (``tests/planning/test_cuda_planner.py`` checks the CUDA planner's plans).
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import linear_task

from mbrlhpo.models import AdamState, DynamicsModel, TrainingJob, train_population
from mbrlhpo.models import population as pop

TASK = linear_task(obs_dim=3, act_dim=2)
SYNCS = {"item", "tolist", "__float__", "__int__", "__bool__", "cpu", "numpy"}


def _data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, 3)).astype(np.float32)
    act = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    return obs, act, (obs + 0.01 * rng.normal(size=obs.shape)).astype(np.float32)


def test_the_batched_training_step_builds_every_tensor_on_the_model_device():
    models = []
    for seed in range(3):
        m = DynamicsModel(TASK, ensemble_size=2, hidden=8, depth=2, seed=seed)
        m.ensemble.to("meta")
        m.optimizer = AdamState(m.ensemble.parameters(), lr=1e-3)
        models.append(m)
    stack = pop._Stack(models)
    k, e, n, batch = 3, 2, 40, 8
    x_all = torch.empty((k, n, m.input_dim), device="meta")
    y_all = torch.empty((k, n, 3), device="meta")
    idx = torch.zeros((k, e, batch), dtype=torch.long, device="meta")
    scalars = [torch.empty(k, device="meta") for _ in range(3)]
    loss = pop._step(stack, slice(0, k), x_all, y_all, idx, *scalars, rows=batch)
    assert loss.device.type == "meta" and tuple(loss.shape) == (k,)
    assert all(p.device.type == "meta" for p in stack.params + stack.exp_avg + stack.exp_avg_sq)


class _CountSyncs(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in SYNCS:
            self.count += 1
        return func(*args, **(kwargs or {}))


def _syncs(num: int, epochs: int) -> int:
    jobs = [
        TrainingJob(
            DynamicsModel(TASK, ensemble_size=2, hidden=8, depth=2, seed=i),
            *_data(num, i),
            epochs,
            1e-3,
            1e-4,
            8,
            np.random.default_rng(i),
        )
        for i in range(3)
    ]
    with _CountSyncs() as mode:
        train_population(jobs)
    return mode.count


def test_training_synchronises_with_the_host_once_per_epoch_not_per_batch():
    few, many = _syncs(16, 2), _syncs(160, 2)  # 2 vs 20 batches per epoch
    assert few == many
    # Two more epochs: two more loss readbacks, each ``.cpu().tolist()`` (two calls, one wait).
    assert _syncs(16, 4) - few == 2 * 2


@pytest.mark.cuda
def test_pets_agent_trains_on_the_gpu_and_keeps_its_state_there():
    from mbrlhpo import PETSAgent

    hp = dict(epochs=2, iterations=2, population=16, horizon=4, particles=4, hidden=16, depth=2)
    gpu = PETSAgent("cartpole", hp, seed=0, device="cuda", profile="quick")
    cpu = PETSAgent("cartpole", hp, seed=0, device="cpu", planner_backend="torch", profile="quick")
    gpu.run_trial()  # random trials: the same data on both
    cpu.run_trial()
    data = gpu.buffer.all()
    job_g, _ = gpu.training_job()
    job_c, _ = cpu.training_job()
    losses_g = train_population([job_g])[0]
    losses_c = train_population([job_c])[0]
    np.testing.assert_allclose(losses_g, losses_c, rtol=1e-4)
    model = gpu.model
    tensors = [*model.ensemble.parameters(), model.normalizer.mean, model.normalizer.std]
    tensors += [t for st in model.optimizer.state.values() for t in st.values() if t.ndim > 0]
    assert all(t.device.type == "cuda" for t in tensors)
    torch.testing.assert_close(
        model.normalizer.mean.cpu(), cpu.model.normalizer.mean, rtol=1e-6, atol=1e-6
    )
    nll_g = gpu.model.nll(data.obs, data.act, data.next_obs)
    nll_c = cpu.model.nll(data.obs, data.act, data.next_obs)
    assert nll_g == pytest.approx(nll_c, rel=1e-3)
