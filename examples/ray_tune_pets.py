"""Ray Tune's PBT, PB2, ASHA and BOHB tuning PETS on cartpole at a tiny scale, through
``mbrlhpo.integrations.ray_tune.PETSTrainable`` (all four with ``--samples 2 --trials 3``:
19 minutes on 2 busy cores, see docs/cluster.md).

Usage: PYTHONPATH=src python examples/ray_tune_pets.py [--algos pbt pb2 asha bohb]
       [--samples 4] [--trials 4] [--concurrent 2] [--storage runs/ray_tune_pets]

Needs ``pip install ".[tune]"``. The scale is a smoke test of the integration, not a study:
for the paper's protocol use ``mbrlhpo tune``.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import ray
from ray import tune

from mbrlhpo.integrations.ray_local import init_local_ray
from mbrlhpo.integrations.ray_tune import PETSTrainable

# A tiny agent: one CEM iteration of 10 candidates over 3 steps, a small ensemble.
TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
LR = (1e-4, 1e-2)
EPOCHS = (2, 6)


def scheduler_and_searcher(algo: str, trials: int):
    from ray.tune.schedulers import ASHAScheduler, HyperBandForBOHB, PopulationBasedTraining

    if algo == "pbt":
        # Only lr is perturbed: PBT and PB2 scale values by factors, which an int would not stay.
        mutations = {"lr": tune.loguniform(*LR)}
        return PopulationBasedTraining(
            perturbation_interval=1, hyperparam_mutations=mutations
        ), None
    if algo == "pb2":
        from ray.tune.schedulers.pb2 import PB2

        bounds = {"lr": list(LR)}
        return PB2(perturbation_interval=1, hyperparam_bounds=bounds), None
    if algo == "asha":
        return ASHAScheduler(max_t=trials, grace_period=2, reduction_factor=2), None
    if algo == "bohb":
        from ray.tune.search.bohb import TuneBOHB

        return (
            HyperBandForBOHB(max_t=trials, reduction_factor=2),
            TuneBOHB(seed=0),
        )
    raise ValueError(f"unknown algorithm {algo!r}: expected pbt, pb2, asha or bohb")


def run(algo: str, samples: int, trials: int, storage: str, concurrent: int | None = None) -> None:
    """Tune ``algo`` on ``samples`` agents of ``trials`` episodes; at most ``concurrent`` agents
    at once (None: as many as Ray has CPUs for, one each)."""
    scheduler, searcher = scheduler_and_searcher(algo, trials)
    space = {"env": "cartpole", "seed": 0, **TINY, "lr": tune.loguniform(*LR)}
    space["epochs"] = tune.randint(*EPOCHS)
    tuner = tune.Tuner(
        tune.with_resources(PETSTrainable, {"cpu": 1}),
        param_space=space,
        tune_config=tune.TuneConfig(
            metric="objective",
            mode="max",
            num_samples=samples,
            scheduler=scheduler,
            search_alg=searcher,
            max_concurrent_trials=concurrent,
        ),
        run_config=tune.RunConfig(
            name=algo, storage_path=storage, stop={"training_iteration": trials}, verbose=0
        ),
    )
    results = tuner.fit()
    best = results.get_best_result()
    print(
        f"{algo}: {len(results)} trials, {results.num_errors} errors; best objective "
        f"{best.metrics['objective']:.1f} with lr={best.config['lr']:.2e}, "
        f"epochs={best.config['epochs']}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--algos", nargs="+", default=["pbt", "pb2", "asha", "bohb"])
    p.add_argument("--samples", type=int, default=4, help="Tune trials (PETS agents) per algo")
    p.add_argument("--trials", type=int, default=4, help="episodes per agent (1 random + MPC)")
    p.add_argument("--concurrent", type=int, default=None, help="agents at once (default: CPUs)")
    p.add_argument("--storage", default=None, help="Tune's results folder (default: a temp one)")
    args = p.parse_args()
    init_local_ray()  # listens on 127.0.0.1 only
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for algo in args.algos:
                # Absolute: Tune resolves a relative storage path against its own folders.
                storage = os.path.abspath(args.storage) if args.storage else tmp
                run(algo, args.samples, args.trials, storage, args.concurrent)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
