"""The paper's analyses over a study database, as plain records.

``read_study(db)`` reads everything once into a dict of plain records (lists of dicts, JSON-able
apart from ``-inf`` scores); every other function takes those records and returns records, so
they work on a study read from SQLite, built by hand, or loaded from JSON.

Trial numbers are the store's: trial 1 is a member's first trial (PETS's random trial), trial t
its t-th. The baseline's returns (``baseline.json`` in the study directory, written by
``mbrlhpo.tune``) are numbered the same way.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from mbrlhpo.analysis.stats import spearman
from mbrlhpo.hpo.objective import DEFAULT_LAST_K, objective

LINEAGE_KINDS = ("exploit", "replace_failed", "explore", "backtrack")


# ---------------------------------------------------------------------------------------------
def read_study(db: str | os.PathLike) -> dict[str, Any]:
    """Every record of the study in ``db`` (an existing database written by ``mbrlhpo.tune`` or
    ``run_study``).

    Returns a dict with ``db``, ``method``, ``seed``, ``settings``, ``space`` (searched names ->
    range), ``members``, ``trials``, ``schedule``, ``lineage``, ``scores``, ``hb_jobs``,
    ``events``, the runner's summary (``best_member``, ``best_score``, ``best_config``,
    ``best_schedule``, ``top5_curve``, ``failures``) and ``baseline`` (``{"config", "returns",
    "score", "env", "profile", "defaults"}`` or None) and ``evaluation`` (the latest stored
    ``mbrlhpo evaluate`` result, or None).
    """
    from mbrlhpo.runner.study import collect, study_dir_for
    from mbrlhpo.store.sqlite_store import StudyStore

    path = Path(db)
    if not path.is_file():  # StudyStore would create an empty database
        raise ValueError(f"expected an existing study database, got {str(path)!r} (no such file)")
    # One read transaction: a study being written (``report --watch``) is read as one
    # committed state, and the checksums are verified against that same state.
    with StudyStore(path, readonly=True, verify=False) as store, store.snapshot():
        store.verify()
        head = store.study()
        if head is None:
            raise ValueError(f"{path} holds no study (expected a database written by mbrlhpo.tune)")
        last_k = int(head["settings"].get("last_k", DEFAULT_LAST_K))
        summary = asdict(collect(store, head["method"], last_k))
        rec = {
            "db": str(path),
            "method": head["method"],
            "seed": head["seed"],
            "settings": head["settings"],
            "space": head["space"],
            "members": store.members(),
            "trials": summary.pop("trials"),
            "schedule": summary.pop("schedule"),
            "lineage": summary.pop("lineage"),
            "scores": store.scores(),
            "hb_jobs": store.hb_jobs(),
            "events": store.events(),
        }
    summary.pop("hb_jobs", None)
    summary.pop("baseline", None)
    summary.pop("method", None)
    rec.update(summary)
    for job in rec["hb_jobs"]:
        job["config_id"] = list(job["config_id"])
    rec["baseline"] = _read_baseline(study_dir_for(path) / "baseline.json", last_k)
    evals = [e["detail"] for e in rec["events"] if e["kind"] == "evaluation"]
    rec["evaluation"] = evals[-1] if evals else None  # the latest ``mbrlhpo evaluate``
    return rec


def _read_baseline(path: Path, last_k: int) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    raw = json.loads(path.read_text())
    returns = [math.nan if r is None else float(r) for r in raw.get("returns", [])]
    key = raw.get("key", {})
    return {
        "config": raw.get("config"),
        "returns": returns,
        "score": objective(returns, last_k),
        "env": key.get("env"),
        "profile": key.get("profile"),
        "defaults": key.get("defaults", "table"),
    }


def searched_names(rec: Mapping[str, Any]) -> list[str]:
    """The searched hyperparameters of a study in the search spaces' order (``lr``,
    ``weight_decay``, ``epochs``, then the CEM ones)."""
    from mbrlhpo.hpo.space import GROUPS

    order = {n: i for i, n in enumerate(GROUPS["joint"])}
    return sorted(rec.get("space") or {}, key=lambda n: (order.get(n, len(order)), n))


# ---------------------------------------------------------------------------------------------
def _ret(t: Mapping[str, Any]) -> float:
    """A trial's return, NaN unless it succeeded."""
    if t.get("status", "ok") != "ok" or t.get("ret") is None:
        return math.nan
    return float(t["ret"])


def best_curve(
    trials: Sequence[Mapping[str, Any]], best_schedule: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Returns along the best member's lineage (Fig. 1/8): one record per step of its path
    ``{"step", "member", "trial", "ret", "config"}``; ``step`` counts the agent's own trials
    (PBT-BT's backtracking makes a path shorter than the study's rounds), ``ret`` is NaN for a
    failed trial."""
    by_key = {(t["member"], t["trial"]): t for t in trials}
    out = []
    for i, s in enumerate(best_schedule):
        t = by_key.get((s["member"], s["trial"]))
        out.append(
            {
                "step": i + 1,
                "member": s["member"],
                "trial": s["trial"],
                "ret": math.nan if t is None else _ret(t),
                "config": s["config"],
            }
        )
    return out


def top_curve(trials: Sequence[Mapping[str, Any]], k: int = 5) -> list[dict[str, Any]]:
    """Mean and standard deviation (population std) of the ``k`` best successful returns at
    each trial (Fig. 4): ``{"trial", "mean", "std", "n", "members"}``."""
    _check_k(k)
    by_t: dict[int, list[tuple[float, int]]] = {}
    for t in trials:
        r = _ret(t)
        if math.isfinite(r):
            by_t.setdefault(int(t["trial"]), []).append((r, int(t["member"])))
    out = []
    for tr in sorted(by_t):
        top = sorted(by_t[tr], key=lambda x: (-x[0], x[1]))[:k]
        vals = np.array([r for r, _ in top])
        out.append(
            {
                "trial": tr,
                "mean": float(vals.mean()),
                "std": float(vals.std()),
                "n": len(top),
                "members": [m for _, m in top],
            }
        )
    return out


def baseline_curve(baseline: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The defaults' returns as ``{"trial", "ret"}`` (empty without a baseline)."""
    if not baseline:
        return []
    return [{"trial": i + 1, "ret": float(r)} for i, r in enumerate(baseline["returns"])]


def learning_curves(rec: Mapping[str, Any], k: int = 5) -> dict[str, list[dict[str, Any]]]:
    """Fig. 1/4/8 for one study: ``{"best": best_curve, "top": top_curve (k), "baseline":
    baseline_curve}``."""
    return {
        "best": best_curve(rec["trials"], rec.get("best_schedule") or []),
        "top": top_curve(rec["trials"], k),
        "baseline": baseline_curve(rec.get("baseline")),
    }


def top_schedule(
    trials: Sequence[Mapping[str, Any]],
    schedule: Sequence[Mapping[str, Any]],
    k: int = 5,
    names: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """The learned schedule of the top-``k`` members (Fig. 4/9): at each trial, the ``k``
    members with the best successful returns of that trial and the mean and standard
    deviation of each hyperparameter they ran it with.

    Returns ``{"trial", "n", "members", "mean": {name: value}, "std": {name: value},
    "log_mean": {name: value}, "log_std": {name: value}}`` per trial; ``log_*`` are the mean
    and standard deviation of the natural log (for log-scaled hyperparameters such as ``lr``:
    a band ``exp(log_mean +- log_std)`` stays positive), given for names whose values are all
    positive. ``names``: the hyperparameters to average (default: every numeric one in the
    schedule).
    """
    _check_k(k)
    cfg = {(s["member"], s["trial"]): s["config"] for s in schedule}
    wanted = None if names is None else list(names)
    out = []
    for row in top_curve(trials, k):
        configs = [cfg[(m, row["trial"])] for m in row["members"] if (m, row["trial"]) in cfg]
        if not configs:
            continue
        keys = (
            wanted
            if wanted is not None
            else sorted(
                n
                for n, v in configs[0].items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            )
        )
        missing = [n for n in keys if any(n not in c for c in configs)]
        if missing:
            raise ValueError(
                f"hyperparameters {missing} are not in the schedule of trial "
                f"{row['trial']}; expected some of {sorted(configs[0])}"
            )
        vals = {n: np.array([float(c[n]) for c in configs]) for n in keys}
        out.append(
            {
                "trial": row["trial"],
                "n": len(configs),
                "members": row["members"],
                "mean": {n: float(v.mean()) for n, v in vals.items()},
                "std": {n: float(v.std()) for n, v in vals.items()},
                "log_mean": {n: float(np.log(v).mean()) for n, v in vals.items() if (v > 0).all()},
                "log_std": {n: float(np.log(v).std()) for n, v in vals.items() if (v > 0).all()},
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
def final_scores(rec: Mapping[str, Any], last_k: int | None = None) -> list[dict[str, Any]]:
    """The final score of every evaluated configuration (Fig. 3).

    Population methods (random, pbt, pbt-bt): one record per member slot, the objective (mean
    of the last ``last_k`` returns, the study's own k by default) over its trials; a failed
    trial among them gives ``-inf``. Hyperband/BOHB: one record per job (a configuration at a
    budget), ``-loss``, ``-inf`` for a failed job. Records: ``{"member", "score", "budget",
    "config", "status"}`` (``budget`` is the job's trials, None for population methods).
    """
    k = int(rec.get("settings", {}).get("last_k", DEFAULT_LAST_K)) if last_k is None else last_k
    if rec["method"] in ("hyperband", "bohb"):
        out = []
        for j in rec["hb_jobs"]:
            ok = j["status"] == "ok" and j["loss"] is not None
            out.append(
                {
                    "member": j["member"],
                    "score": -float(j["loss"]) if ok else -math.inf,
                    "budget": j["trials"],
                    "config": j["config"],
                    "config_id": list(j["config_id"]),
                    "status": "ok" if ok else j["status"],
                }
            )
        return out
    per: dict[int, list[float]] = {}
    for t in sorted(rec["trials"], key=lambda t: (t["member"], t["trial"])):
        per.setdefault(int(t["member"]), []).append(_ret(t))
    last_cfg: dict[int, dict] = {}
    for s in sorted(rec["schedule"], key=lambda s: (s["member"], s["trial"])):
        last_cfg[int(s["member"])] = s["config"]
    out = []
    for m in sorted(per):
        score = objective(per[m], k)
        out.append(
            {
                "member": m,
                "score": score,
                "budget": None,
                "config": last_cfg.get(m),
                "status": "ok" if math.isfinite(score) else "failed",
            }
        )
    return out


def score_histogram(
    scores: Sequence[Mapping[str, Any]] | Sequence[float], bins: int = 20
) -> dict[str, Any]:
    """Histogram of the finite final scores: ``{"counts", "edges", "n", "failed"}`` where
    ``failed`` counts the non-finite scores left out."""
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins: expected an int >= 1, got {bins!r}")
    vals = [float(s["score"]) if isinstance(s, Mapping) else float(s) for s in scores]
    finite = np.array([v for v in vals if math.isfinite(v)], dtype=np.float64)
    if len(finite) == 0:
        return {"counts": [], "edges": [], "n": 0, "failed": len(vals)}
    counts, edges = np.histogram(finite, bins=bins)
    return {
        "counts": counts.tolist(),
        "edges": edges.tolist(),
        "n": int(len(finite)),
        "failed": len(vals) - int(len(finite)),
    }


def fidelity_correlations(hb_jobs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Spearman rank correlation between Hyperband fidelities (Fig. 2).

    Configurations are identified by hpbandster's ``config_id`` (a promoted configuration keeps
    its id). For every pair of budgets (``low`` < ``high`` trials), the configurations that
    finished successfully at both are paired, scored ``-loss``, and correlated. Records:
    ``{"low", "high", "n", "rho", "config_ids", "low_scores", "high_scores"}``; ``rho`` is NaN
    with fewer than two pairs or a constant side.
    """
    at: dict[int, dict[tuple, float]] = {}
    for j in hb_jobs:
        if j["status"] != "ok" or j["loss"] is None:
            continue
        at.setdefault(int(j["trials"]), {})[tuple(j["config_id"])] = -float(j["loss"])
    budgets = sorted(at)
    out = []
    for i, lo in enumerate(budgets):
        for hi in budgets[i + 1 :]:
            ids = sorted(set(at[lo]) & set(at[hi]))
            xs = [at[lo][c] for c in ids]
            ys = [at[hi][c] for c in ids]
            out.append(
                {
                    "low": lo,
                    "high": hi,
                    "n": len(ids),
                    "rho": spearman(xs, ys) if ids else math.nan,
                    "config_ids": [list(c) for c in ids],
                    "low_scores": xs,
                    "high_scores": ys,
                }
            )
    return out


def lineage_counts(lineage: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many exploit / replace_failed / explore / backtrack decisions a study made."""
    counts = dict.fromkeys(LINEAGE_KINDS, 0)
    for e in lineage:
        if e["kind"] in counts:
            counts[e["kind"]] += 1
    return counts


def failures(rec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Failed or diverged trials: ``{"member", "trial", "status", "cause"}``."""
    return [
        {"member": t["member"], "trial": t["trial"], "status": t["status"], "cause": t.get("cause")}
        for t in rec["trials"]
        if t["status"] != "ok"
    ]


def top_bottom_curves(rec: Mapping[str, Any], k: int = 5) -> dict[str, Any]:
    """Fig. 10: the returns per trial of the ``k`` best and ``k`` worst configurations by
    final score (Hyperband/BOHB: jobs at the highest budget), with each group's mean.
    ``{"k", "top"/"bottom": {"members": [{"member", "score", "config", "returns"}],
    "mean": [per trial]}}``; ``k`` shrinks to half the scored configurations."""
    _check_k(k)
    scores = [s for s in final_scores(rec) if math.isfinite(s["score"])]
    if rec["method"] in ("hyperband", "bohb") and scores:
        top_budget = max(s["budget"] for s in scores)
        scores = [s for s in scores if s["budget"] == top_budget]
    ranked = sorted(scores, key=lambda s: (-s["score"], s["member"]))
    kk = min(k, len(ranked) // 2)
    rets: dict[int, list[float]] = {}
    for t in sorted(rec["trials"], key=lambda t: (t["member"], t["trial"])):
        rets.setdefault(int(t["member"]), []).append(_ret(t))
    out: dict[str, Any] = {"k": kk}
    for group, chosen in (("top", ranked[:kk]), ("bottom", ranked[len(ranked) - kk :])):
        members = [
            {
                "member": s["member"],
                "score": s["score"],
                "config": s["config"] or {},
                "returns": rets.get(s["member"], []),
            }
            for s in chosen
        ]
        n = max((len(m["returns"]) for m in members), default=0)
        mean = []
        for t in range(n):
            vals = [
                m["returns"][t]
                for m in members
                if t < len(m["returns"]) and math.isfinite(m["returns"][t])
            ]
            mean.append(float(np.mean(vals)) if vals else math.nan)
        out[group] = {"members": members, "mean": mean}
    return out


# ---------------------------------------------------------------------------------------------
def summarize(rec: Mapping[str, Any], k: int = 5) -> dict[str, Any]:
    """The headline numbers of one study: method, best member and score, the baseline's score
    and the difference, the top-``k`` mean at the last trial, trial and failure counts, lineage
    counts and (Hyperband) fidelity correlations."""
    base = rec.get("baseline")
    best = rec.get("best_score", -math.inf)
    base_score = None if base is None else base["score"]
    top = top_curve(rec["trials"], k)
    fails = failures(rec)
    env = (rec.get("settings") or {}).get("env") or (None if base is None else base.get("env"))
    out = {
        "db": rec.get("db"),
        "method": rec["method"],
        "env": env,
        "seed": rec.get("seed"),
        "searched": searched_names(rec),
        "members": len(rec.get("members", [])),
        "trials": len(rec["trials"]),
        "failed_trials": len(fails),
        "failure_causes": _count(f["cause"] or f["status"] for f in fails),
        "best_member": rec.get("best_member"),
        "best_score": best,
        "best_config": rec.get("best_config"),
        "baseline_score": base_score,
        "baseline_config": None if base is None else base["config"],
        "improvement": (
            best - base_score
            if base_score is not None and math.isfinite(best) and math.isfinite(base_score)
            else None
        ),
        "top_k": max((r["n"] for r in top), default=k),  # k, or fewer members than k
        "top_final_mean": top[-1]["mean"] if top else None,
        "top_final_std": top[-1]["std"] if top else None,
        "lineage": lineage_counts(rec.get("lineage", [])),
    }
    if rec["method"] in ("hyperband", "bohb"):
        jobs = rec["hb_jobs"]
        out["hb_jobs"] = len(jobs)
        out["hb_failed_jobs"] = sum(j["status"] != "ok" for j in jobs)
        out["fidelity"] = [
            {k2: c[k2] for k2 in ("low", "high", "n", "rho")} for c in fidelity_correlations(jobs)
        ]
    return out


def compare_studies(
    recs: Sequence[Mapping[str, Any]], labels: Sequence[str] | None = None, k: int = 5
) -> dict[str, Any]:
    """Several studies side by side (e.g. PBT with and without copying the history, Fig. 5):
    ``{"rows": [summary + "label"], "curves": {label: learning_curves}}``."""
    if not recs:
        raise ValueError("expected at least one study to compare, got none")
    labels = list(labels) if labels is not None else default_labels(recs)
    if len(labels) != len(recs):
        raise ValueError(f"expected {len(recs)} labels (one per study), got {len(labels)}")
    if len(set(labels)) != len(labels):
        raise ValueError(f"expected distinct labels, got {labels}")
    rows, curves = [], {}
    for label, rec in zip(labels, recs, strict=True):
        rows.append({"label": label, **summarize(rec, k)})
        curves[label] = learning_curves(rec, k)
    return {"rows": rows, "curves": curves}


def default_labels(recs: Sequence[Mapping[str, Any]]) -> list[str]:
    """``method`` (plus ``(no copy history)`` for PBT studies with ``copy="hparams"``, or
    the older ``copy_history=False``); made unique with the
    database's file name when two would clash."""
    labels = []
    for rec in recs:
        label = rec["method"]
        pbt = (rec.get("settings") or {}).get("pbt") or {}
        if pbt.get("copy") == "hparams" or pbt.get("copy_history") is False:
            label += " (no copy history)"
        labels.append(label)
    if len(set(labels)) != len(labels):
        labels = [
            f"{lab} [{Path(str(rec.get('db', i))).stem}]"
            for i, (lab, rec) in enumerate(zip(labels, recs, strict=True))
        ]
    if len(set(labels)) != len(labels):
        labels = [f"{lab} #{i + 1}" for i, lab in enumerate(labels)]
    return labels


def _count(items: Iterable[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[str(x)] = out.get(str(x), 0) + 1
    return out


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected an int >= 1, got {k!r}")
