"""The runner's contract: one TrialResult record, and the members that satisfy the protocols."""

import json

import pytest

import mbrlhpo
from mbrlhpo.agent import PETSAgent
from mbrlhpo.runner.executors import LockstepExecutor, SequentialExecutor, supports_lockstep
from mbrlhpo.runner.protocol import LockstepMember, Member, TrialResult
from mbrlhpo.runner.testing import QuadraticMember


def test_trial_result_round_trips_through_plain_json():
    r = TrialResult(trial=3, ret=-1.5, steps=200, wall_time=0.25, model_loss=0.1,
                    model_diverged=True, hparams={"lr": 1e-3, "horizon": 15})  # fmt: skip
    back = TrialResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r
    assert TrialResult.from_dict({"ret": 1.0, "wall_time": 2.0}) == TrialResult(
        ret=1.0, wall_time=2.0
    )


def test_trial_result_from_dict_refuses_bad_records():
    with pytest.raises(ValueError, match=r"unknown fields \['rett'\]"):
        TrialResult.from_dict({"rett": 1.0, "ret": 1.0, "wall_time": 0.0})
    with pytest.raises(ValueError, match=r"missing fields \['wall_time'\]"):
        TrialResult.from_dict({"ret": 1.0})
    with pytest.raises(TypeError, match="expected a mapping"):
        TrialResult.from_dict([1.0, 2.0])


def test_one_trial_result_everywhere():
    from mbrlhpo.agent import pets_agent

    assert mbrlhpo.TrialResult is pets_agent.TrialResult is TrialResult


def test_members_satisfy_the_protocols():
    toy = QuadraticMember({"lr": 1e-3}, 0)
    assert isinstance(toy, Member) and not isinstance(toy, LockstepMember)
    agent = PETSAgent("cartpole", {"hidden": 16, "depth": 2}, seed=0, profile="quick")
    assert isinstance(agent, Member) and isinstance(agent, LockstepMember)
    assert supports_lockstep(agent) and not supports_lockstep(toy)


def test_lockstep_executor_needs_a_batch_planner():
    with pytest.raises(TypeError, match="expected plan_population"):
        LockstepExecutor(None)


def test_lockstep_falls_back_for_other_members():
    a, b = QuadraticMember({"lr": 1e-3}, 0), QuadraticMember({"lr": 1e-3}, 0)

    def never(planners, obs):
        raise AssertionError("a QuadraticMember does not plan")

    got = LockstepExecutor(never).run([a])[0].result
    want = SequentialExecutor().run([b])[0].result
    assert got.ret == want.ret


class _BrokenStepper:
    """A lockstep member whose episode breaks at its second step and whose clean-up breaks too."""

    planner = None
    in_random_trial = True

    def start_trial(self):
        self.steps = 0
        return [0.0]

    def random_action(self):
        return [0.0]

    def step_trial(self, action):
        self.steps += 1
        if self.steps == 2:
            raise RuntimeError("the simulation blew up")
        return [0.0], False

    def finish_trial(self, trained=None):
        raise OSError("could not close the episode file")


def test_a_failing_clean_up_keeps_the_members_own_error_and_says_so():
    (outcome,) = LockstepExecutor(lambda planners, obs: obs).run([_BrokenStepper()])
    error = outcome.error
    assert isinstance(error, RuntimeError) and str(error) == "the simulation blew up"
    assert isinstance(error.secondary, OSError)  # kept, not swallowed
    assert error.__notes__ == [
        "then finish_trial failed too: OSError: could not close the episode file"
    ]
