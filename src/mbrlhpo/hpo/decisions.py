"""Decisions the HPO methods hand to the runner. Plain, frozen records; no execution here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Exploit:
    """``dst`` takes over ``src``'s state at ``src_round``: weights, optimiser, hyperparameters
    and replay buffer (PBT's ``copy="all"``), or only the hyperparameters (``copy="hparams"``,
    the paper's no-copy-history ablation). ``reason`` is ``"exploit"`` (truncation selection)
    or ``"replace_failed"`` (``dst`` failed: it always takes the whole state)."""

    src: int
    dst: int
    src_round: int
    reason: Literal["exploit", "replace_failed"] = "exploit"


@dataclass(frozen=True)
class Explore:
    """``member``'s hyperparameters change from ``old`` to ``new`` by ``kind``."""

    member: int
    kind: Literal["perturb", "resample"]
    old: dict = field(hash=False)
    new: dict = field(hash=False)


@dataclass(frozen=True)
class Backtrack:
    """``dst`` restores the elite checkpoint of ``src`` at ``src_round`` (weights, optimiser,
    buffer) and continues with ``new`` hyperparameters (``kind`` says how they were changed
    from the elite's ``old``)."""

    src: int
    src_round: int
    dst: int
    score: float
    kind: Literal["perturb", "resample"]
    old: dict = field(hash=False)
    new: dict = field(hash=False)


Decision = Exploit | Explore | Backtrack
