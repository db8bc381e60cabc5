"""A study's directory next to its database (``runs/study.db`` -> ``runs/study.study/``) and
its owner file, which keeps two databases from sharing one folder."""

from __future__ import annotations

import os
from pathlib import Path

from mbrlhpo.store.leftovers import is_temp_name, remove_leftover_temps, temp_name
from mbrlhpo.store.sqlite_store import StoreError, StudyStore

OWNER_FILE = "study_id"


def study_dir_for(db_path: str | os.PathLike) -> Path:
    """The study directory next to a database: ``runs/study.db`` -> ``runs/study.study/``."""
    p = Path(db_path)
    return p.with_name(p.stem + ".study")


def claim_study_dir(sdir: Path, store: StudyStore | None, new: bool) -> None:
    """Make ``sdir`` belong to ``store``'s study (its id in ``<sdir>/study_id``), or refuse it
    if it belongs to another study (``x.db`` and ``x.sqlite`` would share ``x.study/``).
    ``store`` None: only refuse (before a new database is created)."""
    sid = None if store is None else store.study_id
    owner = sdir / OWNER_FILE
    if owner.is_file():
        held = owner.read_text().strip()
        if held != sid:
            ours = "this database is new" if sid is None else f"this database's is {sid}"
            raise StoreError(
                f"the checkpoint folder {sdir} belongs to another study (id {held}, "
                f"{ours}); give this study a database with another name"
            )
        if store is not None:  # the writer, holding the lock: a killed writer's temporary
            remove_leftover_temps(sdir, pidless=True)  # files go
        return
    files = [p for p in sdir.rglob("*") if p.is_file() and p != owner and not is_temp_name(p.name)]
    if new and files:  # empty folders are fine
        raise StoreError(
            f"the checkpoint folder {sdir} already holds files of an unknown "
            "study; move it away or give this study another database name"
        )
    if store is None:
        return
    if sdir.is_dir():  # (a kill before the owner file was renamed into place)
        remove_leftover_temps(sdir, pidless=True)
    sdir.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(owner)
    tmp.write_text(sid + "\n")
    os.replace(tmp, owner)
