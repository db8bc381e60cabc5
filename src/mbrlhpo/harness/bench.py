"""``mbrlhpo.bench``: run (or resume) every cell of a suite, then write the long table and the
summary with its figures (rewritten on every run, a resumed one included)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mbrlhpo.harness.cell import cells_of, finished
from mbrlhpo.harness.executors import run_cells
from mbrlhpo.harness.progress import Progress
from mbrlhpo.harness.state import claim
from mbrlhpo.harness.suite import Suite, load_suite
from mbrlhpo.harness.summary import write_summary
from mbrlhpo.harness.table import rows_of, write_table


def bench(
    suite: str | os.PathLike | Suite,
    out: str | os.PathLike,
    jobs: int = 1,
    executor: str = "local",
    threads: int | None = None,
    ray_address: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Runs the suite's cells under ``out`` (resuming a killed run; a changed suite is refused)
    and writes ``results.csv``/``results.json``, ``summary.md`` and ``figures/``. Returns the
    cells' results and the paths."""
    s = suite if isinstance(suite, Suite) else load_suite(suite)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: expected an int >= 1, got {jobs!r}")
    root = Path(out).absolute()
    content = s.content()
    resumed = claim(root, content)
    cells = cells_of(content)
    bar = None
    if progress:
        # cells found finished return at once: they are counted here, not again when they return
        before = {c.name() for c in cells if finished(root, c) is not None}
        bar = Progress(len(cells), len(before), resumed_from=root if resumed else None)

        def on_done(c):
            if c.name() not in before:
                bar.cell_done(c.name())

    try:
        results = run_cells(
            content,
            cells,
            root,
            jobs,
            executor,
            threads,
            ray_address,
            on_done=on_done if progress else None,
        )
    finally:
        if bar is not None:
            bar.close()
    rows = rows_of(s.name, results)
    paths = write_table(rows, root)
    paths.update(write_summary(rows, content, s.analysis(), root))
    return {"results": results, "paths": paths}
