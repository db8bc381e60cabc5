"""What the runner needs from a member (the PETS agent satisfies it; tests use a toy)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class TrialResult:
    """One trial (episode) of a member: its return, wall time, whether it diverged (NaN/inf,
    a broken simulation) and the hyperparameters it ran with."""

    ret: float
    wall_time: float
    diverged: bool = False
    hparams: dict = field(default_factory=dict)


@runtime_checkable
class Member(Protocol):
    def run_trial(self) -> TrialResult: ...

    def set_hparams(self, hparams: dict) -> None: ...

    def save(self, path: str | os.PathLike) -> None:
        """Write the whole state into directory ``path`` atomically."""

    @classmethod
    def load(cls, path: str | os.PathLike) -> Member: ...

    def copy_from(self, other: Member, copy_history: bool) -> None:
        """Exploit: take ``other``'s weights, optimiser state, hyperparameters and (if
        ``copy_history``) its replay buffer."""


MemberFactory = Callable[[dict, int], Member]
"""``factory(hparams, seed) -> Member``: a fresh member. A factory may declare the member's
class as ``factory.member_class``; a resumed study then loads checkpoints without first
building a throwaway member."""
