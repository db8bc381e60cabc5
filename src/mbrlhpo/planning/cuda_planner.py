"""Glue between CEMPlanner and the native CUDA planner (``mbrlhpo._core.CudaPlanner``).

The model's CUDA tensors are read in place through their device pointers (no per-step copy),
and every plan runs on PyTorch's current CUDA stream of the model's device.
"""

from __future__ import annotations

from mbrlhpo import _native


def cuda_planner_available() -> bool:
    """True when the native module has the CUDA planner and a CUDA device is usable."""
    if not _native.available():
        return False
    core = _native.core()
    return hasattr(core, "CudaPlanner") and bool(core.cuda_available())
