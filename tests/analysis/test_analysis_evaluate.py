"""``mbrlhpo evaluate``: the paper's final scenario, end to end on tiny cartpole studies, and
its statistics against hand-computed cases."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from mbrlhpo.analysis import read_study
from mbrlhpo.analysis.evaluate import (
    EVAL_SEED_OFFSET,
    evaluate_study,
    final_score,
    paired_difference,
    running_max,
)
from mbrlhpo.hpo.space import GROUPS
from mbrlhpo.progress import StudyProgress
from mbrlhpo.tuning import tune

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


def test_final_score_and_running_max_by_hand():
    r = np.array([[1.0, 5.0, 2.0], [3.0, 1.0, np.nan]])  # seeds x trials
    assert final_score(r) == pytest.approx(3.0)  # means 2, 3, 2 -> max 3
    np.testing.assert_allclose(running_max([np.nan, 2.0, 1.0, 4.0]), [np.nan, 2, 2, 4])


def test_paired_difference_is_a_student_t_interval_over_seeds():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(6, 7))
    gains = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])  # each seed's own final scenario gains
    best = base + gains[:, None]
    c = paired_difference(best, base)
    d = np.nanmax(best, axis=1) - np.nanmax(base, axis=1)
    np.testing.assert_allclose(c["seed_differences"], d)
    half = 2.5705818356363146 * d.std(ddof=1) / math.sqrt(6)  # t_0.975 with 5 df
    assert c["ci_low"] == pytest.approx(d.mean() - half)
    assert c["ci_high"] == pytest.approx(d.mean() + half)
    assert c["difference"] == pytest.approx(final_score(best) - final_score(base))
    assert c["seeds_better"] == 6 and c["n_seeds"] == 6 and "Student-t" in c["method"]
    ba = paired_difference(base, best)
    assert ba["ci_low"] == pytest.approx(-c["ci_high"])


def test_paired_difference_gives_no_interval_below_five_seeds_or_with_a_failed_seed():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    two = paired_difference(a + 5.0, b)
    assert two["ci_low"] is None and two["ci_high"] is None
    assert "2 seeds: no interval below 5" in two["note"]
    a5, b5 = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    b5[3] = np.nan  # one seed failed every trial of the baseline
    failed = paired_difference(a5, b5)
    assert failed["ci_low"] is None and "1 of 5 seeds failed" in failed["note"]
    with pytest.raises(ValueError, match="seeds x trials"):
        paired_difference(a, b[:, :3])


def test_the_verdict_says_what_the_seeds_allow():
    from mbrlhpo.analysis.verdict import best_vs_defaults, evaluation_verdict

    one = best_vs_defaults(177.4, 177.0, seeds=1, db="runs/s.db")
    assert "one seed each" in one and "no claim" in one
    assert "better than" not in one and "mbrlhpo evaluate --db runs/s.db --seeds 5" in one
    c = paired_difference(np.full((5, 3), 10.0) + np.arange(5)[:, None], np.zeros((5, 3)))
    assert "the best is better than the defaults" in evaluation_verdict(c, 12.0, 0.0)
    c = paired_difference(np.ones((5, 3)) * np.arange(5)[:, None], np.full((5, 3), 2.0))
    assert "cannot tell" in evaluation_verdict(c, 4.0, 2.0)
    legacy = {"ci_low": 110.9, "ci_high": 112.5, "n_seeds": 2, "method": "bootstrap"}
    assert "no claim" in evaluation_verdict(legacy, 112.0, 1.0)


def test_anytime_merit_by_hand():
    from mbrlhpo.analysis.verdict import anytime

    m = anytime({"best": [0.0, 90.0, 100.0], "defaults": [10.0, 20.0, 95.0]})
    assert m["level"] == pytest.approx(90.0)  # 0 + 0.9 * (100 - 0)
    want = {"trials": 3, "mean": pytest.approx(190 / 3), "trials_to_level": 2}
    assert m["curves"]["best"] == want
    assert m["curves"]["defaults"]["trials_to_level"] == 3
    neg = anytime({"best": [-100.0, -50.0, float("nan")], "defaults": [-100.0, -90.0, -80.0]})
    assert neg["level"] == pytest.approx(-55.0) and neg["curves"]["best"]["trials_to_level"] == 2
    assert neg["curves"]["defaults"]["trials_to_level"] is None


def test_evaluate_random_search_end_to_end(tmp_path):
    """A real tiny study, evaluated: the baseline arm equals fresh agents with the study's
    defaults run by hand on the evaluation seeds; the result is stored in the study."""
    from mbrlhpo.agent import PETSAgent, default_hparams

    db = tmp_path / "rs.db"
    study = tune(
        "cartpole", "random", population=2, trials=2, db=db, agent_overrides=TINY, baseline=False
    )
    out = io.StringIO()
    ev, paths = evaluate_study(
        db, seeds=2, plots=False, progress=StudyProgress(None, stream=out, every=0.0)
    )
    # One phase: 2 arms x 2 seeds x 3 trials, the seeds' rounds in lockstep, then training.
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("progress: evaluation, 0/12 trials, 0s elapsed")
    assert any(", round 200/200 steps," in line for line in lines)
    assert any(", training 2 members, " in line for line in lines)
    assert lines[-1].startswith("progress: evaluation, 12/12 trials")
    seeds = [EVAL_SEED_OFFSET, EVAL_SEED_OFFSET + 1]
    assert ev.seeds == seeds and ev.trials == 3 and ev.profile == "quick"
    assert ev.baseline_name == "the quick profile's defaults (Tables 2-4)"
    assert ev.schedules["best"] == [{k: study.best_config[k] for k in GROUPS["joint"]}] * 3
    assert ev.schedules["baseline"][0] == {
        k: v
        for k, v in default_hparams("cartpole", "quick").replace(**TINY).to_dict().items()
        if k in GROUPS["joint"]
    }
    for s in seeds:
        agent = PETSAgent("cartpole", dict(TINY), seed=s, profile="quick")
        by_hand = [agent.run_trial().ret for _ in range(3)]
        assert ev.returns["baseline"][s] == by_hand
    mean = np.mean([ev.returns["best"][s] for s in seeds], axis=0)
    assert ev.curves["best"]["final_scenario"] == pytest.approx(
        np.maximum.accumulate(mean).tolist()
    )
    assert [r["trial"] for r in ev.table()] == [1, 2, 3]
    assert ev.comparison["difference"] == pytest.approx(ev.table()[-1]["difference"])
    assert ev.comparison["ci_low"] is None  # two seeds: no interval, and it says so
    assert "no claim" in paths["md"].read_text()
    rec = read_study(db)
    assert rec["evaluation"]["comparison"]["n_seeds"] == 2
    data = json.loads(paths["json"].read_text())
    assert data["returns"]["best"][str(seeds[0])] == ev.returns["best"][seeds[0]]
    assert "| trial | best | baseline | difference |" in paths["md"].read_text()
    # The CLI: finished arms are read back (nothing reruns), a second event is stored.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mbrlhpo",
            "evaluate",
            "--db",
            str(db),
            "--seeds",
            "2",
            "--no-plots",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "trial" not in proc.stdout.split("# Evaluation")[0].replace("evaluating", "")
    assert "95% CI" not in proc.stdout and "stored in the study" in proc.stdout
    assert "2 seeds give no confidence interval" in proc.stdout
    assert "progress:" not in proc.stderr  # nothing left to run
    assert len([e for e in read_study(db)["events"] if e["kind"] == "evaluation"]) == 2
    # A fresh evaluation (one trial: the random one) shows its progress on stderr.
    proc = subprocess.run(
        [sys.executable, "-m", "mbrlhpo", "evaluate", "--db", str(db), "--seeds", "2"]
        + ["--trials", "1", "--no-plots", "--out", str(tmp_path / "one")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "progress: evaluation, 0/4 trials" in proc.stderr and "progress:" not in proc.stdout


def test_evaluate_pbt_replays_the_best_schedule(tmp_path):
    pytest.importorskip("matplotlib")
    db = tmp_path / "pbt.db"
    study = tune(
        "cartpole",
        "pbt",
        population=3,
        trials=3,
        db=db,
        pbt_interval=2,
        agent_overrides=TINY,
        space_overrides={"epochs": (3, 4)},
        baseline=False,
    )
    ev, paths = evaluate_study(db, seeds=2)
    want = [
        {k: v for k, v in r["config"].items() if k in ev.schedules["best"][0]}
        for r in study.best_schedule
    ]
    assert ev.schedules["best"] == want and len(want) == ev.trials == 4
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert math.isfinite(ev.comparison["difference"])


def test_evaluate_bad_input(tmp_path):
    with pytest.raises(ValueError, match="existing study database"):
        evaluate_study(tmp_path / "missing.db")
    proc = subprocess.run(
        [sys.executable, "-m", "mbrlhpo", "evaluate", "--db", str(tmp_path / "missing.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("mbrlhpo: error:")


def test_evaluation_plan_needs_the_agents_profile():
    """A study without stored agent settings (written by run_study directly, or before tune
    stored them) needs --profile; the plan then covers the random trial + the MPC trials."""
    from mbrlhpo.analysis.evaluate import evaluation_plan

    rec = {
        "db": "x.db",
        "method": "random",
        "settings": {"env": "cartpole", "trials": 2},
        "best_config": {"lr": 1e-3, "weight_decay": 1e-4, "epochs": 3},
        "baseline": None,
    }
    with pytest.raises(ValueError, match="--profile"):
        evaluation_plan(rec)
    plan = evaluation_plan(rec, profile="quick", overrides={"particles": 5})
    assert plan["trials"] == 3 and plan["fixed"] == {"particles": 5}
    assert plan["schedules"]["best"] == [rec["best_config"]] * 3
    assert plan["schedules"]["baseline"][0]["horizon"] == 20  # the quick profile's
    with pytest.raises(ValueError, match="tunables"):
        evaluation_plan(rec, profile="quick", overrides={"lr": 1e-2})
    hb = {
        **rec,
        "method": "hyperband",
        "settings": {"env": "cartpole", "hyperband": {"max_budget": 9.0}},
    }
    assert evaluation_plan(hb, profile="quick")["trials"] == 10
