"""mbrlhpo: fast hyperparameter optimisation of model-based RL (PETS on MuJoCo).

The public API is imported lazily, so ``import mbrlhpo`` (and the CLI's ``--version``) does not
load torch or MuJoCo until they are used. It registers the gymnasium ids (``mbrlhpo/Cartpole-v0``
...) without importing gymnasium: see :mod:`mbrlhpo.gym_registration`.
"""

from __future__ import annotations

from mbrlhpo.gym_registration import register_when_gymnasium_loads
from mbrlhpo.lazy_exports import lazy_getattr

__version__ = "0.1.0"

_EXPORTS = {
    "make_env": "mbrlhpo.envs",
    "get_task": "mbrlhpo.envs",
    "Task": "mbrlhpo.envs",
    "TaskCompileError": "mbrlhpo.envs",
    "VecEnv": "mbrlhpo.envs",
    "PETSAgent": "mbrlhpo.agent",
    "PETSHparams": "mbrlhpo.agent",
    "TrialResult": "mbrlhpo.agent",
    "CEMConfig": "mbrlhpo.planning",
    "CEMPlanner": "mbrlhpo.planning",
    "export_agent": "mbrlhpo.planning.export",
    "tune": "mbrlhpo.tuning",
    "bench": "mbrlhpo.harness.bench",
    "Study": "mbrlhpo.runner.study",
}

__all__ = ["__version__", *_EXPORTS]


# Subpackages, also reachable as attributes (``mbrlhpo.envs.VecEnv`` after ``import mbrlhpo``).
_SUBMODULES = (
    "agent",
    "analysis",
    "envs",
    "hpo",
    "models",
    "planning",
    "runner",
    "store",
    "tuning",
    "info",
)


register_when_gymnasium_loads()


__getattr__ = lazy_getattr(__name__, _EXPORTS, _SUBMODULES)
