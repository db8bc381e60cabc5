"""mbrlhpo: fast hyperparameter optimisation of model-based RL (PETS on MuJoCo)."""

__version__ = "0.1.0"
