"""One overall progress line for a suite: cells done of total, time elapsed and an estimate.

A bar (tqdm) on a terminal; otherwise one plain line per finished cell (logs, CI). The estimate
is the mean time of the cells finished in this run times the cells left (cells found finished
on resume take no time and are not counted in it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    def __init__(
        self,
        total: int,
        done: int = 0,
        stream: IO[str] | None = None,
        resumed_from: Path | None = None,
    ) -> None:
        self.total, self.done, self.ran = total, done, 0
        self.stream = stream if stream is not None else sys.stderr
        if resumed_from is not None:  # said once, also above a bar
            print(
                f"bench: resuming {resumed_from}: {done}/{total} cells done, {total - done} to run",
                file=self.stream,
                flush=True,
            )
        self.start = time.monotonic()
        self.bar = None
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="cell", desc="bench", file=self.stream)
        else:
            print(f"bench: {done}/{total} cells done", file=self.stream, flush=True)

    def estimate(self) -> float | None:
        """Seconds left, from the cells run so far in this run (None before the first)."""
        if self.ran == 0:
            return None
        return (time.monotonic() - self.start) / self.ran * (self.total - self.done)

    def cell_done(self, name: str) -> None:
        self.done += 1
        self.ran += 1
        if self.bar is not None:
            self.bar.set_postfix_str(name)
            self.bar.update(1)
            return
        left = self.estimate()
        print(
            f"bench: {self.done}/{self.total} cells done ({name}), elapsed "
            f"{_clock(time.monotonic() - self.start)}, about {_clock(left or 0)} left",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
