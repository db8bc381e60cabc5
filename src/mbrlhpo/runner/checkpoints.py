"""Checkpoint directories of a study: layout, checksums, verified loading, deletion."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from mbrlhpo.runner.protocol import Member


class CheckpointCorrupt(RuntimeError):
    """A checkpoint is missing or its checksum does not match the store."""


def dir_sha256(path: str | os.PathLike) -> tuple[str, int]:
    """sha256 over a directory's files (sorted relative paths and contents), and total bytes."""
    root = Path(path)
    h = hashlib.sha256()
    total = 0
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for p in files:
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
        sha, nbytes = dir_sha256(path)
        return rel, sha, nbytes

    def load(self, cls: type, rel: str, sha256: str) -> Member:
        """Load a checkpoint after checking its checksum."""
        path = self.root / rel
        if not path.is_dir():
            raise CheckpointCorrupt(f"checkpoint {path} is missing")
        got, _ = dir_sha256(path)
        if got != sha256:
            raise CheckpointCorrupt(f"checkpoint {path}: expected sha256 {sha256}, got {got}")
        return cls.load(path)

    def delete(self, rel: str) -> None:
        shutil.rmtree(self.root / rel, ignore_errors=True)
