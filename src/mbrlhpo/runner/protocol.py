"""What the runner needs from a member (the PETS agent satisfies it; tests use a toy).

This module is the runner's contract with members: it imports nothing else of mbrlhpo, so a
member's package (``mbrlhpo.agent``) may import it without depending on the runner itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True, kw_only=True)
class TrialResult:
    """What one trial of a member did.

    ``ret`` is the sum of the env's reward over the trial's episode (the task reward, plus the
    alive bonus on Hopper, as the paper's env); where episodes terminate early and a trial runs
    several, over its first (docs/agent.md). ``steps`` counts all the trial's env steps. A
    member that only knows its return and wall time leaves the rest at their defaults.
    """

    trial: int = 0
    ret: float
    steps: int = 0
    wall_time: float
    train_time: float = 0.0
    model_loss: float | None = None  # last training epoch's loss; None for the random trial
    diverged: bool = False  # the simulation overflowed or the return is NaN/inf
    model_diverged: bool = False  # training produced NaN/inf: the model was rolled back
    random: bool = False  # the first trial: uniformly random actions
    hparams: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready), one key per field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> TrialResult:
        """The inverse of ``to_dict``; refuses unknown or missing fields in one line."""
        if not isinstance(record, Mapping):
            raise TypeError(f"TrialResult.from_dict: expected a mapping, got {type(record)}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(record) - names)
        if unknown:
            raise ValueError(
                f"TrialResult.from_dict: unknown fields {unknown}, expected some of {sorted(names)}"
            )
        missing = sorted(n for n in ("ret", "wall_time") if n not in record)
        if missing:
            raise ValueError(f"TrialResult.from_dict: missing fields {missing}")
        return cls(**record)


@runtime_checkable
class Member(Protocol):
    """A member the runner can train, checkpoint, resume and exploit."""

    def run_trial(self) -> TrialResult: ...

    def set_hparams(self, hparams: dict) -> None: ...

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole state into directory ``path`` atomically."""

    @classmethod
    def load(cls, path: str | os.PathLike) -> Member: ...

    def restore(self, path: str | os.PathLike) -> None:
        """Replace this member's state, in place, by the one saved at ``path``."""

    def copy_from(self, other: Member, copy_history: bool) -> None:
        """Exploit: take ``other``'s weights, optimiser state, hyperparameters and (if
        ``copy_history``) its replay buffer."""


@runtime_checkable
class LockstepMember(Protocol):
    """A member whose trial runs in parts, so that ``LockstepExecutor`` can advance a whole
    population one environment step at a time and plan for all of it in one call.

    ``run_trial`` must equal ``start_trial``, then ``step_trial`` with ``random_action()``
    (while ``in_random_trial``) or ``planner.plan(obs)`` until done, then ``finish_trial``
    (which trains: a trial acts first, then trains, as the paper's code does). Optionally
    (``PETSAgent``) ``finish_episode()``/``training_job()``/``finish_training(...)``/``model``
    and a static ``train_population(jobs) -> outcomes`` let the executor train the
    population's models in one batched call after the episodes (the member's own trainer:
    the runner imports no model code) and hand each outcome to ``finish_trial(trained=...)``.
    """

    planner: Any  # what the executor's batch planner receives for this member

    @property
    def in_random_trial(self) -> bool: ...

    def start_trial(self) -> np.ndarray: ...

    def step_trial(self, action: np.ndarray) -> tuple[np.ndarray, bool]: ...

    def finish_trial(self, trained: Any = None) -> TrialResult: ...

    def random_action(self) -> np.ndarray: ...


BatchPlanner = Callable[[list[Any], np.ndarray], np.ndarray]
"""``plan_population(planners, obs (M x O)) -> actions (M x A)``: one planning step for M
members (``mbrlhpo.planning.plan_population`` is the native CPU one)."""

MemberFactory = Callable[[dict, int], Member]
"""``factory(hparams, seed) -> Member``: a fresh member. A factory may declare the member's
class as ``factory.member_class``; a resumed study then loads checkpoints without first
building a throwaway member. It may also declare ``factory.amend(member)``, which brings a
member loaded from a checkpoint in line with the factory's settings: used when a study that
stopped because every member failed resumes with corrected member settings."""
