"""The result of a study as a file: the best member's policy exported for the C++ core
(``mbrlhpo export``, ``examples/cpp_controller``). The best member's verified checkpoint is
:func:`mbrlhpo.runner.results.best_checkpoint` (re-exported here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mbrlhpo.runner.results import NoBestCheckpoint, best_checkpoint

__all__ = ["NoBestCheckpoint", "best_checkpoint", "export_best"]


def export_best(
    db: str | os.PathLike,
    out: str | os.PathLike,
    member_class: Any,
    study_dir: str | os.PathLike | None = None,
    device: str = "cpu",
) -> Path:
    """Exports the policy of the study's best member to ``out`` and returns the path written.
    ``member_class`` loads it (``member_class.load(path, device=...)``; ``PETSAgent``, whose
    ``export`` writes the ``mbrlhpo-policy`` safetensors that ``mbrlhpo::LoadPlanner`` and
    ``examples/cpp_controller`` read): the runner imports no agent itself."""
    member = member_class.load(best_checkpoint(db, study_dir), device=device)
    try:
        return member.export(out)
    finally:
        member.close()
