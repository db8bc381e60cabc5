"""Glue between CEMPlanner and the native planner in ``mbrlhpo._core`` (via ``_native``).

Weights are passed as NumPy views of the live torch tensors (no copies); the member spec is
rebuilt at each call (cheap: validation only), so it always follows the model's tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mbrlhpo import _native
from mbrlhpo.planning.torch_planner import PlanTrace

_ENGINES: dict[int, Any] = {}


def engine(num_threads: int = 0) -> Any:
    """The shared native CEM engine with ``num_threads`` threads (0: one per core)."""
    if num_threads not in _ENGINES:
        _ENGINES[num_threads] = _native.core().CemPlanner(num_threads=num_threads)
    return _ENGINES[num_threads]


def _view(t: Any) -> np.ndarray:
    if t.device.type != "cpu":
        raise ValueError(f"the cpu backend needs the model on the CPU, got device {t.device}")
    return t.detach().numpy()


class NativeMember:
    """One planner's native half: builds the member spec from the model at each call."""

    def __init__(self, planner: Any, backend: str, num_threads: int = 0) -> None:
        if backend != "cpu":
            raise ValueError(
                f"backend {backend!r} is not available in this build; expected 'cpu' or 'torch'"
            )
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
        self.planner = planner
        self.precision = precision
        self.engine = engine(num_threads)

    def spec(self) -> Any:
        p = self.planner
        w = p.model.planner_weights()
        c = p.config
        return _native.core().CemMemberSpec(
            task=p.task.name,
            weights=[_view(x) for x in w.weights],
            biases=[_view(x) for x in w.biases],
            max_logvar=_view(w.max_logvar),
            min_logvar=_view(w.min_logvar),
            input_mean=_view(w.input_mean),
            input_std=_view(w.input_std),
            action_low=p.low,
            action_high=p.high,
            horizon=c.horizon,
            population=c.population,
            num_elites=c.num_elites,
            iterations=c.iterations,
            alpha=float(c.alpha),
            particles=c.particles,
            seed=p.seed,
            precision=self.precision,
        )

    def plan(
        self, obs: np.ndarray, init_mean: np.ndarray, step: int, trace: bool
    ) -> tuple[np.ndarray, PlanTrace | None]:
        return plan_members([self], [obs], [init_mean], [step], trace)[0]


def plan_members(
    members: Sequence[NativeMember],
    obs: Sequence[np.ndarray],
    init_means: Sequence[np.ndarray],
    steps: Sequence[int],
    trace: bool = False,
) -> list[tuple[np.ndarray, PlanTrace | None]]:
    """Plan several members in one native call (the GIL released during the call)."""
    engines = {id(m.engine) for m in members}
    if len(engines) != 1:
        raise ValueError("expected all members to share one native engine (same num_threads)")
    specs = [m.spec() for m in members]
    out = members[0].engine.plan(
        specs,
        [np.ascontiguousarray(o, dtype=np.float32) for o in obs],
        [np.ascontiguousarray(i, dtype=np.float32) for i in init_means],
        [int(s) % 2**32 for s in steps],
        trace,
    )
    result = []
    for mean, tr in out:
        result.append((mean, PlanTrace(*tr) if tr is not None else None))
    return result
