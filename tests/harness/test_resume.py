"""A real ``mbrlhpo bench`` process killed (SIGKILL) mid-run and rerun ends with an
uninterrupted run's table and summary, says that it resumed and from where, and refuses a
changed suite. The suite: 2 tasks x (random, hyperband) x 2 study seeds, 2 test seeds, a tiny
agent; so it also runs Hyperband cells end to end."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
SUITE = """
name = "toy"
tasks = ["cartpole", "reacher"]
[budget]
trials = 2
population = 2
[seeds]
study = [0, 1]
test = [9000000, 9000001]
[agent]
iterations = 1
population = 10
horizon = 3
particles = 5
hidden = 16
depth = 2
[methods.random]
space = { epochs = [3, 4] }
[methods.hyperband]
budgets = [1, 2]
hb_iterations = 1
"""
CELLS = 8
TIMES = ("wall_time_s", "cpu_time_s")


def _bench(suite, out, **kw):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    env["OMP_NUM_THREADS"] = "1"  # two benches at once on 2 cores: no thread oversubscription
    cmd = [sys.executable, "-m", "mbrlhpo", "bench", str(suite), "--out", str(out)]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kw
    )


def _table(out):
    rows = json.loads((out / "results.json").read_text())["rows"]
    return [{k: v for k, v in r.items() if k not in TIMES} for r in rows]


def _kill_mid_cell(proc, out, timeout=300):
    """SIGKILL once a cell has finished and the next one's study has started (its database
    exists, its cell.json not): the kill lands inside a cell."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        cells = out / "cells"
        done = list(cells.rglob("cell.json")) if cells.is_dir() else []
        started = [d.parent for d in cells.rglob("study.db")] if done else []
        if any(not (d / "cell.json").exists() for d in started):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return len(list(cells.rglob("cell.json")))
        time.sleep(0.01)
    raise AssertionError(f"the bench ended before it could be killed: {proc.communicate()}")


@pytest.mark.slow
def test_killed_and_resumed_equals_uninterrupted_and_a_changed_suite_is_refused(tmp_path):
    suite = tmp_path / "toy.toml"
    suite.write_text(SUITE)
    whole = _bench(suite, tmp_path / "whole")
    killed = _bench(suite, tmp_path / "killed")
    done = _kill_mid_cell(killed, tmp_path / "killed")
    assert 1 <= done < CELLS
    assert not (tmp_path / "killed" / "results.json").exists()

    resumed = _bench(suite, tmp_path / "killed")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    where = tmp_path / "killed"
    assert f"resuming {where}: {done}/{CELLS} cells done, {CELLS - done} to run" in err
    counts = re.findall(r"bench: (\d+)/\d+ cells done \(", err)  # each run cell once, no more
    assert [int(n) for n in counts] == list(range(done + 1, CELLS + 1)), err
    _, err_whole = whole.communicate(timeout=600)
    assert whole.returncode == 0, err_whole
    assert "resuming" not in err_whole

    assert _table(tmp_path / "killed") == _table(tmp_path / "whole")
    methods = {r["method"] for r in _table(tmp_path / "whole") if r["phase"] == "tune"}
    assert methods == {"random", "hyperband"}
    summary = (tmp_path / "killed" / "summary.md").read_text()
    assert summary == (tmp_path / "whole" / "summary.md").read_text()
    assert "| random | hyperband |" in summary

    suite.write_text(SUITE.replace("trials = 2", "trials = 3"))
    changed = _bench(suite, tmp_path / "whole")
    _, err = changed.communicate(timeout=120)
    assert changed.returncode != 0
    assert "budget.trials: 2 -> 3" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
