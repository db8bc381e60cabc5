"""CEMPlanner: the PETS MPC planner facade over the torch reference and the native backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from mbrlhpo.planning import torch_planner
from mbrlhpo.planning.config import CEMConfig
from mbrlhpo.planning.engine import Engine
from mbrlhpo.planning.trace import PlanTrace

BACKENDS = ("cpu", "torch", "cuda")
PRECISIONS = ("float32", "bf16", "tf32")
# The precision a backend uses when none is asked for: float32 (the reference) on the CPU, TF32
# tensor cores on the GPU (its error against float32 is stated in docs/planner.md).
DEFAULT_PRECISION = {"cpu": "float32", "torch": "float32", "cuda": "tf32"}


class CEMPlanner:
    """Model predictive control with CEM over TS-inf trajectory sampling (PETS).

    Args:
        task: a TaskSpec (obs/action dims, bounds, reward, termination, model input/target).
        model: a :class:`mbrlhpo.models.DynamicsModel` (read in place, never copied per call).
        config: the CEM settings; ``config.particles`` must be a multiple of the ensemble size.
        backend: ``"cpu"`` (native C++), ``"torch"`` (reference) or ``"cuda"`` (native GPU).
        seed: seed of the counter-based noise (0 <= seed < 2^64); with the plan counter it fixes
            every sample, independently of threads and backend.
        num_threads: threads of the engine this planner creates for itself on the ``"cpu"``
            backend (0: the CPUs this process may use, at most ``OMP_NUM_THREADS``); plans do
            not depend on it.
        engine: the native engine to plan on (a :class:`CpuEngine` for ``"cpu"``, a
            :class:`CudaEngine` for ``"cuda"``), owned by the caller; ``None``: the planner
            creates its own at its first plan and frees it in :meth:`close`.
        precision: ``"float32"`` (default on ``"cpu"`` and ``"torch"``), ``"bf16"``: the
            ``"cpu"`` backend's hidden-to-hidden layers with BF16 inputs and float32 accumulation
            (AVX512_BF16 CPUs only; raises elsewhere), or ``"tf32"`` (default on ``"cuda"``):
            the ``"cuda"`` backend's layers on TF32 tensor cores. Neither is bit-identical to
            float32 (docs/planner.md gives the measured errors).

    Each :meth:`plan` starts CEM from the previous solution shifted by one step (tail: middle of
    the action range); :meth:`reset` drops it for a new episode. The plan counter (the RNG's
    ``step``) keeps counting across episodes.
    """

    def __init__(
        self,
        task: Any,
        model: Any,
        config: CEMConfig,
        backend: str = "cpu",
        seed: int = 0,
        *,
        num_threads: int = 0,
        precision: str | None = None,
        engine: Engine | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"expected backend in {BACKENDS}, got {backend!r}")
        if precision is None:
            precision = DEFAULT_PRECISION[backend]
        if precision not in PRECISIONS:
            raise ValueError(f"expected precision in {PRECISIONS}, got {precision!r}")
        needs = {"bf16": "cpu", "tf32": "cuda"}.get(precision)
        if needs is not None and backend != needs:
            raise ValueError(f"precision {precision!r} needs backend {needs!r}, got {backend!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**64:
            raise ValueError(f"expected seed to be an int in [0, 2^64), got {seed!r}")
        if not hasattr(model, "planner_weights"):
            raise TypeError(f"expected a DynamicsModel, got {type(model).__name__}")
        if int(model.obs_dim) != int(task.obs_dim) or int(model.act_dim) != int(task.act_dim):
            raise ValueError(
                f"model dims (obs {model.obs_dim}, act {model.act_dim}) do not match task "
                f"{task.name!r} (obs {task.obs_dim}, act {task.act_dim})"
            )
        self.task = task
        self.model = model
        self.backend = backend
        self.seed = seed
        self.precision = precision
        self.low = np.asarray(task.action_low, dtype=np.float32).reshape(-1)
        self.high = np.asarray(task.action_high, dtype=np.float32).reshape(-1)
        self.mid = (self.low + self.high) / 2
        self.step = 0
        self._native: Any = None
        config = self._validated(config)
        if backend == "torch" and engine is not None:
            raise ValueError("backend 'torch' runs no native engine; expected engine=None")
        if backend == "cuda":
            from mbrlhpo.planning.cuda_planner import CudaMember

            self._native = CudaMember(self, precision)
        elif backend == "cpu":
            from mbrlhpo.planning.cpu_planner import CpuMember

            self._native = CpuMember(self)
        self._configure(config)
        self._init_mean = np.tile(self.mid, (config.horizon, 1))
        if engine is not None:
            _check_engine(engine, backend)
        self._num_threads = num_threads
        self._engine = engine
        self._owns_engine = False

    # ------------------------------------------------------------------ engine
    @property
    def engine(self) -> Engine | None:
        """The native engine this planner plans on alone (``None`` before its first plan)."""
        return self._engine

    def _own_engine(self) -> Engine:
        if self._engine is None:
            if self.backend == "cuda":
                from mbrlhpo.planning.cuda_planner import CudaEngine

                self._engine = CudaEngine(self._native.device.index)
            else:
                from mbrlhpo.planning.cpu_planner import CpuEngine

                self._engine = CpuEngine(self._num_threads)
            self._owns_engine = True
        return self._engine

    def close(self) -> None:
        """Frees the engine this planner created for itself (not one it was given)."""
        if self._owns_engine and self._engine is not None:
            self._engine.close()
            self._engine = None
            self._owns_engine = False

    def _configure(self, config: CEMConfig) -> None:
        """Makes ``config`` this planner's: its native member (if any) receives its problem here,
        the one place the CPU and CUDA members' CEM settings are made, once per configuration."""
        if self._native is not None:
            self._native.configure(
                dict(
                    action_low=self.low,
                    action_high=self.high,
                    horizon=config.horizon,
                    population=config.population,
                    num_elites=config.num_elites,
                    iterations=config.iterations,
                    alpha=float(config.alpha),
                    particles=config.particles,
                    seed=self.seed,
                )
            )
        self.config = config

    def _validated(self, config: CEMConfig) -> CEMConfig:
        if not isinstance(config, CEMConfig):
            raise TypeError(f"expected a CEMConfig, got {type(config).__name__}")
        ens = int(self.model.ensemble_size)
        if config.particles % ens != 0:
            raise ValueError(
                f"expected particles to be a multiple of the ensemble size {ens}, "
                f"got {config.particles}"
            )
        return config

    # ------------------------------------------------------------------ episode state
    def reset(self) -> None:
        """New episode: the warm start becomes the middle of the action range."""
        self._init_mean = np.tile(self.mid, (self.config.horizon, 1))

    def set_config(self, config: CEMConfig) -> None:
        """Change the CEM settings; a changed horizon truncates / pads the warm start."""
        config = self._validated(config)
        if config == self.config:  # the same settings (a PBT member keeping its values)
            self.config = config  # the problem stays: it poses exactly these
            return
        h_old, h_new = self.config.horizon, config.horizon
        self._configure(config)
        if h_new <= h_old:
            self._init_mean = self._init_mean[:h_new].copy()
        else:
            pad = np.tile(self.mid, (h_new - h_old, 1))
            self._init_mean = np.concatenate([self._init_mean, pad], axis=0)

    @property
    def warm_start(self) -> np.ndarray:
        """The mean CEM will start from at the next plan, ``(H x A)`` float32 (a copy)."""
        return self._init_mean.copy()

    def get_state(self) -> dict[str, np.ndarray]:
        """Warm start and plan counter, for checkpoints."""
        return {
            "warm_start": self._init_mean.copy(),
            "step": np.array(self.step, np.int64),
        }

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        ws = np.asarray(state["warm_start"], dtype=np.float32)
        expected = (self.config.horizon, self.low.shape[0])
        if ws.shape != expected:
            raise ValueError(f"expected warm_start of shape {expected}, got {ws.shape}")
        self._init_mean = ws.copy()
        self.step = int(state["step"])

    # ------------------------------------------------------------------ planning
    def check_obs(self, obs: Any) -> np.ndarray:
        o = np.asarray(obs.detach().cpu() if isinstance(obs, torch.Tensor) else obs)
        expected = (int(self.task.obs_dim),)
        if o.shape != expected:
            raise ValueError(f"expected obs of shape {expected}, got {o.shape}")
        o = o.astype(np.float32)
        if not np.isfinite(o).all():
            raise ValueError("obs contains NaN or inf")
        return o

    def _finish(self, mean: np.ndarray) -> np.ndarray:
        mean = np.asarray(mean, dtype=np.float32)
        self._init_mean = np.concatenate([mean[1:], self.mid[None, :]], axis=0)
        self.step += 1
        return np.clip(mean[0], self.low, self.high).astype(np.float32)

    def plan(self, obs: Any) -> np.ndarray:
        """Plan from ``obs`` ``(O,)``; returns the first action of the final mean ``(A,)``."""
        return self.plan_with_trace(obs, trace=False)[0]

    def plan_with_trace(self, obs: Any, trace: bool = True) -> tuple[np.ndarray, PlanTrace | None]:
        """Like :meth:`plan`, also returning per-iteration returns, elites, means, variances."""
        o = self.check_obs(obs)
        if self.backend == "torch":
            mean, tr = torch_planner.cem_plan(
                self.task,
                self.model.planner_weights(),
                self.config,
                torch.from_numpy(o),
                torch.from_numpy(self._init_mean),
                self.seed,
                self.step,
                trace=trace,
            )
            return self._finish(mean.cpu().numpy()), tr
        [(mean, tr)] = _plan_native(self._own_engine(), [self], [o], trace)
        return self._finish(mean), tr


def _check_engine(engine: Any, backend: str) -> None:
    if not isinstance(engine, Engine) or engine.backend != backend:
        expected = {"cpu": "CpuEngine", "cuda": "CudaEngine"}[backend]
        raise TypeError(
            f"expected a {expected} for backend {backend!r}, got {type(engine).__name__}"
        )


def _plan_native(
    engine: Engine, planners: Sequence[CEMPlanner], obs: Sequence[np.ndarray], trace: bool
) -> list[tuple[np.ndarray, PlanTrace | None]]:
    """One native call for planners of one backend, from their checked observations."""
    backend = planners[0].backend
    _check_engine(engine, backend)
    if backend == "cuda":
        from mbrlhpo.planning.cuda_planner import plan_members
    else:
        from mbrlhpo.planning.cpu_planner import plan_members
    return plan_members(
        engine,
        [p._native for p in planners],
        obs,
        [p._init_mean for p in planners],
        [p.step for p in planners],
        trace,
    )


def plan_population(
    planners: Sequence[CEMPlanner], observations: Any, engine: Engine | None = None
) -> np.ndarray:
    """Plan for M independent planners (own model, config, seed) in one call: ``(M x A)``.

    Native planners of the same backend and task run in one native call on ``engine`` (the GIL
    released): ``"cpu"`` planners on a :class:`CpuEngine`'s threads, ``"cuda"`` planners
    (models on one device) in every launch of one CUDA graph of a :class:`CudaEngine`; torch
    planners run one after another. ``engine``: the population owner's (``None``: the first
    planner's own).
    """
    planners = list(planners)
    obs = np.asarray(observations)
    if len(planners) == 0:
        raise ValueError("expected at least one planner, got 0")
    if obs.ndim != 2 or obs.shape[0] != len(planners):
        raise ValueError(f"expected observations of shape ({len(planners)}, O), got {obs.shape}")
    names = {p.task.name for p in planners}
    if len(names) != 1:
        raise ValueError(f"expected planners of one task, got {sorted(names)}")
    backends = {p.backend for p in planners}
    if len(backends) == 1 and backends <= {"cpu", "cuda"}:
        checked = [p.check_obs(o) for p, o in zip(planners, obs, strict=True)]
        out = _plan_native(engine or planners[0]._own_engine(), planners, checked, False)
        return np.stack([p._finish(m) for p, (m, _) in zip(planners, out, strict=True)])
    return np.stack([p.plan(o) for p, o in zip(planners, obs, strict=True)])


class PopulationPlanner:
    """:func:`plan_population` on an engine the population owns: created at the first call for
    the planners' backend (``num_threads`` for a :class:`CpuEngine`), reused by every later
    call, freed by :meth:`close` (or leaving ``with``)."""

    def __init__(self, num_threads: int = 0) -> None:
        self.num_threads = num_threads
        self.engine: Engine | None = None

    def __call__(self, planners: Sequence[CEMPlanner], observations: Any) -> np.ndarray:
        planners = list(planners)
        backends = {p.backend for p in planners}
        if self.engine is None and len(backends) == 1 and backends <= {"cpu", "cuda"}:
            if backends == {"cuda"}:
                from mbrlhpo.planning.cuda_planner import CudaEngine

                self.engine = CudaEngine(planners[0]._native.device.index)
            else:
                from mbrlhpo.planning.cpu_planner import CpuEngine

                self.engine = CpuEngine(self.num_threads)
        engine = (
            self.engine if self.engine is not None and backends == {self.engine.backend} else None
        )
        return plan_population(planners, observations, engine=engine)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def __enter__(self) -> PopulationPlanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
