"""AdamState: a model's Adam state in torch.optim.Adam's layout, without importing torch.optim's
compiler stack (torch._dynamo and sympy: most of an agent's start-up before)."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import torch

from mbrlhpo.models import AdamState


def _params(seed: int) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(3, 4, generator=g)), torch.nn.Parameter(torch.randn(4))]


def _step_torch_adam(params, steps: int) -> torch.optim.Adam:
    adam = torch.optim.Adam(params, lr=1e-2)
    for _ in range(steps):
        adam.zero_grad()
        sum((p * p).sum() for p in params).backward()
        adam.step()
    return adam


def test_torch_adams_state_loads_into_adam_state_and_back_unchanged():
    params = _params(0)
    adam = _step_torch_adam(params, 3)
    ours = AdamState(params)
    ours.load_state_dict(adam.state_dict())
    for p in params:
        st = ours.state[p]
        assert list(st) == ["step", "exp_avg", "exp_avg_sq"] and float(st["step"]) == 3.0
        assert torch.equal(st["exp_avg"], adam.state[p]["exp_avg"])
    assert ours.param_groups[0]["lr"] == 1e-2
    # Back into a fresh torch Adam (state only, as DynamicsModel.load_state_dict does): the
    # next step is the one the first Adam takes.
    twin = [torch.nn.Parameter(p.detach().clone()) for p in params]
    resumed = torch.optim.Adam(twin, lr=1e-2)
    saved = resumed.state_dict()
    saved["state"] = copy.deepcopy(ours.state_dict()["state"])  # torch Adam steps in place
    resumed.load_state_dict(saved)
    for ps, opt in ((params, adam), (twin, resumed)):
        opt.zero_grad()
        sum((p * p).sum() for p in ps).backward()
        opt.step()
    assert all(torch.equal(a, b) for a, b in zip(params, twin, strict=True))


def test_adam_state_refuses_state_it_cannot_place():
    ours = AdamState(_params(1))
    with pytest.raises(ValueError, match=r"parameters 0\.\.1, got index 2"):
        ours.load_state_dict({"state": {2: {"step": torch.tensor(1.0)}}})
    with pytest.raises(ValueError, match="lacks"):
        ours.load_state_dict({"state": {0: {"step": torch.tensor(1.0)}}})
    with pytest.raises(ValueError, match="at least one parameter"):
        AdamState([])


def test_an_agent_builds_trains_and_checkpoints_without_torch_dynamo(tmp_path):
    # torch.optim.Adam's constructor imports torch._dynamo and sympy (~2 CPU-s): none of
    # building, training, saving or loading an agent may bring them back.
    code = f"""
import sys
from mbrlhpo.agent import PETSAgent
tiny = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2, epochs=1)
agent = PETSAgent("cartpole", tiny, seed=0, profile="quick")
agent.run_trial()
agent.run_trial()
PETSAgent.load(agent.save({str(tmp_path)!r}))
print(sorted(m for m in sys.modules if m.startswith("torch._dynamo") or m == "sympy"))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "[]"
