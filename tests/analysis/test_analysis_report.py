"""report/compare and the CLI on small real studies (mbrlhpo.tune with tiny PETS agents)."""

from __future__ import annotations

import json
import math
import sys

import pytest

from mbrlhpo.analysis import compare, read_study, report
from mbrlhpo.cli import main
from mbrlhpo.tuning import tune

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
FEW_EPOCHS = {"epochs": (3, 4)}


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    root = tmp_path_factory.mktemp("studies")
    dbs = {}
    for name, copy in (("pbt", "all"), ("pbt-nocopy", "hparams")):
        dbs[name] = root / f"{name}.db"
        tune(
            "cartpole",
            "pbt",
            population=3,
            trials=3,
            db=dbs[name],
            pbt_interval=2,
            copy=copy,
            agent_overrides=TINY,
            space_overrides=FEW_EPOCHS,
            baseline=copy == "all",
        )
    dbs["hb"] = root / "hb.db"
    tune(
        "cartpole",
        "hyperband",
        db=dbs["hb"],
        budgets=(1, 3),
        hb_iterations=1,
        agent_overrides=TINY,
        space_overrides=FEW_EPOCHS,
        baseline=False,
    )
    return dbs


def test_read_study_matches_the_runner(studies):
    rec = read_study(studies["pbt"])
    assert rec["method"] == "pbt" and len(rec["trials"]) == 12  # 3 x (1 random + 3 MPC)
    assert rec["baseline"]["env"] == "cartpole" and len(rec["baseline"]["returns"]) == 4
    assert rec["settings"]["pbt"]["copy"] == "all"
    assert len(rec["best_schedule"]) == 4 and math.isfinite(rec["best_score"])
    hb = read_study(studies["hb"])
    assert hb["hb_jobs"] and {j["trials"] for j in hb["hb_jobs"]} == {1 + 1, 1 + 3}


def test_report_writes_figures_and_a_summary(studies, tmp_path):
    pytest.importorskip("matplotlib")
    paths = report(studies["pbt"], tmp_path / "pbt")
    for name in ("learning_curves", "scores_histogram", "schedule"):
        data = paths[name].read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    md = paths["summary_md"].read_text()
    assert "# Study report: pbt on cartpole" in md
    assert "## Best configuration" in md and "| lr |" in md and "exploit:" in md
    # One study is one seed: the difference is printed, no claim is made (issue 28).
    assert "one seed each" in md and "no claim is made" in md and "better than" not in md
    assert "--seeds 5" in md and "anytime" in md and "mean return over the trials" in md
    summary = json.loads(paths["summary_json"].read_text())
    assert summary["summary"]["method"] == "pbt"
    merit = summary["summary"]["anytime"]["curves"]
    assert set(merit) == {"best", "defaults"} and merit["best"]["trials"] == 4
    assert [r["trial"] for r in summary["curves"]["top"]] == [1, 2, 3, 4]
    assert len(summary["top_schedule"]) == 4 and "lr" in summary["top_schedule"][0]["mean"]
    hb = report(studies["hb"], tmp_path / "hb")
    assert "fidelity" in hb and "schedule" not in hb
    assert "Spearman" in hb["summary_md"].read_text()


def test_report_without_plots_needs_no_matplotlib(studies, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    paths = report(studies["hb"], tmp_path / "r", plots=False)
    assert set(paths) == {"summary_json", "summary_md"}
    with pytest.raises(ImportError, match=r"pip install mbrlhpo\[plots\]"):
        report(studies["hb"], tmp_path / "r2")


def test_compare_copy_history_ablation(studies, tmp_path):
    pytest.importorskip("matplotlib")
    paths = compare([studies["pbt"], studies["pbt-nocopy"]], tmp_path / "cmp")
    assert paths["comparison"].read_bytes()[:4] == b"\x89PNG"
    md = paths["comparison_md"].read_text()
    assert "| pbt |" in md and "| pbt (no copy history) |" in md
    assert "pbt: the quick profile's defaults (Tables 2-4)" in md  # which baseline
    data = json.loads(paths["comparison_json"].read_text())
    assert [r["label"] for r in data["rows"]] == ["pbt", "pbt (no copy history)"]


def test_cli_report_and_replay(studies, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["report", "--db", str(studies["pbt"]), "--out", str(out), "--no-plots"]) == 0
    assert "Study report: pbt" in capsys.readouterr().out
    assert (out / "summary.md").is_file() and not (out / "learning_curves.png").exists()
    assert (
        main(
            [
                "report",
                "--db",
                str(studies["pbt"]),
                str(studies["hb"]),
                "--out",
                str(tmp_path / "cmp"),
                "--labels",
                "a",
                "b",
                "--no-plots",
            ]
        )
        == 0
    )
    assert "| a | pbt |" in capsys.readouterr().out
    assert main(["report", "--db", str(tmp_path / "none.db"), "--out", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err

    from pathlib import Path

    sched = Path(__file__).parent / "data" / "reacher_pbt_model_train_top_avg.json"
    tiny = [x for k, v in TINY.items() for x in ("--set", f"{k}={v}")]
    rc = main(
        [
            "replay",
            "--schedule",
            str(sched),
            "--seeds",
            "0",
            "--trials",
            "2",
            "--profile",
            "quick",
            "--out",
            str(tmp_path / "replay"),
            *tiny,
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "on reacher" in text and "final scenario" in text
    data = json.loads((tmp_path / "replay" / "replay.json").read_text())
    assert data["env"] == "reacher" and len(data["returns"]["0"]) == 2
    assert main(["replay", "--schedule", str(sched), "--env", "hopper", *tiny]) == 2
    assert "schedule for reacher" in capsys.readouterr().err
