"""The commit ledger: how many transactions a study database has committed, kept outside it.

SQLite in WAL mode keeps a committed transaction in ``<db>-wal`` until a checkpoint copies it
into the database file. Its frames are checksummed as a chain, so a flipped byte or a cut in
the WAL silently drops every transaction after the damage on the next open, and the row
checksums (``sums``) roll back with the rows they seal: the database is consistent, only
shorter. The store therefore checkpoints after every commit (the WAL then holds at most the
transaction in flight), and where a reader keeps it from doing so, this ledger names the loss:
it is written after every commit, so a database holding fewer commits than its ledger has lost
committed transactions.

The ledger is ``<db>.commits``, one JSON object rewritten atomically (``<db>.commits.tmp``
renamed over it; a writer killed in between leaves that file, which the next writer removes).
It protects against accidents (a damaged, truncated or deleted WAL, a database file restored
from an older copy), not against a deliberate edit of both files.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass

LEDGER_SUFFIX = ".commits"
_FORMAT = "mbrlhpo-commits"


@dataclass(frozen=True)
class Ledger:
    """What a study database had committed when it last wrote: its study id, the number of
    transactions, and its trials (for the message)."""

    study_id: str
    commits: int
    trials: int


def ledger_path(db_path: str) -> str:
    return db_path + LEDGER_SUFFIX


def ledger_temp_path(db_path: str) -> str:
    """The ledger's temporary file: written by the study's writer only (it holds the lock)."""
    return ledger_path(db_path) + ".tmp"


def read_ledger(db_path: str) -> Ledger | None:
    """The ledger beside ``db_path``; None when there is none or it is unreadable (a damaged
    ledger checks nothing; the next commit rewrites it)."""
    try:
        with open(ledger_path(db_path), encoding="utf-8") as f:
            raw = json.load(f)
        if raw.get("format") != _FORMAT:
            return None
        ledger = Ledger(str(raw["study_id"]), int(raw["commits"]), int(raw["trials"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return ledger if ledger.commits >= 0 and ledger.trials >= 0 else None


def write_ledger(db_path: str, ledger: Ledger) -> None:
    """Replaces the ledger atomically (a kill leaves the old one or the new one)."""
    path = ledger_path(db_path)
    tmp = ledger_temp_path(db_path)
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"format": _FORMAT, **asdict(ledger)}, f)
    os.replace(tmp, path)


def remove_ledger(db_path: str) -> None:
    """Removes a ledger left by a database that was deleted (a new study starts there)."""
    for path in (ledger_path(db_path), ledger_temp_path(db_path)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def remove_ledger_leftover(db_path: str) -> bool:
    """Removes the temporary ledger of a writer killed between writing and renaming it (the
    ledger itself is then the previous one, still valid). Only the study's writer may call
    this, holding the lock: no other process writes that file. True if one was there."""
    try:
        os.unlink(ledger_temp_path(db_path))
    except FileNotFoundError:
        return False
    return True
