"""``mbrlhpo.tune`` end to end on real PETS agents (tiny planner settings so it runs in
seconds): results, baseline, resume, lock-step == sequential execution, CLI, bad input."""

from __future__ import annotations

import os
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
    assert study.baseline.describe() == "the quick profile's defaults (Tables 2-4)"
    from pathlib import Path

    from mbrlhpo.cli_tune import summary

    text = summary(study, Path(db))
    assert "quick profile's defaults" in text and "expert" not in text
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
    for executor in ("lockstep", "sequential"):
        study = tune(
            "cartpole",
            "random",
            population=3,
            trials=2,
            db=tmp_path / f"{executor}.db",
            agent_overrides=TINY,
            baseline=False,
            executor=executor,
        )
        runs[executor] = [(t["member"], t["trial"], t["ret"]) for t in study.trials]
    assert runs["lockstep"] == runs["sequential"]


def test_the_removed_lockstep_keyword_points_to_executor(tmp_path):
    """One choice, one parameter: ``lockstep=`` is refused before anything is made."""
    removed = r'^tune\(lockstep=\.\.\.\) was removed: .*executor="sequential"$'
    with pytest.raises(TypeError, match=removed):
        tune("cartpole", "pbt", db=tmp_path / "a.db", lockstep=False)
    unknown = r"^tune\(\) got an unexpected keyword argument 'popultion'$"
    with pytest.raises(TypeError, match=unknown):
        tune("cartpole", "pbt", db=tmp_path / "a.db", popultion=3)
    assert list(tmp_path.iterdir()) == []


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
            *TINY_CLI,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())  # rich wraps long lines
    # --trials 2: the random trial, then 2 MPC trials: 3 rounds, counted as such (issue 28)
    assert "round 1/3 (random actions)" in out and "round 3/3" in out and "round 4" not in out
    assert "weight_decay" in out
    # Settings are printed by the names --set, --range and the Python API take (issue 28).
    assert "population=10" in out and "cem_population" not in out
    assert "best: member" in out and str(db) in proc.stdout.replace("\n", "")
    # one study is one seed: the summary makes no claim and says how to measure one
    assert "one seed each" in out and "so no claim is made" in out, out
    assert "mbrlhpo evaluate --db" in out and "best is" not in out
    assert "anytime (the whole learning curve" in out


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


def test_paper_code_defaults_are_a_named_baseline_choice():
    """HalfCheetah: Table 4's weight decay 7.5e-5 vs the paper's replayed default schedule
    7.5e-4; Pusher: horizon 30 / 4e-4 (Table 2) vs 25 / 5e-4 (its code)."""
    import json
    from pathlib import Path

    from mbrlhpo.agent import default_hparams
    from mbrlhpo.tuning import study_spec

    assert default_hparams("halfcheetah", "paper").weight_decay == 7.5e-5
    assert default_hparams("halfcheetah", "paper", "code").weight_decay == 7.5e-4
    code = default_hparams("pusher", "paper", "code")
    assert (code.horizon, code.weight_decay) == (25, 5e-4)
    spec = study_spec("halfcheetah", "random", group="planning", profile="paper", defaults="code")
    assert spec.base_config["weight_decay"] == 7.5e-4  # the unsearched group at the code's
    assert default_hparams("hopper", "paper", "code") == default_hparams("hopper", "paper")
    with pytest.raises(ValueError, match="unknown defaults"):
        default_hparams("hopper", "paper", "paper-code")
    # $PAPER_SCHEDULES, else beside the repository (scripts/fidelity_page.py's default)
    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "paper-learned-schedules"
    folder = Path(os.environ.get("PAPER_SCHEDULES", str(beside)))
    if not all((folder / f"{env}_default.json").is_file() for env in ("halfcheetah", "pusher")):
        pytest.skip(f"the paper's learned schedules are not in {folder} (set PAPER_SCHEDULES)")
    names = {
        "model_learning_rate": "lr",
        "model_weight_decay": "weight_decay",
        "model_train_epoch": "epochs",
        "num_cem_iters": "iterations",
        "cem_popsize": "population",
        "cem_alpha": "alpha",
        "cem_elites_ratio": "elite_ratio",
        "plan_hor": "horizon",
    }
    for env in ("halfcheetah", "pusher"):
        sched = json.loads((folder / f"{env}_default.json").read_text())
        want = default_hparams(env, "paper", "code").to_dict()
        for entry in sched:
            assert {names[k]: v for k, v in entry.items()} == {n: want[n] for n in names.values()}


def test_joint_group_doubles_the_population_and_hyperband_iterations(tmp_path, monkeypatch):
    """The paper's A.4: random search and PBT use 80 configurations / members for the joint
    group (40 otherwise); Hyperband 30 iterations (15)."""
    import mbrlhpo.tuning as tuning

    assert [tuning.default_population(g) for g in ("model", "planning", "joint")] == [40, 40, 80]
    seen = {}

    def fake_run_study(spec, factory, db, **kw):
        seen[spec.method] = spec
        raise StopIteration

    monkeypatch.setattr(tuning, "run_study", fake_run_study)
    for method in ("random", "pbt", "hyperband"):
        with pytest.raises(StopIteration):
            tune("cartpole", method, group="joint", db=tmp_path / f"{method}.db")
    assert seen["random"].population == seen["pbt"].population == 80
    assert seen["hyperband"].hyperband.n_iterations == 30


def _hb_rows(db) -> tuple[list, list]:
    with sqlite3.connect(db) as con:
        trials = con.execute(
            "SELECT member, trial, ret, status FROM trials ORDER BY member, trial"
        ).fetchall()
        jobs = con.execute(
            "SELECT config_id, member, config, trials, loss, status FROM hb_jobs ORDER BY member"
        ).fetchall()
    return trials, jobs


@pytest.mark.slow
def test_hyperband_with_two_workers_stores_what_one_worker_stores(tmp_path):
    """Real PETS agents, two jobs at once in threads of this process: the same trials, returns
    and jobs as one worker (2 iterations of the 1/3 ladder: 6 jobs, 18 trials)."""
    runs = {}
    for workers in (1, 2):
        study = tune(
            "cartpole",
            "hyperband",
            budgets=(1, 3),
            hb_iterations=2,
            db=tmp_path / f"hb{workers}.db",
            agent_overrides=TINY,
            space_overrides=FEW_EPOCHS,
            baseline=False,
            workers=workers,
        )
        runs[workers] = (_hb_rows(tmp_path / f"hb{workers}.db"), study.best_config)
    (trials, jobs), best = runs[1]
    assert len(trials) == 18 and len(jobs) == 6
    assert runs[2] == runs[1]
    with pytest.raises(ValueError, match="only hyperband and bohb"):
        tune("cartpole", "pbt", db=tmp_path / "x.db", workers=2)
