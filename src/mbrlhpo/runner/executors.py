"""Executors: how a round's trials of several members are run.

- ``SequentialExecutor``: one member after another (any member type).
- ``LockstepExecutor``: members that can run a trial in parts (``start_trial``, ``step_trial``,
  ``finish_trial``, e.g. ``PETSAgent``) advance their episodes step by step together, every
  step's planning for all of them one ``plan_population`` call (one native call, GIL released,
  for the whole population); then, as each trial acts first and trains after (the paper's
  order), all of them are trained in one ``train_population`` call (their ensembles batched as
  one network). Each member keeps its own data, environment and random
  streams, so a member's trial is bit-identical (on the CPU) to running it alone.

A failure of one member (an exception) is that member's outcome; the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from mbrlhpo.runner.protocol import BatchPlanner, LockstepMember


@dataclass
class TrialOutcome:
    """What became of one member's trial: a result, or the error that ended it."""

    result: Any = None
    error: BaseException | None = None
    elapsed: float = 0.0


class Executor(Protocol):
    def run(self, members: Sequence[Any]) -> list[TrialOutcome]: ...


class SequentialExecutor:
    """Runs ``member.run_trial()`` for each member in turn."""

    def run(self, members: Sequence[Any]) -> list[TrialOutcome]:
        outcomes = []
        for member in members:
            start = time.perf_counter()
            try:
                outcomes.append(TrialOutcome(member.run_trial(), None, time.perf_counter() - start))
            except Exception as exc:  # the member's failure, not the study's
                outcomes.append(TrialOutcome(None, exc, time.perf_counter() - start))
        return outcomes


def supports_lockstep(member: Any) -> bool:
    return isinstance(member, LockstepMember)


class LockstepExecutor:
    """Runs a population's trials together: one planning call per step, then one training call.

    Members that cannot run in parts (not a ``LockstepMember``) fall back to ``run_trial``.
    ``plan_population``: the batch planner, called as
    ``plan_population(planners, obs (M x O)) -> actions (M x A)``, e.g.
    :func:`mbrlhpo.planning.plan_population` (the native CPU population planner); whoever
    builds the population chooses it (a GPU population planner plugs in here). ``progress``:
    True shows a tqdm bar of the round's episode steps (on stderr); an object with
    ``round_started(steps)`` and ``round_step()`` (:class:`mbrlhpo.progress.StudyProgress`)
    is told instead, and of the training's steps where it has ``training_started`` and
    ``training_step``.
    """

    def __init__(self, plan_population: BatchPlanner, progress: Any = False) -> None:
        if not callable(plan_population):
            raise TypeError(
                "LockstepExecutor: expected plan_population(planners, obs) -> actions, got "
                f"{type(plan_population).__name__}"
            )
        self.progress = progress
        self.plan_population = plan_population

    def run(self, members: Sequence[Any]) -> list[TrialOutcome]:
        plan_population = self.plan_population
        # A total (the longest episode) gives the bar an estimate of the time left.
        steps = [getattr(getattr(m, "task", None), "steps_per_trial", 0) for m in members]
        total = max(steps, default=0) or None
        # A study's progress (mbrlhpo.progress) is told of each step; True: a bar of our own.
        study_progress = self.progress if hasattr(self.progress, "round_step") else None
        bar = None
        if study_progress is not None:
            study_progress.round_started(total)
        elif self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc="round", unit="step", leave=False)
        outcomes = [TrialOutcome() for _ in members]
        starts = [time.perf_counter()] * len(members)
        lockstep = []
        for i, member in enumerate(members):
            starts[i] = time.perf_counter()
            if supports_lockstep(member):
                lockstep.append(i)
            else:
                outcomes[i] = SequentialExecutor().run([member])[0]
        obs: dict[int, np.ndarray] = {}
        for i in lockstep:
            try:
                obs[i] = members[i].start_trial()
            except Exception as exc:
                outcomes[i] = TrialOutcome(None, exc, time.perf_counter() - starts[i])
        acted: list[int] = []  # members whose episode ended: they train together below
        while obs:
            active = sorted(obs)
            planned = [i for i in active if not members[i].in_random_trial]
            actions: dict[int, np.ndarray] = {}
            if planned:
                try:
                    batch = plan_population(
                        [members[i].planner for i in planned], np.stack([obs[i] for i in planned])
                    )
                    actions.update(zip(planned, batch, strict=True))
                except Exception:
                    # Find the member at fault: plan each alone; its error ends its trial.
                    for i in planned:
                        try:
                            actions[i] = members[i].planner.plan(obs[i])
                        except Exception as exc:
                            self._fail(members[i], outcomes, i, exc, starts[i])
                            del obs[i]
            for i in active:
                if i not in obs:
                    continue
                member = members[i]
                try:
                    action = actions[i] if i in actions else member.random_action()
                    next_obs, done = member.step_trial(action)
                    if done:
                        acted.append(i)
                        del obs[i]
                    else:
                        obs[i] = next_obs
                except Exception as exc:
                    self._fail(member, outcomes, i, exc, starts[i])
                    del obs[i]
            if study_progress is not None:
                study_progress.round_step()
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        trained = self._train(members, sorted(acted), outcomes, starts, study_progress)
        for i in sorted(acted):
            if outcomes[i].error is not None:  # its training failed (model rolled back)
                try:  # ends its trial untrained, so that the member stays usable
                    members[i].finish_trial(trained=(None, True, 0.0))
                except Exception as exc:  # the training error stays the cause
                    _note_secondary(outcomes[i].error, "finish_trial", exc)
                continue
            try:
                kwargs = {"trained": trained[i]} if i in trained else {}
                outcomes[i] = TrialOutcome(
                    members[i].finish_trial(**kwargs), None, time.perf_counter() - starts[i]
                )
            except Exception as exc:
                self._fail(members[i], outcomes, i, exc, starts[i])
        return outcomes

    @staticmethod
    def _train(
        members: Sequence[Any],
        indices: Sequence[int],
        outcomes: list[TrialOutcome],
        starts: list[float],
        progress: Any = None,
    ) -> dict[int, Any]:
        """Trains every member whose trial has acted in one ``train_population`` call, each
        on all its data (this trial's episode included, ``finish_episode``) with its own
        hyperparameters. ``progress`` (a study's, if it has ``training_started(members)`` and
        ``training_step(done, total)``) is told of every training step: training a grown
        buffer can take longer than the planning.

        Returns each trained member's ``finish_training`` outcome (for ``finish_trial``). If the
        call fails, every member is put back as it was (model and random stream) and trained
        alone, so that the failure is only the faulty member's.
        """
        prepared: dict[int, tuple[Any, Any, dict]] = {}
        train_population = None
        for i in indices:
            member = members[i]
            trainer = getattr(member, "train_population", None)
            if not hasattr(member, "training_job") or trainer is None:
                continue  # trains (if at all) in finish_trial
            if train_population is not None and trainer is not train_population:
                continue  # another kind of member: it trains alone in finish_trial
            train_population = trainer
            try:
                member.finish_episode()
                job, before = member.training_job()
                prepared[i] = (job, before, job.rng.bit_generator.state)
            except Exception as exc:
                outcomes[i] = TrialOutcome(None, exc, time.perf_counter() - starts[i])
        if not prepared:
            return {}
        watched = hasattr(progress, "training_step")
        on_step = progress.training_step if watched else None
        if watched:
            progress.training_started(len(prepared))
        start = time.perf_counter()
        try:
            jobs = [p[0] for p in prepared.values()]
            losses = dict(zip(prepared, train_population(jobs, on_step=on_step), strict=True))
            elapsed = {i: time.perf_counter() - start for i in prepared}
        except Exception:
            losses, elapsed = {}, {}
            for i, (job, before, rng_state) in prepared.items():
                members[i].model.load_state_dict(before)
                job.rng.bit_generator.state = rng_state
                alone = time.perf_counter()
                try:
                    losses[i] = train_population([job], on_step=on_step)[0]
                    elapsed[i] = time.perf_counter() - alone
                except Exception as exc:
                    members[i].model.load_state_dict(before)
                    outcomes[i] = TrialOutcome(None, exc, time.perf_counter() - starts[i])
        return {
            i: members[i].finish_training(losses[i], prepared[i][1], elapsed[i]) for i in losses
        }

    @staticmethod
    def _fail(
        member: Any, outcomes: list[TrialOutcome], i: int, exc: BaseException, start: float
    ) -> None:
        try:
            member.finish_trial()  # leaves the member consistent (its partial episode kept)
        except Exception as secondary:  # the first error stays the cause
            _note_secondary(exc, "finish_trial", secondary)
        outcomes[i] = TrialOutcome(None, exc, time.perf_counter() - start)


def _note_secondary(error: BaseException, step: str, secondary: BaseException) -> None:
    """Records on the member's ``error`` (its trial's cause) that ``step`` failed after it,
    and keeps the secondary exception (``error.secondary``): nothing is swallowed."""
    error.add_note(f"then {step} failed too: {type(secondary).__name__}: {secondary}")
    error.secondary = secondary
