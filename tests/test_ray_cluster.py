"""A study on a Ray cluster simulated on this machine (three nodes on 127.0.0.1): it survives
the loss of a worker node mid-round and the SIGKILL of its driver, and ends exactly where an
uninterrupted in-process run with the same seed ends. Nothing listens beyond the loopback and
nothing is left running afterwards."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")

from mbrlhpo.integrations.ray_local import CLUSTER_FLAG, loopback_only  # noqa: E402
from mbrlhpo.tuning import tune  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))
from ray_sockets import descendants, is_loopback, listening_addresses  # noqa: E402

pytestmark = pytest.mark.slow

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
STUDY = dict(
    population=3,
    trials=3,
    pbt_interval=2,
    baseline=False,
    agent_overrides=TINY,
    space_overrides={"epochs": (3, 4)},
)
DRIVER = """
import sys
from mbrlhpo.tuning import tune
TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
tune("cartpole", "pbt", db=sys.argv[1], executor="ray", ray_address=sys.argv[2], population=3,
     trials=3, pbt_interval=2, baseline=False, agent_overrides=TINY,
     space_overrides={"epochs": (3, 4)})
"""


def rows(db) -> list[tuple]:
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return con.execute(
            "SELECT member, trial, ret, status FROM trials ORDER BY member, trial"
        ).fetchall()


def stored_trials(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> list[tuple]:
    """The same study run in this process, one member after another."""
    db = tmp_path_factory.mktemp("reference") / "study.db"
    tune("cartpole", "pbt", db=db, executor="sequential", **STUDY)
    got = rows(db)
    assert len(got) == 12  # 3 members x (1 random + 3 MPC trials)
    return got


@pytest.fixture(scope="module")
def cluster():
    """A head and two worker nodes, one CPU each, all on 127.0.0.1; this process is the
    driver. Afterwards: no process of Ray's is left."""
    if ray.is_initialized():
        ray.shutdown()
    before = descendants(os.getpid())
    with loopback_only():
        c = cluster_utils.Cluster(
            initialize_head=True, head_node_args=dict(num_cpus=1, include_dashboard=False)
        )
        workers = [c.add_node(num_cpus=1) for _ in range(2)]
        c.wait_for_nodes()
        ray.init(address=c.address, log_to_driver=False, configure_logging=False)
    try:
        yield c, workers
        ray_processes = descendants(os.getpid()) - before
        listening = listening_addresses(ray_processes | {os.getpid()})
        assert listening and all(is_loopback(a) for a, _ in listening), listening
    finally:
        ray.shutdown()
        c.shutdown()
    deadline = time.monotonic() + 30
    while (left := descendants(os.getpid()) - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"Ray processes left running: {sorted(left)}"


def test_a_worker_node_lost_mid_round_changes_nothing(tmp_path, reference, cluster):
    c, workers = cluster
    assert len([n for n in ray.nodes() if n["Alive"]]) == 3
    victim = workers[0]
    killed = threading.Event()

    def kill_during_next_round(round_: int) -> None:
        if round_ == 1 and not killed.is_set():
            # Round 2's trials are on their nodes by then (each takes seconds here).
            def kill():
                c.remove_node(victim, allow_graceful=False)
                killed.set()

            threading.Timer(1.5, kill).start()

    db = tmp_path / "study.db"
    tune("cartpole", "pbt", db=db, executor="ray", on_round=kill_during_next_round, **STUDY)
    assert killed.wait(30)
    assert victim.unique_id not in {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert rows(db) == reference  # every trial once, the same returns and statuses
    assert not (tmp_path / "study.study" / "exchange").exists()


def test_a_killed_driver_resumes_from_its_database(tmp_path, reference, cluster):
    c, _ = cluster
    db = tmp_path / "study.db"
    env = {**os.environ, CLUSTER_FLAG: "0"}

    def driver():
        return subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(db), c.address],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )

    proc = driver()
    while proc.poll() is None and stored_trials(db) < 4:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 4 <= stored_trials(db) < 12
    proc = driver()
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert rows(db) == reference


def hb_rows(db) -> tuple[list, list]:
    with sqlite3.connect(db) as con:
        return (
            con.execute("SELECT member, trial, ret, status FROM trials ORDER BY 1, 2").fetchall(),
            con.execute(
                "SELECT config_id, member, config, loss FROM hb_jobs ORDER BY 2"
            ).fetchall(),
        )


HB_STUDY = dict(
    budgets=(1, 3),
    hb_iterations=2,
    baseline=False,
    agent_overrides=TINY,
    space_overrides={"epochs": (3, 4)},
)


def test_parallel_hyperband_across_the_nodes_equals_one_worker_in_process(tmp_path, cluster):
    """Three hpbandster workers whose trials run as Ray tasks on the cluster's nodes store the
    same jobs and trials as one worker in this process."""
    ref = tmp_path / "one.db"
    tune("cartpole", "hyperband", db=ref, executor="sequential", workers=1, **HB_STUDY)
    assert len([n for n in ray.nodes() if n["Alive"]]) >= 2  # (a worker node may be lost)
    db = tmp_path / "three.db"
    tune("cartpole", "hyperband", db=db, executor="ray", workers=3, **HB_STUDY)
    assert hb_rows(db) == hb_rows(ref)
    assert len(hb_rows(ref)[0]) == 18 and len(hb_rows(ref)[1]) == 6
