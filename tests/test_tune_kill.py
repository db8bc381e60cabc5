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
from mbrlhpo.tune import tune
TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
tune("cartpole", "pbt", population=3, trials=4, db=sys.argv[1], pbt_interval=2,
     agent_overrides=TINY, space_overrides={"epochs": (3, 4)}, baseline=False)
"""


def run_study(db, kill_after=None):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    if kill_after is None:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()
        return True
    time.sleep(kill_after)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return False
    assert proc.returncode == 0, proc.stderr.read().decode()
    return True


def trials(db):
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return con.execute(
            "SELECT member, trial, ret, status FROM trials ORDER BY member, trial").fetchall()


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_results(tmp_path):
    reference = tmp_path / "reference.db"
    run_study(reference)
    expected = trials(reference)
    assert len(expected) == 12

    db = tmp_path / "killed.db"
    rng = np.random.default_rng(0)
    kills = 0
    for _ in range(3):  # up to three kills at random moments, then run to the end
        if run_study(db, kill_after=float(rng.uniform(3.0, 9.0))):
            break
        kills += 1
    else:
        run_study(db)
    assert kills >= 1, "the study finished before it could be killed"
    got = trials(db)
    assert got == expected  # every trial once, same returns, same schedule outcome
