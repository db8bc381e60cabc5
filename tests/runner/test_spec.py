"""StudySpec: validated once where it is built, stored once, and a study stored before it
(``data/study_v1``, written by mbrlhpo at 05003d0) still resumes."""

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.space import defaults, param_table
from mbrlhpo.runner.hpbandster_driver import configuration_space
from mbrlhpo.runner.spec import AgentSettings, StudySpec
from mbrlhpo.runner.study import run_study
from mbrlhpo.runner.testing import quadratic_factory
from mbrlhpo.store.sqlite_store import StudyStore
from mbrlhpo.tuning import study_spec, tune

DATA = Path(__file__).parent / "data" / "study_v1"
SPACE = param_table("cartpole", "model")


def v1_spec() -> StudySpec:
    """The study of ``data/study_v1`` (see ``full_trials.json``'s ``made_by``)."""
    return StudySpec(
        method="pbt",
        space=SPACE,
        trials=4,
        population=3,
        seed=2,
        task="cartpole",
        base_config=defaults("cartpole", "planning"),
        pbt=PBTSettings(interval=2),
        agent=AgentSettings("quick", "table", "model", {"hidden": 8}),
    )


def _trials(db) -> list[list]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT member, trial, ret, status FROM trials ORDER BY member, trial")
        return [list(r) for r in rows]


def test_a_study_stored_before_the_spec_resumes_as_stored(tmp_path):
    for name in ("legacy.db", "legacy.db.commits"):
        shutil.copy(DATA / name, tmp_path / name)
    shutil.copytree(DATA / "legacy.study", tmp_path / "legacy.study")
    db = tmp_path / "legacy.db"
    with StudyStore(db, readonly=True) as st:
        before = st.study()["settings"]
    assert "spec_version" not in before and before["fixed"]["agent"] == {"hidden": 8}
    study = run_study(v1_spec(), quadratic_factory(), db)
    assert len(study.trials) == 3 * 5
    # Rounds 4 and 5 ran here; every row equals the old code's uninterrupted study.
    assert _trials(db) == json.loads((DATA / "full_trials.json").read_text())["trials"]
    with StudyStore(db, readonly=True) as st:
        assert st.study()["settings"] == before  # resumed in its own format, never rewritten
        assert not st.events(("settings_changed",))


def test_a_new_study_stores_the_spec_once(tmp_path):
    db = tmp_path / "new.db"
    run_study(v1_spec(), quadratic_factory(), db)
    with StudyStore(db, readonly=True) as st:
        settings = st.study()["settings"]
    assert settings["spec_version"] == 2 and "fixed" not in settings
    assert settings["agent"] == {
        "profile": "quick",
        "defaults": "table",
        "group": "model",
        "fixed": {"hidden": 8},
    }
    # The same study as the one the old code stored.
    assert _trials(db) == json.loads((DATA / "full_trials.json").read_text())["trials"]


def test_the_python_api_names_what_it_expected(tmp_path):
    """Issue 24's cases, each one line, before any file is written."""
    db = tmp_path / "x.db"
    with pytest.raises(ValueError, match=r"^seed: expected an int >= 0, got float 1\.5$"):
        tune("cartpole", "pbt", db=db, seed=1.5)
    with pytest.raises(TypeError, match=r"^agent_overrides: expected a mapping of names to values"):
        tune("cartpole", "pbt", db=db, agent_overrides="particles=5")
    with pytest.raises(ValueError, match=r"^db: expected the path of a study database"):
        tune("cartpole", "pbt", db="", population=2, trials=1, baseline=False)
    assert not db.exists() and list(tmp_path.iterdir()) == []
    spec = study_spec("cartpole", "pbt", population=np.int64(2), trials=np.int64(1))
    assert spec.population == 2 and type(spec.population) is int and type(spec.trials) is int


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"horizon": (0, 10)}, r"^horizon: .* got \[0, 10\] \(expected horizon to be an int >= 1"),
        ({"alpha": (0.5, 1.0)}, r"^alpha: .* \[0\.5, 1\.0\] \(expected alpha in \[0\.0, 1\.0\)"),
    ],
)
def test_a_search_range_is_refused_where_its_ends_are_not_values_the_agent_takes(ranges, message):
    """Checked where the spec is built by the agent's own check (the member's CEMConfig), not
    when a member drawn at the bad end fails its first trial."""
    with pytest.raises(ValueError, match=message) as e:
        study_spec("cartpole", "random", group="planning", space_overrides=ranges)
    assert "\n" not in str(e.value)
    spec = study_spec("cartpole", "random", group="planning", space_overrides={"horizon": (1, 10)})
    assert (spec.specs["horizon"].low, spec.specs["horizon"].high) == (1, 10)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"space": configuration_space(SPACE, 0)}, TypeError, "space: expected one or more"),
        ({"space": ()}, TypeError, "space: expected one or more ParamSpecs"),
        ({"trials": 0}, ValueError, r"trials: expected an integer from 1 to \d+, got int 0"),
        ({"population": True}, ValueError, r"population \(members\): expected an integer"),
        ({"executor": "dask"}, ValueError, "unknown executor 'dask'"),
        ({"method": "hyperband"}, ValueError, "needs hyperband=HyperbandSettings"),
        ({"workers": 2}, ValueError, "only hyperband and bohb run jobs in parallel"),
        ({"base_config": "horizon=20"}, TypeError, "base_config: expected a mapping"),
        ({"keep_checkpoints_every": 0}, ValueError, "keep_checkpoints_every: expected an int"),
    ],
)
def test_a_bad_spec_is_refused_in_one_line(change, error, message):
    fields = {"method": "pbt", "space": SPACE, "trials": 2, **change}
    with pytest.raises(error, match=message) as e:
        StudySpec(**fields)
    assert "\n" not in str(e.value)


def test_the_space_is_kept_in_configspace_order():
    """By name, as ConfigSpace ordered it: the stored studies' draws follow that order."""
    spec = StudySpec(method="random", space=param_table("cartpole", "joint"), trials=1)
    assert list(spec.specs) == sorted(spec.specs)
    assert list(spec.specs) == list(configuration_space(spec.specs, 0).keys())
    assert list(param_table("cartpole", "joint")) == list(spec.specs)  # drawn in that order
