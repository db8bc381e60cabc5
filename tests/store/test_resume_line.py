"""Issue 24: ``mbrlhpo tune``'s first line on a database file that is blank, not ours or not
a database at all: what the run will do, or the store's one-line refusal (never a traceback)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys

import pytest

from mbrlhpo.cli_tune import resume_line
from mbrlhpo.store.commit_ledger import Ledger, write_ledger
from mbrlhpo.store.sqlite_store import LostCommits, StoreError


def table_less(path) -> None:
    """What a kill while an older version created the study left: WAL mode, no tables."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def test_a_blank_or_table_less_file_is_a_new_study(tmp_path):
    blank = tmp_path / "blank.db"
    blank.write_bytes(b"")
    table_less(tmp_path / "t.db")
    for db in (blank, tmp_path / "t.db"):
        assert resume_line(db) == "new study (the database file is blank: it holds no tables yet)"


def test_a_table_less_file_whose_ledger_records_commits_names_the_loss(tmp_path):
    db = tmp_path / "s.db"
    table_less(db)
    write_ledger(str(db), Ledger("0" * 32, 5, 12))
    with pytest.raises(LostCommits, match=r"s\.db lost committed transactions.* records 12 trials"):
        resume_line(db)


@pytest.mark.parametrize(
    "content, message",
    [
        ("foreign", r"is not an mbrlhpo study database \(its tables: notes\); refusing"),
        ("text", r"cannot read .*x\.db: file is not a database"),
    ],
)
def test_a_file_that_is_not_a_study_is_one_store_error(tmp_path, content, message):
    db = tmp_path / "x.db"
    if content == "foreign":
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE notes (text)")
        con.commit()
        con.close()
    else:
        db.write_text("a list of things to do\n" * 200)
    with pytest.raises(StoreError, match=message):
        resume_line(db)


def test_tune_on_a_foreign_database_says_one_line_and_leaves_it(tmp_path):
    db = tmp_path / "x.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE notes (text)")
    con.commit()
    con.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    argv = [sys.executable, "-m", "mbrlhpo", "tune", "--env", "cartpole", "--method", "random"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [*argv, "--db", str(db)], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "is not an mbrlhpo study database (its tables: notes)" in proc.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]
