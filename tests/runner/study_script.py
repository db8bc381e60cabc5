"""Runs a small study on a database (used by the SIGKILL test as a subprocess)."""

import sys

from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.pbt_bt import PBTBTSettings
from mbrlhpo.hpo.space import defaults, search_space
from mbrlhpo.runner.study import run_study
from mbrlhpo.runner.testing import quadratic_factory


def main(method: str, db: str, sleep: float) -> None:
    pbt = {
        "pbt": PBTSettings(interval=2),
        "pbt-bt": PBTBTSettings(interval=2, backtrack_every=2),
        "random": None,
    }[method]
    run_study(
        method,
        quadratic_factory(diverge_lr=0.03, fail={2: (5,)}, sleep=sleep),
        search_space("cartpole", "model"),
        db,
        trials=12,
        population=6,
        seed=3,
        base_config=defaults("cartpole", "planning"),
        pbt=pbt,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
