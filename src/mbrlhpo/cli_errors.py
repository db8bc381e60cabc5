"""The CLI's one place for errors: known ones become one line on stderr and an exit status.

A known error is the user's input or environment (bad settings, a damaged or busy study, a
full disk, a missing optional package): it is printed as ``mbrlhpo: error: <one line>``
without a traceback. Anything else is a bug and keeps its traceback. ``--debug`` or
``MBRLHPO_DEBUG=1`` shows the traceback of every error.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def debug_requested(flag: bool = False) -> bool:
    return flag or os.environ.get("MBRLHPO_DEBUG", "") not in ("", "0")


def one_line(exc: BaseException) -> str | None:
    """The user-facing line for a known error, or None for a bug."""
    from mbrlhpo._native import BackendUnavailable
    from mbrlhpo.runner.checkpoints import CheckpointCorrupt
    from mbrlhpo.runner.study import AllMembersFailed
    from mbrlhpo.store.sqlite_store import StoreError

    known = (StoreError, CheckpointCorrupt, AllMembersFailed, BackendUnavailable, ValueError)
    if isinstance(exc, known):
        text = str(exc)
    elif isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            where = f" writing {exc.filename}" if exc.filename else ""
            text = (
                f"the disk is full{where}; free space and run the same command again "
                "(finished trials are stored)"
            )
        else:
            text = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    elif isinstance(exc, sqlite3.Error):
        text = f"the study database failed: {exc}"
    elif isinstance(exc, MemoryError):
        text = "out of memory; use smaller settings (population, particles, horizon, hidden)"
    elif isinstance(exc, ImportError):
        text = str(exc)
    else:
        return None
    return " ".join(text.split())  # one line


def report(exc: BaseException, debug: bool = False) -> int:
    """Print ``exc`` as one line (re-raise it when unknown or when debugging); exit status."""
    if isinstance(exc, KeyboardInterrupt):
        if debug_requested(debug):
            raise exc
        print(
            "mbrlhpo: interrupted; finished trials are stored: run the same command again to "
            "resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    line = one_line(exc)
    if line is None or debug_requested(debug):
        raise exc
    print(f"mbrlhpo: error: {line}", file=sys.stderr)
    return EXIT_ERROR
