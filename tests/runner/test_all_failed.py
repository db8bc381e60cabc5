"""A PBT study whose members all fail a round says so, stops, and can be resumed or abandoned
(issue 12 point 8)."""

import pytest

from mbrlhpo.cli_errors import EXIT_ERROR, report
from mbrlhpo.cli_tune import resume_line
from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.pbt_bt import PBTBTSettings
from mbrlhpo.hpo.space import param_table
from mbrlhpo.runner.spec import AgentSettings, StudySpec
from mbrlhpo.runner.study import AllMembersFailed, run_study, study_dir_for
from mbrlhpo.runner.testing import quadratic_factory
from mbrlhpo.store.sqlite_store import StoreError, StudyStore

POP = 4


def _run(db, factory, method="pbt"):
    return run_study(
        StudySpec(
            method=method,
            space=param_table("cartpole", "model"),
            trials=4,
            population=POP,
            seed=0,
            pbt=(PBTBTSettings if method == "pbt-bt" else PBTSettings)(interval=2),
        ),
        factory,
        db,
    )


@pytest.mark.parametrize("method", ["pbt", "pbt-bt"])
def test_a_study_whose_members_all_fail_stops_and_says_so(tmp_path, capsys, method):
    db = tmp_path / "s.db"
    everyone_fails_trial_3 = quadratic_factory(fail={m: (3,) for m in range(POP)})  # seed 0
    with pytest.raises(AllMembersFailed) as info:
        _run(db, everyone_fails_trial_3, method)
    msg = str(info.value)
    assert msg.startswith(f"every member failed in round 3 ({POP} members; first cause: ")
    assert "injected failure at trial 3" in msg and str(db) in msg and "abandon" in msg
    assert str(study_dir_for(db)) in msg
    with StudyStore(db, readonly=True) as st:
        assert st.rounds_done() == [1, 2]  # the failed round is not stored as done
        assert {t["trial"] for t in st.trials()} == {1, 2}
        (event,) = st.events(("all_failed",))
        assert event["round"] == 3 and len(event["detail"]["causes"]) == POP
    assert resume_line(db).startswith("every member failed in round 3 last time")
    # The CLI: one line, exit status non-zero.
    assert report(info.value) == EXIT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mbrlhpo: error: every member failed in round 3")
    # Resumed unchanged, it runs round 3 again from the stored rounds and stops the same way
    # (no duplicate rows, no "cannot be resumed").
    with pytest.raises(AllMembersFailed, match="in round 3"):
        _run(db, everyone_fails_trial_3, method)
    with StudyStore(db, readonly=True) as st:
        assert st.rounds_done() == [1, 2] and len(st.events(("all_failed",))) == 2


def test_one_survivor_keeps_the_study_going(tmp_path):
    s = _run(tmp_path / "s.db", quadratic_factory(fail={m: (3,) for m in range(POP - 1)}))
    assert len(s.failures) == POP - 1
    assert sum(e["kind"] == "replace_failed" for e in s.lineage) == POP - 1
    assert s.best_member is not None


def test_a_failure_in_the_last_round_stops_too(tmp_path):
    with pytest.raises(AllMembersFailed, match="in round 5"):
        _run(tmp_path / "s.db", quadratic_factory(fail={m: (5,) for m in range(POP)}))


def _run_fixed(db, factory, fixed):
    return run_study(
        StudySpec(
            method="pbt",
            space=param_table("cartpole", "model"),
            trials=4,
            population=POP,
            seed=0,
            pbt=PBTSettings(interval=2),
            agent=AgentSettings(**fixed),
        ),
        factory,
        db,
    )


def test_resumed_with_a_corrected_setting_it_ends_as_if_it_never_failed(tmp_path):
    db = tmp_path / "s.db"
    broken = {"profile": "quick", "fixed": {"fail_at": 3}}
    with pytest.raises(AllMembersFailed):
        _run_fixed(db, quadratic_factory(fail={m: (3,) for m in range(POP)}), broken)
    # Any other change is still refused.
    with pytest.raises(StoreError, match="holds a different study"):
        _run_fixed(db, quadratic_factory(), {"profile": "paper", "fixed": {}})
    fixed = {"profile": "quick", "fixed": {}}
    resumed = _run_fixed(db, quadratic_factory(), fixed)
    clean = _run_fixed(tmp_path / "clean.db", quadratic_factory(), fixed)
    assert resumed.failures == [] and len(resumed.trials) == POP * 5

    def key(t):
        return (t["member"], t["trial"], t["ret"])

    assert sorted(map(key, resumed.trials)) == sorted(map(key, clean.trials))

    def decisions(study):
        return [{k: v for k, v in e.items() if k not in ("id", "time")} for e in study.lineage]

    assert decisions(resumed) == decisions(clean) and resumed.best_member == clean.best_member
    with StudyStore(db, readonly=True) as st:
        assert st.study()["settings"]["agent"] == {**fixed, "defaults": "table", "group": "model"}
        (changed,) = st.events(("settings_changed",))
        assert changed["detail"]["old"]["agent"]["fixed"] == broken["fixed"]
    assert resume_line(db).startswith("the study is already finished")


def test_tunes_factory_amends_a_checkpointed_agent(tmp_path):
    from mbrlhpo.agent import PETSAgent, default_hparams
    from mbrlhpo.tuning import make_factory

    shape = {"hidden": 16, "depth": 2}
    old = make_factory("cartpole", "quick", "cpu", "auto", {**shape, "particles": 15})
    agent = old({"lr": 1e-3}, 0)
    agent.save(tmp_path / "a")
    loaded = PETSAgent.load(tmp_path / "a")
    assert loaded.hparams.particles == 15
    make_factory("cartpole", "quick", "cpu", "auto", {**shape, "particles": 25}).amend(loaded)
    assert loaded.hparams.particles == 25 and loaded.planner.config.particles == 25
    assert loaded.hparams.lr == 1e-3  # the searched values stay
    # Without --set, the profile's own value comes back.
    make_factory("cartpole", "quick", "cpu", "auto", shape).amend(loaded)
    profile_particles = default_hparams("cartpole", "quick").particles
    assert profile_particles not in (15, 25) and loaded.hparams.particles == profile_particles
    with pytest.raises(ValueError, match="hidden is fixed for a built model"):
        make_factory("cartpole", "quick", "cpu", "auto", {"hidden": 32, "depth": 2}).amend(loaded)
