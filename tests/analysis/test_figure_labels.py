"""Issue 12, point 15: the figures say what their lines, bands and counts are."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from mbrlhpo.analysis import plots  # noqa: E402


@pytest.fixture
def figures(monkeypatch):
    kept = []

    def keep(fig, path):
        kept.append(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    return kept


def test_schedule_legend_names_the_line_the_band_and_the_default(figures, tmp_path):
    rows = [{"trial": t, "n": 4, "mean": {"epochs": 3.0 * t}, "std": {"epochs": 1.0}}
            for t in (1, 2, 3)]  # fmt: skip
    plots.plot_schedule(rows, tmp_path / "s.png", defaults={"epochs": 5})
    legend = figures[0].get_axes()[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["top-4 mean", "± std", "default"]


def _schedule_rows(lrs_per_trial):
    from mbrlhpo.analysis.records import top_schedule

    trials, schedule = [], []
    for t, lrs in enumerate(lrs_per_trial, start=1):
        for m, lr in enumerate(lrs):
            trials.append({"member": m, "trial": t, "ret": float(m), "status": "ok"})
            schedule.append({"member": m, "trial": t, "config": {"lr": lr}})
    return top_schedule(trials, schedule, k=5, names=["lr"])


def test_a_log_scaled_band_stays_near_its_values(figures, tmp_path):
    """Issue 28: mean - std of lrs spread over decades plunged to 3e-6 on the log axis; the
    band is geometric (exp(mean +- std) of log lr) and stays within the values' span."""
    lrs = [1e-4, 1e-4, 1e-4, 1e-2]
    rows = _schedule_rows([lrs, lrs])
    assert rows[0]["mean"]["lr"] - rows[0]["std"]["lr"] < 0  # the old band: clipped to 3e-6
    plots.plot_schedule(rows, tmp_path / "s.png", names=["lr"])
    ax = figures[0].get_axes()[0]
    assert ax.get_yscale() == "log"
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() > min(lrs) / 3 and band.max() < max(lrs) * 3
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["top-4 geometric mean", "×/÷ geometric std"]


def test_every_figure_of_a_study_says_the_same_top_k(figures, tmp_path):
    """Issue 28: with 4 members schedule.png said "top-5" and learning_curves.png "top-4"."""
    from mbrlhpo.analysis.records import learning_curves, summarize

    trials = [{"member": m, "trial": t, "ret": float(m + t), "status": "ok"}
              for t in (1, 2) for m in range(4)]  # fmt: skip
    assert summarize({"method": "pbt", "trials": trials}, k=5)["top_k"] == 4  # report's titles
    curves = learning_curves({"trials": trials, "best_schedule": []}, 5)
    plots.plot_learning_curves(curves, tmp_path / "learning_curves.png")
    plots.plot_schedule(_schedule_rows([[1e-4, 2e-3, 3e-3, 5e-3]] * 2), tmp_path / "s.png")
    legends = [[t.get_text() for t in f.get_axes()[0].get_legend().get_texts()] for f in figures]
    assert legends[0][0] == "top-4 mean" and legends[1][0] == "top-4 geometric mean"


def test_mismatch_figure_has_whole_trial_ticks_and_readable_text(figures, tmp_path):
    """Issue 28: one point per member (final checkpoints only) gave ticks 3.96..4.04 and
    labels in a 21-inch-wide row."""
    point = {"trial": 4, "on_policy_nll": 1.0, "off_policy_nll": [2.0, 3.0]}
    result = {
        "bins": [{"low": 0.0, "high": 1.0}, {"low": 1.0, "high": 2.0}],
        "members": [{"group": g, "curve": [point]} for g in ("top", "bottom")],
        "summary": {g: {"curve": [point]} for g in ("top", "bottom")},
        "returns": [0.1, 0.5, 1.5],
        "k": 1,
        "last": 3,
    }
    plots.plot_mismatch(result, tmp_path / "m.png")
    fig = figures[0]
    plots._int_x(fig.get_axes()[0])  # what _save does to every trial axis
    assert [float(v) for v in fig.get_axes()[0].get_xticks()] == [3.0, 4.0, 5.0]
    assert fig.get_size_inches()[0] <= 12
    for ax in fig.get_axes():
        if ax.axison:
            assert ax.xaxis.label.get_fontsize() >= 9 and ax.title.get_fontsize() >= 9


def test_histogram_counts_are_integers_and_the_reference_line_is_labelled(figures, tmp_path):
    scores = [{"score": s} for s in (1.0, 2.0, 2.5, 7.0)]
    plots.plot_histogram(scores, tmp_path / "h.png", bins=3, baseline=3.0)
    ax = figures[0].get_axes()[0]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "defaults (3.0)" in texts
    assert all(float(v).is_integer() for v in ax.get_yticks())


def test_replay_prints_trials_from_1_like_its_figure(capsys, monkeypatch, tmp_path):
    import argparse
    import types

    import mbrlhpo.analysis.replay as replay
    from mbrlhpo.cli_report import run_replay

    def fake(env, schedule, on_trial=None, **kw):
        for t in range(2):
            on_trial(t, {0: 1.0})
        return types.SimpleNamespace(score=1.0, failures=[])

    monkeypatch.setattr(replay, "replay_schedule", fake)
    monkeypatch.setattr(replay, "schedule_env", lambda p: "cartpole")
    args = argparse.Namespace(
        env="cartpole",
        schedule=tmp_path / "s.json",
        seeds=[0],
        trials=None,
        profile="quick",
        device="cpu",
        planner="auto",
        overrides=[],
        out=None,
    )
    run_replay(args)
    out = capsys.readouterr().out
    assert "trial    1" in out and "trial    2" in out and "trial    0" not in out
