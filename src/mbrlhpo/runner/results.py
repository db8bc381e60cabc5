"""A study's results as plain records, read from its store: ``Study``, ``collect`` and the
best member's verified checkpoint (``best_checkpoint``).

The best member (population methods: the best final objective, its checkpoint after the last
round; Hyperband/BOHB: the best job of the largest budget, whose final checkpoint the runner
keeps). A checkpoint is verified against its checksum in the store before it is used.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mbrlhpo.hpo.objective import DEFAULT_LAST_K, objective
from mbrlhpo.runner.checkpoints import MANIFEST, CheckpointCorrupt, dir_sha256
from mbrlhpo.runner.study_dir import study_dir_for
from mbrlhpo.store.sqlite_store import StudyStore

MODEL_DIVERGED = "model diverged (training produced NaN/inf; the model was rolled back)"


@dataclass
class Study:
    """A finished study as plain records."""

    method: str
    trials: list[dict]
    schedule: list[dict]
    lineage: list[dict]
    failures: list[dict]
    best_member: int | None
    best_score: float
    best_config: dict | None
    best_schedule: list[dict]
    top5_curve: list[dict]
    hb_jobs: list[dict] = field(default_factory=list)
    model_divergences: list[dict] = field(default_factory=list)  # ok trials, model rolled back
    baseline: Any = None  # the expert defaults' run, when mbrlhpo.tune ran it
    db_path: str | None = None  # where the study is stored (set by run_study)
    study_dir: str | None = None  # its checkpoints' directory (set by run_study)

    def best_checkpoint(self) -> Path:
        """The best member's checkpoint directory (verified; ``PETSAgent.load`` reads it).
        See :func:`best_checkpoint`."""
        if self.db_path is None:
            raise ValueError("this Study does not know its database (it was not run here)")
        return best_checkpoint(self.db_path, self.study_dir)

    def frame(self, name: str):
        """One of the record lists (``trials``, ``schedule``, ``lineage``, ``failures``,
        ``top5_curve``, ``hb_jobs``) as a pandas DataFrame (needs pandas)."""
        if name not in (
            "trials",
            "schedule",
            "lineage",
            "failures",
            "top5_curve",
            "hb_jobs",
            "best_schedule",
            "model_divergences",
        ):
            raise ValueError(f"unknown record list {name!r}")
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("Study.frame needs pandas: pip install pandas") from exc
        return pd.DataFrame(getattr(self, name))


def lineage_schedule(store: StudyStore, member: int, trial: int) -> list[dict]:
    """The configurations along ``member``'s lineage up to ``trial``, oldest first: each
    record is ``{"member", "trial", "config"}`` of the slot that ran that step."""
    sched = {(s["member"], s["trial"]): s["config"] for s in store.schedule()}
    changes = {
        (e["round"], e["dst"]): e
        for e in store.lineage()
        if e["kind"] in ("exploit", "replace_failed", "backtrack")
    }
    path = []
    m, r = member, trial
    while r >= 1:
        if (m, r) not in sched:
            break
        path.append({"member": m, "trial": r, "config": sched[(m, r)]})
        ev = changes.get((r - 1, m))
        if ev is not None:
            m, r = ev["src"], ev["src_round"]
        else:
            r -= 1
    path.reverse()
    return path


def top5_curve(trials: list[dict], k: int = 5) -> list[dict]:
    """Mean and standard deviation of the top-``k`` successful returns at each trial index."""
    by_t: dict[int, list[float]] = {}
    for t in trials:
        if t["status"] == "ok" and t["ret"] is not None:
            by_t.setdefault(t["trial"], []).append(float(t["ret"]))
    out = []
    for tr in sorted(by_t):
        top = sorted(by_t[tr], reverse=True)[:k]
        out.append(
            {"trial": tr, "mean": float(np.mean(top)), "std": float(np.std(top)), "n": len(top)}
        )
    return out


def best_hb_job(jobs: list[dict]) -> dict | None:
    """The best finished Hyperband/BOHB job: the lowest loss among the successful jobs of the
    largest number of trials (ties: the lowest member), or None. A failed job does not change
    it, so the runner can keep its checkpoint as the study goes."""
    ok = [j for j in jobs if j["status"] == "ok"]
    if not ok:
        return None
    max_t = max(j["trials"] for j in ok)
    return min((j for j in ok if j["trials"] == max_t), key=lambda j: (j["loss"], j["member"]))


def collect(store: StudyStore, method: str, last_k: int = DEFAULT_LAST_K) -> Study:
    """A ``Study`` result from the store."""
    trials = store.trials()
    failures = [t for t in trials if t["status"] != "ok"]
    model_div = [t for t in trials if t["status"] == "ok" and t["cause"] == MODEL_DIVERGED]
    best_m, best_s, best_cfg, best_sched = None, -math.inf, None, []
    hb = store.hb_jobs() if method in ("hyperband", "bohb") else []
    if hb:
        j = best_hb_job(hb)
        if j is not None:
            best_m, best_s, best_cfg = j["member"], -j["loss"], j["config"]
            best_sched = [
                {"member": s["member"], "trial": s["trial"], "config": s["config"]}
                for s in store.schedule(best_m)
            ]
    elif trials:
        last = max(t["trial"] for t in trials)
        per: dict[int, list[float]] = {}
        for t in trials:
            per.setdefault(t["member"], []).append(
                t["ret"] if t["status"] == "ok" and t["ret"] is not None else math.nan
            )
        finals = {m: objective(r, last_k) for m, r in per.items() if len(r) == last}
        finals = {m: s for m, s in finals.items() if math.isfinite(s)}  # never a failed one
        if finals:
            best_m = max(sorted(finals), key=lambda m: finals[m])
            best_s = finals[best_m]
            best_sched = lineage_schedule(store, best_m, last)
            best_cfg = best_sched[-1]["config"] if best_sched else None
    return Study(
        method=method,
        trials=trials,
        schedule=store.schedule(),
        lineage=store.lineage(),
        failures=failures,
        best_member=best_m,
        best_score=best_s,
        best_config=best_cfg,
        best_schedule=best_sched,
        top5_curve=top5_curve(trials),
        hb_jobs=hb,
        model_divergences=model_div,
    )


class NoBestCheckpoint(ValueError):
    """A study has no best member yet, or its checkpoint was not kept."""


def best_checkpoint(db: str | os.PathLike, study_dir: str | os.PathLike | None = None) -> Path:
    """The checkpoint directory of the best member of the study in ``db`` (verified).

    ``study_dir``: where the study's checkpoints are (default: next to the database,
    ``<stem>.study``). Raises :class:`NoBestCheckpoint` naming why there is none and
    :class:`~mbrlhpo.runner.checkpoints.CheckpointCorrupt` for a damaged one."""
    db = Path(db)
    if not db.is_file():  # StudyStore would say the same less plainly
        raise ValueError(f"expected an existing study database, got {str(db)!r} (no such file)")
    sdir = Path(study_dir) if study_dir is not None else study_dir_for(db)
    with StudyStore(db, readonly=True) as store:
        head = store.study()
        if head is None:
            raise ValueError(f"{db} holds no study (expected a database written by mbrlhpo.tune)")
        last_k = int(head["settings"].get("last_k", DEFAULT_LAST_K))
        study = collect(store, head["method"], last_k)
        member = study.best_member
        if member is None:
            raise NoBestCheckpoint(
                f"study {db} has no best member yet (no member finished without failing)"
            )
        if study.hb_jobs:
            trial = next(
                j["trials"] for j in study.hb_jobs if j["member"] == member and j["status"] == "ok"
            )
        else:
            trial = max(t["trial"] for t in study.trials if t["member"] == member)
        row = store.checkpoint(member, trial)
    if row is None or row["deleted"]:
        raise NoBestCheckpoint(
            f"study {db}: the best member's checkpoint (member {member}, trial {trial}) was "
            "not kept (a study run before Hyperband/BOHB kept their best job's)"
        )
    path = sdir / "checkpoints" / row["path"]
    if not path.is_dir():
        raise CheckpointCorrupt(f"checkpoint {path} is missing (study directory {sdir})")
    manifest = path / MANIFEST
    files = [f for f in manifest.read_text().splitlines() if f] if manifest.is_file() else None
    got, _ = dir_sha256(path, files)
    if got != row["sha256"]:
        raise CheckpointCorrupt(f"checkpoint {path}: expected sha256 {row['sha256']}, got {got}")
    return path
