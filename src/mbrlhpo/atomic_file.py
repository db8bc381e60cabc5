"""Writing a file atomically: a reader sees the old file or the whole new one, never a part.

The content goes to a temporary file next to ``path`` (``.NAME.tmp-PID``: a kill before the
rename leaves it, and the next writer of that folder removes it), is flushed to disk, gets the
mode a plain ``open()`` would give (0666 less the umask; the tools that write it, e.g.
safetensors, may create 0600 files), replaces ``path`` in one rename, and the folder's entry is
flushed too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Calls ``write(tmp)`` to fill a temporary file, then puts it in place of ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
    return path


def current_umask() -> int:
    """This process's umask, read without changing it (Linux: /proc; elsewhere set and reset
    at once)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass  # no /proc (macOS): fall back below
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_dir(directory: Path) -> None:
    """Flushes ``directory``'s entries (a rename into it survives a power cut)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
