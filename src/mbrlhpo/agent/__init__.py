"""mbrlhpo.agent: the PETS agent (Algorithm 1), its hyperparameters, data and checkpoints.

The agent and its replay buffer load on first use (PEP 562): reading hyperparameters and
checking a command's settings must not import torch (about a second), so that a bad value is
answered at once.
"""

from mbrlhpo.agent.checkpoint import CheckpointError
from mbrlhpo.agent.hparams import PROFILES, TUNABLE, PETSHparams, default_hparams
from mbrlhpo.lazy_exports import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _LAZY)
