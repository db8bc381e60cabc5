"""``mbrlhpo bench``'s one-line errors (no traceback) and its registration."""

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _bench(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "mbrlhpo.cli", "bench", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": SRC},
    )


def test_missing_suite_is_one_line(tmp_path):
    r = _bench(str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert r.returncode != 0
    assert "expected an existing suite file" in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_suite_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\ntasks = ['no-such-task']\n")
    r = _bench(str(bad), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_jobs_is_one_line(tmp_path):
    ok = tmp_path / "s.toml"
    ok.write_text("name = 'x'\n")
    r = _bench(str(ok), "--out", str(tmp_path / "o"), "--jobs", "0", cwd=tmp_path)
    assert r.returncode != 0
    assert "expected --jobs >= 1" in r.stderr
    assert "Traceback" not in r.stderr
