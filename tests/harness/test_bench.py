"""Cells run in parallel processes give the sequential results."""

import json

import pytest

from mbrlhpo.harness.bench import bench
from mbrlhpo.harness.suite import suite_from_dict

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
RAW = {
    "name": "toy",
    "tasks": ["cartpole", "reacher"],
    "budget": {"trials": 2, "population": 2},
    "seeds": {"study": [0, 1], "test": [9000000, 9000001]},
    "agent": TINY,
    "methods": {"random": {"space": {"epochs": [3, 4]}}, "pbt": {"pbt_interval": 1}},
}


def _returns(out):
    rows = json.loads((out / "results.json").read_text())["rows"]
    return sorted(
        (r["phase"], r["task"], r["method"], r["study_seed"] or -1, r["test_seed"] or -1,
         r["member"] or -1, r["trial"], r["return"])
        for r in rows
    )  # fmt: skip


@pytest.mark.slow
def test_parallel_equals_sequential(tmp_path):
    suite = suite_from_dict(RAW)
    bench(suite, tmp_path / "seq", jobs=1, threads=1, progress=False)
    bench(suite, tmp_path / "par", jobs=2, threads=1, progress=False)
    assert _returns(tmp_path / "seq") == _returns(tmp_path / "par")
    assert len(_returns(tmp_path / "seq")) == 8 * (2 * 3 + 2 * 3)
