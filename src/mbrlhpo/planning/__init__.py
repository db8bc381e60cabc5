"""PETS planning: CEM over TS-inf trajectory sampling; torch reference and native backends."""

from mbrlhpo.planning.config import CEMConfig
from mbrlhpo.planning.cpu_planner import CpuEngine
from mbrlhpo.planning.cuda_planner import CudaEngine
from mbrlhpo.planning.engine import Engine
from mbrlhpo.planning.planner import BACKENDS, CEMPlanner, PopulationPlanner, plan_population
from mbrlhpo.planning.trace import PlanTrace

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
