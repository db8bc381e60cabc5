"""A study a person can watch (issue 28, item 1): a bar with a total and an estimate on a
terminal, plain lines at most every 10 s elsewhere, the study's trials counted as stored."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from mbrlhpo.progress import StudyProgress
from mbrlhpo.tuning import tune

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


class Clock:
    """Seconds that the test moves on."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_come_every_ten_seconds_with_a_total_and_an_estimate():
    clock, out = Clock(), io.StringIO()
    p = StudyProgress(None, stream=out, clock=clock)
    p.begin(8)  # silent: a refused study prints nothing before its one error line
    assert out.getvalue() == ""
    p.round_started(100)
    for _ in range(30):  # steps 0.2 s apart: one line per 10 s, not one per step
        clock.now += 0.2
        p.round_step()
    assert out.getvalue() == ""
    clock.now += 4.0  # 10 s since the last line
    p.round_step()
    last = out.getvalue().splitlines()[-1]
    assert last == "progress: members, 0/8 trials, round 31/100 steps, 10s elapsed, " + (
        "estimate after the first trial"
    )
    clock.now += 10.0
    p.trial_done()  # 20 s for 1 trial of 8: 20 s a trial, 7 left; 10 s since the last line
    assert out.getvalue().splitlines()[-1] == (
        "progress: members, 1/8 trials, round 31/100 steps, 20s elapsed, about 2m20s left"
    )
    p.trial_done()  # at once: no new line, a new estimate (10 s a trial, 6 left)
    assert len(out.getvalue().splitlines()) == 2
    assert p.estimate() == pytest.approx(60.0)
    p.phase("defaults (baseline)", total=4)  # a new phase: said at once, its own count
    assert out.getvalue().splitlines()[-1] == (
        "progress: defaults (baseline), 0/4 trials, 0s elapsed, estimate after the first trial"
    )


def test_training_the_population_is_shown_every_ten_seconds_too():
    # After a round's acting the population trains: a grown buffer can take longer than 10 s,
    # so the training steps keep the plain lines coming (and the bar moving).
    clock, out = Clock(), io.StringIO()
    p = StudyProgress(16, stream=out, clock=clock)
    p.round_started(100)
    for _ in range(100):
        p.round_step()
    p.training_started(8)
    for done in range(1, 241):  # 240 Adam steps, 1/8 s each: a line at 10 s, 20 s, 30 s
        clock.now += 0.125
        p.training_step(done, 240)
    lines = out.getvalue().splitlines()
    assert lines == [
        f"progress: members, 0/16 trials, training 8 members, {n}/240 steps, {n // 8}s "
        "elapsed, estimate after the first trial"
        for n in (80, 160, 240)
    ]
    p.round_started(100)  # the next round: steps again
    clock.now += 10.0
    p.round_step()
    assert out.getvalue().splitlines()[-1].startswith("progress: members, 0/16 trials, round 1/100")


def test_a_resumed_study_estimates_from_the_trials_this_run_made():
    clock = Clock()
    p = StudyProgress(10, done=6, clock=clock)  # 6 stored before the run
    clock.now += 30.0
    p.trial_done()  # one trial in 30 s; 3 left
    assert p.estimate() == pytest.approx(90.0)


def tiny_study(db, progress: StudyProgress) -> None:
    """2 members x (the random trial + 1 MPC trial) of cartpole, told to ``progress``."""
    try:
        tune(
            "cartpole",
            "random",
            population=2,
            trials=1,
            db=db,
            agent_overrides=TINY,
            space_overrides={"epochs": (3, 4)},
            baseline=False,
            progress=progress,
        )
    finally:
        progress.close()


def test_a_real_study_reports_every_trial_against_its_total(tmp_path):
    out = io.StringIO()
    p = StudyProgress(None, stream=out, every=0.0)
    tiny_study(tmp_path / "s.db", p)
    lines = out.getvalue().splitlines()
    assert p.total == 4 and p.done == 4
    assert any("4/4 trials" in line for line in lines), lines
    assert any("round 200/200 steps" in line for line in lines), lines  # inside a round
    # After acting, the two members train together: (3 or 4 epochs) x 7 batches of 200 rows.
    assert any("training 2 members, 1/" in line for line in lines), lines


def test_an_agent_alone_tells_its_trials_steps_and_training():
    # mbrlhpo pets: the agent's trial steps, then its model's training, as a study's round.
    from mbrlhpo.agent import PETSAgent

    out = io.StringIO()
    p = StudyProgress(None, stream=out, every=0.0, name="PETS", steps_of="trial")
    p.phase("PETS", total=2)
    agent = PETSAgent("cartpole", {**TINY, "epochs": 2}, seed=0, profile="quick", progress=p)
    try:
        for _ in range(2):
            agent.run_trial()
            p.trial_done()
    finally:
        agent.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "progress: PETS, 0/2 trials, 0s elapsed, estimate after the first trial"
    assert any(line.startswith("progress: PETS, 0/2 trials, trial 200/200 steps") for line in lines)
    # Trained after acting: 2 epochs x 7 batches of the first trial's 200 transitions.
    assert any(", training 1 member, 14/14 steps," in line for line in lines), lines
    assert lines[-1].startswith("progress: PETS, 2/2 trials")


def test_the_run_of_the_defaults_is_watched_too(tmp_path):
    # After the members, the defaults run alone (one agent): its steps and training show.
    out = io.StringIO()
    p = StudyProgress(None, stream=out, every=0.0)
    try:
        tune(
            "cartpole",
            "random",
            population=1,
            trials=1,
            db=tmp_path / "s.db",
            agent_overrides=TINY,
            space_overrides={"epochs": (1, 2)},
            progress=p,
        )
    finally:
        p.close()
    lines = out.getvalue().splitlines()
    after = lines[[i for i, line in enumerate(lines) if "2/2 trials" in line][0] :]
    assert any(", round 200/200 steps," in line for line in after), after[:3]
    assert any(", training 1 member, " in line for line in after), after[:3]


def test_on_a_terminal_the_bars_show_the_study_and_the_round(tmp_path):
    buf = io.StringIO()
    tiny_study(
        tmp_path / "s.db",
        StudyProgress(None, console=Console(file=buf, force_terminal=True, width=120)),
    )
    text = buf.getvalue()
    assert "members: trials" in text and "4/4" in text
    assert "round: steps" in text and "200/200" in text
    assert "training 2 members: steps" in text
    assert "left" in text  # the estimate's column
