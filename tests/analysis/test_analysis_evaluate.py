"""``mbrlhpo evaluate``: the paper's final scenario, end to end on tiny cartpole studies, and
its statistics against hand-computed cases."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from mbrlhpo.analysis import read_study
from mbrlhpo.analysis.evaluate import (
    EVAL_SEED_OFFSET,
    bootstrap_difference,
    evaluate_study,
    final_score,
    running_max,
)
from mbrlhpo.hpo.space import GROUPS
from mbrlhpo.tuning import tune

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


def test_final_score_and_running_max_by_hand():
    r = np.array([[1.0, 5.0, 2.0], [3.0, 1.0, np.nan]])  # seeds x trials
    assert final_score(r) == pytest.approx(3.0)  # means 2, 3, 2 -> max 3
    np.testing.assert_allclose(running_max([np.nan, 2.0, 1.0, 4.0]), [np.nan, 2, 2, 4])


def test_bootstrap_difference_cases():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 7))
    shifted = bootstrap_difference(base + 10.0, base, np.random.default_rng(1), 2000)
    assert shifted["difference"] == pytest.approx(10.0)
    assert shifted["ci_low"] == pytest.approx(10.0) and shifted["ci_high"] == pytest.approx(10.0)
    assert shifted["p_better"] == 1.0 and shifted["n_seeds"] == 5
    a, b = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    ab = bootstrap_difference(a, b, np.random.default_rng(2), 4000)
    ba = bootstrap_difference(b, a, np.random.default_rng(2), 4000)  # same resamples
    assert ab["difference"] == pytest.approx(-ba["difference"])
    assert ab["ci_low"] == pytest.approx(-ba["ci_high"])
    assert ab["ci_low"] <= ab["difference"] <= ab["ci_high"] or abs(ab["difference"]) < 2
    # One seed: every resample is that seed, the interval collapses on the observation.
    one = bootstrap_difference(a[:1], b[:1], np.random.default_rng(3), 100)
    assert one["ci_low"] == one["ci_high"] == pytest.approx(one["difference"])
    with pytest.raises(ValueError, match="seeds x trials"):
        bootstrap_difference(a, b[:, :3], rng)


def test_evaluate_random_search_end_to_end(tmp_path):
    """A real tiny study, evaluated: the baseline arm equals fresh agents with the study's
    defaults run by hand on the evaluation seeds; the result is stored in the study."""
    from mbrlhpo.agent import PETSAgent, default_hparams

    db = tmp_path / "rs.db"
    study = tune(
        "cartpole", "random", population=2, trials=2, db=db, agent_overrides=TINY, baseline=False
    )
    ev, paths = evaluate_study(db, seeds=2, plots=False, n_boot=500)
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
    assert ev.comparison["ci_low"] <= ev.comparison["ci_high"]
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
    assert "95% CI" in proc.stdout and "stored in the study" in proc.stdout
    assert len([e for e in read_study(db)["events"] if e["kind"] == "evaluation"]) == 2


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
    ev, paths = evaluate_study(db, seeds=2, n_boot=200)
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
