"""mbrlhpo.agent: the PETS agent (Algorithm 1), its hyperparameters, data and checkpoints."""

from mbrlhpo.agent.checkpoint import CheckpointError
from mbrlhpo.agent.hparams import PROFILES, TUNABLE, PETSHparams, default_hparams
from mbrlhpo.agent.pets_agent import PETSAgent, TrialResult
from mbrlhpo.agent.replay_buffer import ReplayBuffer, Transitions

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
