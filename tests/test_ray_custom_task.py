"""A custom task (mbrlhpo.Task) tuned on Ray: each worker process imports the task by its
reference ("inverted_pendulum:TASK"), which compiles and registers it there; the study equals
the same study run in this process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("numba")
pytest.importorskip("imageio")  # gymnasium's MuJoCo envs import it

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom_task"
TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


@pytest.fixture(scope="module")
def ray_with_the_example_importable():
    from mbrlhpo.integrations.ray_local import init_local_ray

    old = os.environ.get("PYTHONPATH")
    # Ray's workers inherit the environment of the Ray started here.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(EXAMPLE), old]))
    sys.path.insert(0, str(EXAMPLE))
    init_local_ray(num_cpus=2)
    yield
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


@pytest.mark.slow
def test_pbt_of_a_custom_task_on_ray_equals_in_process(tmp_path, ray_with_the_example_importable):
    from mbrlhpo.tuning import tune

    runs = {}
    for executor in ("ray", "sequential"):
        study = tune(
            "inverted_pendulum:TASK",
            "pbt",
            population=2,
            trials=1,
            pbt_interval=1,
            baseline=False,
            db=tmp_path / f"{executor}.db",
            agent_overrides=TINY,
            space_overrides={"epochs": (2, 3)},
            executor=executor,
        )
        runs[executor] = [(t["member"], t["trial"], t["ret"], t["status"]) for t in study.trials]
    assert runs["ray"] == runs["sequential"]
    assert len(runs["ray"]) == 2 * 2 and all(status == "ok" for *_, status in runs["ray"])
