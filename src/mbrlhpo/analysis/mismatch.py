"""Objective mismatch (the paper's A.6, Figs. 11-12): is a better model (lower NLL) a better
agent (higher return)?

From a study's checkpoints (each member's model and the data it collected), the ``k`` best
and ``k`` worst members by final score are compared, at every trial whose checkpoint was kept
(``tune(keep_checkpoints_every=k)``; else only the final one: population methods keep their
last round's, Hyperband needs ``keep_final_checkpoints=True``), on:

- on-policy NLL (Fig. 11): the member's model after trial t on its own last ``last`` trials
  (20 in the paper; all of them while it has fewer): the data its agent collected;
- off-policy NLL (Fig. 12): the same model on held-out trajectories, episodes from the other
  chosen members' final data that are not in its own (PBT copies histories, so two members may
  share episodes: compared by content hash), split into ``bins`` sets at the quantiles of their
  returns (the paper: 3 sets of 300 trajectories, from other policies) and sampled once per
  member, up to ``per_bin`` episodes per set, with a Generator seeded by ``seed``.

A checkpoint saved after trial t holds the model trained at the start of trial t, i.e. the
model that planned trial t, and the buffer including trial t's episode. The NLL is
``DynamicsModel.nll``: Gaussian NLL per target dimension, averaged over ensemble members,
transitions and dimensions, with the model's own normaliser (computed in chunks, weighted by
their transitions).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

_CHUNK = 20_000  # transitions per NLL call (bounds the ensemble's activations)


def _checkpoints(db: str | os.PathLike) -> dict[int, list[dict[str, Any]]]:
    """Each member's live checkpoint references, by trial."""
    from mbrlhpo.store.sqlite_store import StudyStore

    out: dict[int, list[dict[str, Any]]] = {}
    with StudyStore(db) as store:
        for c in store.checkpoints():
            out.setdefault(c["member"], []).append(c)
    return {m: sorted(refs, key=lambda c: c["trial"]) for m, refs in out.items()}


def _episodes(agent: Any) -> list[dict[str, Any]]:
    buf = agent.buffer
    out = []
    for i in range(buf.num_episodes):
        ep = buf.episode(i)
        out.append(
            {
                "digest": buf.episode_digest(i),
                "index": i,
                "obs": ep.obs,
                "act": ep.act,
                "next_obs": ep.next_obs,
                "ret": float(np.sum(ep.reward)),
            }
        )
    return out


def _nll(agent: Any, episodes: Sequence[Mapping[str, Any]]) -> float:
    """The model's NLL over the episodes' transitions, in chunks of at most ``_CHUNK``."""
    if not episodes:
        return math.nan
    total, count = 0.0, 0
    chunk: list[Mapping[str, Any]] = []

    def flush() -> None:
        nonlocal total, count
        cat = {f: np.concatenate([e[f] for e in chunk]) for f in ("obs", "act", "next_obs")}
        n = len(cat["obs"])
        total += n * float(agent.model_nll(cat["obs"], cat["act"], cat["next_obs"]))
        count += n
        chunk.clear()

    size = 0
    for e in episodes:
        chunk.append(e)
        size += len(e["obs"])
        if size >= _CHUNK:
            flush()
            size = 0
    if chunk:
        flush()
    return total / count


def objective_mismatch(
    db: str | os.PathLike,
    k: int = 5,
    last: int = 20,
    bins: int = 3,
    per_bin: int = 300,
    seed: int = 0,
) -> dict[str, Any]:
    """The A.6 analysis of the study in ``db``; see the module docstring.

    Returns ``{"members": [{"member", "group" ("top"/"bottom"), "score", "curve": [{"trial",
    "on_policy_nll", "on_policy_episodes", "off_policy_nll": [per bin]}], and the last
    point's "trial", "on_policy_nll", "on_policy_episodes", "off_policy_nll",
    "off_policy_episodes": [per bin]}], "bins": [{"low", "high", "episodes"}], "returns":
    [every pooled episode's return], "summary": {"top"/"bottom": {"score", "on_policy_nll",
    "off_policy_nll": [per bin], "curve": [{"trial", "on_policy_nll", "off_policy_nll"}]}},
    "k", "last"}``. Raises ValueError when fewer than two members have a final checkpoint and
    a finite score.
    """
    from mbrlhpo.agent import PETSAgent
    from mbrlhpo.analysis.records import final_scores, read_study
    from mbrlhpo.runner.checkpoints import CheckpointDir
    from mbrlhpo.runner.study import study_dir_for

    for name, v in (("k", k), ("last", last), ("bins", bins), ("per_bin", per_bin)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
    rec = read_study(db)
    ckpts = _checkpoints(db)
    last_trial = {}
    for t in rec["trials"]:
        last_trial[t["member"]] = max(last_trial.get(t["member"], 0), t["trial"])
    # Scored members whose final state is kept (a member's last trial has a checkpoint).
    scores = {
        s["member"]: s["score"]
        for s in final_scores(rec)
        if math.isfinite(s["score"])
        and s["member"] in ckpts
        and ckpts[s["member"]][-1]["trial"] == last_trial.get(s["member"])
    }
    if len(scores) < 2:
        raise ValueError(
            f"{db}: objective mismatch needs the final checkpoints of at least two "
            f"members with a score, found {len(scores)} (Hyperband studies: run "
            "tune with keep_final_checkpoints / --keep-final-checkpoints)"
        )
    ranked = sorted(scores, key=lambda m: (-scores[m], m))
    kk = min(k, len(ranked) // 2)
    groups = {m: "top" for m in ranked[:kk]} | {m: "bottom" for m in ranked[-kk:]}
    order = sorted(groups, key=lambda m: (groups[m] != "top", -scores[m], m))
    cdir = CheckpointDir(study_dir_for(db) / "checkpoints")

    def load(ref: Mapping[str, Any]) -> Any:
        return cdir.load(PETSAgent, ref["path"], ref["sha256"])

    final_eps = {}
    for m in order:
        agent = load(ckpts[m][-1])
        try:
            final_eps[m] = _episodes(agent)
        finally:
            agent.close()
    pool: dict[str, dict[str, Any]] = {}
    for m in order:
        for e in final_eps[m]:
            pool.setdefault(e["digest"], e)
    rets = np.array([e["ret"] for e in pool.values()])
    edges = np.quantile(rets, np.linspace(0.0, 1.0, bins + 1))
    which = np.clip(np.searchsorted(edges, rets, side="right") - 1, 0, bins - 1)
    by_bin: list[list[dict[str, Any]]] = [[] for _ in range(bins)]
    for e, b in zip(pool.values(), which, strict=True):
        by_bin[int(b)].append(e)
    rng = np.random.default_rng([seed, 11])
    rows = []
    for m in order:
        own = {e["digest"] for e in final_eps[m]}
        held_out = []
        for b in range(bins):
            held = [e for e in by_bin[b] if e["digest"] not in own]
            if len(held) > per_bin:
                held = [held[i] for i in sorted(rng.choice(len(held), per_bin, replace=False))]
            held_out.append(held)
        curve = []
        for ref in ckpts[m]:
            agent = load(ref)
            try:
                mine = _episodes(agent)[-last:]
                curve.append(
                    {
                        "trial": ref["trial"],
                        "on_policy_nll": _nll(agent, mine),
                        "on_policy_episodes": len(mine),
                        "off_policy_nll": [_nll(agent, h) for h in held_out],
                    }
                )
            finally:
                agent.close()
        end = curve[-1]
        rows.append(
            {
                "member": m,
                "group": groups[m],
                "score": scores[m],
                "curve": curve,
                "trial": end["trial"],
                "on_policy_nll": end["on_policy_nll"],
                "on_policy_episodes": end["on_policy_episodes"],
                "off_policy_nll": end["off_policy_nll"],
                "off_policy_episodes": [len(h) for h in held_out],
            }
        )
    summary = {}
    for g in ("top", "bottom"):
        mine = [r for r in rows if r["group"] == g]
        trials = sorted({p["trial"] for r in mine for p in r["curve"]})
        curve = []
        for t in trials:
            pts = [p for r in mine for p in r["curve"] if p["trial"] == t]
            curve.append(
                {
                    "trial": t,
                    "on_policy_nll": _nanmean([p["on_policy_nll"] for p in pts]),
                    "off_policy_nll": [
                        _nanmean([p["off_policy_nll"][b] for p in pts]) for b in range(bins)
                    ],
                }
            )
        summary[g] = {
            "score": _nanmean([r["score"] for r in mine]),
            "on_policy_nll": _nanmean([r["on_policy_nll"] for r in mine]),
            "off_policy_nll": [
                _nanmean([r["off_policy_nll"][b] for r in mine]) for b in range(bins)
            ],
            "curve": curve,
        }
    return {
        "members": rows,
        "k": kk,
        "last": last,
        "bins": [
            {"low": float(edges[b]), "high": float(edges[b + 1]), "episodes": len(by_bin[b])}
            for b in range(bins)
        ],
        "returns": rets.tolist(),
        "summary": summary,
    }


def _nanmean(xs: Sequence[float]) -> float:
    vals = [x for x in xs if math.isfinite(x)]
    return float(np.mean(vals)) if vals else math.nan
