"""Population based training (Jaderberg et al. 2017; the paper's Sec. 3.1, A.2): pure decisions.

Truncation selection: the bottom ``quantile`` of members (ranked by score) copy a member drawn
uniformly from the top ``quantile``; each copy then explores: with probability
``resample_probability`` every hyperparameter is resampled from the search space, otherwise
every hyperparameter is perturbed as the paper's code does (automl/HPO_for_RL,
``pbt/exploration/perturb.py``): its value is mapped to ConfigSpace's unit cube (on the log
scale where the parameter is log-scaled; integers over ``[low - 0.5, high + 0.5]``), that
number is multiplied by a factor drawn from ``perturb_factors`` (0.8 or 1.2), clipped to
[0, 1] and mapped back (integers rounded half up).

Quantile size rule (small populations): ``k = min(ceil(quantile * n), n // 2)``, so 40 members
give 8, 10 give 2, 4 give 1, 2 give 1, and a single member is never exploited.

Randomness comes only from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from mbrlhpo.hpo.decisions import Decision, Exploit, Explore
from mbrlhpo.hpo.space import ParamSpec, sample_config

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


def quantile_size(n: int, quantile: float) -> int:
    """Members in the top (and in the bottom) quantile of ``n``: min(ceil(q n), n // 2)."""
    if n < 0:
        raise ValueError(f"n: expected >= 0, got {n}")
    return min(math.ceil(quantile * n - 1e-9), n // 2)


def _key(score: float) -> float:
    s = float(score)
    return -math.inf if math.isnan(s) else s


def rank_members(scores: Mapping[int, float]) -> list[int]:
    """Member ids best first; NaN ranks as -inf; ties go to the smaller id."""
    return sorted(scores, key=lambda m: (-_key(scores[m]), m))


def _unit_bounds(s: ParamSpec) -> tuple[float, float]:
    """The interval ConfigSpace maps onto [0, 1]: integers cover ``[low - 0.5, high + 0.5]``
    so that every integer owns an equal share; log-scaled parameters on the log scale."""
    lo, hi = (s.low - 0.5, s.high + 0.5) if s.integer else (s.low, s.high)
    return (math.log(lo), math.log(hi)) if s.log else (lo, hi)


def to_unit(s: ParamSpec, value: float) -> float:
    """``value`` in ConfigSpace's unit cube for ``s`` (0 = low end, 1 = high end)."""
    lo, hi = _unit_bounds(s)
    v = math.log(float(value)) if s.log else float(value)
    return (v - lo) / (hi - lo)


def from_unit(s: ParamSpec, u: float) -> int | float:
    """The value at unit-cube position ``u`` (clipped to [0, 1]); integers rounded half up and
    kept inside ``[low, high]``."""
    lo, hi = _unit_bounds(s)
    v = lo + min(max(float(u), 0.0), 1.0) * (hi - lo)
    if s.log:
        v = math.exp(v)
    if s.integer:
        return int(min(max(math.floor(v + 0.5), int(s.low)), int(s.high)))
    return float(min(max(v, s.low), s.high))


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
    k = quantile_size(len(scores), settings.quantile) if select else 0
    top = [m for m in ranked[:k] if math.isfinite(_key(scores[m]))] if k else []
    bottom = set(ranked[len(ranked) - k :]) if k else set()
    bottom -= set(top)
    dsts = sorted(bottom | failed_set)
    if not dsts:
        return []
    if not top:
        # No selection this round (or nothing finite at the top): replace failures from the
        # best healthy members.
        healthy = [m for m in ranked if math.isfinite(_key(scores[m]))]
        top = healthy[: max(1, quantile_size(len(scores), settings.quantile))]
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
