"""PETS planning: CEM over TS-inf trajectory sampling; torch reference and native backends.

Everything but ``CEMConfig`` loads on first use (PEP 562): the agent's hyperparameters make
their CEMConfig while a command's settings are checked, before torch may be imported.
"""

from importlib import import_module
from typing import Any

from mbrlhpo.planning.config import CEMConfig

_LAZY = {
    "BACKENDS": "mbrlhpo.planning.planner",
    "CEMPlanner": "mbrlhpo.planning.planner",
    "PopulationPlanner": "mbrlhpo.planning.planner",
    "plan_population": "mbrlhpo.planning.planner",
    "CpuEngine": "mbrlhpo.planning.cpu_planner",
    "CudaEngine": "mbrlhpo.planning.cuda_planner",
    "Engine": "mbrlhpo.planning.engine",
    "PlanTrace": "mbrlhpo.planning.trace",
}

__all__ = [
    "BACKENDS",
    "CEMConfig",
    "CEMPlanner",
    "CpuEngine",
    "CudaEngine",
    "Engine",
    "PlanTrace",
    "PopulationPlanner",
    "plan_population",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # once
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
