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
    rows = [{"trial": t, "mean": {"lr": 1e-3 * t}, "std": {"lr": 1e-4}} for t in (1, 2, 3)]
    plots.plot_schedule(rows, tmp_path / "s.png", defaults={"lr": 2e-3})
    legend = figures[0].get_axes()[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["top-k mean", "± std", "default"]


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
