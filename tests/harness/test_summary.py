"""The summary's scores, normalisation, verdicts and figures, from hand-made tables whose
numbers are worked out by hand (no study runs here)."""

import numpy as np
import pytest

from mbrlhpo.harness.scores import anytime_curves, task_scores
from mbrlhpo.harness.summary import MIN_RUNS, write_summary

ANALYSIS = {"bootstrap": 200, "level": 0.95, "seed": 0}


def _test_rows(task, method, study_seed, test_seed, returns):
    return [
        {"phase": "test", "task": task, "method": method, "study_seed": study_seed,
         "test_seed": test_seed, "member": None, "trial": t + 1, "return": r}
        for t, r in enumerate(returns)
    ]  # fmt: skip


def _tune_rows(task, method, study_seed, returns):
    return [
        {"phase": "tune", "task": task, "method": method, "study_seed": study_seed,
         "test_seed": None, "member": 0, "trial": t, "return": r}
        for t, r in enumerate(returns)
    ]  # fmt: skip


def _content(methods, study, test, last_k=1):
    return {
        "name": "hand",
        "tasks": ["cartpole"],
        "profile": "quick",
        "last_k": last_k,
        "budget": {"trials": 2, "population": 1},
        "seeds": {"study": study, "test": test},
        "methods": {m: {"method": m} for m in methods},
    }


def test_references_units_and_failures_worked_by_hand():
    # last_k = 2. Random first trial: 0 on test seed 10, 2 on seed 11 -> reference 1.
    rows = []
    rows += _test_rows("cartpole", "random", 0, 10, [0.0, 4.0, 6.0])  # score 5
    rows += _test_rows("cartpole", "random", 0, 11, [2.0, 8.0, 10.0])  # score 9
    rows += _test_rows("cartpole", "random", 1, 10, [0.0, 2.0, 4.0])  # score 3
    rows += _test_rows("cartpole", "random", 1, 11, [2.0, None, 3.0])  # failed
    rows += _test_rows("cartpole", "defaults", None, 10, [0.0, 1.0, 2.0])  # score 1.5
    rows += _test_rows("cartpole", "defaults", None, 11, [2.0, 1.0, 1.0])  # score 1
    (t,) = task_scores(rows, 2, ["random", "defaults"])
    assert t.low == 1.0  # mean over test seeds of the random first trial
    assert t.high == 9.0  # the best run score observed
    r, d = t.methods["random"], t.methods["defaults"]
    assert r.tuned and r.units == (0, 1) and r.test_seeds == 2 and r.failed == 1
    # study seed 0: mean(5, 9) = 7; seed 1: mean(3, floor) with floor = min(1, 1, 1.5, 3, 5, 9)
    np.testing.assert_allclose(r.raw, [7.0, 2.0])
    assert not d.tuned and d.units == (10, 11)
    np.testing.assert_allclose(d.raw, [1.5, 1.0])
    np.testing.assert_allclose(t.normalised("random"), [6 / 8, 1 / 8])
    np.testing.assert_allclose(t.normalised("defaults"), [0.5 / 8, 0.0])


def test_anytime_curves_are_the_best_return_so_far_per_study():
    rows = _tune_rows("cartpole", "random", 0, [None, 1.0, 0.5, 3.0])
    rows += _tune_rows("cartpole", "random", 1, [2.0, 1.0, 4.0, 0.0, 9.0])  # one trial more
    rows += _test_rows("cartpole", "defaults", None, 10, [0.0])
    (c,) = anytime_curves(rows, ["random", "defaults"])["cartpole"]
    assert c.seeds == (0, 1) and c.truncated and c.first == 1  # seed 0's first trial failed
    np.testing.assert_allclose(c.best, [[1.0, 1.0, 3.0], [2.0, 4.0, 4.0]])


def _separated_table(n_seeds):
    """Method a always scores 10, method b always 0, random first trial 0: a beats b."""
    rows = []
    for s in range(n_seeds):
        rows += _test_rows("cartpole", "a", s, 100, [0.0, 10.0])
        rows += _test_rows("cartpole", "b", s, 100, [0.0, float(s) / 100])
        rows += _tune_rows("cartpole", "a", s, [0.0, 5.0, 10.0])
        rows += _tune_rows("cartpole", "b", s, [0.0, 0.0, 0.0])
    return rows


def test_the_summary_draws_a_verdict_only_with_enough_runs(tmp_path):
    pytest.importorskip("matplotlib")
    content = _content(["a", "b"], list(range(MIN_RUNS)), [100])
    paths = write_summary(_separated_table(MIN_RUNS), content, ANALYSIS, tmp_path / "many")
    text = paths["summary"].read_text()
    # a scores 1 (the best observed), b at most 0.004: P(a > b) = 1 on every resample
    assert "| a | b | 1.000 [1.000, 1.000] | 5 study seeds x 1 test seed |" in text
    assert "| a better |" in text
    assert "1.000 [1.000, 1.000]" in text.split("| a | 5 study seeds x 1 test seed | ")[1]
    assert "Random reference (0): 0 (return). Best run score observed (1): 10 (return)." in text
    for name in ("performance_profiles.png", "anytime_cartpole.png"):
        assert f"(figures/{name})" in text
        assert (tmp_path / "many" / "figures" / name).stat().st_size > 0

    few = MIN_RUNS - 1
    content = _content(["a", "b"], list(range(few)), [100])
    text = write_summary(_separated_table(few), content, ANALYSIS, tmp_path / "few")[
        "summary"
    ].read_text()
    assert f"none: fewer than {MIN_RUNS} runs" in text
    assert "a better" not in text
    assert f"Fewer than {MIN_RUNS} runs per task for a ({few}), b ({few})" in text


def test_a_task_no_run_beat_random_on_is_left_out_and_said(tmp_path):
    rows = _test_rows("cartpole", "defaults", None, 100, [5.0, 1.0])
    rows += _test_rows("cartpole", "defaults", None, 101, [5.0, 2.0])
    text = write_summary(rows, _content(["defaults"], [0], [100, 101]), ANALYSIS, tmp_path)[
        "summary"
    ].read_text()
    assert "cartpole: no run beat the random reference" in text
    assert "No task could be normalised" in text
    assert "- defaults: 1.5 (2 test seeds (untuned))" in text


def test_the_summary_is_the_same_for_the_same_table_and_seed(tmp_path):
    pytest.importorskip("matplotlib")
    content = _content(["a", "b"], [0, 1, 2], [100])
    rows = _separated_table(3)
    one = write_summary(rows, content, ANALYSIS, tmp_path / "1")["summary"].read_text()
    two = write_summary(rows, content, ANALYSIS, tmp_path / "2")["summary"].read_text()
    assert one == two
