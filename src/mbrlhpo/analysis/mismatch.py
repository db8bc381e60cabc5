"""Objective mismatch (the paper's A.6, Figs. 11-12): is a better model (lower NLL) a better
agent (higher return)?

From a study's final checkpoints (each member's model and the data it collected; population
methods keep their last round's, Hyperband needs ``tune(keep_final_checkpoints=True)``), the
``k`` best and ``k`` worst members by final score are compared on:

- on-policy NLL: each member's final model on its own last ``last`` trials (the transitions
  its agent collected: the data the model was trained on);
- off-policy NLL: each member's final model on held-out trajectories, episodes from the other
  loaded members' data that are not in its own buffer (PBT copies histories, so two members
  may share episodes), split into ``bins`` sets by return (quantiles of the pooled episodes'
  returns: low to high) and sampled up to ``per_bin`` episodes per set with a seeded
  Generator.

The NLL is ``DynamicsModel.nll``: the Gaussian NLL per target dimension, averaged over
ensemble members, transitions and dimensions, with the model's own normaliser.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _final_checkpoints(db: str | os.PathLike) -> dict[int, dict[str, Any]]:
    """Each member's latest live checkpoint reference."""
    from mbrlhpo.store.sqlite_store import StudyStore

    out: dict[int, dict[str, Any]] = {}
    with StudyStore(db) as store:
        for c in store.checkpoints():
            if c["member"] not in out or c["trial"] > out[c["member"]]["trial"]:
                out[c["member"]] = c
    return out


def _episodes(agent: Any) -> list[dict[str, Any]]:
    buf = agent.buffer
    out = []
    for i in range(buf.num_episodes):
        ep = buf.episode(i)
        out.append({"digest": buf.episode_digest(i), "index": i, "obs": ep.obs,
                    "act": ep.act, "next_obs": ep.next_obs, "ret": float(np.sum(ep.reward))})
    return out


def _nll(agent: Any, episodes: Sequence[Mapping[str, Any]]) -> float:
    if not episodes:
        return math.nan
    cat = {f: np.concatenate([e[f] for e in episodes]) for f in ("obs", "act", "next_obs")}
    return float(agent.model_nll(cat["obs"], cat["act"], cat["next_obs"]))


def objective_mismatch(db: str | os.PathLike, k: int = 5, last: int = 20, bins: int = 3,
                       per_bin: int = 20, seed: int = 0) -> dict[str, Any]:
    """The A.6 analysis of the study in ``db``; see the module docstring.

    Returns ``{"members": [{"member", "group" ("top"/"bottom"), "score", "trial",
    "on_policy_nll", "on_policy_episodes", "off_policy_nll": [per bin], "off_policy_episodes":
    [per bin]}], "bins": [{"low", "high", "episodes"}], "summary": {"top"/"bottom":
    {"on_policy_nll", "off_policy_nll": [per bin]}}, "k", "last"}``.
    Raises ValueError when fewer than two members have a final checkpoint and a finite score.
    """
    from mbrlhpo.agent import PETSAgent
    from mbrlhpo.analysis.records import final_scores, read_study
    from mbrlhpo.runner.checkpoints import CheckpointDir
    from mbrlhpo.runner.study import study_dir_for

    for name, v, low in (("k", k, 1), ("last", last, 1), ("bins", bins, 1),
                         ("per_bin", per_bin, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ValueError(f"{name}: expected an int >= {low}, got {v!r}")
    rec = read_study(db)
    ckpts = _final_checkpoints(db)
    scores = {s["member"]: s["score"] for s in final_scores(rec)
              if math.isfinite(s["score"]) and s["member"] in ckpts}
    if len(scores) < 2:
        raise ValueError(f"{db}: objective mismatch needs the final checkpoints of at least two "
                         f"members with a score, found {len(scores)} (Hyperband studies: run "
                         "tune with keep_final_checkpoints / --keep-final-checkpoints)")
    ranked = sorted(scores, key=lambda m: (-scores[m], m))
    kk = min(k, len(ranked) // 2)
    groups = {m: "top" for m in ranked[:kk]} | {m: "bottom" for m in ranked[-kk:]}
    cdir = CheckpointDir(study_dir_for(db) / "checkpoints")
    agents, episodes = {}, {}
    for m in groups:
        ref = ckpts[m]
        agents[m] = cdir.load(PETSAgent, ref["path"], ref["sha256"])
        episodes[m] = _episodes(agents[m])
    pool: dict[str, dict[str, Any]] = {}
    for m in groups:
        for e in episodes[m]:
            pool.setdefault(e["digest"], e)
    rets = np.array([e["ret"] for e in pool.values()])
    edges = np.quantile(rets, np.linspace(0.0, 1.0, bins + 1))
    which = np.clip(np.searchsorted(edges, rets, side="right") - 1, 0, bins - 1)
    by_bin: list[list[dict[str, Any]]] = [[] for _ in range(bins)]
    for e, b in zip(pool.values(), which, strict=True):
        by_bin[int(b)].append(e)
    rng = np.random.default_rng([seed, 11])
    rows = []
    try:
        for m in sorted(groups, key=lambda m: (groups[m] != "top", -scores[m], m)):
            own = {e["digest"] for e in episodes[m]}
            mine = episodes[m][-last:]
            off, counts = [], []
            for b in range(bins):
                held = [e for e in by_bin[b] if e["digest"] not in own]
                if len(held) > per_bin:
                    held = [held[i] for i in sorted(rng.choice(len(held), per_bin,
                                                               replace=False))]
                off.append(_nll(agents[m], held))
                counts.append(len(held))
            rows.append({"member": m, "group": groups[m], "score": scores[m],
                         "trial": ckpts[m]["trial"], "on_policy_nll": _nll(agents[m], mine),
                         "on_policy_episodes": len(mine), "off_policy_nll": off,
                         "off_policy_episodes": counts})
    finally:
        for a in agents.values():
            a.close()
    summary = {}
    for g in ("top", "bottom"):
        mine = [r for r in rows if r["group"] == g]
        summary[g] = {
            "on_policy_nll": _nanmean([r["on_policy_nll"] for r in mine]),
            "off_policy_nll": [_nanmean([r["off_policy_nll"][b] for r in mine])
                               for b in range(bins)],
            "score": _nanmean([r["score"] for r in mine]),
        }
    return {"members": rows, "k": kk, "last": last,
            "bins": [{"low": float(edges[b]), "high": float(edges[b + 1]),
                      "episodes": len(by_bin[b])} for b in range(bins)],
            "summary": summary}


def _nanmean(xs: Sequence[float]) -> float:
    vals = [x for x in xs if math.isfinite(x)]
    return float(np.mean(vals)) if vals else math.nan
