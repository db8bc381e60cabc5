"""PETS planning: CEM over TS-inf trajectory sampling; torch reference and native backends."""

from mbrlhpo.planning.config import CEMConfig
from mbrlhpo.planning.planner import BACKENDS, CEMPlanner, plan_population
from mbrlhpo.planning.torch_planner import PlanTrace

__all__ = ["BACKENDS", "CEMConfig", "CEMPlanner", "PlanTrace", "plan_population"]
