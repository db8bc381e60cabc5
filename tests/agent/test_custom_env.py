"""Any gymnasium env with a custom task: PETSAgent on gymnasium's own InvertedPendulum-v5 (the
env runs the rollouts, the task plans), save/load through the task's reference, and the worked
example (examples/custom_task) tuned by PBT with mbrlhpo.tune, resumed."""

import os
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")
gymnasium = pytest.importorskip("gymnasium")
pytest.importorskip("imageio")  # gymnasium's MuJoCo envs import it

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_task"
sys.path.insert(0, str(EXAMPLE))
import inverted_pendulum  # noqa: E402

from mbrlhpo.agent import PETSAgent  # noqa: E402

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2, epochs=2)


def test_task_matches_gymnasiums_reward_and_termination():
    """The Python rules against what the real env returns, step by step: termination and the
    alive reward are gymnasium's; the planner's reward is that less the centring cost."""
    env = gymnasium.make("InvertedPendulum-v5")
    task = inverted_pendulum.TASK
    rng = np.random.default_rng(0)
    checked = ended = 0
    for episode in range(6):
        env.reset(seed=episode)
        for _ in range(200):
            a = rng.uniform(-3, 3, 1).astype(np.float32)
            obs, reward, terminated, truncated, _ = env.step(a)
            s = obs.astype(np.float32)
            assert inverted_pendulum.pendulum_alive(s) == reward
            cost = inverted_pendulum.CENTRE_COST * float(s[0]) ** 2
            assert float(task.reward(a, s)) == pytest.approx(reward * (1 - cost), abs=1e-6)
            assert bool(task.terminated(s)) == terminated
            checked += 1
            if terminated or truncated:
                ended += terminated
                break
    assert checked > 20 and ended == 6  # random actions drop the pole: both branches seen


def test_agent_on_a_gymnasium_env_with_a_task(tmp_path):
    env = gymnasium.make("InvertedPendulum-v5", max_episode_steps=40)
    agent = PETSAgent(env, TINY, seed=1, profile="quick", task=inverted_pendulum.TASK)
    assert agent.backend in ("cpu", "torch") and agent.task is inverted_pendulum.TASK
    results = [agent.run_trial() for _ in range(2)]
    # Fallen poles end episodes, not trials: a trial runs episodes until its 200 steps, or
    # until the env's own time limit (40 here) truncates one.
    assert all(1 <= r.steps <= 200 for r in results) and results[0].steps > 40
    assert 0 <= results[0].ret <= 40  # the first episode's: 1 per step the pole stays up
    # Saved with its reference ("inverted_pendulum:TASK"), loaded without being told the env.
    agent.env_ref = "inverted_pendulum:TASK"
    path = agent.save(tmp_path / "a")
    again = PETSAgent.load(path)
    assert again.task is inverted_pendulum.TASK and again.trial == 2
    assert len(again.buffer) == len(agent.buffer)
    obs = np.zeros(4, np.float32)
    np.testing.assert_array_equal(again.act(obs), agent.act(obs))


def test_a_trial_collects_its_steps_over_episodes_that_terminate():
    """A fallen pole ends the episode, not the trial: the env is reset and the trial goes on
    until the task's steps_per_trial steps (the random trial and an MPC one, sequential and in
    lock-step); the trial's return is its first episode's."""
    from mbrlhpo.planning import plan_population
    from mbrlhpo.runner import LockstepExecutor, SequentialExecutor

    def population():
        return [PETSAgent("inverted_pendulum:TASK", TINY, seed=s, profile="quick") for s in (3, 4)]

    alone, together = population(), population()
    for _ in range(2):
        seq = SequentialExecutor().run(alone)
        lock = LockstepExecutor(plan_population).run(together)
        for a, b in zip(seq, lock, strict=True):
            ra, rb = a.result.to_dict(), b.result.to_dict()
            for r in (ra, rb):
                r.pop("wall_time"), r.pop("train_time")
            assert ra == rb
    for agent in alone:
        assert [r.steps for r in agent.history] == [200, 200]
        for i, result in enumerate(agent.history):
            ep = agent.buffer.episode(i)  # one buffer chunk per trial
            ends = np.flatnonzero(ep.terminated)
            assert len(ends) >= 2  # tiny planning drops the pole: several episodes
            first = ends[0] + 1
            assert result.ret == ep.reward[:first].sum() == first - 1  # 0 on the fall
            # After a fall the next transition starts from a reset state (|x|, |theta| <= 0.01)
            # and never continues the fallen one.
            assert np.abs(ep.obs[ends[:-1] + 1]).max() <= 0.01
            assert not np.allclose(ep.obs[first], ep.next_obs[first - 1])
        agent.close()


def test_a_task_and_its_reference_make_their_env():
    agent = PETSAgent("inverted_pendulum:TASK", TINY, profile="quick")
    assert agent.env.spec.id == "InvertedPendulum-v5" and agent.env_ref == "inverted_pendulum:TASK"
    assert agent.hparams.weight_decay == 2.5e-4  # cartpole's defaults (defaults_like)
    agent.close()


def test_foreign_envs_that_do_not_fit_are_refused():
    task = inverted_pendulum.TASK
    with pytest.raises(ValueError, match="expected an env with a gymnasium Box action space"):
        PETSAgent(gymnasium.make("CartPole-v1"), task=task)
    with pytest.raises(ValueError, match=r"expected an action space of shape \(1,\), got \(2,\)"):
        PETSAgent(gymnasium.make("Reacher-v5"), task=task)
    with pytest.raises(ValueError, match="gymnasium env with task="):
        PETSAgent(gymnasium.make("InvertedPendulum-v5"))
    with pytest.raises(ValueError, match="the CUDA planner plans built-in tasks only"):
        PETSAgent(task, planner_backend="cuda")


def test_custom_task_on_a_gpu_model_plans_with_torch():
    from mbrlhpo.agent.pets_agent import resolve_backend

    assert resolve_backend("auto", "cuda:0", custom=True) == "torch"
    assert resolve_backend("auto", "cpu", custom=True) in ("cpu", "torch")


@pytest.mark.slow
def test_pets_learns_to_balance_the_pendulum():
    """PETS balances gymnasium's InvertedPendulum-v5 within a few trials: the example's planner
    (tune_inverted_pendulum.SMALL) with 30 epochs per trial. Random actions drop the pole
    within ~5 steps; seeds 0, 1, 2 held it 193, 166 and 200 of 200 steps on average over
    trials 4-6 when this was written (docs/custom_task.md)."""
    small = dict(population=60, horizon=15, iterations=3, particles=5, hidden=64, depth=3)
    agent = PETSAgent("inverted_pendulum:TASK", {**small, "epochs": 30}, seed=0, profile="quick")
    returns = [agent.run_trial().ret for _ in range(7)]
    agent.close()
    assert returns[0] < 20, returns  # the random trial's first episode
    assert np.mean(returns[4:7]) > 150, returns


@pytest.mark.slow
def test_worked_example_tunes_by_pbt_and_resumes(tmp_path, monkeypatch):
    """examples/custom_task/tune_inverted_pendulum.py, tiny: PBT on 2 cores, then resumed."""
    import tune_inverted_pendulum

    db = tmp_path / "pendulum.db"
    argv = ["--db", str(db), "--population", "3", "--trials", "3", "--tiny"]
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    study = tune_inverted_pendulum.main(argv)
    assert len(study.trials) == 3 * 4  # the random trial + 3 MPC trials per member
    assert any(e["kind"] == "exploit" for e in study.lineage)
    assert study.baseline is not None and len(study.baseline.returns) == 4
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = tune_inverted_pendulum.main(argv)  # resumed: nothing run twice
    assert again.trials == study.trials
    from mbrlhpo.agent import PETSAgent as Agent

    best = Agent.load(study.best_checkpoint())
    assert best.task is inverted_pendulum.TASK


@pytest.mark.slow
def test_cli_tunes_a_custom_task_by_reference(tmp_path, capsys):
    """``mbrlhpo tune --env inverted_pendulum:TASK`` (the module on sys.path / PYTHONPATH)."""
    from mbrlhpo.cli import main

    tiny = [x for k, v in TINY.items() if k != "epochs" for x in ("--set", f"{k}={v}")]
    args = ["tune", "--env", "inverted_pendulum:TASK", "--method", "random", "--population"]
    code = main(
        [
            *args,
            "1",
            "--trials",
            "1",
            "--db",
            str(tmp_path / "s.db"),
            "--no-baseline",
            "--range",
            "epochs=2:3",
            *tiny,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "random on inverted_pendulum:TASK" in out and "round 2" in out
