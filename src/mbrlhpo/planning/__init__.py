"""PETS planning: CEM over TS-inf trajectory sampling; torch reference and native backends.

Everything but ``CEMConfig`` loads on first use (PEP 562): the agent's hyperparameters make
their CEMConfig while a command's settings are checked, before torch may be imported.
"""

from mbrlhpo.lazy_exports import lazy_getattr
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


__getattr__ = lazy_getattr(__name__, _LAZY)
