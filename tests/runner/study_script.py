"""Runs a small study on a database (used by the SIGKILL tests as a subprocess):
``study_script.py METHOD DB SLEEP [WORKERS]``."""

import sys

from mbrlhpo.hpo.hyperband import HyperbandSettings
from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.pbt_bt import PBTBTSettings
from mbrlhpo.hpo.space import defaults, param_table
from mbrlhpo.runner.spec import StudySpec
from mbrlhpo.runner.study import run_study
from mbrlhpo.runner.testing import quadratic_factory


def main(method: str, db: str, sleep: float, workers: int = 1) -> None:
    if method == "hyperband":  # 20 jobs, 236 trials; lr above 3e-4 diverges (crashed jobs)
        run_study(
            StudySpec(
                method=method,
                space=param_table("cartpole", "model"),
                trials=27,
                seed=5,
                base_config=defaults("cartpole", "planning"),
                hyperband=HyperbandSettings(3, 27, n_iterations=3),
                workers=workers,
            ),
            quadratic_factory(diverge_lr=3e-4, sleep=sleep),
            db,
        )
        return
    pbt = {
        "pbt": PBTSettings(interval=2),
        "pbt-bt": PBTBTSettings(interval=2, backtrack_every=2),
        "random": None,
    }[method]
    run_study(
        StudySpec(
            method=method,
            space=param_table("cartpole", "model"),
            trials=12,
            population=6,
            seed=3,
            base_config=defaults("cartpole", "planning"),
            pbt=pbt,
        ),
        quadratic_factory(diverge_lr=0.03, fail={2: (5,)}, sleep=sleep),
        db,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), *(int(a) for a in sys.argv[4:]))
