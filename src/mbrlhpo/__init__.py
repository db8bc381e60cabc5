"""mbrlhpo: fast hyperparameter optimisation of model-based RL (PETS on MuJoCo)."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy: `import mbrlhpo` stays light; mbrlhpo.make_env imports MuJoCo and gymnasium on use.
    if name == "make_env":
        from mbrlhpo.envs import make_env

        return make_env
    raise AttributeError(f"module 'mbrlhpo' has no attribute {name!r}")
