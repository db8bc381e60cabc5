"""mbrlhpo.runner: executes HPO decisions (study runner, executors, checkpoints).

Imported lazily: a member's package may import ``mbrlhpo.runner.protocol`` (the contract)
without loading the runner itself.
"""

from __future__ import annotations

from mbrlhpo.lazy_exports import lazy_getattr

_EXPORTS = {
    "METHODS": "mbrlhpo.runner.study",
    "Study": "mbrlhpo.runner.study",
    "run_study": "mbrlhpo.runner.study",
    "LockstepExecutor": "mbrlhpo.runner.executors",
    "SequentialExecutor": "mbrlhpo.runner.executors",
    "TrialResult": "mbrlhpo.runner.protocol",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
