"""mbrlhpo.hpo: pure decision logic of the HPO methods (no agent, no execution).

Search spaces of the paper's tables, the objective, random search, Hyperband/BOHB settings,
PBT and PBT with backtracking.
"""

from mbrlhpo.hpo.hyperband import HyperbandSettings, hyperband_ladder
from mbrlhpo.hpo.objective import DEFAULT_LAST_K, objective
from mbrlhpo.hpo.pbt import PBTSettings, exploit_explore
from mbrlhpo.hpo.pbt_bt import PBTBT, EliteArchive, PBTBTSettings
from mbrlhpo.hpo.random_search import sample_configurations
from mbrlhpo.hpo.space import GROUPS, defaults, search_space, to_plain

__all__ = [
    "DEFAULT_LAST_K",
    "GROUPS",
    "PBTBT",
    "EliteArchive",
    "HyperbandSettings",
    "PBTBTSettings",
    "PBTSettings",
    "defaults",
    "exploit_explore",
    "hyperband_ladder",
    "objective",
    "sample_configurations",
    "search_space",
    "to_plain",
]
