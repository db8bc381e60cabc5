"""A task mbrlhpo does not ship: gymnasium's MuJoCo ``InvertedPendulum-v5``, planned by PETS
with a reward written in Python (docs/custom_task.md walks through it).

The env runs the real rollouts (gymnasium's MJCF and physics); this module supplies what the
planner needs. gymnasium's v5 env: obs ``[cart x, pole angle, cart velocity, pole angular
velocity]``, action ``[-3, 3]``, reward 1 for every step that does not end the episode, and the
episode ends when an obs is not finite or ``|pole angle| > 0.2``; the same rules below.

A study, a checkpoint and a worker process find the task by ``"inverted_pendulum:TASK"`` (with
this folder on ``sys.path`` / ``PYTHONPATH``): importing the module compiles and registers it.
"""

import math

import numba

import mbrlhpo


@numba.njit  # called by the reward: a helper must be compiled too (the reward is, by Task)
def pendulum_fell(next_obs):
    """gymnasium InvertedPendulum-v5's termination."""
    for x in next_obs:
        if not math.isfinite(x):
            return True
    return abs(next_obs[1]) > 0.2


def pendulum_reward(action, next_obs):
    """gymnasium InvertedPendulum-v5's reward: 1 while the pole is up."""
    return 0.0 if pendulum_fell(next_obs) else 1.0


TASK = mbrlhpo.Task(
    "inverted_pendulum",
    obs_dim=4,
    act_dim=1,
    action_low=-3.0,
    action_high=3.0,
    reward=pendulum_reward,
    terminated=pendulum_fell,
    steps_per_trial=200,  # gymnasium's limit is 1000; 200 steps show balancing, 5x cheaper
    default_trials=8,
    defaults_like="cartpole",  # a small task: cartpole's expert settings and search space
    env="InvertedPendulum-v5",
)
