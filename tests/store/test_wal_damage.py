"""A damaged, cut or deleted WAL, and a kill while a database is created (issue 24, items 1
and 3): committed trials survive, or the loss is named in one line; a creation never leaves a
study that cannot start.

The store checkpoints after every commit, so the WAL holds at most the transaction in flight.
A reader holding an old snapshot keeps the WAL from being emptied: that is the case where
committed transactions live only in the WAL, and the commit ledger must name their loss."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from mbrlhpo.store.commit_ledger import read_ledger
from mbrlhpo.store.sqlite_store import EmptyDatabase, LostCommits, StoreError, StudyStore

TRIALS = 12


def _study(db: Path, trials: int = TRIALS) -> StudyStore:
    st = StudyStore(db)
    st.init_study("pbt", 3, {"trials": trials}, {})
    for m in range(2):
        st.add_member(m, m, {"lr": 0.001})
    return st


def _record(st: StudyStore, n: int) -> None:
    for i in range(n):
        st.record_trial(i % 2, i // 2, {"lr": 0.001}, float(i), 0.5)


def _files(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir())


def test_the_wal_is_empty_after_every_commit_so_deleting_it_loses_nothing(tmp_path):
    db = tmp_path / "x.db"
    st = _study(db)
    _record(st, TRIALS)
    # What a SIGKILL now would leave: the files as they are, the -shm index not trusted.
    assert os.path.getsize(f"{db}-wal") == 0
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy2(db, copy / "x.db")
    shutil.copy2(f"{db}.commits", copy / "x.db.commits")
    st.close()
    with StudyStore(copy / "x.db", readonly=True) as again:  # no -wal at all
        assert len(again.trials()) == TRIALS
    assert read_ledger(str(copy / "x.db")).trials == TRIALS


@pytest.fixture(scope="module")
def wal_held_open(tmp_path_factory):
    """A study whose last 12 trials are only in its WAL (a reader held a snapshot from before
    them), copied as a kill would leave it: database, WAL and ledger."""
    d = tmp_path_factory.mktemp("held")
    db = d / "x.db"
    st = _study(db)
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM trials").fetchone()  # holds the snapshot
    _record(st, TRIALS)
    saved = d / "saved"
    saved.mkdir()
    for name in ("x.db", "x.db-wal", "x.db.commits"):
        shutil.copy2(d / name, saved / name)
    reader.close()
    st.close()
    assert os.path.getsize(saved / "x.db-wal") > 0
    return saved


def _restore(saved: Path, into: Path) -> Path:
    into.mkdir()
    for p in saved.iterdir():
        shutil.copy2(p, into / p.name)
    return into / "x.db"


def test_an_undamaged_wal_of_a_killed_study_keeps_every_trial(tmp_path, wal_held_open):
    db = _restore(wal_held_open, tmp_path / "s")
    with StudyStore(db) as st:
        assert len(st.trials()) == TRIALS


LOST = (
    r"x\.db lost committed transactions: it holds (\d+) trials \((\d+) commits\) but its "
    r"ledger .*x\.db\.commits records 12 trials \((\d+) commits\), so its -wal file was "
    r"damaged, cut or deleted, or the file is an older copy; restore the database from a "
    r"copy, or move x\.db and its -wal, -shm and \.commits files away to start the study again$"
)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_every_flipped_byte_or_cut_in_the_wal_is_named_as_lost_commits(
    tmp_path, wal_held_open, damage
):
    """Seeded random offsets over the whole WAL: each flip or cut drops the transactions
    from the damaged frame on (SQLite's chained frame checksums), and the open says so,
    for readers and writers alike, before anything is written."""
    rng = np.random.default_rng([24, 1, damage == "flip"])
    size = os.path.getsize(wal_held_open / "x.db-wal")
    for case in range(12):
        db = _restore(wal_held_open, tmp_path / f"{damage}{case}")
        wal = Path(f"{db}-wal")
        data = bytearray(wal.read_bytes())
        at = int(rng.integers(0, size))
        if damage == "flip":
            data[at] ^= 1 << int(rng.integers(0, 8))
        else:
            del data[at:]
        wal.write_bytes(bytes(data))
        before = db.read_bytes()
        for readonly in (True, False):
            with pytest.raises(LostCommits) as err:
                StudyStore(db, readonly=readonly)
            found = re.search(LOST, str(err.value))
            assert found, str(err.value)
            held, commits, recorded = map(int, found.groups())
            assert held < TRIALS and commits < recorded, (case, at)
        assert db.read_bytes() == before  # refused untouched


def test_a_deleted_wal_with_committed_trials_in_it_is_named(tmp_path, wal_held_open):
    db = _restore(wal_held_open, tmp_path / "s")
    os.unlink(f"{db}-wal")
    with pytest.raises(LostCommits, match=LOST.replace(r"(\d+) trials", "0 trials", 1)):
        StudyStore(db)


def test_a_database_restored_from_an_older_copy_is_named(tmp_path):
    db = tmp_path / "x.db"
    with _study(db) as st:
        _record(st, 4)
    old = db.read_bytes()
    with StudyStore(db) as st:
        for i in range(4, TRIALS):
            st.record_trial(i % 2, i // 2, {"lr": 0.001}, float(i), 0.5)
    db.write_bytes(old)
    with pytest.raises(LostCommits, match="it holds 4 trials .* records 12 trials"):
        StudyStore(db, readonly=True)


def test_a_deleted_database_starts_a_new_study_despite_its_old_ledger(tmp_path):
    db = tmp_path / "x.db"
    with _study(db) as st:
        _record(st, 4)
    for p in tmp_path.iterdir():
        if p.name != "x.db.commits":
            p.unlink()
    with StudyStore(db) as st:
        assert st.study() is None and st.trials() == []
    assert read_ledger(str(db)).trials == 0


# -- creation ---------------------------------------------------------------------------------
def test_a_blank_database_left_by_a_kill_during_creation_becomes_a_study(tmp_path):
    """The state issue 24 found: WAL mode set, no tables (4096 bytes), with and without a
    WAL, and the temporary file of an interrupted atomic creation."""
    for case, leftovers in enumerate(([], ["-wal"], [".creating", ".creating-wal"])):
        db = tmp_path / f"c{case}" / "x.db"
        db.parent.mkdir()
        con = sqlite3.connect(db)
        assert con.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        con.close()
        assert os.path.getsize(db) == 4096
        for suffix in leftovers:
            Path(f"{db}{suffix}").write_bytes(os.urandom(100))
        with pytest.raises(EmptyDatabase, match=r"x\.db holds no study \(an empty database\)$"):
            StudyStore(db, readonly=True)
        with _study(db) as st:
            _record(st, 2)
        with StudyStore(db, readonly=True) as st:
            assert len(st.trials()) == 2
        assert not [f for f in _files(db) if "creating" in f or f.endswith(".tmp")]


def test_a_foreign_file_is_not_taken_for_a_blank_one(tmp_path):
    db = tmp_path / "x.db"
    db.write_bytes(b"not a database at all, just some bytes" * 200)
    before = db.read_bytes()
    with pytest.raises(StoreError, match="damaged or not a database"):
        StudyStore(db)
    assert db.read_bytes() == before


# -- the ledger's temporary file --------------------------------------------------------------
KILLED_IN_LEDGER_RENAME = """import os, sys, time
from mbrlhpo.store import commit_ledger
from mbrlhpo.store.sqlite_store import StudyStore
rename = os.replace
def replace(src, dst):  # the 4th ledger rewrite stops between its temporary file and rename
    if str(src).endswith(".commits.tmp"):
        replace.calls += 1
        if replace.calls == 4:
            print(src, flush=True)
            time.sleep(600)
    rename(src, dst)
replace.calls = 0
commit_ledger.os.replace = replace
st = StudyStore(sys.argv[1])
st.init_study("pbt", 3, {"trials": 12}, {})
for m in range(2):
    st.add_member(m, m, {"lr": 0.001})
for i in range(12):
    st.record_trial(i % 2, i // 2, {"lr": 0.001}, float(i), 0.5)
"""


def test_a_kill_while_the_ledger_is_rewritten_leaves_no_temporary_file(tmp_path):
    """Issue 24, item 4: SIGKILL between the ledger's temporary file and its rename leaves
    ``<db>.commits.tmp`` beside the database (the ledger itself is the previous one); the
    next writer removes it and the study goes on with every committed row."""
    import signal
    import subprocess
    import sys

    db = tmp_path / "x.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_IN_LEDGER_RENAME, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    blocked = proc.stdout.readline().strip()
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert blocked == f"{db}.commits.tmp" and "x.db.commits.tmp" in _files(db)
    with StudyStore(db, readonly=True) as st:  # a reader neither needs nor touches it
        held = len(st.trials())
    assert "x.db.commits.tmp" in _files(db)
    with StudyStore(db) as st:
        assert "x.db.commits.tmp" not in _files(db)
        assert len(st.trials()) == held
        st.record_trial(0, 99, {"lr": 0.001}, 1.0, 0.5)
    assert read_ledger(str(db)).trials == held + 1
    assert not [f for f in _files(db) if f.endswith(".tmp")]


def test_a_planted_ledger_temporary_file_is_removed_by_the_writer_only(tmp_path):
    db = tmp_path / "x.db"
    with _study(db) as st:
        _record(st, 2)
    Path(f"{db}.commits.tmp").write_text('{"format": "mbrlhpo-commits", "commits": 999')
    with StudyStore(db, readonly=True) as st:
        assert len(st.trials()) == 2
    assert Path(f"{db}.commits.tmp").exists()
    with StudyStore(db) as st:
        assert len(st.trials()) == 2
    assert not Path(f"{db}.commits.tmp").exists()
