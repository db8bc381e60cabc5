"""Loading the paper's learned schedules and replaying them with tiny PETS agents."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from mbrlhpo.analysis import (
    final_scenario,
    load_schedule,
    replay_schedule,
    schedule_env,
    task_for_env,
    validate_schedule,
)

DATA = Path(__file__).parent / "data"
REACHER = DATA / "reacher_pbt_model_train_top_avg.json"  # the paper's, Apache-2.0
TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


def test_load_the_papers_reacher_schedule():
    sched = load_schedule(REACHER)
    raw = json.loads(REACHER.read_text())
    assert len(sched) == len(raw) == 82
    assert all(set(e) == {"lr", "weight_decay", "epochs"} for e in sched)
    for ours, theirs in zip(sched, raw, strict=True):
        assert ours == {
            "lr": theirs["model_learning_rate"],
            "weight_decay": theirs["model_weight_decay"],
            "epochs": theirs["model_train_epoch"],
        }
        assert type(ours["epochs"]) is int and type(ours["lr"]) is float
    assert sched[0]["epochs"] == 12 and sched[0]["lr"] == pytest.approx(0.0042833726909252915)
    assert len({json.dumps(e, sort_keys=True) for e in sched}) > 1  # a schedule, not a constant


def test_every_paper_key_maps_to_ours():
    entry = {
        "cem_alpha": 0.1,
        "cem_elites_ratio": 0.1,
        "cem_popsize": 500.0,
        "model_learning_rate": 0.001,
        "model_train_epoch": 5,
        "model_weight_decay": 5e-4,
        "num_cem_iters": 5,
        "plan_hor": 25,
    }
    (ours,) = validate_schedule([entry])
    assert ours == {
        "alpha": 0.1,
        "elite_ratio": 0.1,
        "population": 500,
        "lr": 0.001,
        "epochs": 5,
        "weight_decay": 5e-4,
        "iterations": 5,
        "horizon": 25,
    }
    assert type(ours["population"]) is int
    assert validate_schedule([{"lr": 1e-3, "horizon": 10}]) == [{"lr": 1e-3, "horizon": 10}]


@pytest.mark.parametrize(
    "entries, match",
    [
        ([], "empty schedule"),
        ({"lr": 1e-3}, "JSON list"),
        ([{"model_learning_rate": 1e-3, "momentum": 0.9}], "unknown key 'momentum'"),
        ([{"lr": 1e-3}, {"lr": 1e-3, "epochs": 5}], "entry 1: sets"),
        ([{"cem_alpha": 1.5}], "entry 0: expected alpha in"),
        ([{"lr": 1e-3}, {"lr": -1.0}], "entry 1: expected lr > 0"),
        ([{"model_train_epoch": 2.5}], "integer for epochs"),
        ([{"plan_hor": 0}], "horizon"),
        ([{"lr": "fast"}], "number for lr"),
        ([{"lr": 1e-3, "model_learning_rate": 1e-3}], "given twice"),
        ([3], "expected a dict"),
        ([{}], "at least one hyperparameter"),
    ],
)
def test_bad_schedules_are_rejected_clearly(entries, match):
    with pytest.raises(ValueError, match=match):
        validate_schedule(entries)


def test_bad_files(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_schedule(tmp_path / "nope.json")
    (tmp_path / "broken.json").write_text("[{")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_schedule(tmp_path / "broken.json")
    (tmp_path / "empty.json").write_text("[]")
    with pytest.raises(ValueError, match="empty.json: expected at least one"):
        load_schedule(tmp_path / "empty.json")


def test_environment_names():
    assert task_for_env("daisy") == "hexapod"
    assert task_for_env("halfcheetah") == "halfcheetah"
    assert task_for_env("cartpole") == "cartpole"
    with pytest.raises(ValueError, match="quadruped.*no task"):
        task_for_env("quadruped")
    with pytest.raises(ValueError, match="unknown environment 'walker'"):
        task_for_env("walker")
    assert schedule_env("daisy_hb_planning.json") == "hexapod"
    assert schedule_env(REACHER) == "reacher"
    assert schedule_env("my_schedule.json") is None
    with pytest.raises(ValueError, match="quadruped"):
        schedule_env("quadruped_pbt_planning_top_avg.json")


def test_final_scenario_is_the_running_maximum():
    assert final_scenario([1.0, 3.0, 2.0, 5.0]) == [1.0, 3.0, 3.0, 5.0]
    out = final_scenario([math.nan, 2.0, math.nan, 1.0])
    assert math.isnan(out[0]) and out[1:] == [2.0, 2.0, 2.0]


def test_replay_bad_input_fails_before_running(tmp_path):
    with pytest.raises(ValueError, match="schedule for reacher"):
        replay_schedule("halfcheetah", REACHER, seeds=[0], profile="quick", overrides=TINY)
    quad = tmp_path / "quadruped_pbt_model_train_incumbent.json"
    shutil.copy(REACHER, quad)
    with pytest.raises(ValueError, match="quadruped"):
        replay_schedule("quadruped", quad, seeds=[0])
    with pytest.raises(ValueError, match="has 82 entries"):
        replay_schedule("reacher", REACHER, trials=83, profile="quick", overrides=TINY)
    with pytest.raises(ValueError, match="set by the schedule"):
        replay_schedule("reacher", REACHER, profile="quick", overrides={**TINY, "lr": 1e-3})
    with pytest.raises(ValueError, match="multiple of ensemble_size"):
        replay_schedule("reacher", REACHER, profile="quick", overrides={**TINY, "particles": 7})
    with pytest.raises(ValueError, match="entry 0.*elite_ratio"):
        replay_schedule("cartpole", [{"elite_ratio": 0.0}], profile="quick")
    with pytest.raises(ValueError, match="distinct seeds"):
        replay_schedule("reacher", REACHER, seeds=[1, 1], profile="quick", overrides=TINY)
    with pytest.raises(ValueError, match="empty schedule"):
        replay_schedule("cartpole", [], profile="quick")


def test_replay_sets_each_trials_hyperparameters(tmp_path):
    """Two seeds in lock-step equal agents run by hand with set_hparams before each trial."""
    from mbrlhpo.agent import PETSAgent

    sched = load_schedule(REACHER)[:2]
    sched[1] = {**sched[1], "epochs": 3, "lr": 3e-3}  # a change the agents must follow
    seen = []
    res = replay_schedule(
        "reacher",
        sched,
        seeds=[0, 1],
        profile="quick",
        overrides=TINY,
        on_trial=lambda t, r: seen.append((t, dict(r))),
    )
    assert res.env == "reacher" and res.trials == 2 and res.seeds == [0, 1]
    assert [t for t, _ in seen] == [0, 1]
    assert res.hparams["particles"] == 5 and "lr" not in res.hparams
    for s in (0, 1):
        agent = PETSAgent("reacher", {**TINY, **sched[0]}, seed=s, profile="quick")
        by_hand = []
        for t in range(2):
            agent.set_hparams(sched[t])
            result = agent.run_trial()
            assert result.hparams["lr"] == sched[t]["lr"]
            by_hand.append(result.ret)
        agent.close()
        assert res.returns[s] == by_hand
        assert seen[1][1][s] == by_hand[1]
    mean = np.mean([res.returns[0], res.returns[1]], axis=0)
    assert res.mean == pytest.approx(mean.tolist())
    assert res.final_scenario == pytest.approx(np.maximum.accumulate(mean).tolist())
    assert res.score == pytest.approx(mean.max())
    assert json.loads(json.dumps(res.to_dict()))["returns"]["1"] == res.returns[1]


def test_replay_accepts_mbrlhpos_own_pbt_schedule(tmp_path):
    """The best schedule of an mbrlhpo PBT study replays from its database, from its report's
    summary.json (a dict: rejected before with "expected a JSON list ... got dict") and from
    the best_schedule list; the CLI finds the environment in the file."""
    import subprocess
    import sys

    from mbrlhpo.analysis import report
    from mbrlhpo.tuning import tune

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
    want = [r["config"] for r in study.best_schedule]
    assert len(want) == 4
    paths = report(db, tmp_path / "rep", plots=False)
    summary = paths["summary_json"]
    assert isinstance(json.loads(summary.read_text()), dict)
    (tmp_path / "best.json").write_text(json.dumps(study.best_schedule))
    for source in (db, summary, tmp_path / "best.json"):
        got = load_schedule(source)
        assert got == want, source
    assert schedule_env(db) == schedule_env(summary) == "cartpole"
    fixed = {k: v for k, v in TINY.items() if k not in want[0]}
    cli = [
        sys.executable,
        "-m",
        "mbrlhpo",
        "replay",
        "--schedule",
        str(summary),
        "--trials",
        "2",
        "--profile",
        "quick",
        *[x for k, v in fixed.items() for x in ("--set", f"{k}={v}")],
    ]
    proc = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "on cartpole" in proc.stdout and "final scenario" in proc.stdout
    with pytest.raises(ValueError, match="best_schedule"):
        (tmp_path / "other.json").write_text(json.dumps({"a": 1}))
        load_schedule(tmp_path / "other.json")
