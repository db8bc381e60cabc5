"""PETS dynamics models: the probabilistic ensemble, its normaliser and training."""

from mbrlhpo.models.adam_state import AdamState
from mbrlhpo.models.dynamics import DynamicsModel, EnsembleWeights
from mbrlhpo.models.ensemble import (
    ProbabilisticEnsemble,
    bound_logvar,
    gaussian_nll_terms,
    swish,
)
from mbrlhpo.models.normalizer import Normalizer
from mbrlhpo.models.population import TrainingJob, train_population

__all__ = [
    "AdamState",
    "DynamicsModel",
    "EnsembleWeights",
    "Normalizer",
    "ProbabilisticEnsemble",
    "TrainingJob",
    "bound_logvar",
    "gaussian_nll_terms",
    "swish",
    "train_population",
]
