"""A small PBT study of toy members, run as a subprocess by the fuzz-and-kill tests.

``python fuzz_study.py DB SLEEP [SETTINGS_JSON]``: runs (or resumes) the study; a known error
is printed as the CLI prints it (one line, exit 2).
"""

import json
import sys

from mbrlhpo.cli_errors import report
from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.space import defaults, param_table
from mbrlhpo.runner.spec import AgentSettings, StudySpec
from mbrlhpo.runner.study import run_study
from mbrlhpo.runner.testing import quadratic_factory

STUDY = {"trials": 8, "population": 4, "seed": 3, "interval": 2, "hidden": 64}


def run(db: str, sleep: float, **changes) -> object:
    s = {**STUDY, **changes}
    return run_study(
        StudySpec(
            method="pbt",
            space=param_table("cartpole", "model"),
            trials=s["trials"],
            population=s["population"],
            seed=s["seed"],
            base_config=defaults("cartpole", "planning"),
            pbt=PBTSettings(interval=s["interval"]),
            agent=AgentSettings("quick", fixed={"hidden": s["hidden"]}),
        ),
        quadratic_factory(diverge_lr=0.03, fail={2: (5,)}, sleep=sleep),
        db,
    )


if __name__ == "__main__":
    changes = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    try:
        run(sys.argv[1], float(sys.argv[2]), **changes)
    except (Exception, KeyboardInterrupt) as exc:
        sys.exit(report(exc))
