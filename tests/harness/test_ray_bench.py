"""``mbrlhpo bench --executor ray``: cells as Ray tasks on a local Ray (127.0.0.1 only) give
the table of cells run in this process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

from mbrlhpo.harness.bench import bench  # noqa: E402
from mbrlhpo.harness.suite import load_suite  # noqa: E402

SRC = str(Path(__file__).resolve().parents[2] / "src")
SUITE = """
name = "ray-toy"
tasks = ["cartpole"]
[budget]
trials = 2
population = 2
[seeds]
study = [0]
test = [9000000]
[agent]
iterations = 1
population = 10
horizon = 3
particles = 5
hidden = 16
depth = 2
[methods.random]
space = { epochs = [3, 4] }
[methods.defaults]
"""


def _table(out):
    rows = json.loads((out / "results.json").read_text())["rows"]
    return [{k: v for k, v in r.items() if k not in ("wall_time_s", "cpu_time_s")} for r in rows]


@pytest.mark.slow
def test_ray_cells_equal_local_cells(tmp_path):
    suite = tmp_path / "toy.toml"
    suite.write_text(SUITE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "mbrlhpo", "bench", str(suite), "--out", str(tmp_path / "ray"),
         "--executor", "ray", "--no-progress"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    bench(load_suite(suite), tmp_path / "local", progress=False)
    assert _table(tmp_path / "ray") == _table(tmp_path / "local")
    assert {r["method"] for r in _table(tmp_path / "ray")} == {"random", "defaults"}
    assert (tmp_path / "ray" / "summary.md").is_file()
