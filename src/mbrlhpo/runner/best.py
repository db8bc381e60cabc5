"""The result of a study as a file: the best member's checkpoint, and its policy exported for
the C++ core (``mbrlhpo export``, ``examples/cpp_controller``).

The best member is the one :func:`mbrlhpo.runner.study.collect` names (population methods: the
best final objective, its checkpoint after the last round; Hyperband/BOHB: the best job of the
largest budget, whose final checkpoint the runner keeps). The checkpoint is verified against
its checksum in the store before it is used.
"""

from __future__ import annotations

import os
from pathlib import Path

from mbrlhpo.hpo.objective import DEFAULT_LAST_K
from mbrlhpo.runner.checkpoints import MANIFEST, CheckpointCorrupt, dir_sha256
from mbrlhpo.store.sqlite_store import StudyStore


class NoBestCheckpoint(ValueError):
    """A study has no best member yet, or its checkpoint was not kept."""


def best_checkpoint(db: str | os.PathLike, study_dir: str | os.PathLike | None = None) -> Path:
    """The checkpoint directory of the best member of the study in ``db`` (verified).

    ``study_dir``: where the study's checkpoints are (default: next to the database,
    ``<stem>.study``). Raises :class:`NoBestCheckpoint` naming why there is none and
    :class:`~mbrlhpo.runner.checkpoints.CheckpointCorrupt` for a damaged one."""
    from mbrlhpo.runner.study import collect, study_dir_for

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


def export_best(
    db: str | os.PathLike,
    out: str | os.PathLike,
    study_dir: str | os.PathLike | None = None,
    device: str = "cpu",
) -> Path:
    """Exports the policy of the study's best agent (a PETS agent) to ``out`` (safetensors,
    format ``mbrlhpo-policy``: ``mbrlhpo::LoadPlanner`` and ``examples/cpp_controller`` read
    it). Returns the path written."""
    from mbrlhpo.agent import PETSAgent

    agent = PETSAgent.load(best_checkpoint(db, study_dir), device=device)
    try:
        return agent.export(out)
    finally:
        agent.close()
