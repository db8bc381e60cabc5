"""The Ray executor: each trial a Ray task, members carried through Ray's object store; the
study's results equal running the members in this process. Every Ray here listens on the
loopback only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mbrlhpo.tuning import tune

sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))
from ray_sockets import descendants, is_loopback, listening_addresses  # noqa: E402

ray = pytest.importorskip("ray")

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


@pytest.fixture(scope="module")
def local_ray():
    from mbrlhpo.integrations.ray_local import init_local_ray

    init_local_ray(num_cpus=2)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_pbt_on_ray_equals_pbt_in_process(tmp_path, local_ray):
    runs = {}
    for executor in ("ray", "sequential"):
        study = tune(
            "cartpole",
            "pbt",
            population=3,
            trials=3,
            pbt_interval=2,
            baseline=False,
            db=tmp_path / f"{executor}.db",
            agent_overrides=TINY,
            space_overrides={"epochs": (3, 4)},
            executor=executor,
        )
        runs[executor] = (
            [(t["member"], t["trial"], t["ret"], t["status"]) for t in study.trials],
            [(e["kind"], e["src"], e["dst"]) for e in study.lineage],
        )
    assert runs["ray"] == runs["sequential"]
    assert any(kind == "exploit" for kind, _, _ in runs["ray"][1])
    assert not (tmp_path / "ray.study" / "exchange").exists()  # no shared folder is used


def test_a_trial_takes_the_threads_ray_assigned(local_ray):
    import ray as ray_mod

    from mbrlhpo.runner.ray_executor import _set_threads

    @ray_mod.remote(num_cpus=2, runtime_env={"env_vars": {"OMP_NUM_THREADS": "2"}})
    def threads():
        import os

        import torch

        return _set_threads(), torch.get_num_threads(), os.environ["OMP_NUM_THREADS"]

    assert ray_mod.get(threads.remote()) == (2, 2, "2")
    assert ray_mod.get(threads.options(num_cpus=1).remote())[:2] == (1, 1)


def test_unknown_executor_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown executor"):
        tune("cartpole", "pbt", db=tmp_path / "x.db", executor="dask")


def test_a_local_ray_listens_on_the_loopback_only(tmp_path):
    # Runs after the tests that share ``local_ray`` (file order): it shuts Ray down.
    from mbrlhpo.runner.ray_executor import RayExecutor

    if ray.is_initialized():
        ray.shutdown()
    try:
        RayExecutor(init_kwargs={"num_cpus": 1})
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
        pids = descendants(os.getpid()) | {os.getpid()}
        listening = listening_addresses(pids)
        assert len(listening) >= 3, listening  # GCS, raylet, workers at least
        assert all(is_loopback(addr) for addr, _ in listening), listening
    finally:
        ray.shutdown()
    # The flag is put back: a later ray.init(address=...) joins clusters as usual.
    from ray._private import ray_constants

    assert ray_constants.ENABLE_RAY_CLUSTER


def test_a_packed_member_needs_no_shared_folder(tmp_path):
    from mbrlhpo.agent import PETSAgent
    from mbrlhpo.runner.ray_executor import _untar, pack_member, restore_member

    agent = PETSAgent("cartpole", {**TINY, "epochs": 3}, seed=1, episode_store=tmp_path / "eps")
    agent.run_trial()
    store = agent.episode_store
    blob = pack_member(agent)
    assert agent.episode_store is store
    assert not (tmp_path / "eps").exists() or not any((tmp_path / "eps").iterdir())
    away = PETSAgent.load(_untar(blob, tmp_path / "worker"))  # as on a worker: no study folders
    assert away.episode_store is None
    expected, got = agent.run_trial(), away.run_trial()
    assert got.ret == expected.ret and got.trial == expected.trial == 1
    away.run_trial()
    restore_member(agent, pack_member(away))  # the driver takes the worker's state back
    assert agent.trial == away.trial == 3 and agent.episode_store is store
    assert agent.run_trial().ret == away.run_trial().ret


def test_a_relative_db_is_made_absolute(tmp_path, monkeypatch):
    """The study stays where it began when the working directory changes under the driver
    (as Ray Tune's trial workers change theirs)."""
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)

    def wander(_: int) -> None:
        os.chdir(tmp_path / "elsewhere")

    study = tune(
        "cartpole",
        "random",
        population=2,
        trials=1,
        baseline=False,
        db="runs/study.db",
        agent_overrides=TINY,
        space_overrides={"epochs": (3, 4)},
        executor="sequential",
        on_round=wander,
    )
    assert len(study.trials) == 4
    assert (tmp_path / "runs" / "study.db").is_file()
    assert (tmp_path / "runs" / "study.study" / "checkpoints").is_dir()
    assert not (tmp_path / "elsewhere" / "runs").exists()


@pytest.mark.slow
def test_parallel_hyperband_on_ray_equals_one_worker_in_process(tmp_path, local_ray):
    """Two hpbandster workers whose trials are Ray tasks (two CPUs: two at once) store the same
    jobs and trials as one worker running them in this process."""
    import sqlite3

    rows = {}
    for executor, workers in (("ray", 2), ("sequential", 1)):
        db = tmp_path / f"{executor}.db"
        tune(
            "cartpole",
            "hyperband",
            budgets=(1, 3),
            hb_iterations=2,
            baseline=False,
            db=db,
            agent_overrides=TINY,
            space_overrides={"epochs": (3, 4)},
            executor=executor,
            workers=workers,
        )
        with sqlite3.connect(db) as con:
            rows[executor] = (
                con.execute(
                    "SELECT member, trial, ret, status FROM trials ORDER BY 1, 2"
                ).fetchall(),
                con.execute(
                    "SELECT config_id, member, config, loss FROM hb_jobs ORDER BY 2"
                ).fetchall(),
            )
    assert len(rows["sequential"][0]) == 18 and len(rows["sequential"][1]) == 6
    assert rows["ray"] == rows["sequential"]
