"""Population based training (Jaderberg et al. 2017; the paper's Sec. 3.1, A.2): pure decisions.

Truncation selection: the bottom ``quantile`` of members (ranked by score) copy a member drawn
uniformly from the top ``quantile``; each copy then explores: with probability
``resample_probability`` every hyperparameter is resampled from the search space, otherwise
every hyperparameter is perturbed as the paper's code does (automl/HPO_for_RL,
``pbt/exploration/perturb.py``): its value is mapped to ConfigSpace 0.4.10's unit cube (on the
log scale where the parameter is log-scaled; integers over ``[low - 0.49999, high + 0.49999]``,
``mbrlhpo.hpo.space.to_unit``), that number is multiplied by a factor drawn from
``perturb_factors`` (0.8 or 1.2), clipped to [0, 1] and mapped back (integers rounded half to
even). So an integer whose range starts at 3 never leaves 5 (5.499998 / 4.500002 round to 5).

Truncation sizes are the paper's code's (``pbt/exploitation/truncation.py``): a member keeps
its state if it ranks in the top ``ceil((n - 1) (1 - quantile))``, else it copies one drawn
from the top ``ceil((n - 1) quantile)``. 40 members: 8 sources, 8 replaced; 10: 2 and 2; 4: 1
and 1; 6, 11, 21 (1 mod 5): 1/2, 2/3, 4/5; a single member is never exploited.

The score window of an exploited member continues its source's (the code copies the source's
return history with its data) or its own with ``copy="hparams"``: :func:`inherited_window`.

Randomness comes only from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from mbrlhpo.hpo.decisions import Decision, Exploit, Explore
from mbrlhpo.hpo.space import ParamSpec, from_unit, sample_config, to_unit

__all__ = [
    "COPY_MODES",
    "PBTSettings",
    "exploit_explore",
    "explore",
    "from_unit",
    "inherited_window",
    "perturb",
    "rank_members",
    "to_unit",
    "truncation_sizes",
]

COPY_MODES = ("all", "hparams")


@dataclass(frozen=True)
class PBTSettings:
    """PBT's own settings. ``interval``: MPC trials between exploit/explore steps (paper: 4
    for Pusher/Reacher, 5 otherwise). ``copy``: what an exploited member takes from its source:
    ``"all"`` (weights, optimiser state, hyperparameters and the replay buffer: the paper's
    PBT) or ``"hparams"`` (only the hyperparameters; it keeps its own model, optimiser state and
    data: the paper's "no copy history" ablation, Sec. 5.7, as its code ran it)."""

    interval: int = 5
    quantile: float = 0.2
    resample_probability: float = 0.25
    perturb_factors: tuple[float, float] = (0.8, 1.2)
    copy: str = "all"

    def __post_init__(self) -> None:
        if (
            isinstance(self.interval, bool)
            or not isinstance(self.interval, int)
            or self.interval < 1
        ):
            raise ValueError(f"interval: expected an int >= 1, got {self.interval!r}")
        if not 0.0 < self.quantile <= 0.5:
            raise ValueError(f"quantile: expected a fraction in (0, 0.5], got {self.quantile!r}")
        if not 0.0 <= self.resample_probability <= 1.0:
            raise ValueError(
                "resample_probability: expected a probability in [0, 1], "
                f"got {self.resample_probability!r}"
            )
        if self.copy not in COPY_MODES:
            raise ValueError(f"copy: expected one of {', '.join(COPY_MODES)}, got {self.copy!r}")
        if len(self.perturb_factors) < 1 or any(f <= 0 for f in self.perturb_factors):
            raise ValueError(
                f"perturb_factors: expected positive factors, got {self.perturb_factors!r}"
            )


def truncation_sizes(n: int, quantile: float) -> tuple[int, int]:
    """(sources, replaced) for ``n`` members, as the paper's code sized them: the top
    ``ceil((n - 1) q)`` are the sources, all outside the top ``ceil((n - 1) (1 - q))`` are
    replaced (the same float arithmetic, so 1 mod 5 populations replace one more than they
    copy from: 6 -> (1, 2), 11 -> (2, 3))."""
    if n < 0:
        raise ValueError(f"n: expected >= 0, got {n}")
    if n < 2:
        return 0, 0
    return math.ceil((n - 1) * quantile), n - math.ceil((n - 1) * (1.0 - quantile))


def inherited_window(own: list[float], source: list[float], copies_state: bool) -> list[float]:
    """The returns an exploited member's score window continues from: its source's (the
    paper's code loads the source's return history with its data, so with an interval below
    ``last_k`` the next score still averages some of the source's trials), or its own where
    only the hyperparameters are copied (``copy="hparams"``)."""
    return list(source) if copies_state else list(own)


def _key(score: float) -> float:
    s = float(score)
    return -math.inf if math.isnan(s) else s


def rank_members(scores: Mapping[int, float]) -> list[int]:
    """Member ids best first; NaN ranks as -inf; ties go to the smaller id."""
    return sorted(scores, key=lambda m: (-_key(scores[m]), m))


def perturb(
    config: Mapping[str, int | float],
    specs: Mapping[str, ParamSpec],
    rng: np.random.Generator,
    factors: tuple[float, ...] = (0.8, 1.2),
) -> dict[str, int | float]:
    """The paper's code's perturbation: each searched hyperparameter's unit-cube position
    (:func:`to_unit`) is multiplied by a factor drawn uniformly from ``factors``, clipped to
    [0, 1] and mapped back (:func:`from_unit`). Keys of ``config`` outside ``specs`` are kept
    unchanged. At Table 4's defaults this moves lr by x0.40 / x2.51 and weight decay by
    x0.27 / x3.76 (raw x0.8 / x1.2 would not fit the paper's learned schedules)."""
    out = dict(config)
    for name, s in specs.items():
        f = float(factors[int(rng.integers(len(factors)))])
        out[name] = from_unit(s, to_unit(s, config[name]) * f)
    return out


def explore(
    config: Mapping[str, int | float],
    specs: Mapping[str, ParamSpec],
    rng: np.random.Generator,
    resample_probability: float = 0.25,
    factors: tuple[float, ...] = (0.8, 1.2),
) -> tuple[str, dict[str, int | float]]:
    """PBT's explore: ``("resample", new)`` with probability ``resample_probability``, else
    ``("perturb", new)``."""
    if rng.random() < resample_probability:
        new = dict(config)
        new.update(sample_config(specs, rng))
        return "resample", new
    return "perturb", perturb(config, specs, rng, factors)


def exploit_explore(
    scores: Mapping[int, float],
    configs: Mapping[int, Mapping[str, int | float]],
    specs: Mapping[str, ParamSpec],
    rng: np.random.Generator,
    settings: PBTSettings,
    round_: int,
    failed: Iterable[int] = (),
    select: bool = True,
) -> list[Decision]:
    """One PBT step for a synchronous population at trial round ``round_``.

    Args:
        scores: member id -> objective (``-inf``/NaN = failed or unscored).
        configs: member id -> current hyperparameters (searched keys plus fixed ones).
        specs: the searched hyperparameters.
        rng: the only source of randomness.
        settings: PBT settings.
        round_: the trial round whose end this step follows (the sources' checkpoint round).
        failed: members that must be replaced whatever their rank.
        select: run truncation selection (False: only replace ``failed`` members).
    Returns:
        For each replaced member, an ``Exploit`` followed by its ``Explore``; destinations in
        increasing id order.
    """
    if set(scores) != set(configs):
        raise ValueError(
            f"scores and configs must name the same members, got "
            f"{sorted(scores)} and {sorted(configs)}"
        )
    failed_set = set(failed)
    unknown = failed_set - set(scores)
    if unknown:
        raise ValueError(f"failed members {sorted(unknown)} are not in the population")
    ranked = [m for m in rank_members(scores) if m not in failed_set]
    n_top, n_bottom = truncation_sizes(len(scores), settings.quantile) if select else (0, 0)
    top = [m for m in ranked[:n_top] if math.isfinite(_key(scores[m]))]
    bottom = set(ranked[len(ranked) - n_bottom :]) if n_bottom else set()
    bottom -= set(top)
    dsts = sorted(bottom | failed_set)
    if not dsts:
        return []
    if not top:
        # No selection this round (or nothing finite at the top): replace failures from the
        # best healthy members.
        healthy = [m for m in ranked if math.isfinite(_key(scores[m]))]
        top = healthy[: max(1, truncation_sizes(len(scores), settings.quantile)[0])]
        dsts = sorted(failed_set)
        if not top:
            raise RuntimeError("every member has failed: nothing left to copy from")
    out: list[Decision] = []
    for dst in dsts:
        src = top[int(rng.integers(len(top)))]
        out.append(
            Exploit(
                src=src,
                dst=dst,
                src_round=round_,
                reason="replace_failed" if dst in failed_set else "exploit",
            )
        )
        kind, new = explore(
            configs[src], specs, rng, settings.resample_probability, settings.perturb_factors
        )
        out.append(Explore(member=dst, kind=kind, old=dict(configs[src]), new=new))
    return out
