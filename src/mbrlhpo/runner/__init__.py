"""mbrlhpo.runner: executes HPO decisions (study runner, executors, checkpoints)."""

from mbrlhpo.runner.executors import LockstepExecutor, SequentialExecutor
from mbrlhpo.runner.study import METHODS, Study, run_study

__all__ = ["METHODS", "LockstepExecutor", "SequentialExecutor", "Study", "run_study"]
