"""The names everything else refers to: tasks, tunable hyperparameters, profiles, HPO methods.

One copy, used by the envs, hpo, the agent and the CLIs. It imports nothing (not even NumPy), so
building a CLI parser or listing the tasks loads nothing heavy; tests/test_layers.py places it at
the bottom of the import contract and checks that it stays free of dependencies.

The task rows themselves (dims, bounds, rewards) are ``mbrlhpo.envs.tasks`` in Python and the C++
list ``csrc/include/mbrlhpo/tasks/builtin.h``; tests/envs/test_task_tables.py checks that the
three agree. Adding a built-in task: docs/new_task.md.
"""

from __future__ import annotations

# Built-in task name -> the title in its gymnasium id (``mbrlhpo/<title>-v0``), in the order of
# the C++ list (csrc/include/mbrlhpo/tasks/builtin.h).
TASK_TITLES: dict[str, str] = {
    "cartpole": "Cartpole",
    "reacher": "Reacher",
    "pusher": "Pusher",
    "hopper": "Hopper",
    "halfcheetah": "HalfCheetah",
    "hexapod": "Hexapod",
}
TASK_NAMES: tuple[str, ...] = tuple(TASK_TITLES)

# The paper's eight tunable hyperparameters (the agent's names; hpo's search spaces), by group.
MODEL_PARAMS: tuple[str, ...] = ("lr", "weight_decay", "epochs")
PLANNING_PARAMS: tuple[str, ...] = ("iterations", "population", "alpha", "elite_ratio", "horizon")
TUNABLE: tuple[str, ...] = MODEL_PARAMS + PLANNING_PARAMS
GROUPS: dict[str, tuple[str, ...]] = {
    "model": MODEL_PARAMS,
    "planning": PLANNING_PARAMS,
    "joint": TUNABLE,
}
# The agent's settings that no study searches.
FIXED: tuple[str, ...] = ("ensemble_size", "hidden", "depth", "particles", "batch_size")

# Profiles of the agent's settings: the paper's, or a small, fast variant.
PROFILES: tuple[str, ...] = ("paper", "quick")
# Where the paper's defaults come from: its tables, or the values its code ran.
DEFAULTS: tuple[str, ...] = ("table", "code")

# HPO methods of a study.
METHODS: tuple[str, ...] = ("random", "hyperband", "bohb", "pbt", "pbt-bt")

__all__ = [
    "DEFAULTS",
    "FIXED",
    "GROUPS",
    "METHODS",
    "MODEL_PARAMS",
    "PLANNING_PARAMS",
    "PROFILES",
    "TASK_NAMES",
    "TASK_TITLES",
    "TUNABLE",
]
