"""A PBT study of real PETS agents killed with SIGKILL at random moments resumes from its
database, checkpoints and episode store to exactly the results of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

SCRIPT = """
import sys
from mbrlhpo.tuning import tune
TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
tune("cartpole", "pbt", population=3, trials=4, db=sys.argv[1], pbt_interval=2,
     agent_overrides=TINY, space_overrides={"epochs": (3, 4)}, baseline=False)
"""


def stored_trials(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def run_study(db, kill_at=None, delay=0.0):
    """Runs the study; with ``kill_at``, SIGKILLs it ``delay`` seconds after the store holds
    ``kill_at`` trials (a moment inside the study, whatever the machine's speed)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if kill_at is not None:
        while proc.poll() is None and stored_trials(db) < kill_at:
            time.sleep(0.02)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return False
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    return True


def trials(db):
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return con.execute(
            "SELECT member, trial, ret, status FROM trials ORDER BY member, trial"
        ).fetchall()


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_results(tmp_path):
    reference = tmp_path / "reference.db"
    run_study(reference)
    expected = trials(reference)
    assert len(expected) == 15  # 3 members x (1 random + 4 MPC trials)

    db = tmp_path / "killed.db"
    rng = np.random.default_rng(0)
    kills = 0
    # three kills at random moments (after a random number of stored trials, plus a random
    # delay that lands inside a trial, a checkpoint or a store write), then run to the end
    for target in sorted(rng.choice(np.arange(1, 14), size=3, replace=False)):
        if not run_study(db, kill_at=int(target), delay=float(rng.uniform(0.0, 0.5))):
            kills += 1
    run_study(db)
    assert kills >= 2, "the study finished before it could be killed"
    got = trials(db)
    assert got == expected  # every trial once, same returns, same schedule outcome
