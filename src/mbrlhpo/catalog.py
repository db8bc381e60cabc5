"""The names everything else refers to: tasks, tunable hyperparameters, profiles, HPO methods.

One copy, used by the envs, hpo, the agent and the CLIs. It imports nothing but ``os`` (loaded
by every interpreter before any script: not even NumPy), so building a CLI parser or listing the
tasks loads nothing heavy; tests/test_layers.py places it at the bottom of the import contract
and checks that it stays free of dependencies.

The built-in tasks are found, not listed: every ``envs/builtin/<name>.py`` with a line
``TITLE = "<Title>"`` is one (an optional ``DEFAULTS_LIKE = "<task>"`` line names the task whose
tuning defaults it uses), in the order of the file names, as CMake finds the C++ task headers
(``MBRLHPO_BUILTIN_TASK(<Title>)`` lines) and generates the C++ list from them. The task rows
themselves (dims, bounds, rewards) are ``mbrlhpo.envs.tasks`` in Python and the C++ headers;
tests/envs/test_task_tables.py checks that they agree. Adding a built-in task: docs/new_task.md.
"""

from __future__ import annotations

import os

_BUILTIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "envs", "builtin")
_KEYS = ("TITLE", "DEFAULTS_LIKE")  # the lines read: TITLE marks a task, DEFAULTS_LIKE optional


def _read_builtin_definitions(folder: str) -> dict[str, dict[str, str]]:
    """Task name -> ``{"TITLE": ..., "DEFAULTS_LIKE": ...}`` of each ``<name>.py`` in ``folder``
    with a ``TITLE = "<Title>"`` line, in the order of the names. Read as text (the definitions
    import NumPy): a value must be a plain string literal on one line."""
    tasks: dict[str, dict[str, str]] = {}
    for file in sorted(os.listdir(folder)):
        name, ext = os.path.splitext(file)
        if ext != ".py" or name.startswith("_"):
            continue
        path = os.path.join(folder, file)
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.startswith(tuple(k + " = " for k in _KEYS))]
        values: dict[str, str] = {}
        for line in lines:
            key, value = line.split(" = ", 1)
            ok = len(value) > 2 and value[0] == value[-1] and value[0] in "\"'"
            if key in values or not ok or not value[1:-1].isidentifier():
                raise ValueError(f'{path}: expected one line {key} = "<Name>", got {line!r}')
            values[key] = value[1:-1]
        if "TITLE" not in values:
            continue
        if not name.isidentifier():
            raise ValueError(f"{path}: expected a task name made of letters, digits and _")
        tasks[name] = values
    return tasks


_BUILTIN = _read_builtin_definitions(_BUILTIN_DIR)

# Built-in task name -> the title in its gymnasium id (``mbrlhpo/<title>-v0``) and of its C++
# struct, in the order of the names (that of the C++ list, mbrlhpo/tasks/builtin.h).
TASK_TITLES: dict[str, str] = {name: d["TITLE"] for name, d in _BUILTIN.items()}
TASK_NAMES: tuple[str, ...] = tuple(TASK_TITLES)
# Built-in task -> the task whose expert defaults, search space, Hyperband budgets and PBT
# interval it uses (its definition's ``DEFAULTS_LIKE`` line), for tasks without rows of their own
# in those tables (``mbrlhpo.agent.hparams``, ``mbrlhpo.hpo.space``).
DEFAULTS_LIKE: dict[str, str] = {
    name: d["DEFAULTS_LIKE"] for name, d in _BUILTIN.items() if "DEFAULTS_LIKE" in d
}


def defaults_task(name: str) -> str:
    """The task whose tuning tables built-in task ``name`` uses: its ``DEFAULTS_LIKE``, else
    itself (any other name is returned as it is)."""
    return DEFAULTS_LIKE.get(name, name)


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
# The methods whose members run in rounds: every member's trial t, together (one planning call
# per step), before any trial t + 1; Hyperband's and BOHB's jobs run one after another.
POPULATION_METHODS: tuple[str, ...] = ("random", "pbt", "pbt-bt")

__all__ = [
    "DEFAULTS",
    "DEFAULTS_LIKE",
    "FIXED",
    "GROUPS",
    "METHODS",
    "POPULATION_METHODS",
    "MODEL_PARAMS",
    "PLANNING_PARAMS",
    "PROFILES",
    "TASK_NAMES",
    "TASK_TITLES",
    "TUNABLE",
    "defaults_task",
]
