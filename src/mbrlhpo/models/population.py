"""Population-batched training: many members' ensembles trained as one batched network.

``train_population(jobs)`` trains M :class:`~mbrlhpo.models.DynamicsModel` s, each on its own
data with its own bootstrap, shuffles, learning rate, weight decay and number of epochs, as one
network of ``M x E`` members: every Adam step is one batched forward/backward for the whole
population instead of M Python loops. It is the only training loop: ``DynamicsModel.train`` is
``train_population`` with one job.

Equality with training each member alone and with the reference loop this project used before
batching (a Python loop per batch with ``torch.optim.Adam``; ``tests/models/test_population.py``
keeps it as the oracle): on the CPU with one torch thread (the default, ``cpu_threads=1``) the
result is bit-identical (weights, Adam state, random streams, per-epoch losses); with more threads
torch may split a batched reduction differently from the one-member one, so with several threads
the claim is equality to float tolerance. It is bit-identical with one thread because

- members are independent slices of every batched op (``baddbmm``, elementwise ops, per-slice
  reductions) and the summed loss gives each member's loss a gradient of exactly 1;
- the loss sums every gradient in the reference's order (``_batched_loss``: no view of the
  log-variance bounds, whose gradient terms a view would add in another order);
- a short last batch (fewer rows than the batch size) is stepped member by member without
  padding: torch's CPU ``bmm`` picks its kernel by the whole shape, so a batched GEMM over short
  slices, or a padded one, is not bit-identical to the one-member GEMM (measured: 2026-11-28,
  the README main job's results differed from the reference loop's in 10 of 32 trials before);
- Adam is written out with the same float operations as ``torch.optim.Adam``'s single-tensor
  CPU path (``lerp_``, ``mul_().addcmul_()``, ``sqrt() / bc2_sqrt + eps``, ``addcdiv_``), with
  the per-member bias corrections computed in float64 on the host and rounded to float32 as
  torch rounds its Python scalars;
- per-epoch losses are accumulated on the device in float64, as the old loop summed
  ``float(loss)`` in Python (no host synchronisation inside an epoch).

Members can only share a batched network when their batches have the same shape: jobs are
grouped by (architecture, device, number of transitions, batch size); one call trains each group
as one network. Within a group, members with fewer epochs drop out after their last epoch
(members are ordered by epochs, so the active ones are a prefix: a view, no copy).

Each member's parameters and Adam state (its model's ``AdamState``, laid out as
``torch.optim.Adam``'s ``state``: ``step``, ``exp_avg``, ``exp_avg_sq``) are gathered into the
batched tensors before training and written back after, so checkpoints, rollbacks and PBT's
exploit (copying a member's weights and optimiser state) work on the members exactly as before.

On a GPU (``graphs=True``, the default there) the per-batch step is captured once per active-set
size as a CUDA graph and replayed; inputs (batch indices and Adam scalars) are copied into
static buffers before each replay. Only the CPU path is proven equal here (no GPU in the
sessions that wrote it); the graph path is tested on a GPU where one is present.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mbrlhpo.models.ensemble import LOGVAR_BOUND_PENALTY, bound_logvar, swish

# torch threads of CPU training. The README main job's 8 members (cartpole, quick profile:
# (40 x 32 x 64) batched GEMMs) trained 1,000 transitions each in 1.4 s CPU on one thread and
# 41 s CPU (127 s wall) on two, on a 2-core machine with other processes running: a second
# thread's OpenMP barriers wait for a core; results were bit-identical (docs/scale.md).
CPU_TRAINING_THREADS = 1


@dataclass
class TrainingJob:
    """One member's training call: its model, all its transitions and its hyperparameters."""

    model: Any  # a DynamicsModel
    obs: Any
    act: Any
    next_obs: Any
    epochs: int
    lr: float
    weight_decay: float
    batch_size: int
    rng: np.random.Generator


def train_population(
    jobs: Sequence[TrainingJob],
    *,
    progress: bool = False,
    on_step: Callable[[int, int], None] | None = None,
    graphs: bool | None = None,
    cpu_threads: int | None = CPU_TRAINING_THREADS,
) -> list[list[float]]:
    """Trains every job's model; returns each job's per-epoch mean training losses.

    Equal (bit for bit on the CPU with one torch thread) to ``job.model.train(...)`` for each
    job alone, in order.
    ``progress``: a tqdm bar over epochs. ``on_step``: called as ``on_step(done, total)``
    after every batched Adam step (``total``: the call's steps, all groups: the longest
    member's epochs x batches per epoch, per group), so that a watcher sees training move
    even where one epoch is long (a large buffer).
    ``graphs``: capture the step as a CUDA graph (default: on for CUDA models).
    ``cpu_threads``: torch's intra-op threads while a CPU group trains (restored after);
    ``None`` keeps torch's setting. The default, 1, is measured (docs/scale.md): a PETS
    ensemble's ops are small, and a second OpenMP thread only adds barriers.
    """
    if cpu_threads is not None and (
        isinstance(cpu_threads, bool) or not isinstance(cpu_threads, int) or cpu_threads < 1
    ):
        raise ValueError(f"expected cpu_threads to be None or an int >= 1, got {cpu_threads!r}")
    if len({id(j.model) for j in jobs}) != len(jobs):
        raise ValueError("expected each model at most once in a population training call")
    prepared = [_prepare(j) for j in jobs]  # validates, refits normalisers, draws bootstraps
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(prepared):
        groups.setdefault(p.group_key, []).append(i)
    losses: list[list[float]] = [[] for _ in jobs]
    total_steps = sum(_group_steps([prepared[i] for i in g]) for g in groups.values())
    steps = _StepCounter(on_step, total_steps)
    for members in groups.values():
        group = [prepared[i] for i in members]
        device = group[0].x.device
        use_graphs = device.type == "cuda" if graphs is None else graphs
        threads = cpu_threads if device.type == "cpu" else None
        with _torch_threads(threads):
            group_losses = _train_group(group, progress, use_graphs, steps)
        for i, member_losses in zip(members, group_losses, strict=True):
            losses[i] = member_losses
    for j in jobs:
        j.model.num_train_calls += 1
    return losses


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to ``threads`` for the block (``None``: unchanged)."""
    before = torch.get_num_threads()
    if threads is None or threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------------- preparation
@dataclass
class _Prepared:
    job: TrainingJob
    x: torch.Tensor  # (N x D) normalised inputs
    y: torch.Tensor  # (N x O) targets
    boot: np.ndarray  # (E x N) bootstrap indices, reshuffled every epoch
    group_key: tuple


def _check_hparams(job: TrainingJob) -> None:
    if not isinstance(job.rng, np.random.Generator):
        raise TypeError(f"expected rng to be a numpy Generator, got {type(job.rng).__name__}")
    epochs, lr, wd, bs = job.epochs, job.lr, job.weight_decay, job.batch_size
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"expected epochs to be an int >= 1, got {epochs!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"expected lr > 0, got {lr!r}")
    if not (isinstance(wd, (int, float)) and math.isfinite(wd) and wd >= 0):
        raise ValueError(f"expected weight_decay >= 0, got {wd!r}")
    if isinstance(bs, bool) or not isinstance(bs, (int, np.integer)) or bs < 1:
        raise ValueError(f"expected batch_size to be an int >= 1, got {bs!r}")


def _prepare(job: TrainingJob) -> _Prepared:
    _check_hparams(job)
    model = job.model
    x, y = model.training_tensors(job.obs, job.act, job.next_obs)
    num = int(x.shape[0])
    boot = job.rng.integers(0, num, size=(model.ensemble_size, num))
    ens = model.ensemble
    opt = model.optimizer.defaults
    key = (
        tuple(ens.layer_sizes),
        ens.ensemble_size,
        str(x.device),
        num,
        int(job.batch_size),
        tuple(opt["betas"]),
        float(opt["eps"]),
    )
    return _Prepared(job, x, y, boot, key)


class _StepCounter:
    """Counts a call's batched steps for its ``on_step`` hook (none: counts nothing)."""

    def __init__(self, on_step: Callable[[int, int], None] | None, total: int) -> None:
        self.on_step, self.total, self.done = on_step, total, 0

    def step(self) -> None:
        if self.on_step is not None:
            self.done += 1
            self.on_step(self.done, self.total)


def _group_steps(group: Sequence[_Prepared]) -> int:
    """Batched steps of a group: its longest member's epochs x batches per epoch."""
    num = int(group[0].x.shape[0])
    return max(int(p.job.epochs) for p in group) * math.ceil(num / int(group[0].job.batch_size))


# ---------------------------------------------------------------------- one group
def _ordered_params(ens: Any) -> list[torch.Tensor]:
    """``[W_0..W_L, b_0..b_L, max_logvar, min_logvar]`` (the order ``_batched_loss`` reads)."""
    params = [*ens.weights, *ens.biases, ens.max_logvar, ens.min_logvar]
    if len(params) != len(list(ens.parameters())):
        raise ValueError("expected a ProbabilisticEnsemble's parameters only")
    return params


class _Stack:
    """A group's parameters and Adam state stacked member-major: ``(M, *param.shape)``."""

    def __init__(self, models: Sequence[Any]) -> None:
        self.models = models
        first = models[0]
        self.param_lists = [_ordered_params(m.ensemble) for m in models]
        self.params = [
            torch.stack([ps[k].detach() for ps in self.param_lists])
            for k in range(len(self.param_lists[0]))
        ]
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.steps = np.zeros(len(models), dtype=np.float64)
        for j, (m, ps) in enumerate(zip(models, self.param_lists, strict=True)):
            member_steps = set()
            for k, p in enumerate(ps):
                st = m.optimizer.state.get(p)
                if not st:
                    member_steps.add(0.0)
                    continue
                self.exp_avg[k][j].copy_(st["exp_avg"])
                self.exp_avg_sq[k][j].copy_(st["exp_avg_sq"])
                member_steps.add(float(st["step"]))
            if len(member_steps) != 1:
                raise ValueError(
                    f"expected one Adam step count for all of a model's parameters, "
                    f"got {sorted(member_steps)}"
                )
            self.steps[j] = member_steps.pop()
        group = first.optimizer.param_groups[0]
        self.beta1, self.beta2 = (float(b) for b in group["betas"])
        self.eps = float(group["eps"])
        e = first.ensemble.ensemble_size
        self.num_weights = len(first.ensemble.weights)
        self.ensemble_size = e
        self.out_dim = first.ensemble.out_dim

    def write_back(self, lrs: Sequence[float]) -> None:
        with torch.no_grad():
            for j, (m, ps) in enumerate(zip(self.models, self.param_lists, strict=True)):
                for k, p in enumerate(ps):
                    p.copy_(self.params[k][j])
                    m.optimizer.state[p] = {
                        "step": torch.tensor(self.steps[j], dtype=torch.float32),
                        "exp_avg": self.exp_avg[k][j].clone(),
                        "exp_avg_sq": self.exp_avg_sq[k][j].clone(),
                    }
                for g in m.optimizer.param_groups:
                    g["lr"] = float(lrs[j])


def _batched_loss(
    params: Sequence[torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    weight_decay: torch.Tensor,
    num_weights: int,
    out_dim: int,
    rows: int,
) -> torch.Tensor:
    """Each member's PETS loss ``(k,)``, with the same float operations as its own loss.

    ``params``: ``[W_0..W_L, b_0..b_L, max_logvar, min_logvar]`` stacked ``(k, ...)``;
    ``x``: ``(k, E, B, D)``; ``y``: ``(k, E, B, O)``; ``weight_decay``: ``(k,)``; only the
    first ``rows`` of the B rows count (the rest pad a short last batch to the full size).
    """
    k, e, b, _ = x.shape
    weights, biases = params[:num_weights], params[num_weights : 2 * num_weights]
    max_lv, min_lv = params[2 * num_weights], params[2 * num_weights + 1]
    h = x.reshape(k * e, b, x.shape[3])
    for i, (w, bias) in enumerate(zip(weights, biases, strict=True)):
        h = torch.baddbmm(bias.flatten(0, 1), h, w.flatten(0, 1))
        if i < num_weights - 1:
            h = swish(h)
    # The reference loop's loss, operation for operation, so that a member's gradients are
    # bit-identical to it (tests/models/test_population.py):
    # - padding rows (the CUDA-graph path pads a short last batch) are cut before the loss, so
    #   that the bounds' gradients are sums over the real rows only;
    # - the bounds (k, 1, O) broadcast against (k, E*rows, O) without a view of them: through
    #   a view (``unsqueeze``) their two gradient terms would be summed before the penalty's
    #   term, in another order than the one-member loss sums them.
    h = h.view(k, e, b, h.shape[2])
    if rows < b:
        h, y = h[:, :, :rows], y[:, :, :rows]
    h = h.reshape(k, e * rows, h.shape[3])
    mean, raw = h[..., :out_dim], h[..., out_dim:]
    logvar = bound_logvar(raw, max_lv, min_lv)
    target = y.reshape(k, e * rows, out_dim)
    sq = ((mean - target) ** 2 * torch.exp(-logvar) + logvar).view(k, e, rows, out_dim)
    loss = sq.mean(dim=(2, 3)).sum(dim=1)
    loss = loss + LOGVAR_BOUND_PENALTY * (max_lv.sum(dim=(1, 2)) - min_lv.sum(dim=(1, 2)))
    l2 = 0.5 * sum((w * w).sum(dim=(1, 2, 3)) for w in weights)
    return loss + weight_decay * l2


def _adam_update(
    stack: _Stack,
    members: slice,
    grads: Sequence[torch.Tensor],
    neg_step_size: torch.Tensor,
    bc2_sqrt: torch.Tensor,
) -> None:
    """``torch.optim.Adam``'s single-tensor step for ``members``, per-member scalars."""
    for p, g, m, v in zip(stack.params, grads, stack.exp_avg, stack.exp_avg_sq, strict=True):
        shape = (g.shape[0],) + (1,) * (p.ndim - 1)
        m = m[members]
        v = v[members]
        m.lerp_(g, 1 - stack.beta1)
        v.mul_(stack.beta2).addcmul_(g, g, value=1 - stack.beta2)
        denom = (v.sqrt() / bc2_sqrt.view(shape)).add_(stack.eps)
        p[members].addcdiv_(m * neg_step_size.view(shape), denom)


def _step(
    stack: _Stack,
    members: slice,
    x_all: torch.Tensor,
    y_all: torch.Tensor,
    idx: torch.Tensor,
    weight_decay: torch.Tensor,
    neg_step_size: torch.Tensor,
    bc2_sqrt: torch.Tensor,
    rows: int,
) -> torch.Tensor:
    """One Adam step of ``members`` (a slice of the stack, n members) on batch ``idx``
    ``(n, E, B)`` of which the first ``rows`` count; returns their losses ``(n,)``."""
    rank = torch.arange(idx.shape[0], device=idx.device).view(-1, 1, 1)
    x = x_all[members][rank, idx]
    y = y_all[members][rank, idx]
    params = [p[members].detach().requires_grad_(True) for p in stack.params]
    loss = _batched_loss(
        params, x, y, weight_decay[members], stack.num_weights, stack.out_dim, rows
    )
    grads = torch.autograd.grad(loss.sum(), params)
    with torch.no_grad():
        _adam_update(stack, members, grads, neg_step_size, bc2_sqrt)
    return loss.detach()


class _GraphedStep:
    """The step for k members captured as a CUDA graph; inputs are static buffers."""

    def __init__(self, stack, k, x_all, y_all, weight_decay, batch: int, rows: int) -> None:
        dev = x_all.device
        e = stack.ensemble_size
        self.idx = torch.zeros((k, e, batch), dtype=torch.long, device=dev)
        self.neg_step_size = torch.zeros(k, device=dev)
        self.bc2_sqrt = torch.ones(k, device=dev)
        args = (stack, slice(0, k), x_all, y_all, self.idx, weight_decay)
        # Warm up on a side stream (as torch.cuda.graphs asks) on copies of the state, so that
        # the warm-up steps leave the real parameters and Adam state untouched.
        saved = [t.clone() for t in stack.params + stack.exp_avg + stack.exp_avg_sq]
        side = torch.cuda.Stream(device=dev)
        side.wait_stream(torch.cuda.current_stream(dev))
        with torch.cuda.stream(side):
            for _ in range(3):
                _step(*args, self.neg_step_size, self.bc2_sqrt, rows)
        torch.cuda.current_stream(dev).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.loss = _step(*args, self.neg_step_size, self.bc2_sqrt, rows)
        for t, s in zip(stack.params + stack.exp_avg + stack.exp_avg_sq, saved, strict=True):
            t.copy_(s)

    def __call__(self, idx, neg_step_size, bc2_sqrt) -> torch.Tensor:
        self.idx.copy_(idx)
        self.neg_step_size.copy_(neg_step_size)
        self.bc2_sqrt.copy_(bc2_sqrt)
        self.graph.replay()
        return self.loss


def _train_group(
    group: Sequence[_Prepared], progress: bool, graphs: bool, steps: _StepCounter
) -> list[list[float]]:
    order = sorted(range(len(group)), key=lambda i: -int(group[i].job.epochs))  # stable
    members = [group[i] for i in order]
    jobs = [p.job for p in members]
    stack = _Stack([j.model for j in jobs])
    device = members[0].x.device
    num = int(members[0].x.shape[0])
    batch = int(jobs[0].batch_size)
    num_batches = math.ceil(num / batch)
    epochs = [int(j.epochs) for j in jobs]
    x_all = torch.stack([p.x for p in members])
    y_all = torch.stack([p.y for p in members])
    weight_decay = torch.tensor([float(j.weight_decay) for j in jobs], device=device)
    lrs = np.array([float(j.lr) for j in jobs], dtype=np.float64)
    boots = [p.boot for p in members]
    losses: list[list[float]] = [[] for _ in members]
    graphed: dict[tuple[int, int], _GraphedStep] = {}

    epoch_iter: Any = range(max(epochs))
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="model training", unit="epoch", leave=False)
    for m in jobs:
        m.model.ensemble.train()
    for epoch in epoch_iter:
        k = sum(1 for n in epochs if n > epoch)
        for j in range(k):
            boots[j] = jobs[j].rng.permuted(boots[j], axis=1)
        idx_all = torch.from_numpy(np.stack(boots[:k])).to(device)
        # Adam's per-member scalars for every batch of the epoch, as torch computes them:
        # in float64 from the step count, rounded to float32 where they meet the tensors.
        # Python floats, not NumPy arrays: NumPy's vectorised pow may differ from C's pow
        # (which torch's Adam uses) in the last bit.
        neg_step_size = np.empty((num_batches, k), dtype=np.float32)
        bc2_sqrt = np.empty((num_batches, k), dtype=np.float32)
        for j in range(k):
            for b in range(num_batches):
                step = float(stack.steps[j]) + (b + 1)
                neg_step_size[b, j] = -(float(lrs[j]) / (1 - stack.beta1**step))
                bc2_sqrt[b, j] = (1 - stack.beta2**step) ** 0.5
        neg_step_size_t = torch.from_numpy(neg_step_size).to(device)
        bc2_sqrt_t = torch.from_numpy(bc2_sqrt).to(device)
        total = torch.zeros(k, dtype=torch.float64, device=device)
        for b in range(num_batches):
            idx = idx_all[:, :, b * batch : (b + 1) * batch]
            rows = int(idx.shape[2])
            if graphs:
                if rows < batch:
                    # Pad a short last batch to the full size (the padding rows carry no
                    # loss): one captured step shape for every batch of the epoch.
                    pad = torch.zeros(
                        (k, idx.shape[1], batch - rows), dtype=idx.dtype, device=device
                    )
                    idx = torch.cat([idx, pad], dim=2)
                if (k, rows) not in graphed:
                    graphed[k, rows] = _GraphedStep(
                        stack, k, x_all, y_all, weight_decay, batch, rows
                    )
                loss = graphed[k, rows](idx, neg_step_size_t[b], bc2_sqrt_t[b])
            elif rows == batch:
                args = (neg_step_size_t[b], bc2_sqrt_t[b], rows)
                loss = _step(stack, slice(0, k), x_all, y_all, idx, weight_decay, *args)
            else:
                # A short last batch: each member steps alone. A batched GEMM over k members'
                # short slices is not bit-identical to each member's own (torch's CPU bmm
                # picks its kernel by the whole shape), nor is padding the batch to full size
                # identical to the unpadded one-member step; one step per member per epoch is
                # the price of equality with training alone.
                loss = torch.cat(
                    [
                        _step(
                            stack,
                            slice(j, j + 1),
                            x_all,
                            y_all,
                            idx[j : j + 1],
                            weight_decay,
                            neg_step_size_t[b, j : j + 1],
                            bc2_sqrt_t[b, j : j + 1],
                            rows,
                        )
                        for j in range(k)
                    ]
                )
            total += loss.to(torch.float64)
            steps.step()
        stack.steps[:k] += num_batches
        mean_losses = (total / num_batches).cpu().tolist()  # one synchronisation per epoch
        for j in range(k):
            losses[j].append(mean_losses[j])
        if progress:
            epoch_iter.set_postfix(loss=f"{mean_losses[0]:.4f}")
    stack.write_back(lrs)
    for m in jobs:
        m.model.ensemble.eval()
    out: list[list[float]] = [[] for _ in group]
    for pos, i in enumerate(order):
        out[i] = losses[pos]
    return out
