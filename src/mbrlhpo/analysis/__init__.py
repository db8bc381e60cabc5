"""mbrlhpo.analysis: the paper's analyses of a study, and replaying hyperparameter schedules.

- Records (plain dicts in and out): :func:`read_study`, :func:`learning_curves`,
  :func:`top_curve`, :func:`best_curve`, :func:`top_schedule`, :func:`final_scores`,
  :func:`score_histogram`, :func:`fidelity_correlations`, :func:`lineage_counts`,
  :func:`summarize`, :func:`compare_studies`; :func:`spearman` and :func:`rankdata`.
- Reports: :func:`report` (one study) and :func:`compare` (several): markdown, JSON and, with
  matplotlib (``pip install mbrlhpo[plots]``), PNG figures.
- Schedules: :func:`load_schedule`, :func:`replay_schedule` (the paper's learned schedules).
"""

from mbrlhpo.analysis.records import (
    baseline_curve,
    best_curve,
    compare_studies,
    failures,
    fidelity_correlations,
    final_scores,
    learning_curves,
    lineage_counts,
    read_study,
    score_histogram,
    summarize,
    top_curve,
    top_schedule,
)
from mbrlhpo.analysis.replay import (
    PAPER_ENVS,
    PAPER_KEYS,
    ReplayResult,
    final_scenario,
    load_schedule,
    replay_schedule,
    schedule_env,
    task_for_env,
    validate_schedule,
)
from mbrlhpo.analysis.report import compare, report
from mbrlhpo.analysis.stats import pearson, rankdata, spearman

__all__ = [
    "PAPER_ENVS",
    "PAPER_KEYS",
    "ReplayResult",
    "baseline_curve",
    "best_curve",
    "compare",
    "compare_studies",
    "failures",
    "fidelity_correlations",
    "final_scenario",
    "final_scores",
    "learning_curves",
    "lineage_counts",
    "load_schedule",
    "pearson",
    "rankdata",
    "read_study",
    "replay_schedule",
    "report",
    "schedule_env",
    "score_histogram",
    "spearman",
    "summarize",
    "task_for_env",
    "top_curve",
    "top_schedule",
    "validate_schedule",
]
