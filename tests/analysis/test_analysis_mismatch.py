"""The paper's A.6 (objective mismatch) and Fig. 10 (one-hyperparameter search, top vs bottom)
on tiny real cartpole studies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mbrlhpo.analysis import read_study, report
from mbrlhpo.analysis.mismatch import objective_mismatch
from mbrlhpo.analysis.records import top_bottom_curves
from mbrlhpo.tuning import tune

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


@pytest.fixture(scope="module")
def pbt_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("mm") / "pbt.db"
    tune(
        "cartpole",
        "pbt",
        population=4,
        trials=3,
        db=db,
        pbt_interval=2,
        agent_overrides=TINY,
        space_overrides={"epochs": (3, 4)},
        baseline=False,
        keep_checkpoints_every=2,
    )
    return db


def _load_final(db, member, trial=None):
    from mbrlhpo.agent import PETSAgent
    from mbrlhpo.runner.checkpoints import CheckpointDir
    from mbrlhpo.runner.study import study_dir_for
    from mbrlhpo.store.sqlite_store import StudyStore

    with StudyStore(db) as st:
        ref = max(
            (
                c
                for c in st.checkpoints()
                if c["member"] == member and (trial is None or c["trial"] == trial)
            ),
            key=lambda c: c["trial"],
        )
    return CheckpointDir(study_dir_for(db) / "checkpoints").load(
        PETSAgent, ref["path"], ref["sha256"]
    )


def _cat(buf, idx):
    eps = [buf.episode(i) for i in idx]
    return [np.concatenate([getattr(e, f) for e in eps]) for f in ("obs", "act", "next_obs")]


def test_objective_mismatch_nlls_by_hand(pbt_db):
    res = objective_mismatch(pbt_db, k=2, last=2, bins=2, per_bin=1000)
    rows = res["members"]
    assert [r["group"] for r in rows] == ["top", "top", "bottom", "bottom"]
    assert min(r["score"] for r in rows[:2]) >= max(r["score"] for r in rows[2:])
    agents = {r["member"]: _load_final(pbt_db, r["member"]) for r in rows}
    pool = {}
    for a in agents.values():
        for i in range(a.buffer.num_episodes):
            pool.setdefault(
                a.buffer.episode_digest(i), (a, i, float(a.buffer.episode(i).reward.sum()))
            )
    edges = np.quantile([v[2] for v in pool.values()], [0.0, 0.5, 1.0])
    assert [b["low"] for b in res["bins"]] == pytest.approx(edges[:2].tolist())
    for r in rows:
        a = agents[r["member"]]
        n = a.buffer.num_episodes
        assert r["on_policy_episodes"] == min(2, n)
        want = a.model_nll(*_cat(a.buffer, range(max(0, n - 2), n)))
        assert r["on_policy_nll"] == pytest.approx(want, rel=1e-6)
        own = {a.buffer.episode_digest(i) for i in range(n)}
        for b in range(2):
            held = [
                (src, i)
                for d, (src, i, ret) in pool.items()
                if d not in own and (edges[b] <= ret < edges[b + 1] or (b == 1 and ret == edges[2]))
            ]
            assert r["off_policy_episodes"][b] == len(held)
            if held:
                parts = [_cat(src.buffer, [i]) for src, i in held]
                cat = [np.concatenate([p[j] for p in parts]) for j in range(3)]
                assert r["off_policy_nll"][b] == pytest.approx(a.model_nll(*cat), rel=1e-5)
            else:
                assert math.isnan(r["off_policy_nll"][b])
    s = res["summary"]
    assert s["top"]["on_policy_nll"] == pytest.approx(
        np.mean([r["on_policy_nll"] for r in rows[:2]])
    )


def test_objective_mismatch_curves_over_training(pbt_db):
    """With checkpoints kept every 2 trials, each member's NLL is a curve over trials 2 and 4
    (the final one): at trial t, the model that planned trial t on its last 2 episodes."""
    res = objective_mismatch(pbt_db, k=2, last=2, bins=2, per_bin=1000)
    for r in res["members"]:
        assert [p["trial"] for p in r["curve"]] == [2, 4]
        first = _load_final(pbt_db, r["member"], trial=2)
        assert first.buffer.num_episodes == 2 and r["curve"][0]["on_policy_episodes"] == 2
        want = first.model_nll(*_cat(first.buffer, [0, 1]))
        assert r["curve"][0]["on_policy_nll"] == pytest.approx(want, rel=1e-6)
        assert r["curve"][-1]["on_policy_nll"] == r["on_policy_nll"]
    for g in ("top", "bottom"):
        curve = res["summary"][g]["curve"]
        assert [p["trial"] for p in curve] == [2, 4]
        mine = [r for r in res["members"] if r["group"] == g]
        assert curve[0]["on_policy_nll"] == pytest.approx(
            np.mean([r["curve"][0]["on_policy_nll"] for r in mine])
        )
    assert len(res["returns"]) == sum(b["episodes"] for b in res["bins"])


def test_nll_in_chunks_equals_one_call(pbt_db, monkeypatch):
    import mbrlhpo.analysis.mismatch as mm

    agent = _load_final(pbt_db, 0)
    eps = mm._episodes(agent)
    whole = mm._nll(agent, eps)
    monkeypatch.setattr(mm, "_CHUNK", 150)  # a cartpole episode has 200 steps
    assert mm._nll(agent, eps) == pytest.approx(whole, rel=1e-6)


def test_report_draws_objective_mismatch_and_top_bottom(pbt_db, tmp_path):
    pytest.importorskip("matplotlib")
    paths = report(pbt_db, tmp_path / "rep", k=2)
    for name in ("objective_mismatch", "top_bottom"):
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = paths["summary_md"].read_text()
    assert "## Objective mismatch (A.6)" in md and "| top |" in md


def test_mismatch_needs_final_checkpoints(tmp_path):
    db = tmp_path / "hb.db"
    tune(
        "cartpole",
        "hyperband",
        db=db,
        budgets=(1, 3),
        hb_iterations=1,
        agent_overrides=TINY,
        space_overrides={"epochs": (3, 4)},
        baseline=False,
    )
    with pytest.raises(ValueError, match="keep-final-checkpoints"):
        objective_mismatch(db)
    paths = report(db, tmp_path / "r", plots=False)
    assert "not computed" in paths["summary_md"].read_text()


def test_one_hyperparameter_search_top_vs_bottom(tmp_path):
    """Fig. 10: random search over the plan horizon alone; the other CEM settings stay at the
    defaults; the top configurations' final scores beat the bottom ones'."""
    db = tmp_path / "horizon.db"
    study = tune(
        "cartpole",
        "random",
        group="planning",
        searched=["horizon"],
        population=4,
        trials=2,
        db=db,
        agent_overrides={k: v for k, v in TINY.items() if k != "horizon"},
        baseline=False,
    )
    rec = read_study(db)
    assert list(rec["space"]) == ["horizon"]
    configs = [m["config"] for m in rec["members"]]
    assert len({c["horizon"] for c in configs}) > 1
    assert all(
        c["iterations"] == 1 and c["population"] == 10 and c["alpha"] == 0.1 for c in configs
    )
    tb = top_bottom_curves(rec, k=2)
    assert tb["k"] == 2 and len(tb["top"]["mean"]) == 3
    assert min(m["score"] for m in tb["top"]["members"]) >= max(
        m["score"] for m in tb["bottom"]["members"]
    )
    assert tb["top"]["members"][0]["member"] == study.best_member
    with pytest.raises(ValueError, match="searched"):
        tune("cartpole", "random", group="planning", searched=["lr"], db=tmp_path / "x.db")
