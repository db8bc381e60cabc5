"""Temporary files that a killed writer left behind, and their removal.

Every atomic write goes through a temporary name beside its file, renamed into place: a
SIGKILL between the two leaves the temporary one. A name that carries its writer's process id
(``.NAME.tmp-PID``, ``.NAME.PID.tmp``, the writers of the study folder) is removed once that
process is gone; one without (``NAME.tmp``, from writers that hold the study's lock, or a
test member's ``.NAME.<hex>.tmp`` folder) is removed by the study's writer, who holds that
lock, when it opens the study.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_WITH_PID = re.compile(r"^\..+\.(?:tmp-(\d+)|(\d+)\.tmp)$")


def temp_name(path: Path) -> Path:
    """The temporary name for writing ``path`` atomically in this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or no process could have it
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary name of an atomic write (never a study's own file)."""
    return _WITH_PID.match(name) is not None or name.endswith(".tmp")


def _is_leftover(name: str, pidless: bool) -> bool:
    m = _WITH_PID.match(name)
    if m is not None:
        return not _alive(int(m.group(1) or m.group(2)))
    return pidless and name.endswith(".tmp")


def remove_leftover_temps(folder: str | os.PathLike, pidless: bool = False) -> list[Path]:
    """Removes the temporary files (and a test member's temporary folders) under ``folder``
    whose writer is gone; ``pidless``: also those that name no process (only the holder of
    the study's lock may: their writers hold it too). Returns what was removed."""
    removed = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in list(dirnames):
            if _is_leftover(name, pidless):
                shutil.rmtree(Path(dirpath) / name, ignore_errors=True)
                dirnames.remove(name)
                removed.append(Path(dirpath) / name)
        for name in filenames:
            if _is_leftover(name, pidless):
                try:
                    os.unlink(Path(dirpath) / name)
                except FileNotFoundError:  # its writer renamed it meanwhile
                    continue
                removed.append(Path(dirpath) / name)
    return removed
