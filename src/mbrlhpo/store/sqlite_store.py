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
- ``sums``: a sha256 of every stored row above (written in the row's own transaction), so a
  changed or damaged row is reported when the study is opened (``verify``).

Integrity: a database that is not an mbrlhpo study is refused before anything is written to it;
opening a study runs SQLite's ``integrity_check`` (tables and indexes: a damaged index would
mislead the resume's queries) and compares every row with its checksum. One writer per study:
a writer holds an exclusive ``flock`` on ``<db>.lock`` (holder's pid and host written inside)
for its lifetime; readers (``readonly=True``) take no lock and never write.

Every write method is one transaction. A trial, its schedule row and its checkpoint reference
are one event; a decision round's scores and decisions are one event (so a round's decisions
are either all stored or none). Records come back as plain dicts, or pandas DataFrames
through ``frame`` when pandas is importable.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from mbrlhpo.store.commit_ledger import (
    Ledger,
    ledger_path,
    read_ledger,
    remove_ledger,
    remove_ledger_leftover,
    write_ledger,
)

SCHEMA_VERSION = 2  # 2: row checksums (``sums``), study id; a version-1 study is upgraded

# Every protected table and the columns that identify one of its rows.
_KEYS = {
    "study": ("id",),
    "members": ("member",),
    "schedule": ("member", "trial"),
    "trials": ("member", "trial"),
    "scores": ("round", "member"),
    "events": ("id",),
    "checkpoints": ("member", "trial"),
    "hb_jobs": ("config_id", "trials"),
}

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
CREATE TABLE IF NOT EXISTS sums (
    tbl TEXT NOT NULL, key TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (tbl, key));
"""

TRIAL_STATUSES = ("ok", "diverged", "failed")
_JSON_COLUMNS = {"settings", "space", "config", "old_config", "new_config", "detail"}


class StoreError(RuntimeError):
    """The store is unusable for this study (wrong schema version, a different study, not a
    study database, damaged, or in use by another writer)."""


class StudyLocked(StoreError):
    """Another process is writing this study."""


class EmptyDatabase(StoreError):
    """The file is a database without tables (no study yet): a new study may start there."""


_UNREAD = object()  # _check_ledger reads the ledger itself


class LostCommits(StoreError):
    """The database holds fewer committed transactions than its ledger records."""


def _row_sha(row: Iterable[Any]) -> str:
    """sha256 of a row's stored values (floats by their exact repr)."""
    return hashlib.sha256(json.dumps(list(row), allow_nan=True).encode()).hexdigest()


def _first_difference(stored: Any, given: Any, name: str = "") -> tuple[str, str, str] | None:
    """The first setting (dotted name) where two JSON values differ, and both values."""
    if isinstance(stored, dict) and isinstance(given, dict):
        for k in sorted(set(stored) | set(given)):
            sub = f"{name}.{k}" if name else str(k)
            if k not in stored:
                return sub, "unset", repr(given[k])
            if k not in given:
                return sub, repr(stored[k]), "unset"
            d = _first_difference(stored[k], given[k], sub)
            if d is not None:
                return d
        return None
    if stored != given:
        return name, repr(stored), repr(given)
    return None


def _row_key(table: str, row: Mapping[str, Any]) -> str:
    return json.dumps([row[k] for k in _KEYS[table]])


def redact_event_details(path: str | os.PathLike, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in the event details of the closed study file ``path`` and
    reseal the changed rows; returns how many changed. For publishing a study without the
    machine's paths (an error's text names the files it failed on)."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        with con:
            rows = con.execute("SELECT * FROM events WHERE instr(detail, ?) > 0", (old,)).fetchall()
            for r in rows:
                con.execute(
                    "UPDATE events SET detail = ? WHERE id = ?",
                    (r["detail"].replace(old, new), r["id"]),
                )
                changed = con.execute("SELECT * FROM events WHERE id = ?", (r["id"],)).fetchone()
                con.execute(
                    "INSERT OR REPLACE INTO sums VALUES (?, ?, ?)",
                    ("events", _row_key("events", changed), _row_sha(changed)),
                )
    finally:
        con.close()
    return len(rows)


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

    def __init__(
        self,
        path: str | os.PathLike,
        synchronous: str = "NORMAL",
        readonly: bool = False,
        verify: bool = True,
    ) -> None:
        """Open (or create, unless ``readonly``) the study database at ``path``.

        A writer takes the study's lock (``StudyLocked`` if another process holds it); a
        reader opens the file read-only and needs it to exist. ``verify``: check the file and
        every row's checksum now (``StoreError`` naming the damage).
        """
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(
                f"synchronous: expected OFF, NORMAL, FULL or EXTRA, got {synchronous!r}"
            )
        self.path = os.fspath(path)
        self.readonly = readonly
        self._snapshot_ledger: list[Ledger | None] | None = None
        self._lock = threading.RLock()
        self._lock_file = None
        self._con = None
        if os.path.isdir(self.path):
            raise StoreError(f"{self.path} is a directory, expected a study database file")
        if readonly and not os.path.isfile(self.path):
            raise StoreError(f"no study database at {self.path}")
        try:
            self._open(synchronous)
            if verify:
                self.verify()
        except BaseException:
            self.close()
            raise

    def _open(self, synchronous: str) -> None:
        if self.readonly:
            self._con = self._connect_readonly()
            self._check_is_study(empty_ok=False)
            self._check_version()
            return
        self._take_lock()
        remove_ledger_leftover(self.path)  # a killed writer's; we hold the lock now
        self._create_if_blank()
        self._check_ledger_read_only()
        # Used from one thread at a time (hpbandster's worker thread, then the caller's);
        # the lock serialises the rare overlap.
        try:
            self._con = sqlite3.connect(
                self.path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
        except sqlite3.Error as e:
            raise StoreError(f"cannot open {self.path}: {e}") from None
        self._con.row_factory = sqlite3.Row
        self._check_is_study(empty_ok=True)  # before anything is written to the file
        mode = self._sql("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"could not put {self.path} in WAL mode (got {mode})")
        self._sql(f"PRAGMA synchronous={synchronous}")
        self._sql("PRAGMA foreign_keys=ON")
        try:
            self._con.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
        except sqlite3.Error as e:
            raise StoreError(f"cannot write {self.path}: {e}") from None
        row = self._sql("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            with self._tx() as c:
                c.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                c.execute("INSERT OR IGNORE INTO meta VALUES ('study_id', ?)", (uuid.uuid4().hex,))
        elif row[0] == "1":
            self._upgrade_from_1()
        self._check_version()

    def _sql(self, sql: str, args: Iterable[Any] = ()):
        """One statement; SQLite's own errors become a StoreError naming the file."""
        try:
            return self._con.execute(sql, tuple(args))
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is damaged or not a database ({e})") from None

    def _connect_readonly(self) -> sqlite3.Connection:
        uri = "file:" + os.path.abspath(self.path)
        last = None
        # mode=ro needs the WAL's shared-memory file; a study on read-only storage (or one
        # whose -shm is gone) is read as immutable instead.
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            try:
                con = sqlite3.connect(
                    uri + query, uri=True, isolation_level=None, check_same_thread=False
                )
                con.row_factory = sqlite3.Row
                con.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return con
            except sqlite3.DatabaseError as e:
                last = e
        raise StoreError(f"cannot read {self.path}: {last}")

    def _check_is_study(self, empty_ok: bool) -> None:
        """Refuse a SQLite file that belongs to another program (or is not SQLite at all)."""
        names = {r[0] for r in self._sql("SELECT name FROM sqlite_master WHERE type='table'")}
        if not names:
            self._check_ledger(0, 0, None)
            if empty_ok:
                return
            raise EmptyDatabase(f"{self.path} holds no study (an empty database)")
        ok = (
            "meta" in names
            and self._sql("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            is not None
        )
        if not ok:
            raise StoreError(
                f"{self.path} is not an mbrlhpo study database (its tables: "
                f"{', '.join(sorted(names))}); refusing to modify it"
            )

    def _check_version(self) -> None:
        row = self._sql("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None or row[0] != str(SCHEMA_VERSION):
            raise StoreError(
                f"{self.path}: expected schema version {SCHEMA_VERSION}, "
                f"got {None if row is None else row[0]}"
            )

    def _take_lock(self) -> None:
        """An exclusive flock on ``<db>.lock`` for this store's lifetime (one writer)."""
        lock_path = self.path + ".lock"
        parent = os.path.dirname(os.path.abspath(self.path))
        try:
            f = open(lock_path, "a+")  # noqa: SIM115 (held open for the store's lifetime)
        except OSError as e:
            why = "its directory does not exist" if not os.path.isdir(parent) else e.strerror
            raise StoreError(f"cannot open {self.path}: {why}") from None
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise StudyLocked(
                f"{self.path} is in use by {holder} (lock {lock_path}); "
                "one process writes a study at a time"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()} on {socket.gethostname()}\n")
        f.flush()
        self._lock_file = f

    def _upgrade_from_1(self) -> None:
        """Version 1 had no checksums: seal every existing row, add a study id."""
        with self._tx() as c:
            for table in _KEYS:
                self._seal(c, table, "1", ())
            c.execute("INSERT OR IGNORE INTO meta VALUES ('study_id', ?)", (uuid.uuid4().hex,))
            c.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
            )

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _tx(self):
        """One transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only")
        with self._lock:
            cur = self._con.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute(
                    "INSERT INTO meta VALUES ('commits', '1') ON CONFLICT (key) "
                    "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                )
                cur.execute("COMMIT")
            except BaseException:  # (a Ctrl-C after the COMMIT has nothing to roll back)
                if self._con.in_transaction:
                    cur.execute("ROLLBACK")
                raise
            self._after_commit()

    def _after_commit(self) -> None:
        """Copy the WAL into the database file and empty it (so a damaged or deleted WAL
        can lose nothing committed), then record the commit in the ledger. A reader holding
        an old snapshot blocks the checkpoint: it is not waited for, the ledger then names
        any loss (commit_ledger)."""
        self._con.execute("PRAGMA busy_timeout = 0")
        try:
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            self._con.execute("PRAGMA busy_timeout = 30000")
        commits, trials = self._counts()
        write_ledger(self.path, Ledger(self.study_id or "", commits, trials))

    def _counts(self) -> tuple[int, int]:
        """(committed transactions, trials) as the database holds them."""
        row = self._sql("SELECT value FROM meta WHERE key = 'commits'").fetchone()
        trials = self._sql("SELECT count(*) FROM trials").fetchone()[0]
        return (0 if row is None else int(row[0])), int(trials)

    def _check_ledger(
        self, commits: int, trials: int, study_id: str | None, ledger: Any = _UNREAD
    ) -> None:
        """LostCommits if the ledger beside the file records more commits of this study (or
        of any study, for a file that lost its tables) than the database holds. A reader
        passes the ledger it read BEFORE its snapshot: the writer rewrites the ledger after
        each commit, so a ledger read later may be ahead of the snapshot without any loss."""
        if ledger is _UNREAD:
            ledger = read_ledger(self.path)
        if ledger is None or (study_id is not None and ledger.study_id != study_id):
            return  # none, or a stale one of a study this file replaced
        if ledger.commits <= commits:
            return
        raise LostCommits(
            f"{self.path} lost committed transactions: it holds {trials} trials "
            f"({commits} commits) but its ledger {ledger_path(self.path)} records "
            f"{ledger.trials} trials ({ledger.commits} commits), so its -wal file was "
            "damaged, cut or deleted, or the file is an older copy; restore the database "
            f"from a copy, or move {os.path.basename(self.path)} and its -wal, -shm and "
            ".commits files away to start the study again"
        )

    def _check_ledger_read_only(self) -> None:
        """The ledger check before the writer's connection exists: closing a writable
        connection copies the WAL's surviving frames into the file and deletes the WAL, the
        evidence of a loss; a read-only one leaves both as they are."""
        if read_ledger(self.path) is None:
            return
        try:
            con = sqlite3.connect(f"file:{os.path.abspath(self.path)}?mode=ro", uri=True)
            try:
                study_id = con.execute("SELECT value FROM meta WHERE key = 'study_id'").fetchone()
                commits = con.execute("SELECT value FROM meta WHERE key = 'commits'").fetchone()
                trials = con.execute("SELECT count(*) FROM trials").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            return  # not a study database (yet), or damaged: the open names it
        self._check_ledger(
            0 if commits is None else int(commits[0]),
            int(trials),
            None if study_id is None else str(study_id[0]),
        )

    def _create_if_blank(self) -> None:
        """A new study database is built under a temporary name and renamed into place, so a
        kill during creation leaves no half-made study. A blank file (no such file, zero
        bytes, or a database without tables: nothing to lose) is replaced the same way."""
        if not self._is_blank():
            return
        if os.path.exists(self.path):
            self._check_ledger(0, 0, None)  # a file that lost its tables is not blank
        else:
            remove_ledger(self.path)  # the database was deleted: a new study starts
        tmp = self.path + ".creating"
        for leftover in (tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"):
            with suppress(FileNotFoundError):
                os.unlink(leftover)
        study_id = uuid.uuid4().hex
        try:
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(
                    "BEGIN IMMEDIATE;"
                    + _SCHEMA
                    + f"INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
                    + f"INSERT INTO meta VALUES ('study_id', '{study_id}');"
                    + "INSERT INTO meta VALUES ('commits', '1');"
                    + "COMMIT;"
                )
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                con.close()
            # The blank file's own WAL and index must not be applied to the new database.
            for stale in (self.path + "-wal", self.path + "-shm", self.path + "-journal"):
                with suppress(FileNotFoundError):
                    os.unlink(stale)
            os.replace(tmp, self.path)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot create {self.path}: {e}") from None
        write_ledger(self.path, Ledger(study_id, 1, 0))

    def _is_blank(self) -> bool:
        """No file, an empty one, or a SQLite database without tables."""
        try:
            if os.path.getsize(self.path) == 0:
                return True
        except FileNotFoundError:
            return True
        except OSError:
            return False
        try:
            con = sqlite3.connect(f"file:{os.path.abspath(self.path)}?mode=ro", uri=True)
            try:
                return con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
            finally:
                con.close()
        except sqlite3.Error:
            return False  # not a database (or damaged): the open says so

    @contextmanager
    def snapshot(self):
        """A reader's consistent view: every query inside sees one committed state of the
        study. In WAL mode a read transaction never blocks the writer (it only keeps the WAL
        from being checkpointed past it), so keep it short."""
        if not self.readonly:
            raise StoreError(f"{self.path}: snapshot() is for read-only stores")
        with self._lock:
            # The ledger first: SQLite's read snapshot starts at the first query after BEGIN.
            self._snapshot_ledger = [read_ledger(self.path)]
            self._sql("BEGIN")
            try:
                yield self
            finally:
                self._snapshot_ledger = None
                self._con.execute("COMMIT")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._sql("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``'s answer (``"ok"`` when sound)."""
        return str(self._sql("PRAGMA integrity_check").fetchone()[0])

    @property
    def study_id(self) -> str | None:
        row = self._sql("SELECT value FROM meta WHERE key='study_id'").fetchone()
        return None if row is None else str(row[0])

    @staticmethod
    def _next_event_id(c: sqlite3.Cursor) -> int:
        return int(c.execute("SELECT coalesce(max(id), 0) + 1 FROM events").fetchone()[0])

    def _seal(self, c: sqlite3.Cursor, table: str, where: str, args: Iterable[Any]) -> None:
        """Store the checksum of the rows of ``table`` matching ``where`` (inside a tx)."""
        rows = c.execute(f"SELECT * FROM {table} WHERE {where}", tuple(args)).fetchall()
        c.executemany(
            "INSERT OR REPLACE INTO sums VALUES (?, ?, ?)",
            [(table, _row_key(table, r), _row_sha(r)) for r in rows],
        )

    def verify(self) -> None:
        """Raise StoreError if the file is damaged or any stored row differs from its
        checksum (a changed, added or removed row), naming the first problem."""
        # A list while a snapshot is open (its ledger may be None), None outside one.
        ledger = self._snapshot_ledger[0] if self._snapshot_ledger else read_ledger(self.path)
        check = self._sql("PRAGMA integrity_check").fetchall()
        if [r[0] for r in check] != ["ok"]:
            raise StoreError(f"{self.path} is damaged (SQLite integrity_check: {check[0][0]})")
        with self._lock:
            sums = {(r[0], r[1]): r[2] for r in self._sql("SELECT tbl, key, sha256 FROM sums")}
            seen = set()
            for table in _KEYS:
                for r in self._sql(f"SELECT * FROM {table}"):
                    key = (table, _row_key(table, r))
                    seen.add(key)
                    if sums.get(key) != _row_sha(r):
                        what = "was changed" if key in sums else "has no checksum"
                        raise StoreError(
                            f"{self.path} is damaged or was edited: {table} row {key[1]} {what}"
                        )
            missing = sorted(set(sums) - seen)
            if missing:
                raise StoreError(
                    f"{self.path} is damaged or was edited: {missing[0][0]} row "
                    f"{missing[0][1]} is missing"
                )
            self._check_ledger(*self._counts(), self.study_id, ledger)

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        out = []
        with self._lock:
            rows = self._sql(sql, args).fetchall()
        for r in rows:
            d = dict(r)
            for k in _JSON_COLUMNS & d.keys():
                if d[k] is not None:
                    try:
                        d[k] = json.loads(d[k])
                    except ValueError:
                        raise StoreError(
                            f"{self.path} is damaged: a {k} value is not JSON ({d[k][:40]!r})"
                        ) from None
            out.append(d)
        return out

    # -- study ------------------------------------------------------------------------------
    def init_study(
        self, method: str, seed: int, settings: Mapping[str, Any], space: Mapping[str, Any]
    ) -> bool:
        """Create the study row; True if new. An existing study must match, else StoreError."""
        row = self.study()
        want = {
            "method": method,
            "seed": int(seed),
            "settings": json.loads(_dumps(settings)),
            "space": json.loads(_dumps(space)),
        }
        if row is not None:
            diff = _first_difference({k: row[k] for k in want}, want)
            if diff is not None:
                name, stored, given = diff
                raise StoreError(
                    f"{self.path} holds a different study: {name} is {stored} "
                    f"there, {given} in this run (use another database, or the "
                    "study's own settings to resume it)"
                )
            return False
        with self._tx() as c:
            first = self._next_event_id(c)
            c.execute(
                "INSERT INTO study VALUES (1, ?, ?, ?, ?, ?)",
                (method, int(seed), _dumps(settings), _dumps(space), time.time()),
            )
            c.execute(
                "INSERT INTO events (round, kind, detail, time) VALUES (NULL, ?, ?, ?)",
                ("study_start", _dumps({"method": method}), time.time()),
            )
            self._seal(c, "study", "id = 1", ())
            self._seal(c, "events", "id >= ?", (first,))
        return True

    def change_settings(self, settings: Mapping[str, Any], reason: str) -> None:
        """Replace the study's stored settings (the runner allows it only to resume a study
        that stopped because every member failed, with a corrected setting); the old and new
        settings are kept in a ``settings_changed`` event."""
        row = self.study()
        if row is None:
            raise StoreError(f"{self.path} holds no study whose settings could change")
        new = json.loads(_dumps(settings))
        with self._tx() as c:
            first = self._next_event_id(c)
            c.execute("UPDATE study SET settings = ? WHERE id = 1", (_dumps(new),))
            c.execute(
                "INSERT INTO events (round, kind, detail, time) VALUES (NULL, ?, ?, ?)",
                (
                    "settings_changed",
                    _dumps({"old": row["settings"], "new": new, "reason": reason}),
                    time.time(),
                ),
            )
            self._seal(c, "study", "id = 1", ())
            self._seal(c, "events", "id >= ?", (first,))

    def study(self) -> dict[str, Any] | None:
        rows = self._rows("SELECT method, seed, settings, space, created FROM study")
        return rows[0] if rows else None

    # -- writes (one transaction each) -------------------------------------------------------
    def add_member(
        self,
        member: int,
        seed: int,
        config: Mapping[str, Any],
        budget: int | None = None,
        label: str | None = None,
    ) -> None:
        """Register a member (idempotent: an identical existing row is kept)."""
        with self._tx() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO members VALUES (?, ?, ?, ?, ?, ?)",
                (int(member), int(seed), _dumps(dict(config)), budget, label, time.time()),
            )
            if cur.rowcount:
                self._seal(c, "members", "member = ?", (int(member),))

    def record_trial(
        self,
        member: int,
        trial: int,
        config: Mapping[str, Any],
        ret: float | None,
        wall_time: float,
        status: str = "ok",
        cause: str | None = None,
        checkpoint: tuple[str, str, int] | None = None,
    ) -> None:
        """A finished trial: its schedule row, result and (optional) checkpoint reference
        ``(path, sha256, bytes)`` in one transaction."""
        if status not in TRIAL_STATUSES:
            raise ValueError(f"status: expected one of {TRIAL_STATUSES}, got {status!r}")
        now = time.time()
        key = (int(member), int(trial))
        with self._tx() as c:
            first = self._next_event_id(c)
            c.execute(
                "INSERT INTO schedule VALUES (?, ?, ?)",
                (int(member), int(trial), _dumps(dict(config))),
            )
            c.execute(
                "INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)",
                (int(member), int(trial), _real(ret), float(wall_time), status, cause, now),
            )
            if checkpoint is not None:
                path, sha, nbytes = checkpoint
                c.execute(
                    "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, 0)",
                    (int(member), int(trial), path, sha, int(nbytes), now),
                )
            if status != "ok" or cause is not None:  # a failure, or an ok trial with a note
                c.execute(
                    "INSERT INTO events (round, kind, dst, detail, time) VALUES (?, ?, ?, ?, ?)",
                    (
                        int(trial),
                        "failure" if status != "ok" else "note",
                        int(member),
                        _dumps({"status": status, "cause": cause}),
                        now,
                    ),
                )
            for table in ("schedule", "trials", "checkpoints"):
                self._seal(c, table, "member = ? AND trial = ?", key)
            self._seal(c, "events", "id >= ?", (first,))

    def record_round(
        self, round_: int, scores: Mapping[int, float], events: Iterable[Mapping[str, Any]]
    ) -> None:
        """A decision round: every member's score, its decisions (dicts with ``kind`` and any
        of ``src``, ``src_round``, ``dst``, ``old_config``, ``new_config``, ``detail``) and a
        closing ``round_done`` event, in one transaction."""
        now = time.time()
        with self._tx() as c:
            first = self._next_event_id(c)
            c.executemany(
                "INSERT INTO scores VALUES (?, ?, ?)",
                [(int(round_), int(m), _real(s)) for m, s in sorted(scores.items())],
            )
            rows = []
            for e in events:
                rows.append(
                    (
                        int(round_),
                        e["kind"],
                        e.get("src"),
                        e.get("src_round"),
                        e.get("dst"),
                        None if e.get("old_config") is None else _dumps(e["old_config"]),
                        None if e.get("new_config") is None else _dumps(e["new_config"]),
                        None if e.get("detail") is None else _dumps(e["detail"]),
                        now,
                    )
                )
            rows.append((int(round_), "round_done", None, None, None, None, None, None, now))
            c.executemany(
                "INSERT INTO events (round, kind, src, src_round, dst, old_config, "
                "new_config, detail, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._seal(c, "scores", "round = ?", (int(round_),))
            self._seal(c, "events", "id >= ?", (first,))

    def record_event(
        self, kind: str, round_: int | None = None, detail: Mapping[str, Any] | None = None
    ) -> None:
        """A lifecycle event (``study_resume``, ``study_done``, ``study_error``, ...)."""
        with self._tx() as c:
            first = self._next_event_id(c)
            c.execute(
                "INSERT INTO events (round, kind, detail, time) VALUES (?, ?, ?, ?)",
                (round_, kind, None if detail is None else _dumps(dict(detail)), time.time()),
            )
            self._seal(c, "events", "id >= ?", (first,))

    def mark_checkpoints_deleted(self, refs: Iterable[tuple[int, int]]) -> None:
        with self._tx() as c:
            keys = [(int(m), int(t)) for m, t in refs]
            c.executemany("UPDATE checkpoints SET deleted = 1 WHERE member = ? AND trial = ?", keys)
            for key in keys:
                self._seal(c, "checkpoints", "member = ? AND trial = ?", key)

    def record_hb_job(
        self,
        config_id: tuple[int, ...],
        member: int,
        config: Mapping[str, Any],
        budget: float,
        trials: int,
        loss: float | None,
        status: str,
        cause: str | None = None,
    ) -> None:
        """A finished Hyperband/BOHB evaluation (``status``: ``ok`` or a failure status)."""
        with self._tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO hb_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _dumps(list(config_id)),
                    int(member),
                    _dumps(dict(config)),
                    float(budget),
                    int(trials),
                    _real(loss),
                    status,
                    cause,
                    time.time(),
                ),
            )
            self._seal(
                c, "hb_jobs", "config_id = ? AND trials = ?", (_dumps(list(config_id)), int(trials))
            )

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
            return [
                r[0]
                for r in self._sql(
                    "SELECT round FROM events WHERE kind = 'round_done' ORDER BY round"
                )
            ]

    def checkpoints(self, live_only: bool = True) -> list[dict[str, Any]]:
        where = "WHERE deleted = 0 " if live_only else ""
        return self._rows(f"SELECT * FROM checkpoints {where}ORDER BY member, trial")

    def checkpoint(self, member: int, trial: int) -> dict[str, Any] | None:
        rows = self._rows(
            "SELECT * FROM checkpoints WHERE member = ? AND trial = ?", (member, trial)
        )
        return rows[0] if rows else None

    def hb_jobs(self) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM hb_jobs ORDER BY member")
        for r in rows:
            r["config_id"] = tuple(json.loads(r["config_id"]))
        return rows

    def hb_job(self, config_id: tuple[int, ...], trials: int) -> dict[str, Any] | None:
        rows = self._rows(
            "SELECT * FROM hb_jobs WHERE config_id = ? AND trials = ?",
            (_dumps(list(config_id)), int(trials)),
        )
        if not rows:
            return None
        rows[0]["config_id"] = tuple(json.loads(rows[0]["config_id"]))
        return rows[0]

    def frame(self, table: str):
        """A read as a pandas DataFrame (``trials``, ``schedule``, ``events``, ``scores``,
        ``members``, ``checkpoints``, ``hb_jobs``); needs pandas."""
        readers = {
            "trials": self.trials,
            "schedule": self.schedule,
            "events": self.events,
            "scores": self.scores,
            "members": self.members,
            "checkpoints": lambda: self.checkpoints(False),
            "hb_jobs": self.hb_jobs,
        }
        if table not in readers:
            raise ValueError(f"unknown table {table!r}: expected one of {sorted(readers)}")
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError(
                "StudyStore.frame needs pandas; the dict records "
                "(e.g. store.trials()) work without it"
            ) from e
        return pd.DataFrame(readers[table]())
