"""The Ray Tune integration: a PETS agent as a Tune Trainable, its checkpoints restore it
exactly, and Tune's PBT runs on it (tiny scale, on a local Ray bound to the loopback)."""

from __future__ import annotations

import math

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.tune", exc_type=ImportError)

from mbrlhpo.integrations.ray_tune import PETSTrainable  # noqa: E402

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2, epochs=3)
CONFIG = dict(env="cartpole", seed=3, lr=1e-3, **TINY)


def test_a_restored_trainable_continues_exactly(tmp_path):
    first = PETSTrainable(config=CONFIG)
    try:
        for _ in range(2):
            first.train()
        checkpoint = first.save(str(tmp_path / "ckpt"))
        expected = first.train()
    finally:
        first.stop()
    second = PETSTrainable(config=CONFIG)
    try:
        second.restore(checkpoint)
        got = second.train()
    finally:
        second.stop()
    assert got["ret"] == expected["ret"]
    assert got["objective"] == expected["objective"]
    assert got["trial"] == 2  # random trial 0, MPC trials 1 and 2


def test_a_config_without_env_is_a_clear_error():
    with pytest.raises(ValueError, match=r"expected config\['env'\]"):
        PETSTrainable(config={"lr": 1e-3})


@pytest.mark.slow
def test_tunes_pbt_runs_on_pets(tmp_path):
    from ray import tune
    from ray.tune.schedulers import PopulationBasedTraining

    from mbrlhpo.integrations.ray_local import init_local_ray

    if ray.is_initialized():
        ray.shutdown()
    init_local_ray(num_cpus=2)
    try:
        pbt = PopulationBasedTraining(
            time_attr="training_iteration",
            perturbation_interval=1,
            hyperparam_mutations={"lr": tune.loguniform(1e-4, 1e-2)},
        )
        tuner = tune.Tuner(
            PETSTrainable,
            param_space={**CONFIG, "lr": tune.loguniform(1e-4, 1e-2)},
            tune_config=tune.TuneConfig(
                scheduler=pbt, metric="objective", mode="max", num_samples=2
            ),
            run_config=tune.RunConfig(
                storage_path=str(tmp_path), stop={"training_iteration": 3}, verbose=0
            ),
        )
        results = tuner.fit()
    finally:
        ray.shutdown()
    assert results.num_errors == 0
    assert len(results) == 2
    for result in results:
        assert result.metrics["training_iteration"] == 3
        assert math.isfinite(result.metrics["ret"])
