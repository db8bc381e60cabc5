"""Pure-PyTorch reference of the PETS planner (TS-inf trajectory sampling + CEM).

Readable, not fast: the ground truth the native backends are tested against. One call
:func:`cem_plan` runs a full CEM optimisation for one observation.

Particle layout: candidate n has P particles; particle p belongs to member ``e = p // (P / E)``
for the whole horizon (TS-inf). Tensors are member-major: member e's row
``i = n * (P / E) + j`` is global particle ``r = n * P + e * (P / E) + j`` (the RNG row).
Per step: ``x = normalise([task.model_input(s), a_{n,h}])``, ``mu, logvar = f_e(x)``,
``s' = task.next_obs_from_target(s, mu + exp(logvar / 2) z)``, reward ``task.reward(a, s')``
is added until (and including) the step on which ``task.terminated(s')`` first holds. A
candidate's value is the mean over its particles; non-finite values rank worst.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mbrlhpo.models.ensemble import bound_logvar
from mbrlhpo.planning import rng
from mbrlhpo.planning.config import CEMConfig
from mbrlhpo.planning.trace import PlanTrace


def ensemble_forward(weights: Any, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(E x R x D)`` normalised inputs -> mean, bounded logvar ``(E x R x O)``."""
    h = x
    last = len(weights.weights) - 1
    for i, (w, b) in enumerate(zip(weights.weights, weights.biases, strict=True)):
        h = torch.baddbmm(b, h, w)
        if i < last:
            h = h * torch.sigmoid(h)
    out = h.shape[-1] // 2
    return h[..., :out], bound_logvar(h[..., out:], weights.max_logvar, weights.min_logvar)


def sample_actions(
    mean: torch.Tensor,
    var: torch.Tensor,
    low: torch.Tensor,
    high: torch.Tensor,
    population: int,
    seed: int,
    step: int,
    iteration: int,
) -> torch.Tensor:
    """CEM samples ``(N x H x A)``: ``mean + sqrt(min(var, ((mean-lb)/2)^2, ((ub-mean)/2)^2)) z``
    with z a standard normal truncated at 2 std, so every sample lies in ``[low, high]``."""
    horizon, act_dim = mean.shape
    lb_dist, ub_dist = mean - low, high - mean
    cvar = torch.minimum(torch.minimum((lb_dist / 2) ** 2, (ub_dist / 2) ** 2), var)
    dev = mean.device
    rows = torch.arange(population, dtype=torch.int64, device=dev)
    key = rng.torch_row_key(seed, rng.STREAM_ACTIONS, step, iteration, rows)
    k = torch.arange(horizon * act_dim, dtype=torch.int64, device=dev)
    z = rng.torch_truncated_normal(key[:, None], k[None, :]).reshape(population, horizon, act_dim)
    return mean + torch.sqrt(cvar) * z


def rollout_returns(
    task: Any,
    weights: Any,
    obs: torch.Tensor,
    actions: torch.Tensor,
    particles: int,
    seed: int,
    step: int,
    iteration: int,
) -> torch.Tensor:
    """Mean over particles of the summed rewards of each candidate: ``(N x H x A) -> (N,)``."""
    num, horizon, _ = actions.shape
    ens = weights.ensemble_size
    per = particles // ens
    rows_per_member = num * per
    obs_dim = obs.shape[-1]
    dev = obs.device
    # member-major particle bookkeeping
    e_idx = torch.arange(ens, device=dev).reshape(ens, 1, 1)
    n_idx = torch.arange(num, device=dev).reshape(1, num, 1)
    j_idx = torch.arange(per, device=dev).reshape(1, 1, per)
    global_row = (n_idx * particles + e_idx * per + j_idx).reshape(ens, rows_per_member)
    cand = n_idx.expand(ens, num, per).reshape(ens, rows_per_member)
    key = rng.torch_row_key(seed, rng.STREAM_STATE, step, iteration, global_row)[..., None]
    o_idx = torch.arange(obs_dim, dtype=torch.int64, device=dev)

    state = obs.reshape(1, 1, obs_dim).expand(ens, rows_per_member, obs_dim)
    total = torch.zeros(ens, rows_per_member, dtype=torch.float32, device=dev)
    done = torch.zeros(ens, rows_per_member, dtype=torch.bool, device=dev)
    for h in range(horizon):
        act = actions[:, h, :][cand]  # (E x R x A)
        raw = torch.cat([task.model_input(state), act], dim=-1)
        x = (raw - weights.input_mean) / weights.input_std
        mu, logvar = ensemble_forward(weights, x)
        z = rng.torch_normal(key, h * obs_dim + o_idx)
        nxt = task.next_obs_from_target(state, mu + torch.exp(0.5 * logvar) * z)
        reward = task.reward(act, nxt).to(torch.float32)
        total = total + torch.where(done, torch.zeros_like(reward), reward)
        done = done | task.terminated(nxt)
        state = nxt
    # (E x N x per) -> per-candidate mean over all P particles
    per_cand = total.reshape(ens, num, per).sum(dim=(0, 2)) / particles
    return torch.where(torch.isfinite(per_cand), per_cand, torch.full_like(per_cand, -np.inf))


@torch.no_grad()
def cem_plan(
    task: Any,
    weights: Any,
    config: CEMConfig,
    obs: torch.Tensor,
    init_mean: torch.Tensor,
    seed: int,
    step: int,
    trace: bool = False,
) -> tuple[torch.Tensor, PlanTrace | None]:
    """One CEM optimisation. Returns the final mean ``(H x A)`` and optionally the trace.

    ``init_mean``: warm start ``(H x A)``; the variance starts at ``(ub - lb)^2 / 16``.
    Everything runs on the device of the model's weights: ``obs`` and ``init_mean`` are moved
    there; the returned mean stays there (the trace is NumPy).
    """
    dev = weights.input_mean.device
    obs = obs.to(dev)
    # torch.tensor copies: the task's bounds are read-only arrays
    low = torch.tensor(np.asarray(task.action_low), dtype=torch.float32, device=dev)
    high = torch.tensor(np.asarray(task.action_high), dtype=torch.float32, device=dev)
    mean = init_mean.to(device=dev, dtype=torch.float32).clone()
    var = ((high - low) ** 2 / 16.0).expand_as(mean).clone()
    k = config.num_elites
    rec: dict[str, list[np.ndarray]] = {
        "returns": [],
        "elites": [],
        "means": [],
        "vars": [],
    }
    for it in range(config.iterations):
        samples = sample_actions(mean, var, low, high, config.population, seed, step, it)
        returns = rollout_returns(task, weights, obs, samples, config.particles, seed, step, it)
        order = torch.sort(returns, descending=True, stable=True).indices[:k]
        elites = samples[order]
        new_mean = elites.mean(dim=0)
        new_var = elites.var(dim=0, unbiased=False)
        mean = config.alpha * mean + (1.0 - config.alpha) * new_mean
        var = config.alpha * var + (1.0 - config.alpha) * new_var
        if trace:
            rec["returns"].append(returns.cpu().numpy().copy())
            rec["elites"].append(order.cpu().numpy().copy())
            rec["means"].append(mean.cpu().numpy().copy())
            rec["vars"].append(var.cpu().numpy().copy())
    out = None
    if trace:
        out = PlanTrace(
            np.stack(rec["returns"]),
            np.stack(rec["elites"]),
            np.stack(rec["means"]),
            np.stack(rec["vars"]),
        )
    return mean, out
