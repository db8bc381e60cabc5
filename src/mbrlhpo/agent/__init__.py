"""mbrlhpo.agent: the PETS agent (Algorithm 1), its hyperparameters, data and checkpoints.

The agent and its replay buffer load on first use (PEP 562): reading hyperparameters and
checking a command's settings must not import torch (about a second), so that a bad value is
answered at once.
"""

from importlib import import_module
from typing import Any

from mbrlhpo.agent.checkpoint import CheckpointError
from mbrlhpo.agent.hparams import PROFILES, TUNABLE, PETSHparams, default_hparams

_LAZY = {
    "PETSAgent": "mbrlhpo.agent.pets_agent",
    "TrialResult": "mbrlhpo.agent.pets_agent",
    "ReplayBuffer": "mbrlhpo.agent.replay_buffer",
    "Transitions": "mbrlhpo.agent.replay_buffer",
}

__all__ = [
    "PROFILES",
    "TUNABLE",
    "CheckpointError",
    "PETSAgent",
    "PETSHparams",
    "ReplayBuffer",
    "TrialResult",
    "Transitions",
    "default_hparams",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # once
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
