"""scripts/fidelity_analyze.py (docs/fidelity.md) on hand-written studies and schedules: every
statistic checked against a value worked out by hand."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from mbrlhpo.store.sqlite_store import StudyStore

pytest.importorskip("matplotlib")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fidelity_analyze.py"
SPACE = {"lr": {"low": 1e-5, "high": 4e-2}}


@pytest.fixture(scope="module")
def fa():
    spec = importlib.util.spec_from_file_location("fidelity_analyze", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cfg(lr=1e-3):
    return {"lr": lr, "weight_decay": 5e-4, "epochs": 5}


def _study(runs: Path, name: str, method: str, returns: dict[int, list[float]], done=True):
    """A finished study: member m has the given returns, trial 1 first."""
    n = len(next(iter(returns.values())))
    with StudyStore(runs / f"{name}.db") as st:
        st.init_study(method, 0, {"trials": n - 1, "population": len(returns), "last_k": 3}, SPACE)
        for m, rets in returns.items():
            st.add_member(m, m, _cfg())
            for t, r in enumerate(rets, start=1):
                st.record_trial(m, t, _cfg(1e-3 * (m + 1) / t), r, 0.1)
    if done:
        (runs / f"{name}.done").touch()


def test_c3_spearman_between_budgets_of_the_same_configurations(fa, tmp_path):
    # Member m: returns 0, m, 10 - 10 m, 10 - 10 m. After 1 MPC trial (2 trials) the objective
    # is m / 2 (rising with m); after 3 it is (20 - 19 m) / 3 (falling): rho = -1.
    _study(
        tmp_path, "c3_random_s0", "random", {m: [0, m, 10 - 10 * m, 10 - 10 * m] for m in range(4)}
    )
    res = fa.claim3(tmp_path, tmp_path, budgets=(1,))
    (pair,) = res["pairs"]
    assert (pair["low"], pair["high"], pair["n"]) == (1, 3, 4)
    assert pair["rho"] == pytest.approx(-1.0)
    assert pair["rho_mbrlhpo"] == pytest.approx(-1.0)
    rows = (tmp_path / "c3_scores.csv").read_text().splitlines()
    assert rows[0] == "member,score_at_1,score_at_3"
    assert rows[2] == f"1,0.5,{1 / 3!r}"
    assert (tmp_path / "c3_fidelity.png").is_file()


def test_c3_unfinished_study_is_reported_missing(fa, tmp_path):
    _study(tmp_path, "c3_random_s0", "random", {0: [1, 2, 3]}, done=False)
    assert fa.claim3(tmp_path, tmp_path) == {"status": "missing", "missing": ["c3_random_s0"]}


def test_c2_mann_whitney_and_paired_bootstrap(fa, tmp_path):
    # Two members with constant returns v: the population-mean final objective is v.
    for s, (copy, nocopy) in enumerate([(10.0, 1.0), (11.0, 2.0)]):
        _study(tmp_path, f"c2_pbt_copy_s{s}", "pbt", {0: [copy] * 3, 1: [copy] * 3})
        _study(tmp_path, f"c2_pbt_nocopy_s{s}", "pbt", {0: [nocopy] * 3, 1: [nocopy] * 3})
    res = fa.claim2(tmp_path, tmp_path, seeds=[0, 1, 2])
    assert res["status"] == "partial"
    assert res["missing"] == ["c2_pbt_copy_s2", "c2_pbt_nocopy_s2"]
    assert res["scores"] == {"copy": {"0": 10.0, "1": 11.0}, "nocopy": {"0": 1.0, "1": 2.0}}
    # Every copy score above every no-copy one: U = 2 x 2, exact one-sided p = 1 / C(4, 2).
    assert res["mann_whitney_u"] == 4.0
    assert res["mann_whitney_one_sided_p"] == pytest.approx(1 / 6)
    assert res["paired_mean_difference"] == 9.0
    assert res["paired_bootstrap_ci95"] == [9.0, 9.0]
    assert res["relative_drop_without_copy"] == pytest.approx((10.5 - 1.5) / 10.5)


def test_c2_with_no_study_invents_nothing(fa, tmp_path):
    res = fa.claim2(tmp_path, tmp_path, seeds=[0])
    assert res["status"] == "missing"
    assert "mann_whitney_one_sided_p" not in res
    assert not (tmp_path / "c2_scores.csv").exists()


def test_c4_paper_sign_test_counts_each_run_once(fa, tmp_path):
    down = [
        {"model_learning_rate": v, "model_weight_decay": 1e-4, "model_train_epoch": 5}
        for v in (1e-3, 1e-3, 1e-4, 1e-4)
    ]
    up = [dict(e, model_learning_rate=1e-3 * (i + 1)) for i, e in enumerate(down)]
    files = {
        "hopper_pbt_model_train_incumbent": up,  # the run's top-5 average is used instead
        "hopper_pbt_model_train_top_avg": down,
        "halfcheetah_pbt_model_train_top_avg": down,
        "daisy_pbtbt_model_train": down,
    }
    for name, sched in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(sched))
    res = fa.claim4_paper(tmp_path, tmp_path)
    lr = res["summary"]["lr"]
    assert res["files"] == 4
    assert lr["runs_last_quarter_below_first"] == 3
    assert lr["runs_last_quarter_above_first"] == 0
    assert lr["sign_test_p_two_sided"] == pytest.approx(0.25)  # 2 x 0.5**3
    assert lr["schedules_that_change"] == 4
    assert res["summary"]["weight_decay"]["runs"] == []  # constant: no direction to test
    assert (tmp_path / "c4_paper_schedules.png").is_file()


def test_clean_writes_standard_json(fa):
    assert fa._clean({"a": -math.inf, "b": [math.nan, 1.0]}) == {"a": "-inf", "b": ["nan", 1.0]}


def test_missing_runs_folder_is_one_clear_line(fa, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["x", "--runs", str(tmp_path / "nope"), "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="expected the folder scripts/fidelity.sh writes"):
        fa.main()


def test_archive_reanalyses_to_the_same_numbers(fa, tmp_path, monkeypatch):
    runs, out1, out2, arch = (tmp_path / d for d in ("runs", "out1", "out2", "arch"))
    runs.mkdir()
    for s, (copy, nocopy) in enumerate([(10.0, 1.0), (11.0, 2.0)]):
        _study(runs, f"c2_pbt_copy_s{s}", "pbt", {0: [copy] * 3, 1: [copy] * 3})
        _study(runs, f"c2_pbt_nocopy_s{s}", "pbt", {0: [nocopy] * 3, 1: [nocopy] * 3})
    _study(runs, "c3_random_s0", "random", {m: [0, m, 5 * m, 1, 2, 3, 4, 5, m] for m in range(5)})
    _study(runs, "c2_pbt_copy_s2", "pbt", {0: [1.0] * 3}, done=False)  # unfinished: not copied
    (runs / "replay_default").mkdir()
    replay = {"returns": {"0": [1.0]}, "schedule_file": str(tmp_path / "schedules" / "s.json")}
    (runs / "replay_default" / "replay.json").write_text(json.dumps(replay))
    common = ["--schedules", str(tmp_path / "none"), "--seeds", "0", "1"]
    monkeypatch.setattr(
        "sys.argv", ["x", "--runs", str(runs), "--out", str(out1), "--archive", str(arch), *common]
    )
    fa.main()
    assert sorted(p.name for p in arch.glob("*.db")) == [
        "c2_pbt_copy_s0.db",
        "c2_pbt_copy_s1.db",
        "c2_pbt_nocopy_s0.db",
        "c2_pbt_nocopy_s1.db",
        "c3_random_s0.db",
    ]
    archived = json.loads((arch / "replay_default" / "replay.json").read_text())
    assert archived == {**replay, "schedule_file": "s.json"}  # no path of this machine
    monkeypatch.setattr("sys.argv", ["x", "--runs", str(arch), "--out", str(out2), *common])
    fa.main()
    first, again = (json.loads((o / "claims.json").read_text()) for o in (out1, out2))
    assert first["C2"] == again["C2"] and first["C3"] == again["C3"]
    assert first["C2"]["mann_whitney_one_sided_p"] == pytest.approx(1 / 6)
    md = (out1 / "results.md").read_text()
    assert "Mann-Whitney U = 4, one-sided p (copy > no copy) = 0.167." in md
    assert "| 2 | 8 | 5 |" in md  # C3: budget 2 vs the full 8, five configurations
    assert first["C4_paper"]["status"] == "missing"
    # C4 (ours): lr = 1e-3 (m + 1) / trial falls with the trial in both copy studies; the weight
    # decay is constant (no direction, nothing to test).
    c4 = first["C4_ours"]
    assert c4["per_seed"]["0"]["lr"]["rho_all_member_trials"] < 0
    assert c4["sign_test"]["lr"] == {"n": 2, "positive": 0, "sign_test_p_two_sided": 0.5}
    assert c4["sign_test"]["weight_decay"] == {"n": 0, "positive": 0, "sign_test_p_two_sided": None}


def test_c1_wilcoxon_on_evaluation_and_replay_files(fa, tmp_path):
    seeds = [9_000_000 + i for i in range(5)]
    best = {str(s): [-1500.0, -400.0 + i] for i, s in enumerate(seeds)}
    base = {str(s): [-1500.0, -900.0 + i] for i, s in enumerate(seeds)}
    ev = {
        "env": "reacher",
        "profile": "quick",
        "baseline_name": "the quick profile's defaults",
        "seeds": seeds,
        "trials": 2,
        "schedules": {"best": [_cfg(), _cfg(2e-3)]},
        "returns": {"best": best, "baseline": base},
        "curves": {
            "best": {"mean": [-1500.0, -398.0], "final_scenario": [-1500.0, -398.0]},
            "baseline": {"mean": [-1500.0, -898.0], "final_scenario": [-1500.0, -898.0]},
        },
        "comparison": {"difference": 500.0, "ci_low": 500.0, "ci_high": 500.0, "p_better": 1.0},
    }
    evdir = tmp_path / "c2_pbt_copy_s0.study" / "evaluation"
    evdir.mkdir(parents=True)
    (evdir / "evaluation.json").write_text(json.dumps(ev))
    for arm, rets in (("paper_pbt", best), ("default", base)):
        mean = list(map(float, np.mean([rets[k] for k in rets], axis=0)))
        rep = {
            "seeds": [int(k) for k in rets],
            "trials": 2,
            "returns": rets,
            "mean": mean,
            "final_scenario": list(np.maximum.accumulate(mean)),
            "score": float(max(mean)),
        }
        (tmp_path / f"replay_{arm}").mkdir()
        (tmp_path / f"replay_{arm}" / "replay.json").write_text(json.dumps(rep))
    res = fa.claim1(tmp_path, tmp_path)
    pbt, rep = res["pbt"], res["paper schedule replay"]
    # Every seed's best return is higher with the best schedule: the exact one-sided p is 1/32.
    assert pbt["wilcoxon_one_sided_p"] == pytest.approx(1 / 32)
    assert pbt["per_seed_best_return"]["best"] == [-400.0, -399.0, -398.0, -397.0, -396.0]
    assert res["random search"]["status"] == "missing"
    assert rep["difference"] == pytest.approx(500.0)
    assert rep["ci95"] == pytest.approx([500.0, 500.0])
    assert rep["wilcoxon_one_sided_p"] == pytest.approx(1 / 32)
    assert (tmp_path / "c1_final_scenario.png").is_file()
