"""The shipped smoke suite loads and validates (its run is measured in docs/bench.md)."""

from pathlib import Path

from mbrlhpo.harness.suite import load_suite

SMOKE = Path(__file__).resolve().parents[2] / "bench" / "suites" / "smoke.toml"


def test_smoke_suite_loads():
    s = load_suite(SMOKE)
    assert s.name == "smoke"
    assert s.tasks == ("cartpole", "reacher")
    assert [m.label for m in s.methods] == ["random", "pbt", "defaults"]
    assert not set(s.study_seeds) & set(s.test_seeds)


def test_the_readme_command_runs_the_smoke_suite_and_writes_its_table(tmp_path):
    """README: ``mbrlhpo bench bench/suites/smoke.toml --out runs/smoke`` (about 12 s on 2
    cores), run as a user runs it: a real process, every cell a real study."""
    import csv
    import os
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "smoke"
    proc = subprocess.run(
        [sys.executable, "-m", "mbrlhpo", "bench", str(SMOKE), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "10/10 cells done" in proc.stdout + proc.stderr
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "suite", "phase", "task", "method", "study_seed", "test_seed", "member", "trial",
        "return", "wall_time_s", "cpu_time_s", "hardware",
    ]  # fmt: skip
    tested = {(r["task"], r["method"]) for r in rows if r["phase"] == "test"}
    assert tested == {
        (t, m) for t in ("cartpole", "reacher") for m in ("random", "pbt", "defaults")
    }
    assert {r["test_seed"] for r in rows if r["phase"] == "test"} == {"9000000", "9000001"}
    summary = (out / "summary.md").read_text()
    assert "## Across tasks" in summary and "## cartpole" in summary and "## reacher" in summary
    assert "| random | pbt |" in summary and "none: fewer than 5 runs" in summary
