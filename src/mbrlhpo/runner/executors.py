"""Executors: how a round's trials of several members are run.

- ``SequentialExecutor``: one member after another (any member type).
- ``LockstepExecutor``: members that can run a trial in parts (``start_trial``, ``step_trial``,
  ``finish_trial``, e.g. ``PETSAgent``) are trained one after another, then their episodes
  advance step by step together and every step's planning for all of them is one
  ``plan_population`` call: one native call (GIL released) for the whole population. Each
  member keeps its own environment and random streams, so a member's trial is bit-identical to
  running it alone; only the planning is batched.

A failure of one member (an exception) is that member's outcome; the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


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
    return all(
        hasattr(member, name)
        for name in ("start_trial", "step_trial", "finish_trial", "random_action", "planner")
    )


class LockstepExecutor:
    """Runs a population's trials together, planning all members in one call per step.

    Members that cannot run in parts fall back to ``run_trial``. ``progress``: show a bar of
    the round's episode steps (on stderr).
    """

    def __init__(self, progress: bool = False) -> None:
        self.progress = progress

    def run(self, members: Sequence[Any]) -> list[TrialOutcome]:
        from mbrlhpo.planning import plan_population

        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            # A total (the longest episode) gives the bar an estimate of the time left.
            steps = [getattr(getattr(m, "task", None), "steps_per_trial", 0) for m in members]
            bar = tqdm(total=max(steps, default=0) or None, desc="round", unit="step",
                       leave=False)
        outcomes = [TrialOutcome() for _ in members]
        starts = [time.perf_counter()] * len(members)
        obs: dict[int, np.ndarray] = {}
        for i, member in enumerate(members):
            starts[i] = time.perf_counter()
            if not supports_lockstep(member):
                outcomes[i] = SequentialExecutor().run([member])[0]
                continue
            try:
                obs[i] = member.start_trial()  # trains: one member after another
            except Exception as exc:
                outcomes[i] = TrialOutcome(None, exc, time.perf_counter() - starts[i])
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
                        outcomes[i] = TrialOutcome(
                            member.finish_trial(), None, time.perf_counter() - starts[i]
                        )
                        del obs[i]
                    else:
                        obs[i] = next_obs
                except Exception as exc:
                    self._fail(member, outcomes, i, exc, starts[i])
                    del obs[i]
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return outcomes

    @staticmethod
    def _fail(
        member: Any, outcomes: list[TrialOutcome], i: int, exc: BaseException, start: float
    ) -> None:
        try:
            member.finish_trial()  # leaves the member consistent (its partial episode kept)
        except Exception:
            pass
        outcomes[i] = TrialOutcome(None, exc, time.perf_counter() - start)
