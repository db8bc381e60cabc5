"""PBT with backtracking (the paper's Sec. 4.2, A.2): pure decisions and the elite archive.

The elite archive follows the paper's code (automl/HPO_for_RL ``pbt/population``): every
member slot contributes one elite, its best state (member, round) at any PBT timestep so far,
and the archive holds the best ``capacity = round(0.125 x population)`` of these (5 of 40),
sorted by score (best first; the paper's code did not sort them: our documented deviation).
Every ``backtrack_every`` PBT timesteps, instead of the ordinary exploit/explore, each member
whose score is worse than the archive's worst elite by more than ``tolerance`` (relative:
``score < worst - tolerance * |worst|``; failed members always) restores an elite drawn
uniformly from the archive, and its hyperparameters are explored from the elite's until no two
members share a configuration. At every other timestep PBT-BT is PBT.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from mbrlhpo.hpo.decisions import Backtrack, Decision
from mbrlhpo.hpo.pbt import PBTSettings, exploit_explore, explore
from mbrlhpo.hpo.space import ParamSpec, sample_config


@dataclass(frozen=True)
class PBTBTSettings(PBTSettings):
    """PBT settings plus backtracking. ``elite_capacity`` None = ``elite_size(population,
    elite_ratio)`` (the paper's code: round(0.125 x population), at least 1)."""

    backtrack_every: int = 30
    tolerance: float = 0.2
    elite_ratio: float = 0.125
    elite_capacity: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.backtrack_every, int) or self.backtrack_every < 1:
            raise ValueError(f"backtrack_every: expected an int >= 1, got {self.backtrack_every!r}")
        if not self.tolerance >= 0:
            raise ValueError(f"tolerance: expected >= 0, got {self.tolerance!r}")
        if not 0.0 < self.elite_ratio <= 1.0:
            raise ValueError(
                f"elite_ratio: expected a fraction in (0, 1], got {self.elite_ratio!r}"
            )
        if self.elite_capacity is not None and self.elite_capacity < 1:
            raise ValueError(f"elite_capacity: expected >= 1 or None, got {self.elite_capacity!r}")


@dataclass(frozen=True)
class EliteEntry:
    """A member's state at the end of a trial round, with its score and hyperparameters."""

    score: float
    member: int
    round: int
    config: dict

    def sort_key(self) -> tuple[float, int, int]:
        return (-self.score, self.round, self.member)


def elite_size(population: int, ratio: float = 0.125) -> int:
    """Elites kept for a population: ``round(ratio x population)`` (Python's round, as the
    paper's code), at least 1: 40 -> 5, 80 -> 10, 8 -> 1."""
    return max(1, int(round(ratio * population)))


class EliteArchive:
    """One elite per member slot (its best state so far); the best ``capacity`` of them,
    sorted best first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity: expected >= 1, got {capacity}")
        self.capacity = capacity
        self._best: dict[int, EliteEntry] = {}  # member -> its best state so far

    @property
    def entries(self) -> list[EliteEntry]:
        """The elites sorted by score, best first (ties: earlier round, smaller member id)."""
        ranked = sorted(self._best.values(), key=EliteEntry.sort_key)
        return ranked[: self.capacity]

    def __len__(self) -> int:
        return min(len(self._best), self.capacity)

    def add_round(
        self,
        round_: int,
        scores: Mapping[int, float],
        configs: Mapping[int, Mapping[str, int | float]],
    ) -> None:
        """Offer every member's state at ``round_``; it replaces the member's elite if it
        scores higher (ties keep the earlier state); non-finite scores are never elites."""
        for m in sorted(scores):
            s = float(scores[m])
            old = self._best.get(m)
            if math.isfinite(s) and (old is None or s > old.score):
                self._best[m] = EliteEntry(s, m, round_, dict(configs[m]))

    def worst(self) -> EliteEntry:
        entries = self.entries
        if not entries:
            raise ValueError("the elite archive is empty")
        return entries[-1]

    def retained(self) -> set[tuple[int, int]]:
        """(member, round) states whose checkpoints must be kept: the elites. A member's best
        state outside them can never become an elite later (elites only improve)."""
        return {(e.member, e.round) for e in self.entries}


def backtrack_threshold(worst: float, tolerance: float) -> float:
    """Scores below this backtrack: ``worst - tolerance * |worst|``."""
    return worst - tolerance * abs(worst)


def _searched(config: Mapping[str, int | float], specs: Mapping[str, ParamSpec]) -> tuple:
    return tuple((n, config[n]) for n in specs)


def backtrack(
    archive: EliteArchive,
    scores: Mapping[int, float],
    configs: Mapping[int, Mapping[str, int | float]],
    specs: Mapping[str, ParamSpec],
    rng: np.random.Generator,
    settings: PBTBTSettings,
    failed: Iterable[int] = (),
    max_tries: int = 100,
) -> list[Backtrack]:
    """Backtracking step: poorly performing (and failed) members restore a random elite.

    Each restored member's hyperparameters are explored from the elite's (PBT's perturb or
    resample) until they differ from every other member's (kept or newly assigned); after
    ``max_tries`` explorations it falls back to resampling until unique.
    """
    if len(archive) == 0:
        return []
    failed_set = set(failed)
    threshold = backtrack_threshold(archive.worst().score, settings.tolerance)
    dsts = sorted(m for m in scores if m in failed_set or not float(scores[m]) >= threshold)
    taken = {_searched(configs[m], specs) for m in scores if m not in dsts}
    elites = archive.entries
    out: list[Backtrack] = []
    for dst in dsts:
        e = elites[int(rng.integers(len(elites)))]
        for _ in range(max_tries):
            kind, new = explore(
                e.config, specs, rng, settings.resample_probability, settings.perturb_factors
            )
            if _searched(new, specs) not in taken:
                break
        else:
            kind = "resample"
            while True:
                new = dict(e.config)
                new.update(sample_config(specs, rng))
                if _searched(new, specs) not in taken:
                    break
        taken.add(_searched(new, specs))
        out.append(
            Backtrack(
                src=e.member,
                src_round=e.round,
                dst=dst,
                score=e.score,
                kind=kind,
                old=dict(e.config),
                new=new,
            )
        )
    return out


class PBTBT:
    """PBT-BT's decision state (the elite archive) and its per-timestep step."""

    def __init__(self, settings: PBTBTSettings, population: int) -> None:
        self.settings = settings
        self.archive = EliteArchive(
            settings.elite_capacity or elite_size(population, settings.elite_ratio)
        )

    def is_backtrack_step(self, timestep: int) -> bool:
        return timestep > 0 and timestep % self.settings.backtrack_every == 0

    def step(
        self,
        timestep: int,
        round_: int,
        scores: Mapping[int, float],
        configs: Mapping[int, Mapping[str, int | float]],
        specs: Mapping[str, ParamSpec],
        rng: np.random.Generator,
        failed: Iterable[int] = (),
    ) -> list[Decision]:
        """Decisions after trial round ``round_`` (PBT timestep ``timestep``).

        The archive first takes this round's states, so elites span every timestep so far.
        """
        failed = set(failed)
        self.archive.add_round(round_, scores, configs)
        if self.is_backtrack_step(timestep):
            return list(backtrack(self.archive, scores, configs, specs, rng, self.settings, failed))
        return exploit_explore(scores, configs, specs, rng, self.settings, round_, failed)
