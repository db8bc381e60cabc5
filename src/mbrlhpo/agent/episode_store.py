"""A content-addressed store of episodes shared by the checkpoints of a study.

Each episode (the transitions of one trial) is written once, as ``<root>/<sha256>.safetensors``
named by the SHA-256 of its arrays, and checkpoints refer to episodes by that name. Members
that share history (PBT's exploit copies replay buffers) then share the files too: a
checkpoint costs the model and optimiser plus the episodes nobody has written yet, instead of
the whole replay buffer every trial. Files are never modified; a name is verified against its
content when read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mbrlhpo.agent.checkpoint import (
    CheckpointError,
    array_digest,
    read_checkpoint,
    write_checkpoint,
)

KIND = "episode"


class EpisodeStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise CheckpointError(f"expected a SHA-256 hex digest as episode name, got {digest!r}")
        return self.root / f"{digest}.safetensors"

    def put(self, digest: str, arrays: dict[str, np.ndarray]) -> None:
        """Writes an episode unless it is already stored (atomic, so never half-written)."""
        path = self.path(digest)
        if not path.is_file():
            self.root.mkdir(parents=True, exist_ok=True)
            write_checkpoint(path, arrays, {}, KIND)

    def get(self, digest: str) -> dict[str, np.ndarray]:
        """Reads an episode and checks that its content matches its name."""
        arrays, _ = read_checkpoint(self.path(digest), KIND)
        if array_digest(arrays) != digest:
            raise CheckpointError(f"episode {self.path(digest)} does not match its name")
        return arrays
