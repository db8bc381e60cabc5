"""A study's progress as a person watches it: trials done of the total, elapsed, an estimate.

On a terminal: a rich bar for the study (trials) and one for the round in flight (environment
steps, updated as the lockstep executor steps the population) and one for the population's
training after it (batched Adam steps). Elsewhere (a log file, CI): plain lines, one at most
every ``every`` seconds and at each phase, so a log stays readable and still shows the study
is alive. The estimate is the time per trial of this run (a resumed
study's stored trials do not count as fast trials) times the trials left.

The runner knows nothing of this: ``tuning.tune`` and the CLI hand ``trial_done`` and the
step hooks to the study's callbacks and executor; the executor hands ``training_step`` to the
trainer (``train_population(on_step=...)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO


def _clock_text(seconds: float) -> str:
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def _members(n: int) -> str:
    return f"{n} member" if n == 1 else f"{n} members"


class StudyProgress:
    """Progress of one study run.

    ``total``: the study's trials (members x rounds; None where it is not known ahead, e.g.
    Hyperband: then no estimate). ``done``: trials already stored when this run started (a
    resumed study). ``stream``: where plain lines go; ``console``: a rich Console for the
    bars (a terminal). ``clock``: seconds, monotone (passed in so tests drive time).
    ``name``: the first phase (a study's members); ``steps_of``: what the environment steps
    are counted in (a study's round of the population; ``mbrlhpo pets``: its trial).
    """

    def __init__(
        self,
        total: int | None,
        done: int = 0,
        *,
        stream: TextIO | None = None,
        console: Any = None,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        name: str = "members",
        steps_of: str = "round",
    ) -> None:
        self.total = total
        self.done = done
        self._start_done = done
        self._stream = stream
        self._every = every
        self._clock = clock
        self._t0 = clock()
        self._last_line = self._t0
        self._phase = name
        self._steps_of = steps_of
        self._round_total: int | None = None
        self._round_done = 0
        self._training: tuple[int, int, int | None] | None = None  # members, steps done, total
        self._bars = None
        if console is not None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=console,
            )
            self._study_task = self._bars.add_task(f"{name}: trials", total=total, completed=done)
            self._round_task = self._bars.add_task(f"{steps_of}: steps", total=None, visible=False)
            self._training_task = self._bars.add_task("training", total=None, visible=False)
            self._bars.start()

    # -- what the study reports ---------------------------------------------------------------
    def begin(self, total: int | None) -> None:
        """The study's settings are known: ``total`` trials (None: not known ahead)."""
        self.total = total
        if self._bars is not None:
            self._bars.update(self._study_task, total=total, completed=self.done)

    def phase(self, name: str, total: int | None = None, done: int = 0) -> None:
        """A new phase (members, defaults, evaluation) of ``total`` trials, ``done`` of them
        stored: said at once, in either mode; the estimate restarts with it."""
        self._phase, self.total, self.done, self._start_done = name, total, done, done
        self._t0 = self._clock()
        self._round_total, self._training = None, None
        if self._bars is not None:
            self._bars.reset(self._study_task, total=total, completed=done)
            self._bars.update(self._study_task, description=f"{name}: trials")
            self._bars.update(self._round_task, visible=False)
            self._bars.update(self._training_task, visible=False)
        else:
            self._line(force=True)

    def trial_done(self, *_: Any) -> None:
        """One trial stored (any arguments ignored: it is the runner's ``on_trial``)."""
        self.done += 1
        if self._bars is not None:
            self._bars.update(self._study_task, completed=self.done)
        else:
            self._line()

    def round_started(self, steps: int | None) -> None:
        """The executor starts a round of ``steps`` environment steps per member."""
        self._round_total, self._round_done, self._training = steps, 0, None
        if self._bars is not None:
            self._bars.reset(self._round_task, total=steps, visible=True)
            self._bars.update(self._training_task, visible=False)

    def round_step(self) -> None:
        self._round_done += 1
        if self._bars is not None:
            self._bars.advance(self._round_task)
        else:
            self._line()

    def training_started(self, members: int) -> None:
        """The round's acting is over: ``members`` models train (one batched call)."""
        self._training = (members, 0, None)
        if self._bars is not None:
            self._bars.reset(
                self._training_task,
                total=None,
                visible=True,
                description=f"training {_members(members)}: steps",
            )

    def training_step(self, done: int, total: int) -> None:
        """``done`` of the training call's ``total`` batched Adam steps are taken."""
        members = self._training[0] if self._training is not None else 1
        self._training = (members, done, total)
        if self._bars is not None:
            self._bars.update(self._training_task, completed=done, total=total)
        else:
            self._line()

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    # -- what a person reads ------------------------------------------------------------------
    def estimate(self) -> float | None:
        """Seconds left: this run's time per trial times the trials left (None: unknown)."""
        ran = self.done - self._start_done
        if self.total is None or ran <= 0:
            return None
        per_trial = (self._clock() - self._t0) / ran
        return max(self.total - self.done, 0) * per_trial

    def text(self) -> str:
        """``progress: members, 12/48 trials, round 35/100 steps, 1m20s elapsed, about 4m00s
        left`` (``training 8 members, 340/1900 steps`` in place of the round while the
        population trains)."""
        parts = [f"progress: {self._phase}"]
        parts.append(f"{self.done}/{self.total} trials" if self.total else f"{self.done} trials")
        if self._training is not None:
            members, done, total = self._training
            parts.append(f"training {_members(members)}, {done}/{total or '?'} steps")
        elif self._round_total:
            parts.append(f"{self._steps_of} {self._round_done}/{self._round_total} steps")
        parts.append(f"{_clock_text(self._clock() - self._t0)} elapsed")
        left = self.estimate()
        parts.append(
            "estimate after the first trial" if left is None else f"about {_clock_text(left)} left"
        )
        return ", ".join(parts)

    def _line(self, force: bool = False) -> None:
        now = self._clock()
        if self._stream is None or not (force or now - self._last_line >= self._every):
            return
        self._last_line = now
        print(self.text(), file=self._stream, flush=True)


def progress_on_stderr(total: int | None, done: int = 0, **kwargs: Any) -> StudyProgress:
    """A command's progress on stderr: bars where stderr is a terminal, plain lines at most
    every 10 s otherwise (a log, a pipe), so that stdout keeps only the command's results."""
    import sys

    if sys.stderr.isatty():
        from rich.console import Console

        return StudyProgress(total, done, console=Console(stderr=True), **kwargs)
    return StudyProgress(total, done, stream=sys.stderr, **kwargs)
