"""A task mbrlhpo does not ship: gymnasium's MuJoCo ``InvertedPendulum-v5``, planned by PETS
with a reward written in Python (docs/custom_task.md walks through it).

The env runs the real rollouts (gymnasium's MJCF and physics) and scores them with its own
reward; this module supplies what the planner needs. gymnasium's v5 env: obs ``[cart x, pole
angle, cart velocity, pole angular velocity]``, action ``[-3, 3]``, reward 1 for every step that
does not end the episode, and the episode ends when an obs is not finite or ``|pole angle| >
0.2``: ``pendulum_fell`` and ``pendulum_alive`` below are those rules. The planner's reward adds
a small cost on the cart's distance from the centre, which gymnasium's reward leaves out: with
the alive reward alone the planner balances the pole but lets the cart drift until it hits the
end of its rail (x = +-1), and the pole falls there (measured: docs/custom_task.md).

A study, a checkpoint and a worker process find the task by ``"inverted_pendulum:TASK"`` (with
this folder on ``sys.path`` / ``PYTHONPATH``): importing the module compiles and registers it.
"""

import math

import numba

import mbrlhpo

CENTRE_COST = 0.1  # per step, times the cart's x squared (the rail ends at x = +-1)


@numba.njit  # called by the reward: a helper must be compiled too (the reward is, by Task)
def pendulum_fell(next_obs):
    """gymnasium InvertedPendulum-v5's termination."""
    for x in next_obs:
        if not math.isfinite(x):
            return True
    return abs(next_obs[1]) > 0.2


@numba.njit
def pendulum_alive(next_obs):
    """gymnasium InvertedPendulum-v5's reward: 1 while the pole is up."""
    return 0.0 if pendulum_fell(next_obs) else 1.0


def pendulum_reward(action, next_obs):
    """The planner's reward: gymnasium's, less a small cost for the cart's distance from the
    centre while the pole is up."""
    alive = pendulum_alive(next_obs)
    return alive - alive * CENTRE_COST * next_obs[0] * next_obs[0]


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
