"""``mbrlhpo.tune`` end to end on real PETS agents (tiny planner settings so it runs in
seconds): results, baseline, resume, lock-step == sequential execution, CLI, bad input."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from mbrlhpo.tuning import tune

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
FEW_EPOCHS = {"epochs": (3, 4)}  # keeps training short
TINY_CLI = [x for k, v in TINY.items() for x in ("--set", f"{k}={v}")]


def test_pbt_study_runs_resumes_and_compares_with_the_defaults(tmp_path):
    db = tmp_path / "pbt.db"
    rounds = []
    study = tune(
        "cartpole",
        "pbt",
        population=3,
        trials=3,
        db=db,
        pbt_interval=2,
        agent_overrides=TINY,
        space_overrides=FEW_EPOCHS,
        on_round=rounds.append,
    )
    assert rounds == [1, 2, 3, 4]  # the random trial + 3 MPC trials
    assert len(study.trials) == 12 and {t["trial"] for t in study.trials} == {1, 2, 3, 4}
    assert len(study.schedule) == 12
    assert any(e["kind"] == "exploit" for e in study.lineage)
    assert study.best_config is not None and set(study.best_config) >= {"lr", "epochs"}
    assert [c["trial"] for c in study.top5_curve] == [1, 2, 3, 4]
    assert study.baseline is not None and len(study.baseline.returns) == 4
    assert study.baseline.config["population"] == 10  # the overrides reach the baseline too
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = tune(
        "cartpole",
        "pbt",
        population=3,
        trials=3,
        db=db,
        pbt_interval=2,
        agent_overrides=TINY,
        space_overrides=FEW_EPOCHS,
        on_round=rounds.append,
    )
    assert rounds == [1, 2, 3, 4]  # nothing ran again
    assert again.trials == study.trials and again.baseline == study.baseline


def test_lockstep_planning_gives_the_same_trials_as_one_member_at_a_time(tmp_path):
    runs = {}
    for lockstep in (True, False):
        study = tune(
            "cartpole",
            "random",
            population=3,
            trials=2,
            db=tmp_path / f"{lockstep}.db",
            agent_overrides=TINY,
            baseline=False,
            lockstep=lockstep,
        )
        runs[lockstep] = [(t["member"], t["trial"], t["ret"]) for t in study.trials]
    assert runs[True] == runs[False]


def test_bad_input_gives_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown method"):
        tune("cartpole", "grid", db=tmp_path / "a.db")
    with pytest.raises(ValueError):
        tune("walker", "pbt", db=tmp_path / "b.db")
    with pytest.raises(ValueError, match="searched in group"):
        tune("cartpole", "pbt", db=tmp_path / "c.db", agent_overrides={"lr": 1e-3})


def test_cli_tune_prints_a_table_and_a_summary(tmp_path):
    db = tmp_path / "cli.db"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mbrlhpo",
            "tune",
            "--env",
            "cartpole",
            "--method",
            "random",
            "--population",
            "2",
            "--trials",
            "2",
            "--db",
            str(db),
            "--no-baseline",
            *TINY_CLI,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "round 3" in proc.stdout and "weight_decay" in proc.stdout
    assert "best: member" in proc.stdout and str(db) in proc.stdout.replace("\n", "")


def test_cli_tune_ranges_and_their_errors(tmp_path):
    from mbrlhpo.cli_tune import parse_ranges

    assert parse_ranges(["lr=1e-4:1e-2", "epochs=3:4"]) == {"lr": (1e-4, 1e-2), "epochs": (3, 4)}
    with pytest.raises(ValueError, match="NAME=LOW:HIGH"):
        parse_ranges(["lr=1e-4"])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mbrlhpo",
            "tune",
            "--env",
            "cartpole",
            "--method",
            "random",
            "--db",
            str(tmp_path / "r.db"),
            "--range",
            "lr=1:0.5",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("mbrlhpo: error:") and "lr" in proc.stderr, proc.stderr
