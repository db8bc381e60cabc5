"""``mbrlhpo report --html --watch N``: rewrite a study's page every N seconds while it runs.

The database is only ever read: a read-only SQLite connection (no lock file, no writes), one
short read transaction per rewrite (WAL readers never block the writer), so the study's
process is never slowed or stopped by a watcher. Until the study has been read once, a missing
or half-created database is waited for (the page says why); after that an error ends the
watch (never the study). The loop ends when the study is done or failed (after writing the
final page), or after ``max_rewrites``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from mbrlhpo.analysis.html_report import write_html_report
from mbrlhpo.store.sqlite_store import StoreError


def _waiting_page(path: Path, db: Path, why: str, every: float) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="refresh" content="{every:g}"><title>mbrlhpo: waiting</title>'
        f"</head><body><p>waiting for the study in {db}: {why}</p></body></html>\n",
        encoding="utf-8",
    )
    os.replace(tmp, path)


def watch(
    db: str | os.PathLike,
    path: str | os.PathLike,
    every: float,
    k: int = 5,
    max_rewrites: int | None = None,
    on_write: Callable[[int, str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Rewrites the page of the study in ``db`` at ``path`` every ``every`` seconds until the
    study ends; returns its last state (``done``, ``failed``, or ``running`` when
    ``max_rewrites`` ran out). ``on_write(n, state)`` is called after each rewrite."""
    if not every > 0:
        raise ValueError(f"every: expected seconds > 0, got {every!r}")
    db, path = Path(db), Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n, state, seen = 0, "running", False
    while max_rewrites is None or n < max_rewrites:
        try:
            _, state = write_html_report(db, path, k, refresh=every)
            seen = True
        except (StoreError, ValueError) as exc:
            if seen:  # it was a study a moment ago: a real problem, not a late start
                raise
            _waiting_page(path, db, str(exc), every)  # not created, or being created
            state = "waiting"
        n += 1
        if on_write is not None:
            on_write(n, state)
        if state in ("done", "failed"):
            return state
        sleep(every)
    return state
