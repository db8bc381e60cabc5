"""The PETS agent: Algorithm 1, hyperparameter changes, checkpoints, failures."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from mbrlhpo.agent import CheckpointError, PETSAgent, PETSHparams, default_hparams
from mbrlhpo.envs import make_env

# Small enough that a cartpole trial takes about a second on the torch reference planner.
TINY = dict(
    epochs=2,
    iterations=2,
    population=16,
    horizon=4,
    particles=5,
    hidden=16,
    depth=2,
    elite_ratio=0.25,
)


def tiny_agent(seed=0, backend="auto", episode_store=None, **changes) -> PETSAgent:
    return PETSAgent(
        "cartpole",
        {**TINY, **changes},
        seed=seed,
        planner_backend=backend,
        profile="quick",
        episode_store=episode_store,
    )


def test_first_trial_acts_randomly_then_trains_on_the_random_data():
    # The paper's code (dmbrl/misc/MBwPBTExp.py train_func): the untrained policy acts
    # uniformly at random, then the trial trains on that data with its own hyperparameters.
    agent = tiny_agent(lr=2e-3)
    result = agent.run_trial()
    assert result.random and result.trial == 0
    assert result.model_loss is not None and np.isfinite(result.model_loss)
    assert result.steps == agent.task.steps_per_trial == 200
    assert agent.model.num_train_calls == 1
    assert all(g["lr"] == 2e-3 for g in agent.model.optimizer.param_groups)
    actions = agent.buffer.all().act
    assert np.all(actions >= agent.task.action_low) and np.all(actions <= agent.task.action_high)
    low, high = agent.task.action_low, agent.task.action_high
    uniform_std = (high - low) / np.sqrt(12)
    assert np.all(np.abs(actions.mean(0) - (low + high) / 2) < 0.15 * uniform_std * 2)
    assert np.all(np.abs(actions.std(0) - uniform_std) < 0.1 * uniform_std)
    np.testing.assert_allclose(result.ret, agent.buffer.all().reward.sum())


def test_trials_use_the_hyperparameters_in_force():
    agent = tiny_agent()
    agent.run_trial()
    first = agent.run_trial()
    assert not first.random and first.model_loss is not None
    assert first.hparams["population"] == 16 and agent.model.num_train_calls == 2
    agent.set_hparams({"population": 24, "horizon": 6, "lr": 3e-4, "epochs": 1})
    assert agent.planner.config.population == 24 and agent.planner.config.horizon == 6
    adam_steps_before = _adam_steps(agent)
    second = agent.run_trial()
    assert second.hparams["population"] == 24 and second.hparams["lr"] == 3e-4
    # Adam kept its state: its step counter continued instead of restarting.
    assert _adam_steps(agent) > adam_steps_before > 0
    for group in agent.model.optimizer.param_groups:
        assert group["lr"] == 3e-4
    assert len(agent.buffer) == 3 * 200 and agent.trial == 3


def test_a_trial_acts_on_the_last_trials_model_then_trains_with_its_own_hparams():
    # The code's order: trial t plans with the model trained at the end of trial t - 1 (with
    # trial t - 1's lr, weight decay, epochs); its own training settings shape trial t + 1.
    a, b = tiny_agent(), tiny_agent()
    for agent in (a, b):
        agent.run_trial()
    a.set_hparams({"lr": 1e-2, "epochs": 1})
    b.set_hparams({"lr": 1e-4, "epochs": 3})
    ra, rb = a.run_trial(), b.run_trial()
    assert ra.ret == rb.ret  # the same model acted: training settings changed nothing yet
    assert ra.model_loss != rb.model_loss  # each trained with its own settings after acting
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert not all(torch.equal(sa[k], sb[k]) for k in sa if sa[k].is_floating_point())
    assert _adam_steps(b) > _adam_steps(a)  # b's 3 epochs against a's 1, on the same data
    ca, cb = a.run_trial(), b.run_trial()
    assert ca.ret != cb.ret  # now the models that acted differ


def _adam_steps(agent) -> float:
    state = next(iter(agent.model.optimizer.state.values()))
    return float(state["step"])


def test_bad_hparams_are_rejected():
    agent = tiny_agent()
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        agent.set_hparams({"learning_rate": 1e-3})
    with pytest.raises(ValueError, match="hidden is fixed"):
        agent.set_hparams({"hidden": 32})
    with pytest.raises(ValueError, match="alpha in"):
        agent.set_hparams({"alpha": 1.5})
    with pytest.raises(ValueError, match="multiple of ensemble_size"):
        default_hparams("cartpole").replace(particles=7)
    with pytest.raises(ValueError, match="unknown task"):
        default_hparams("walker")
    with pytest.raises(ValueError, match="expected population to be an int"):
        PETSHparams(**{**default_hparams("cartpole").to_dict(), "population": 10.5})
    # values from a search space (numpy scalars) become plain Python numbers
    h = default_hparams("cartpole").replace(population=np.int64(200), lr=np.float64(1e-4))
    assert type(h.population) is int and type(h.lr) is float


def test_the_cem_values_are_checked_once_by_the_config_the_planner_is_given():
    """PETSHparams makes its CEMConfig as it is made (the one check of a planning value in
    Python); the agent's planner is given that config itself, at build and in set_hparams."""
    from mbrlhpo.planning import CEMConfig

    h = default_hparams("cartpole", "quick")
    assert h.cem == CEMConfig(
        horizon=h.horizon,
        population=h.population,
        elite_ratio=h.elite_ratio,
        iterations=h.iterations,
        alpha=h.alpha,
        particles=h.particles,
    )
    with pytest.raises(ValueError, match=r"^expected horizon to be an int >= 1, got 0$"):
        h.replace(horizon=0)  # CEMConfig's own message: no second check ahead of it
    assert "cem" not in h.to_dict() and h.replace(horizon=7) == h.replace(horizon=7)
    agent = tiny_agent()
    assert agent.planner.config is agent.hparams.cem
    agent.set_hparams({"horizon": 7})
    assert agent.planner.config is agent.hparams.cem and agent.planner.config.horizon == 7
    agent.set_hparams({"horizon": 7})  # equal values: the planner keeps its problem
    assert agent.planner.config is agent.hparams.cem


def test_save_load_continues_exactly(tmp_path):
    straight = tiny_agent(seed=3)
    returns = [straight.run_trial().ret for _ in range(4)]

    first = tiny_agent(seed=3)
    first.run_trial()
    first.run_trial()
    file = first.save(tmp_path / "ckpt")
    resumed = PETSAgent.load(tmp_path / "ckpt")
    assert resumed.trial == 2 and len(resumed.history) == 2
    assert resumed.hparams == first.hparams
    continued = [resumed.run_trial().ret for _ in range(2)]
    assert continued == returns[2:]
    for name, tensor in straight.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
    assert file.name == "agent.safetensors"


def test_corrupt_truncated_and_foreign_checkpoints_are_rejected(tmp_path):
    agent = tiny_agent()
    agent.run_trial()
    file = agent.save(tmp_path / "a")
    blob = file.read_bytes()
    cases = {
        "truncated": blob[: len(blob) // 2],
        "flipped": blob[:-100] + bytes([blob[-100] ^ 0xFF]) + blob[-99:],
        "empty": b"",
        "garbage": b"\x00" * 64,
    }
    for name, data in cases.items():
        bad = tmp_path / name / "agent.safetensors"
        bad.parent.mkdir()
        bad.write_bytes(data)
        with pytest.raises(CheckpointError):
            PETSAgent.load(bad.parent)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        PETSAgent.load(tmp_path / "missing")


def test_crash_mid_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    agent = tiny_agent()
    agent.run_trial()
    agent.save(tmp_path / "a")
    agent.run_trial()
    import mbrlhpo.agent.checkpoint as checkpoint

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.os, "replace", crash)
    with pytest.raises(OSError):
        agent.save(tmp_path / "a")
    monkeypatch.undo()
    restored = PETSAgent.load(tmp_path / "a")
    assert restored.trial == 1  # the earlier checkpoint, intact
    assert list((tmp_path / "a").iterdir()) == [tmp_path / "a" / "agent.safetensors"]


class DivergeAfter(gym.Wrapper):
    """Reports a simulation overflow at step k (what MuJoCo's warnings produce in the env)."""

    def __init__(self, env, k):
        super().__init__(env)
        self.k, self.t = k, 0

    def reset(self, **kwargs):
        self.t = 0
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        if self.t == self.k:
            info = {**info, "sim_diverged": True}
            truncated = True
        return obs, reward, terminated, truncated, info


def test_diverged_simulation_ends_the_trial_cleanly():
    env = DivergeAfter(make_env("cartpole"), k=30)
    agent = PETSAgent(env, TINY, seed=0, planner_backend="auto", profile="quick")
    result = agent.run_trial()
    assert result.diverged and result.steps == 29 and len(agent.buffer) == 29
    env.k = 10**9  # the agent stays usable
    result = agent.run_trial()
    assert not result.diverged and result.steps == 200


def test_nan_in_training_rolls_the_model_back():
    agent = tiny_agent()
    agent.run_trial()
    before = {k: v.clone() for k, v in agent.model.state_dict().items()}
    agent.set_hparams({"lr": 1e30})
    result = agent.run_trial()
    assert result.model_diverged and result.model_loss is None
    for name, tensor in agent.model.state_dict().items():
        if name != "num_train_calls" and not name.startswith("generator"):
            assert torch.equal(tensor, before[name]), name
    assert np.isfinite(result.ret)
    agent.set_hparams({"lr": 1e-3})
    assert not agent.run_trial().model_diverged


def test_model_nll_falls_with_training():
    agent = tiny_agent(epochs=20)
    agent.run_trial()
    data = agent.buffer.all()
    untrained = agent.model_nll(data.obs, data.act, data.next_obs)
    agent.run_trial()
    trained = agent.model_nll(data.obs, data.act, data.next_obs)
    assert np.isfinite(untrained) and trained < untrained


def test_copy_from_shares_model_hparams_and_buffer():
    source, target = tiny_agent(seed=1), tiny_agent(seed=2, population=20)
    for agent in (source, target):
        agent.run_trial()
        agent.run_trial()
    target.copy_from(source, copy_history=True)
    assert target.hparams == source.hparams
    assert target.buffer.all().obs.base is source.buffer.all().obs.base
    for name, tensor in source.model.state_dict().items():
        assert torch.equal(tensor, target.model.state_dict()[name]), name
    other = tiny_agent(seed=4)
    other.run_trial()
    own = other.buffer.all().reward.copy()
    other.copy_from(source, copy_history=False)
    np.testing.assert_array_equal(other.buffer.all().reward, own)


def test_episode_store_shares_history_between_checkpoints(tmp_path):
    store = tmp_path / "episodes"
    source = tiny_agent(seed=1, episode_store=store)
    for _ in range(3):
        source.run_trial()
    source.save(tmp_path / "a")
    target = tiny_agent(seed=2, episode_store=store)
    target.run_trial()
    target.copy_from(source)
    target.run_trial()
    target.save(tmp_path / "b")
    # the source's 3 episodes (shared, stored once) + the target's new one; the target's own
    # first episode was replaced by the copy before it was ever saved
    assert len(list(store.glob("*.safetensors"))) == 4
    inline = tiny_agent(seed=1)
    for _ in range(3):
        inline.run_trial()
    inline.save(tmp_path / "inline")
    small = (tmp_path / "a" / "agent.safetensors").stat().st_size
    assert small < (tmp_path / "inline" / "agent.safetensors").stat().st_size
    restored = PETSAgent.load(tmp_path / "b")
    np.testing.assert_array_equal(restored.buffer.all().obs, target.buffer.all().obs)
    assert restored.buffer.episode_lengths == target.buffer.episode_lengths
    assert restored.run_trial().ret == target.run_trial().ret
    # a tampered episode file is rejected
    victim = next(store.glob("*.safetensors"))
    blob = bytearray(victim.read_bytes())
    blob[-8] ^= 0xFF
    victim.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError):
        PETSAgent.load(tmp_path / "b")


def test_backend_resolution():
    from mbrlhpo.agent.pets_agent import resolve_backend

    assert resolve_backend("auto", "cpu") == "cpu"
    from mbrlhpo.planning.cuda_planner import cuda_planner_available

    gpu_auto = "cuda" if cuda_planner_available() else "torch"
    assert resolve_backend("auto", "cuda:0") == gpu_auto
    assert resolve_backend("torch", "cpu") == "torch"
    with pytest.raises(ValueError, match="reads the model's weights in place"):
        resolve_backend("cpu", "cuda")
    with pytest.raises(ValueError, match="expected planner_backend"):
        resolve_backend("gpu", "cpu")


def test_hopper_returns_include_the_alive_bonus_but_planning_does_not():
    """The paper's Hopper env adds +1 per healthy step to the reward: trial returns (hence the
    HPO objective and every reported number) include it; the planner's reward does not."""
    from mbrlhpo.envs import get_task
    from mbrlhpo.envs.tasks import hopper_alive_bonus

    agent = PETSAgent("hopper", profile="quick", seed=3)
    result = agent.run_trial()  # the random trial
    data = agent.buffer.all()
    task = get_task("hopper")
    planned = task.reward(data.act, data.next_obs)
    bonus = hopper_alive_bonus(data.next_obs)
    assert bonus.sum() > 0  # some healthy steps
    assert result.ret == pytest.approx(float(planned.sum() + bonus.sum()), rel=1e-9)
    np.testing.assert_allclose(data.reward, planned + bonus, rtol=1e-9, atol=1e-12)
