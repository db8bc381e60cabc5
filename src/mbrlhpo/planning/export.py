"""Export a trained PETS policy to one file that the C++ core plans with (no Python needed).

The file (format ``mbrlhpo-policy``, version 1) is safetensors: the ensemble's weights and
biases, the logvar bounds, the input normaliser and the action bounds as float32 tensors, and
``__metadata__`` (strings) with the task, dims, CEM settings, planner seed, the task's MJCF text
(so ``examples/cpp_controller`` needs only this file), the mbrlhpo version and a SHA-256 over
all of it. The exact layout and checksum are specified in ``csrc/include/mbrlhpo/model_file.h``;
``mbrlhpo::ModelFile`` loads it and ``mbrlhpo::LoadPlanner`` builds a planner from it.

Tensors: ``layer{i}.weight`` ``(E x in_i x out_i)``, ``layer{i}.bias`` ``(E x 1 x out_i)``,
``max_logvar`` / ``min_logvar`` ``(1 x O)``, ``input_mean`` / ``input_std`` ``(1 x D)``,
``action_low`` / ``action_high`` ``(A,)``.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "mbrlhpo-policy"
FORMAT_VERSION = 1


class PolicyFileError(ValueError):
    """An exported policy file is missing, corrupt, truncated or of another format/version."""


def policy_checksum(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    """SHA-256 (hex) over tensors and metadata, as ``mbrlhpo::ModelFileChecksum`` computes it.

    For each tensor in ascending name order: ``"T" name NUL "F32" NUL "d0,d1,..." NUL bytes``;
    then for each metadata key but ``sha256`` in ascending order: ``"M" key NUL value NUL``.
    Names are compared as UTF-8 bytes (the same order as code points).
    """
    h = hashlib.sha256()
    for name in sorted(arrays, key=lambda s: s.encode()):
        a = np.ascontiguousarray(arrays[name])
        if a.dtype != np.float32:
            raise ValueError(f"expected float32 tensor {name!r}, got {a.dtype}")
        shape = ",".join(str(d) for d in a.shape)
        h.update(b"T" + name.encode() + b"\0F32\0" + shape.encode() + b"\0")
        h.update(a.astype("<f4", copy=False).tobytes())
    for key in sorted(metadata, key=lambda s: s.encode()):
        if key != "sha256":
            h.update(b"M" + key.encode() + b"\0" + metadata[key].encode() + b"\0")
    return h.hexdigest()


def _numpy(t: Any) -> np.ndarray:
    if hasattr(t, "detach"):
        t = t.detach().cpu().numpy()
    return np.ascontiguousarray(t, dtype=np.float32)


def policy_arrays(model: Any, task: Any) -> dict[str, np.ndarray]:
    """The tensors of a policy file from a :class:`mbrlhpo.models.DynamicsModel` (copies)."""
    w = model.planner_weights()
    arrays: dict[str, np.ndarray] = {}
    for i, (weight, bias) in enumerate(zip(w.weights, w.biases, strict=True)):
        arrays[f"layer{i}.weight"] = _numpy(weight)
        arrays[f"layer{i}.bias"] = _numpy(bias)
    arrays["max_logvar"] = _numpy(w.max_logvar)
    arrays["min_logvar"] = _numpy(w.min_logvar)
    arrays["input_mean"] = _numpy(w.input_mean)
    arrays["input_std"] = _numpy(w.input_std)
    arrays["action_low"] = np.asarray(task.action_low, dtype=np.float32).reshape(-1).copy()
    arrays["action_high"] = np.asarray(task.action_high, dtype=np.float32).reshape(-1).copy()
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise ValueError(f"cannot export a policy whose {name} contains NaN or inf")
    return arrays


def export_policy(path: str | os.PathLike, task: Any, model: Any, config: Any, seed: int) -> Path:
    """Writes the policy (task, model, CEM ``config``, planner ``seed``) to ``path`` atomically.

    Returns the path written. Raises ValueError for a model that does not fit the task or has
    non-finite weights.
    """
    from safetensors.numpy import save_file

    from mbrlhpo import __version__
    from mbrlhpo.atomic_file import write_atomically

    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**64:
        raise ValueError(f"expected seed to be an int in [0, 2^64), got {seed!r}")
    arrays = policy_arrays(model, task)
    sizes = [arrays["layer0.weight"].shape[1]]
    layers = sum(1 for k in arrays if k.endswith(".weight"))
    for i in range(layers):
        sizes.append(arrays[f"layer{i}.weight"].shape[2])
    if getattr(task, "model_file", None) is None:
        raise ValueError(
            f"task {task.name!r} is a custom task: a policy file carries a built-in task's "
            "MJCF for the C++ controller; plan a custom task from Python (a C++ program adds "
            "its own task with RegisterPlannerTask, docs/custom_task.md)"
        )
    obs_dim, act_dim = int(task.obs_dim), int(task.act_dim)
    input_dim = int(task.model_input_dim) + act_dim
    if sizes[0] != input_dim or sizes[-1] != 2 * obs_dim:
        raise ValueError(
            f"expected a model of input width {input_dim} and output width "
            f"{2 * obs_dim} for task {task.name!r}, got layer sizes {sizes}"
        )
    ensemble_size = int(arrays["layer0.weight"].shape[0])
    if config.particles % ensemble_size != 0:
        raise ValueError(
            f"expected particles to be a multiple of the ensemble size "
            f"{ensemble_size}, got {config.particles}"
        )
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "mbrlhpo_version": __version__,
        "task": str(task.name),
        "obs_dim": str(obs_dim),
        "act_dim": str(act_dim),
        "input_dim": str(input_dim),
        "ensemble_size": str(ensemble_size),
        "num_layers": str(layers),
        "layer_sizes": ",".join(str(s) for s in sizes),
        "cem.horizon": str(int(config.horizon)),
        "cem.population": str(int(config.population)),
        "cem.elite_ratio": repr(float(config.elite_ratio)),
        "cem.num_elites": str(int(config.num_elites)),
        "cem.iterations": str(int(config.iterations)),
        "cem.alpha": repr(float(config.alpha)),
        "cem.particles": str(int(config.particles)),
        "seed": str(int(seed)),
        "mjcf": Path(task.model_file).read_text(),
    }
    if not (math.isfinite(float(config.alpha)) and math.isfinite(float(config.elite_ratio))):
        raise ValueError("expected finite CEM alpha and elite_ratio")
    metadata["sha256"] = policy_checksum(arrays, metadata)
    # 0666 less the umask (0644 by default): a policy file is meant to be read by others.
    return write_atomically(path, lambda tmp: save_file(arrays, str(tmp), metadata=metadata))


def export_agent(agent: Any, path: str | os.PathLike) -> Path:
    """Exports a :class:`mbrlhpo.PETSAgent`'s policy: its model, CEM settings and planner seed.

    The file plans like ``agent.act`` at the start of an episode: the C++ planner starts from
    the middle of the action range and plan counter 0 (``mbrlhpo::FilePlanner::set_step`` sets
    another counter).
    """
    planner = agent.planner
    return export_policy(path, agent.task, agent.model, planner.config, int(planner.seed))


def read_policy(path: str | os.PathLike) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Reads and verifies a policy file in pure Python (format, version, checksum).

    Returns ``(metadata, arrays)``; raises :class:`PolicyFileError`. The C++ loader
    (``mbrlhpo._core.load_model_file``) is stricter (shapes against the task); this reader is
    its independent reference.
    """
    from safetensors import SafetensorError, safe_open
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise PolicyFileError(f"no policy file at {path}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = dict(f.metadata() or {})
        arrays = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise PolicyFileError(f"corrupt or truncated policy file {path}: {exc}") from None
    if metadata.get("format") != FORMAT:
        raise PolicyFileError(
            f"{path} is not an mbrlhpo policy file "
            f"(format {metadata.get('format')!r}, expected {FORMAT!r})"
        )
    if metadata.get("format_version") != str(FORMAT_VERSION):
        raise PolicyFileError(
            f"{path} has policy format version "
            f"{metadata.get('format_version')!r}; this mbrlhpo reads "
            f"version {FORMAT_VERSION}"
        )
    for name, a in arrays.items():
        if a.dtype != np.float32:
            raise PolicyFileError(
                f"{path}: expected tensor {name!r} of dtype float32, got {a.dtype}"
            )
    if policy_checksum(arrays, metadata) != metadata.get("sha256"):
        raise PolicyFileError(f"checksum mismatch in {path}: the file is corrupt")
    return metadata, arrays


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "PolicyFileError",
    "export_agent",
    "export_policy",
    "policy_arrays",
    "policy_checksum",
    "read_policy",
]
