"""The analyses over hand-written store records: every number checked by hand."""

from __future__ import annotations

import json
import math

import pytest

from mbrlhpo.analysis import (
    best_curve,
    compare_studies,
    fidelity_correlations,
    final_scores,
    learning_curves,
    lineage_counts,
    read_study,
    score_histogram,
    summarize,
    top_curve,
    top_schedule,
)
from mbrlhpo.runner.study import study_dir_for
from mbrlhpo.store.sqlite_store import StudyStore

SPACE = {"lr": {"low": 1e-4, "high": 1e-2}, "epochs": {"low": 3, "high": 20}}


def _cfg(lr, epochs):
    return {"lr": lr, "epochs": epochs, "alpha": 0.1}


@pytest.fixture
def pbt_db(tmp_path):
    """Three members, two trials. Member 2 fails at trial 2; member 0 exploits member 1
    after round 1 (its trial 2 continues member 1's trial 1)."""
    db = tmp_path / "pbt.db"
    with StudyStore(db) as st:
        st.init_study("pbt", 7, {"trials": 2, "population": 3, "last_k": 3}, SPACE)
        for m, lr in enumerate((0.1, 0.2, 0.4)):
            st.add_member(m, m, _cfg(lr, 5))
        st.record_trial(0, 1, _cfg(0.1, 5), 1.0, 0.1)
        st.record_trial(1, 1, _cfg(0.2, 4), 3.0, 0.1)
        st.record_trial(2, 1, _cfg(0.4, 6), 2.0, 0.1)
        st.record_round(
            1,
            {0: 1.0, 1: 3.0, 2: 2.0},
            [
                {
                    "kind": "exploit",
                    "src": 1,
                    "src_round": 1,
                    "dst": 0,
                    "old_config": _cfg(0.1, 5),
                    "new_config": _cfg(0.2, 4),
                },
                {
                    "kind": "explore",
                    "dst": 0,
                    "old_config": _cfg(0.2, 4),
                    "new_config": _cfg(0.3, 5),
                },
            ],
        )
        st.record_trial(0, 2, _cfg(0.3, 5), 10.0, 0.1)
        st.record_trial(1, 2, _cfg(0.2, 4), 4.0, 0.1)
        st.record_trial(2, 2, _cfg(0.4, 6), None, 0.1, "diverged", "diverged")
    sdir = study_dir_for(db)
    sdir.mkdir()
    (sdir / "baseline.json").write_text(
        json.dumps(
            {
                "key": {"env": "cartpole", "profile": "quick"},
                "config": _cfg(1e-3, 5),
                "returns": [0.5, 1.5],
                "score": 1.0,
            }
        )
    )
    return db


def test_curves_schedule_and_scores_of_a_pbt_study(pbt_db):
    rec = read_study(pbt_db)
    assert rec["method"] == "pbt" and rec["best_member"] == 0
    assert rec["best_score"] == pytest.approx(5.5)  # mean(1, 10)
    # The best lineage: member 1's trial 1, then member 0's trial 2.
    curve = best_curve(rec["trials"], rec["best_schedule"])
    assert [(c["step"], c["member"], c["trial"], c["ret"]) for c in curve] == [
        (1, 1, 1, 3.0),
        (2, 0, 2, 10.0),
    ]
    top = top_curve(rec["trials"], k=2)
    assert top[0] == {"trial": 1, "mean": 2.5, "std": 0.5, "n": 2, "members": [1, 2]}
    assert top[1] == {"trial": 2, "mean": 7.0, "std": 3.0, "n": 2, "members": [0, 1]}
    sched = top_schedule(rec["trials"], rec["schedule"], k=2, names=["lr", "epochs"])
    assert sched[0]["mean"] == pytest.approx({"lr": 0.3, "epochs": 5.0})  # members 1, 2
    assert sched[0]["std"] == pytest.approx({"lr": 0.1, "epochs": 1.0})
    assert sched[1]["mean"] == pytest.approx({"lr": 0.25, "epochs": 4.5})  # members 0, 1
    assert set(top_schedule(rec["trials"], rec["schedule"], k=1)[0]["mean"]) == {
        "alpha",
        "epochs",
        "lr",
    }
    with pytest.raises(ValueError, match="not in the schedule"):
        top_schedule(rec["trials"], rec["schedule"], names=["horizon"])
    curves = learning_curves(rec, k=2)
    assert curves["baseline"] == [{"trial": 1, "ret": 0.5}, {"trial": 2, "ret": 1.5}]
    scores = {s["member"]: s["score"] for s in final_scores(rec)}
    assert scores == {0: 5.5, 1: 3.5, 2: -math.inf}
    hist = score_histogram(final_scores(rec), bins=2)
    assert hist == {"counts": [1, 1], "edges": [3.5, 4.5, 5.5], "n": 2, "failed": 1}
    assert lineage_counts(rec["lineage"]) == {
        "exploit": 1,
        "replace_failed": 0,
        "explore": 1,
        "backtrack": 0,
    }
    s = summarize(rec, k=2)
    assert s["env"] == "cartpole" and s["baseline_score"] == 1.0  # mean of (0.5, 1.5)
    assert s["improvement"] == pytest.approx(4.5)
    assert s["failed_trials"] == 1 and s["failure_causes"] == {"diverged": 1}
    assert s["searched"] == ["lr", "epochs"]


def test_fidelity_correlation_of_hyperband_jobs(tmp_path):
    db = tmp_path / "hb.db"
    low = [-1.0, -2.0, -3.0, -4.0, -5.0]  # losses at 1 trial: config 0 is worst
    high = {0: -50.0, 1: -40.0, 2: -10.0, 3: -30.0}  # config 4 was not promoted
    with StudyStore(db) as st:
        st.init_study("hyperband", 0, {"last_k": 3}, SPACE)
        m = 0
        for i, loss in enumerate(low):
            st.record_hb_job((0, 0, i), m, _cfg(0.1, 3), 1.1, 1, loss, "ok")
            m += 1
        for i, loss in high.items():
            st.record_hb_job((0, 0, i), m, _cfg(0.1, 3), 3.3, 3, loss, "ok")
            m += 1
        st.record_hb_job((0, 0, 9), m, _cfg(0.1, 3), 3.3, 3, None, "failed", "boom")
    rec = read_study(db)
    pairs = fidelity_correlations(rec["hb_jobs"])
    assert len(pairs) == 1
    p = pairs[0]
    assert (p["low"], p["high"], p["n"]) == (1, 3, 4)
    # Scores (-loss) at 1 trial: 1, 2, 3, 4; at 3 trials: 50, 40, 10, 30 -> ranks 4, 3, 1, 2.
    # d = (-3, -1, 2, 2): rho = 1 - 6 * 18 / (4 * 15) = -0.8.
    assert p["rho"] == pytest.approx(-0.8)
    assert p["config_ids"] == [[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 3]]
    scores = final_scores(rec)
    assert len(scores) == 10 and sum(s["score"] == -math.inf for s in scores) == 1
    assert {s["budget"] for s in scores} == {1, 3}
    s = summarize(rec)
    assert s["hb_jobs"] == 10 and s["hb_failed_jobs"] == 1
    assert s["fidelity"] == [{"low": 1, "high": 3, "n": 4, "rho": pytest.approx(-0.8)}]
    assert s["best_score"] == 50.0 and s["baseline_score"] is None


def test_compare_studies_labels_and_rows(pbt_db, tmp_path):
    rec = read_study(pbt_db)
    cmp = compare_studies([rec, rec], labels=["with", "without"], k=2)
    assert [r["label"] for r in cmp["rows"]] == ["with", "without"]
    assert set(cmp["curves"]) == {"with", "without"}
    auto = compare_studies([rec, rec])
    assert len({r["label"] for r in auto["rows"]}) == 2  # made unique
    with pytest.raises(ValueError, match="labels"):
        compare_studies([rec, rec], labels=["a"])
    with pytest.raises(ValueError, match="at least one"):
        compare_studies([])


def test_bad_databases_and_arguments(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_study(tmp_path / "missing.db")
    StudyStore(tmp_path / "empty.db").close()
    with pytest.raises(ValueError, match="holds no study"):
        read_study(tmp_path / "empty.db")
    with pytest.raises(ValueError, match="k: expected"):
        top_curve([], k=0)
    with pytest.raises(ValueError, match="bins"):
        score_histogram([1.0], bins=0)
    assert score_histogram([-math.inf]) == {"counts": [], "edges": [], "n": 0, "failed": 1}
