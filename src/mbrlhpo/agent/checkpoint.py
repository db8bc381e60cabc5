"""Checkpoint files: named arrays plus JSON metadata, without pickle, checksummed, atomic.

One file per checkpoint in the safetensors format: arrays as tensors, everything else as one
JSON string in the header. A SHA-256 over every array (name, dtype, shape, bytes) and the JSON
is stored beside them, so a truncated or corrupted file is rejected, never half-loaded. Files
are written to a temporary name, fsynced and renamed, so a crash mid-save leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from mbrlhpo.atomic_file import write_atomically

FORMAT = "mbrlhpo-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, truncated or of another format/version."""


def array_digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over named arrays (name, dtype, shape, bytes), independent of dict order."""
    return _digest(arrays, "")


def _digest(arrays: dict[str, np.ndarray], meta_json: str) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        array = np.asarray(arrays[name], order="C")
        h.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        h.update(array.tobytes())
    h.update(meta_json.encode())
    return h.hexdigest()


def write_checkpoint(
    path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict[str, Any], kind: str
) -> str:
    """Writes ``arrays`` and JSON-able ``meta`` to ``path`` atomically; returns the SHA-256."""
    arrays = {name: np.asarray(a, order="C") for name, a in arrays.items()}  # keeps 0-d shapes
    meta_json = json.dumps(meta, sort_keys=True, allow_nan=False)
    digest = _digest(arrays, meta_json)
    header = {
        "format": FORMAT,
        "version": str(FORMAT_VERSION),
        "kind": kind,
        "meta": meta_json,
        "sha256": digest,
    }
    write_atomically(path, lambda tmp: save_file(arrays, str(tmp), metadata=header))
    return digest


def read_checkpoint(
    path: str | os.PathLike, kind: str
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Reads and verifies a checkpoint of the given kind; raises CheckpointError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            header = f.metadata() or {}
        arrays = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"corrupt or truncated checkpoint {path}: {exc}") from None
    if header.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not an mbrlhpo checkpoint (format {header.get('format')!r})"
        )
    if header.get("version") != str(FORMAT_VERSION):
        raise CheckpointError(
            f"{path} has checkpoint format version {header.get('version')!r}; "
            f"this mbrlhpo reads version {FORMAT_VERSION}"
        )
    if header.get("kind") != kind:
        raise CheckpointError(
            f"{path} holds a {header.get('kind')!r} checkpoint, expected {kind!r}"
        )
    meta_json = header.get("meta", "")
    if _digest(arrays, meta_json) != header.get("sha256"):
        raise CheckpointError(f"checksum mismatch in {path}: the file is corrupt")
    return arrays, json.loads(meta_json)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (for the study store's checkpoint references)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
