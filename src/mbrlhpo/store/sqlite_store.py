"""The study store: one SQLite file (stdlib sqlite3, WAL), one transaction per event.

Tables (schema version ``SCHEMA_VERSION``, kept in ``meta``):

- ``study``: the study's method, seed, settings and search space (JSON), one row.
- ``members``: every member (a population slot, or one Hyperband job) with its seed and
  initial configuration.
- ``schedule``: the configuration every member ran at every trial.
- ``trials``: every trial's return, wall time, status (``ok``, ``diverged``, ``failed``) and
  failure cause. A NaN return is stored as NULL (SQLite has no NaN) with a non-ok status.
- ``scores``: the objective of every member at every decision round (PBT/PBT-BT).
- ``events``: study lifecycle and the lineage: exploit / explore / backtrack / replace
  events with source member and round, destination, old and new configuration.
- ``checkpoints``: checkpoint references (path relative to the study directory, sha256,
  size); deleted ones stay as rows with ``deleted = 1``.
- ``hb_jobs``: Hyperband/BOHB evaluations (hpbandster config id, budget, loss, status).

Every write method is one transaction. A trial, its schedule row and its checkpoint reference
are one event; a decision round's scores and decisions are one event (so a round's decisions
are either all stored or none). Records come back as plain dicts, or pandas DataFrames
through ``frame`` when pandas is importable.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from typing import Any

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS study (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    method TEXT NOT NULL, seed INTEGER NOT NULL,
    settings TEXT NOT NULL, space TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    member INTEGER PRIMARY KEY, seed INTEGER NOT NULL, config TEXT NOT NULL,
    budget INTEGER, label TEXT, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS schedule (
    member INTEGER NOT NULL, trial INTEGER NOT NULL, config TEXT NOT NULL,
    PRIMARY KEY (member, trial));
CREATE TABLE IF NOT EXISTS trials (
    member INTEGER NOT NULL, trial INTEGER NOT NULL, ret REAL, wall_time REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'diverged', 'failed')), cause TEXT,
    finished REAL NOT NULL, PRIMARY KEY (member, trial));
CREATE TABLE IF NOT EXISTS scores (
    round INTEGER NOT NULL, member INTEGER NOT NULL, score REAL,
    PRIMARY KEY (round, member));
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, round INTEGER, kind TEXT NOT NULL,
    src INTEGER, src_round INTEGER, dst INTEGER, old_config TEXT, new_config TEXT,
    detail TEXT, time REAL NOT NULL);
CREATE INDEX IF NOT EXISTS events_round ON events (round, kind);
CREATE TABLE IF NOT EXISTS checkpoints (
    member INTEGER NOT NULL, trial INTEGER NOT NULL, path TEXT NOT NULL,
    sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, created REAL NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (member, trial));
CREATE TABLE IF NOT EXISTS hb_jobs (
    config_id TEXT NOT NULL, member INTEGER NOT NULL, config TEXT NOT NULL,
    budget REAL NOT NULL, trials INTEGER NOT NULL, loss REAL, status TEXT NOT NULL,
    cause TEXT, finished REAL, PRIMARY KEY (config_id, trials));
"""

TRIAL_STATUSES = ("ok", "diverged", "failed")
_JSON_COLUMNS = {"settings", "space", "config", "old_config", "new_config", "detail"}


class StoreError(RuntimeError):
    """The store is unusable for this study (wrong schema version, a different study)."""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, allow_nan=True)


def _real(x: float | None) -> float | None:
    """SQLite REAL for a float: NaN becomes NULL, +-inf stays."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


class StudyStore:
    """A study's SQLite store. Not shared between threads; open one per process."""

    def __init__(self, path: str | os.PathLike, synchronous: str = "NORMAL") -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous: expected OFF, NORMAL, FULL or EXTRA, "
                             f"got {synchronous!r}")
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        # Used from one thread at a time (hpbandster's worker thread, then the caller's);
        # the lock serialises the rare overlap.
        self._lock = threading.RLock()
        self._con = sqlite3.connect(self.path, isolation_level=None, timeout=30.0,
                                    check_same_thread=False)
        self._con.row_factory = sqlite3.Row
        mode = self._con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"could not put {self.path} in WAL mode (got {mode})")
        self._con.execute(f"PRAGMA synchronous={synchronous}")
        self._con.execute("PRAGMA foreign_keys=ON")
        self._con.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
        row = self._con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            with self._tx() as c:
                c.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                          (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: expected schema version {SCHEMA_VERSION}, "
                             f"got {row[0]}")

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _tx(self):
        """One transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        with self._lock:
            cur = self._con.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._con.execute(
            "SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``'s answer (``"ok"`` when sound)."""
        return str(self._con.execute("PRAGMA integrity_check").fetchone()[0])

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        out = []
        with self._lock:
            rows = self._con.execute(sql, tuple(args)).fetchall()
        for r in rows:
            d = dict(r)
            for k in _JSON_COLUMNS & d.keys():
                if d[k] is not None:
                    d[k] = json.loads(d[k])
            out.append(d)
        return out

    # -- study ------------------------------------------------------------------------------
    def init_study(self, method: str, seed: int, settings: Mapping[str, Any],
                   space: Mapping[str, Any]) -> bool:
        """Create the study row; True if new. An existing study must match, else StoreError."""
        row = self.study()
        want = {"method": method, "seed": int(seed), "settings": json.loads(_dumps(settings)),
                "space": json.loads(_dumps(space))}
        if row is not None:
            for k, v in want.items():
                if row[k] != v:
                    raise StoreError(f"{self.path} holds a different study: its {k} is "
                                     f"{row[k]!r}, this run's is {v!r}")
            return False
        with self._tx() as c:
            c.execute("INSERT INTO study VALUES (1, ?, ?, ?, ?, ?)",
                      (method, int(seed), _dumps(settings), _dumps(space), time.time()))
            c.execute("INSERT INTO events (round, kind, detail, time) VALUES (NULL, ?, ?, ?)",
                      ("study_start", _dumps({"method": method}), time.time()))
        return True

    def study(self) -> dict[str, Any] | None:
        rows = self._rows("SELECT method, seed, settings, space, created FROM study")
        return rows[0] if rows else None

    # -- writes (one transaction each) -------------------------------------------------------
    def add_member(self, member: int, seed: int, config: Mapping[str, Any],
                   budget: int | None = None, label: str | None = None) -> None:
        """Register a member (idempotent: an identical existing row is kept)."""
        with self._tx() as c:
            c.execute("INSERT OR IGNORE INTO members VALUES (?, ?, ?, ?, ?, ?)",
                      (int(member), int(seed), _dumps(dict(config)), budget, label, time.time()))

    def record_trial(self, member: int, trial: int, config: Mapping[str, Any], ret: float | None,
                     wall_time: float, status: str = "ok", cause: str | None = None,
                     checkpoint: tuple[str, str, int] | None = None) -> None:
        """A finished trial: its schedule row, result and (optional) checkpoint reference
        ``(path, sha256, bytes)`` in one transaction."""
        if status not in TRIAL_STATUSES:
            raise ValueError(f"status: expected one of {TRIAL_STATUSES}, got {status!r}")
        now = time.time()
        with self._tx() as c:
            c.execute("INSERT INTO schedule VALUES (?, ?, ?)",
                      (int(member), int(trial), _dumps(dict(config))))
            c.execute("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (int(member), int(trial), _real(ret), float(wall_time), status, cause, now))
            if checkpoint is not None:
                path, sha, nbytes = checkpoint
                c.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, 0)",
                          (int(member), int(trial), path, sha, int(nbytes), now))
            if status != "ok":
                c.execute("INSERT INTO events (round, kind, dst, detail, time) "
                          "VALUES (?, 'failure', ?, ?, ?)",
                          (int(trial), int(member), _dumps({"status": status, "cause": cause}),
                           now))

    def record_round(self, round_: int, scores: Mapping[int, float],
                     events: Iterable[Mapping[str, Any]]) -> None:
        """A decision round: every member's score, its decisions (dicts with ``kind`` and any
        of ``src``, ``src_round``, ``dst``, ``old_config``, ``new_config``, ``detail``) and a
        closing ``round_done`` event, in one transaction."""
        now = time.time()
        with self._tx() as c:
            c.executemany("INSERT INTO scores VALUES (?, ?, ?)",
                          [(int(round_), int(m), _real(s)) for m, s in sorted(scores.items())])
            rows = []
            for e in events:
                rows.append((int(round_), e["kind"], e.get("src"), e.get("src_round"),
                             e.get("dst"),
                             None if e.get("old_config") is None else _dumps(e["old_config"]),
                             None if e.get("new_config") is None else _dumps(e["new_config"]),
                             None if e.get("detail") is None else _dumps(e["detail"]), now))
            rows.append((int(round_), "round_done", None, None, None, None, None, None, now))
            c.executemany("INSERT INTO events (round, kind, src, src_round, dst, old_config, "
                          "new_config, detail, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def record_event(self, kind: str, round_: int | None = None,
                     detail: Mapping[str, Any] | None = None) -> None:
        """A lifecycle event (``study_resume``, ``study_done``, ``study_error``, ...)."""
        with self._tx() as c:
            c.execute("INSERT INTO events (round, kind, detail, time) VALUES (?, ?, ?, ?)",
                      (round_, kind, None if detail is None else _dumps(dict(detail)),
                       time.time()))

    def mark_checkpoints_deleted(self, refs: Iterable[tuple[int, int]]) -> None:
        with self._tx() as c:
            c.executemany("UPDATE checkpoints SET deleted = 1 WHERE member = ? AND trial = ?",
                          [(int(m), int(t)) for m, t in refs])

    def record_hb_job(self, config_id: tuple[int, ...], member: int, config: Mapping[str, Any],
                      budget: float, trials: int, loss: float | None, status: str,
                      cause: str | None = None) -> None:
        """A finished Hyperband/BOHB evaluation (``status``: ``ok`` or a failure status)."""
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO hb_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (_dumps(list(config_id)), int(member), _dumps(dict(config)),
                       float(budget), int(trials), _real(loss), status, cause, time.time()))

    # -- reads --------------------------------------------------------------------------------
    def members(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM members ORDER BY member")

    def trials(self, member: int | None = None) -> list[dict[str, Any]]:
        if member is None:
            return self._rows("SELECT * FROM trials ORDER BY trial, member")
        return self._rows("SELECT * FROM trials WHERE member = ? ORDER BY trial", (member,))

    def schedule(self, member: int | None = None) -> list[dict[str, Any]]:
        if member is None:
            return self._rows("SELECT * FROM schedule ORDER BY trial, member")
        return self._rows("SELECT * FROM schedule WHERE member = ? ORDER BY trial", (member,))

    def scores(self, round_: int | None = None) -> list[dict[str, Any]]:
        if round_ is None:
            return self._rows("SELECT * FROM scores ORDER BY round, member")
        return self._rows("SELECT * FROM scores WHERE round = ? ORDER BY member", (round_,))

    def events(self, kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
        if kinds is None:
            return self._rows("SELECT * FROM events ORDER BY id")
        kinds = list(kinds)
        q = ",".join("?" * len(kinds))
        return self._rows(f"SELECT * FROM events WHERE kind IN ({q}) ORDER BY id", kinds)

    def lineage(self) -> list[dict[str, Any]]:
        """Exploit/explore/backtrack/replace events in order."""
        return self.events(("exploit", "replace_failed", "explore", "backtrack"))

    def rounds_done(self) -> list[int]:
        with self._lock:
            return [r[0] for r in self._con.execute(
                "SELECT round FROM events WHERE kind = 'round_done' ORDER BY round")]

    def checkpoints(self, live_only: bool = True) -> list[dict[str, Any]]:
        where = "WHERE deleted = 0 " if live_only else ""
        return self._rows(f"SELECT * FROM checkpoints {where}ORDER BY member, trial")

    def checkpoint(self, member: int, trial: int) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM checkpoints WHERE member = ? AND trial = ?",
                          (member, trial))
        return rows[0] if rows else None

    def hb_jobs(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM hb_jobs ORDER BY member")
        for r in rows:
            r["config_id"] = tuple(json.loads(r["config_id"]))
        return rows

    def hb_job(self, config_id: tuple[int, ...], trials: int) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM hb_jobs WHERE config_id = ? AND trials = ?",
                          (_dumps(list(config_id)), int(trials)))
        if not rows:
            return None
        rows[0]["config_id"] = tuple(json.loads(rows[0]["config_id"]))
        return rows[0]

    def frame(self, table: str):
        """A read as a pandas DataFrame (``trials``, ``schedule``, ``events``, ``scores``,
        ``members``, ``checkpoints``, ``hb_jobs``); needs pandas."""
        readers = {"trials": self.trials, "schedule": self.schedule, "events": self.events,
                   "scores": self.scores, "members": self.members,
                   "checkpoints": lambda: self.checkpoints(False), "hb_jobs": self.hb_jobs}
        if table not in readers:
            raise ValueError(f"unknown table {table!r}: expected one of {sorted(readers)}")
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("StudyStore.frame needs pandas; the dict records "
                              "(e.g. store.trials()) work without it") from e
        return pd.DataFrame(readers[table]())
