"""The Ray executor: each trial a Ray task, members exchanged as checkpoints; the study's
results equal running the members in this process."""

from __future__ import annotations

import pytest

from mbrlhpo.tuning import tune

ray = pytest.importorskip("ray")

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
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
    assert not any((tmp_path / "ray.study" / "exchange").iterdir())  # nothing left in flight


def test_unknown_executor_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown executor"):
        tune("cartpole", "pbt", db=tmp_path / "x.db", executor="dask")


@pytest.mark.xfail(
    reason="issue 12 point 13 is not met yet: with _node_ip_address=127.0.0.1 this Ray still "
    "reports the node on the machine's address (192.0.2.2 here); see the closing note",
    strict=False,
)
def test_a_local_ray_listens_on_the_loopback_only(tmp_path):
    from mbrlhpo.runner.ray_executor import RayExecutor

    if ray.is_initialized():
        ray.shutdown()
    try:
        RayExecutor(tmp_path / "exchange", init_kwargs={"num_cpus": 1})
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    finally:
        ray.shutdown()
