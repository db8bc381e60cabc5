"""Tune PETS by PBT on gymnasium's InvertedPendulum-v5, a task mbrlhpo does not ship, with its
reward written in Python (inverted_pendulum.py). Minutes on 2 CPU cores with the defaults.

    python examples/custom_task/tune_inverted_pendulum.py [--db runs/pendulum.db]
        [--population 4] [--trials 6] [--tiny]

Run again with the same --db to resume. The study names its task "inverted_pendulum:TASK", so a
resumed study (or a Ray worker, with this folder on PYTHONPATH) rebuilds it by importing it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # so that "inverted_pendulum:TASK" imports, here and in workers
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))

import mbrlhpo  # noqa: E402

# Small planner settings (the quick profile's, smaller): enough to balance a pendulum.
SMALL = dict(population=60, horizon=15, iterations=3, particles=5, hidden=64, depth=3)
TINY = dict(population=10, horizon=3, iterations=1, particles=5, hidden=16, depth=2)


def main(argv: list[str] | None = None) -> mbrlhpo.Study:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="runs/inverted_pendulum.db")
    ap.add_argument("--population", type=int, default=4)
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--tiny", action="store_true", help="tiny planner (the CI test's)")
    args = ap.parse_args(argv)
    study = mbrlhpo.tune(
        "inverted_pendulum:TASK",
        "pbt",
        group="model",  # learning rate, weight decay, epochs (the paper's model group)
        population=args.population,
        trials=args.trials,
        db=args.db,
        pbt_interval=2,
        profile="quick",
        agent_overrides=TINY if args.tiny else SMALL,
        # A small task's ranges: on a few hundred transitions the model needs more passes than
        # the paper's 3-20 epochs (5 leave it under-fitted: docs/custom_task.md).
        space_overrides={"epochs": (20, 40), "lr": (3e-4, 3e-3), "weight_decay": (1e-6, 1e-3)},
    )
    print(
        f"{len(study.trials)} trials; best member {study.best_member}: score "
        f"{study.best_score:.1f} (mean return of its last trials), the defaults: "
        f"{study.baseline.score:.1f}; best configuration: {study.best_config}"
    )
    return study


if __name__ == "__main__":
    main()
