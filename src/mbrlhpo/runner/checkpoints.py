"""Checkpoint directories of a study: layout, checksums, verified loading, deletion."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from mbrlhpo.runner.protocol import Member


class CheckpointCorrupt(RuntimeError):
    """A checkpoint is missing or its checksum does not match the store."""


MANIFEST = ".mbrlhpo-files"  # the files a checkpoint wrote, one relative path a line


def dir_sha256(path: str | os.PathLike, files: list[str] | None = None) -> tuple[str, int]:
    """sha256 over a directory's files (sorted relative paths and contents), and total bytes.

    ``files``: only these relative paths (a missing one raises CheckpointCorrupt); default:
    every file in the directory."""
    root = Path(path)
    h = hashlib.sha256()
    total = 0
    if files is None:
        paths = sorted(p for p in root.rglob("*") if p.is_file())
    else:
        paths = [root / f for f in sorted(files)]
        gone = [f for f, p in zip(sorted(files), paths, strict=True) if not p.is_file()]
        if gone:
            raise CheckpointCorrupt(f"checkpoint {root}: file {gone[0]} is missing")
    for p in paths:
        rel = p.relative_to(root).as_posix().encode()
        h.update(len(rel).to_bytes(8, "little"))
        h.update(rel)
        size = p.stat().st_size
        h.update(size.to_bytes(8, "little"))
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        total += size
    return h.hexdigest(), total


class CheckpointDir:
    """``<root>/m<member>/t<trial>/``: one directory per member per trial."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def relpath(member: int, trial: int) -> str:
        return f"m{member:04d}/t{trial:05d}"

    def save(self, obj: Member, member: int, trial: int) -> tuple[str, str, int]:
        """Save ``obj`` as (member, trial); returns (relative path, sha256, bytes). A leftover
        directory (from a run killed before its store commit) is replaced."""
        rel = self.relpath(member, trial)
        path = self.root / rel
        if path.exists():
            shutil.rmtree(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        obj.save(path)
        # Hash (and list) what the member wrote, so a file added later does not count.
        files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
        sha, nbytes = dir_sha256(path, files)
        (path / MANIFEST).write_text("".join(f + "\n" for f in files))
        return rel, sha, nbytes

    def load(self, cls: type, rel: str, sha256: str) -> Member:
        """Load a checkpoint after checking its checksum."""
        path = self.root / rel
        if not path.is_dir():
            raise CheckpointCorrupt(f"checkpoint {path} is missing")
        manifest = path / MANIFEST
        if manifest.is_file():  # a checkpoint without one predates it: all its files count
            files = [f for f in manifest.read_text().splitlines() if f]
        else:
            files = None
        got, _ = dir_sha256(path, files)
        if got != sha256:
            raise CheckpointCorrupt(f"checkpoint {path}: expected sha256 {sha256}, got {got}")
        return cls.load(path)

    def delete(self, rel: str) -> None:
        shutil.rmtree(self.root / rel, ignore_errors=True)
