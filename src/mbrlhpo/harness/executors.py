"""Where a suite's cells run: one after another in this process, in worker processes on this
machine, or as Ray tasks.

Cells are independent (each has its own study database and files), so running them at once
changes only when they finish: results are returned in the cells' order and equal a sequential
run's (tests/harness/test_bench.py). Worker processes are spawned (a fresh interpreter: no
forked torch or MuJoCo state) and die with the harness (Linux: ``PR_SET_PDEATHSIG``), so a
killed harness leaves no cell running that a rerun would collide with.
"""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from mbrlhpo.harness.cell import Cell, run_cell

EXECUTORS = ("local", "ray")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Worker initializer: the kernel kills this worker when the harness dies (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def run_cells(
    content: dict[str, Any],
    cells: Sequence[Cell],
    root: Path,
    jobs: int = 1,
    executor: str = "local",
    threads: int | None = None,
    ray_address: str | None = None,
    on_done: Callable[[Cell], None] | None = None,
) -> list[dict[str, Any]]:
    """Every cell's result, in the order of ``cells``."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}: expected one of {', '.join(EXECUTORS)}")
    if executor == "ray":
        return _run_ray(content, cells, root, threads, ray_address, on_done)
    if jobs == 1:
        out = []
        for cell in cells:
            out.append(run_cell(content, cell, root, threads))
            if on_done is not None:
                on_done(cell)
        return out
    import multiprocessing

    results: dict[int, dict[str, Any]] = {}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_die_with_parent) as pool:
        pending = {
            pool.submit(run_cell, content, cell, root, threads): i for i, cell in enumerate(cells)
        }
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                i = pending.pop(f)
                results[i] = f.result()  # a failed cell stops the suite with its error
                if on_done is not None:
                    on_done(cells[i])
    return [results[i] for i in range(len(cells))]


def _run_ray(
    content: dict[str, Any],
    cells: Sequence[Cell],
    root: Path,
    threads: int | None,
    address: str | None,
    on_done: Callable[[Cell], None] | None,
) -> list[dict[str, Any]]:
    """Each cell a Ray task (``threads`` CPUs each). ``root`` must be reachable at the same
    path from every Ray node (a shared file system); a local Ray binds 127.0.0.1 only."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError('--executor ray needs Ray: pip install "mbrlhpo[cluster]"') from exc
    started = False
    if not ray.is_initialized():
        if address is None:
            from mbrlhpo.integrations.ray_local import init_local_ray

            init_local_ray()
        else:
            ray.init(address=address, log_to_driver=False)
        started = True
    try:
        task = ray.remote(num_cpus=threads or 1)(run_cell)
        refs = [task.remote(content, cell, str(root), threads) for cell in cells]
        index = {ref: i for i, ref in enumerate(refs)}
        results: dict[int, dict[str, Any]] = {}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                results[index[ref]] = ray.get(ref)
                if on_done is not None:
                    on_done(cells[index[ref]])
        return [results[i] for i in range(len(cells))]
    finally:
        if started:
            ray.shutdown()
