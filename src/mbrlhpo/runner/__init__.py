"""mbrlhpo.runner: executes HPO decisions (study runner, executors, checkpoints).

Imported lazily: a member's package may import ``mbrlhpo.runner.protocol`` (the contract)
without loading the runner itself.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "METHODS": "mbrlhpo.runner.study",
    "Study": "mbrlhpo.runner.study",
    "run_study": "mbrlhpo.runner.study",
    "LockstepExecutor": "mbrlhpo.runner.executors",
    "SequentialExecutor": "mbrlhpo.runner.executors",
    "TrialResult": "mbrlhpo.runner.protocol",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'mbrlhpo.runner' has no attribute {name!r}")
