"""Glue between CEMPlanner and the native CPU planner (``mbrlhpo._core.CemPlanner``).

Weights are passed as NumPy views of the live torch tensors (no copies): the member's problem,
made once per CEM configuration (``engine.Member``), follows the model as it trains in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mbrlhpo import _native
from mbrlhpo.planning.engine import Engine, Member, call_engine
from mbrlhpo.planning.trace import PlanTrace


class CpuEngine(Engine):
    """The native CPU CEM engine: a thread pool and per-thread scratch, reused by every call.

    ``num_threads``: 0 (default) uses the CPUs this process may run on (its affinity), at most
    ``OMP_NUM_THREADS``; a scheduler's assignment (e.g. Ray's ``num_cpus``) is passed here.
    ``tile_rows``: most rows per work item (``None``: the measured default, docs/planner.md).
    Plans do not depend on the thread count; ``tile_rows`` can change them in the last bits
    (OpenBLAS's result for a row may depend on the rows per call: docs/planner.md, "AVX2-only
    CPUs").
    """

    backend = "cpu"

    def __init__(self, num_threads: int = 0, tile_rows: int | None = None) -> None:
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
            raise ValueError(f"expected num_threads to be an int >= 0, got {num_threads!r}")
        kwargs = {} if tile_rows is None else {"tile_rows": tile_rows}
        super().__init__(_native.core().CemPlanner(num_threads=num_threads, **kwargs))

    @property
    def num_threads(self) -> int:
        return int(self.handle.num_threads)

    @property
    def tile_rows(self) -> int:
        return int(self.handle.tile_rows)


def _view(t: Any) -> np.ndarray:
    if t.device.type != "cpu":
        raise ValueError(f"the cpu backend needs the model on the CPU, got device {t.device}")
    return t.detach().numpy()


class CpuMember(Member):
    """One planner's native CPU half: its problem with the weights as NumPy views of the
    model's live tensors (``engine.Member``: made once per CEM configuration)."""

    def __init__(self, planner: Any) -> None:
        core = _native.core()
        names = list(core.planner_task_names())
        if planner.task.name not in names:
            raise ValueError(
                f"the native planner has no task {planner.task.name!r}; expected one of {names}"
            )
        precision = getattr(planner, "precision", "float32")
        if precision == "bf16" and not core.bf16_supported():
            raise RuntimeError(
                "precision 'bf16' needs a CPU with AVX512_BF16 (avx512f/bw/vl/bf16); "
                "this CPU lacks it: use precision 'float32'"
            )
        super().__init__(planner, precision)

    def _build(self, settings: dict[str, Any]) -> Any:
        p = self.planner
        w = p.model.planner_weights()
        return _native.core().CemMemberSpec(
            task=p.task.name,
            weights=[_view(x) for x in w.weights],
            biases=[_view(x) for x in w.biases],
            max_logvar=_view(w.max_logvar),
            min_logvar=_view(w.min_logvar),
            input_mean=_view(w.input_mean),
            input_std=_view(w.input_std),
            **settings,
        )


def plan_members(
    engine: CpuEngine,
    members: Sequence[CpuMember],
    obs: Sequence[np.ndarray],
    init_means: Sequence[np.ndarray],
    steps: Sequence[int],
    trace: bool = False,
) -> list[tuple[np.ndarray, PlanTrace | None]]:
    """Plan several members in one native call on ``engine`` (the GIL released)."""
    if not isinstance(engine, CpuEngine):
        raise TypeError(f"expected a CpuEngine, got {type(engine).__name__}")
    return call_engine(engine, [m.problem for m in members], obs, init_means, steps, trace)
