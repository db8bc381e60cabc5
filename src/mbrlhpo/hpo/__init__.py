"""mbrlhpo.hpo: pure decision logic of the HPO methods (no agent, no execution).

Search spaces of the paper's tables, the objective, random search, Hyperband/BOHB settings,
PBT and PBT with backtracking.
"""

from mbrlhpo.hpo.hyperband import HyperbandSettings, hyperband_ladder, job_trials
from mbrlhpo.hpo.objective import DEFAULT_LAST_K, objective
from mbrlhpo.hpo.pbt import COPY_MODES, PBTSettings, exploit_explore, perturb
from mbrlhpo.hpo.pbt_bt import PBTBT, EliteArchive, PBTBTSettings, elite_size
from mbrlhpo.hpo.random_search import sample_configurations
from mbrlhpo.hpo.space import GROUPS, ParamSpec, defaults, param_table, to_plain

__all__ = [
    "COPY_MODES",
    "DEFAULT_LAST_K",
    "GROUPS",
    "PBTBT",
    "EliteArchive",
    "HyperbandSettings",
    "PBTBTSettings",
    "PBTSettings",
    "ParamSpec",
    "defaults",
    "elite_size",
    "exploit_explore",
    "hyperband_ladder",
    "job_trials",
    "objective",
    "param_table",
    "perturb",
    "sample_configurations",
    "to_plain",
]
