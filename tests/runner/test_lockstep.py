"""LockstepExecutor: one training call and one planning call per step for the population,
with the same trials as running each member alone."""

import numpy as np
import torch

from mbrlhpo.agent import PETSAgent
from mbrlhpo.planning import plan_population
from mbrlhpo.runner import LockstepExecutor, SequentialExecutor

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
HPARAMS = [
    dict(epochs=2, lr=1e-3, weight_decay=1e-4),
    dict(epochs=1, lr=3e-3, weight_decay=0.0),
    dict(epochs=3, lr=5e-4, weight_decay=3e-5),
]


def _population():
    return [
        PETSAgent("cartpole", {**TINY, **h}, seed=10 + i, profile="quick")
        for i, h in enumerate(HPARAMS)
    ]


def test_lockstep_trains_and_plans_in_one_call_each_with_the_same_trials(monkeypatch):
    import mbrlhpo.models as models

    calls = {"train": [], "plan": 0}
    real_train = models.train_population

    def counting_train(jobs, **kw):
        calls["train"].append(len(jobs))
        return real_train(jobs, **kw)

    def counting_plan(planners, obs):
        calls["plan"] += 1
        return plan_population(planners, obs)

    monkeypatch.setattr(models, "train_population", counting_train)
    lock, seq = _population(), _population()
    executor = LockstepExecutor(plan_population=counting_plan)
    for _ in range(3):  # trial 0 acts randomly, 1 and 2 plan; each trains after acting
        out_lock = executor.run(lock)
        out_seq = SequentialExecutor().run(seq)
        for a, b in zip(out_lock, out_seq, strict=True):
            assert a.error is None and b.error is None
            ra, rb = a.result.to_dict(), b.result.to_dict()
            for r in (ra, rb):
                r.pop("wall_time"), r.pop("train_time")
            assert ra == rb
    assert calls["train"] == [3, 3, 3]  # one call per round for the whole population
    steps = lock[0].task.steps_per_trial
    assert calls["plan"] == 2 * steps  # one planning call per step of each planned trial
    for a, b in zip(lock, seq, strict=True):
        sa, sb = a.model.state_dict(), b.model.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)


class Watcher:
    """Records what a study's progress is told (mbrlhpo.progress.StudyProgress's hooks)."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def round_started(self, steps):
        self.events.append(("round", steps))

    def round_step(self):
        self.events.append(("step",))

    def training_started(self, members):
        self.events.append(("training", members))

    def training_step(self, done, total):
        self.events.append(("trained", done, total))


def test_the_watcher_sees_the_round_steps_then_every_training_step():
    watcher = Watcher()
    members = _population()
    executor = LockstepExecutor(plan_population=plan_population, progress=watcher)
    executor.run(members)  # the random trial: 200 steps acting, then training on 200 rows
    steps = members[0].task.steps_per_trial
    ev = watcher.events
    assert ev[0] == ("round", steps)
    assert ev[1 : 1 + steps] == [("step",)] * steps
    assert ev[1 + steps] == ("training", 3)  # the whole population in one call
    # The longest member's epochs (3) x batches of 200 rows (32 a batch: 7).
    total = 3 * 7
    assert ev[2 + steps :] == [("trained", i, total) for i in range(1, total + 1)]


def test_a_member_whose_training_fails_fails_alone():
    members = _population()
    LockstepExecutor(plan_population).run(members)  # the random trial
    bad = members[1]

    def broken_job():
        raise RuntimeError("no data for you")

    bad.training_job = broken_job
    twins = _population()
    SequentialExecutor().run(twins)
    out = LockstepExecutor(plan_population).run(members)
    assert isinstance(out[1].error, RuntimeError)
    twin_out = SequentialExecutor().run([twins[0], twins[2]])
    for got, want in zip((out[0], out[2]), twin_out, strict=True):
        assert got.error is None
        assert got.result.ret == want.result.ret
    assert np.isfinite(out[0].result.model_loss)
