"""The native engines' common shape: an owned handle with ``close()`` and ``with`` support.

Vocabulary. A *backend* is where a plan runs: ``"cpu"`` (native C++, cpu_planner.py),
``"cuda"`` (native CUDA, cuda_planner.py) or ``"torch"`` (the reference, torch_planner.py). An
*engine* is a native backend's planner object: its threads or device buffers and graphs, reused
by every call. A *member* is one CEMPlanner's native half: the problem it poses (task, weights,
CEM settings, seed). A *call* plans any number of members on one engine, with each member's
inputs (observation, warm start, plan counter) and outputs (final mean, optional trace).

Whoever owns a population creates its engine and passes it in (``plan_population(...,
engine=...)``, ``CEMPlanner(..., engine=...)``); a planner given none creates its own on its
first plan and closes it in :meth:`CEMPlanner.close`. Nothing is cached per process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mbrlhpo.planning.trace import PlanTrace


class Engine:
    """Owns one native planner object; ``close()`` (or leaving ``with``) frees it."""

    backend = ""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    @property
    def handle(self) -> Any:
        """The native planner object; a RuntimeError once closed."""
        if self._handle is None:
            raise RuntimeError(f"this {self.backend} planner engine is closed")
        return self._handle

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Frees the engine's threads or device buffers (idempotent)."""
        self._handle = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Member:
    """One planner's native half (a :class:`CpuMember` or :class:`CudaMember`): the problem it
    poses. It receives its problem when its planner's configuration changes (``CEMPlanner``
    calls :meth:`configure` as it is made and in ``set_config``), never per plan: the problem
    aliases the model's live parameter tensors, which training, rollbacks and exploits update in
    place, so only new CEM settings make a new one."""

    def __init__(self, planner: Any, precision: str) -> None:
        self.planner = planner
        self.precision = precision
        self.problem: Any = None  # the native member spec, set by configure

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Makes (and has the core check) the member's problem for ``settings``: the planner's
        bounds, CEM settings and seed (keyword arguments of ``CemMemberSpec`` /
        ``CudaMemberSpec``). The old problem stays where the core refuses the new one."""
        self.problem = self._build({**settings, "precision": self.precision})

    def _build(self, settings: dict[str, Any]) -> Any:
        raise NotImplementedError


def call_engine(
    engine: Engine,
    specs: Sequence[Any],
    obs: Sequence[np.ndarray],
    init_means: Sequence[np.ndarray],
    steps: Sequence[int],
    trace: bool,
    *extra: Any,
) -> list[tuple[np.ndarray, PlanTrace | None]]:
    """One native call: members' problems (``specs``) and inputs in, means and traces out."""
    out = engine.handle.plan(
        list(specs),
        [np.ascontiguousarray(o, dtype=np.float32) for o in obs],
        [np.ascontiguousarray(i, dtype=np.float32) for i in init_means],
        [int(s) % 2**32 for s in steps],
        trace,
        *extra,
    )
    return [(mean, PlanTrace(*tr) if tr is not None else None) for mean, tr in out]
