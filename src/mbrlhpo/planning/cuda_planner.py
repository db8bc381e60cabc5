"""Glue between CEMPlanner and the native CUDA planner (``mbrlhpo._core.CudaPlanner``).

The model's CUDA tensors are read in place through their device pointers (no per-step copy of
the model): the member's problem, made once per CEM configuration (``engine.Member``), checks
them (device, dtype float32, contiguity, shape), holds their ``data_ptr()`` values and keeps the
tensors alive; training, rollbacks and exploits write into the same tensors. Each plan runs on
PyTorch's current CUDA stream of the model's device, so it is ordered after whatever training
last wrote to the weights on that stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from mbrlhpo import _native
from mbrlhpo._native import require_cuda_planner
from mbrlhpo.planning.engine import Engine, Member, call_engine
from mbrlhpo.planning.trace import PlanTrace

CUDA_PRECISIONS = ("tf32", "float32")


def cuda_planner_available() -> bool:
    """True when the native module has the CUDA planner and a CUDA device is usable."""
    if not _native.available():
        return False
    core = _native.core()
    return hasattr(core, "CudaPlanner") and bool(core.cuda_available())


class CudaEngine(Engine):
    """The native CUDA planner of one device: its buffers and CUDA graphs, reused by every call."""

    backend = "cuda"

    def __init__(self, device: int = 0) -> None:
        if isinstance(device, bool) or not isinstance(device, int) or device < 0:
            raise ValueError(f"expected a CUDA device index >= 0, got {device!r}")
        super().__init__(require_cuda_planner().CudaPlanner(device))
        self.device = device


def _checked(t: torch.Tensor, name: str, shape: tuple[int, ...], device: torch.device) -> int:
    """The device pointer of ``t`` after checking device, dtype, contiguity and shape."""
    if t.device != device:
        raise ValueError(f"expected {name} on {device}, got {t.device}")
    if t.dtype != torch.float32:
        raise ValueError(f"expected {name} of dtype float32, got {t.dtype}")
    if tuple(t.shape) != shape:
        raise ValueError(f"expected {name} of shape {shape}, got {tuple(t.shape)}")
    if not t.is_contiguous():
        raise ValueError(f"expected {name} to be contiguous")
    return int(t.data_ptr())


class CudaMember(Member):
    """One planner's CUDA half: its problem with the device pointers of the model's live
    tensors (``engine.Member``: made once per CEM configuration, not at each plan)."""

    def __init__(self, planner: Any, precision: str) -> None:
        if precision not in CUDA_PRECISIONS:
            raise ValueError(
                f"expected precision in {CUDA_PRECISIONS} for backend 'cuda', got {precision!r}"
            )
        core = require_cuda_planner()
        names = list(core.cuda_planner_task_names())
        if planner.task.name not in names:
            raise ValueError(
                f"the CUDA planner has no task {planner.task.name!r}; expected one of {names}"
            )
        super().__init__(planner, precision)
        self.device = self._model_device()
        self.tensors: list[torch.Tensor] = []  # what the problem points into, kept alive

    def _model_device(self) -> torch.device:
        dev = self.planner.model.planner_weights().input_mean.device
        if dev.type != "cuda":
            raise ValueError(
                "backend 'cuda' reads the model's weights in place on the GPU: expected the "
                f"model on a CUDA device, got {dev}"
            )
        return torch.device("cuda", dev.index if dev.index is not None else 0)

    def _build(self, settings: dict[str, Any]) -> Any:
        p = self.planner
        w = p.model.planner_weights()
        dev = self.device
        ens = int(p.model.ensemble_size)
        sizes = [int(w.weights[0].shape[1])] + [int(x.shape[2]) for x in w.weights]
        weight_ptrs = [
            _checked(x, f"weights[{i}]", (ens, sizes[i], sizes[i + 1]), dev)
            for i, x in enumerate(w.weights)
        ]
        bias_ptrs = [
            _checked(x, f"biases[{i}]", (ens, 1, sizes[i + 1]), dev) for i, x in enumerate(w.biases)
        ]
        obs_dim, in_dim = int(p.task.obs_dim), sizes[0]
        problem = _native.core().CudaMemberSpec(
            task=p.task.name,
            ensemble_size=ens,
            layer_sizes=sizes,
            weights=weight_ptrs,
            biases=bias_ptrs,
            max_logvar=_checked(w.max_logvar, "max_logvar", (1, obs_dim), dev),
            min_logvar=_checked(w.min_logvar, "min_logvar", (1, obs_dim), dev),
            input_mean=_checked(w.input_mean, "input_mean", (1, in_dim), dev),
            input_std=_checked(w.input_std, "input_std", (1, in_dim), dev),
            **settings,
        )
        self.tensors = [
            *w.weights,
            *w.biases,
            w.max_logvar,
            w.min_logvar,
            w.input_mean,
            w.input_std,
        ]
        return problem


def plan_members(
    engine: CudaEngine,
    members: Sequence[CudaMember],
    obs: Sequence[np.ndarray],
    init_means: Sequence[np.ndarray],
    steps: Sequence[int],
    trace: bool = False,
) -> list[tuple[np.ndarray, PlanTrace | None]]:
    """Plan several members (models on the engine's device) in one native call on its current
    stream."""
    if not isinstance(engine, CudaEngine):
        raise TypeError(f"expected a CudaEngine, got {type(engine).__name__}")
    devices = {m.device for m in members}
    if len(devices) != 1:
        raise ValueError(
            "expected the models of one population on one CUDA device, got "
            f"{sorted(map(str, devices))}"
        )
    device = members[0].device
    if device.index != engine.device:
        raise ValueError(
            f"expected the models on the engine's device cuda:{engine.device}, got {device}"
        )
    stream = torch.cuda.current_stream(device)
    problems = [m.problem for m in members]  # each member keeps its tensors alive
    return call_engine(engine, problems, obs, init_means, steps, trace, int(stream.cuda_stream))
