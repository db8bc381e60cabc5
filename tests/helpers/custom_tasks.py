"""Custom tasks (mbrlhpo.Task) for tests, importable by reference: ``"custom_tasks:CHEETAH"``
(this folder on sys.path / PYTHONPATH, as a worker process has it)."""

import numpy as np

import mbrlhpo
from mbrlhpo.envs import get_task

_HC = get_task("halfcheetah")


def cheetah_reward(action, next_obs):
    """HalfCheetah's reward written in Python: ``s'[0] - 0.1 |a|^2``."""
    return next_obs[0] - 0.1 * np.sum(action * action)


def far_away(next_obs):
    return abs(next_obs[1]) > 0.5


# HalfCheetah again, with its reward in Python: plans must match the built-in task's.
CHEETAH = mbrlhpo.Task(
    "py_cheetah",
    _HC.obs_dim,
    _HC.act_dim,
    _HC.action_low,
    _HC.action_high,
    cheetah_reward,
    angle_dims=_HC.angle_dims,
    absolute_target_dims=_HC.absolute_target_dims,
    steps_per_trial=_HC.steps_per_trial,
)

# The same with a termination, for the planner's stop-scoring rule.
CHEETAH_TERMINATING = mbrlhpo.Task(
    "py_cheetah_terminating",
    _HC.obs_dim,
    _HC.act_dim,
    _HC.action_low,
    _HC.action_high,
    cheetah_reward,
    far_away,
    angle_dims=_HC.angle_dims,
    absolute_target_dims=_HC.absolute_target_dims,
)


def plan_in_worker(payload: bytes) -> tuple[list[str], list[float]]:
    """In a fresh (spawned) process: the unpickled task registers itself; plan once on it."""
    import pickle

    from mbrlhpo import _native
    from mbrlhpo.models import DynamicsModel
    from mbrlhpo.planning import CEMConfig, CEMPlanner

    task = pickle.loads(payload)
    model = DynamicsModel(task, ensemble_size=2, hidden=16, depth=2, seed=0)
    cfg = CEMConfig(horizon=3, population=16, iterations=2, particles=2)
    planner = CEMPlanner(task, model, cfg, backend="cpu", seed=3)
    action = planner.plan(np.zeros(task.obs_dim, np.float32))
    return list(_native.core().planner_task_names()), action.tolist()


def line_reward(action, next_obs):
    return next_obs[0]


def past_quarter(next_obs):
    return next_obs[0] > 0.25


# One dim, s' = s + 0.1 a with a linear model (toy_tasks.make_linear_model): the planner's
# returns have a closed form, for the stop-scoring rule on the numba path.
LINE = mbrlhpo.Task("py_line", 1, 1, -1.0, 1.0, line_reward, past_quarter, steps_per_trial=10)
