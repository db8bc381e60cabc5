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
