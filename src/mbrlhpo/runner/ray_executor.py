"""``RayExecutor``: a round's trials as Ray tasks, on one machine or a cluster.

Each member travels as its own checkpoint: the driver saves it into an exchange directory,
a Ray task (on any node) loads it, runs one trial and saves it back, and the driver restores
the member in place from that file. Only plain records cross Ray (paths and result dicts), no
pickled agents. The exchange directory must be shared storage that every node sees at the same
path; a study's episode store (written once per episode, content-addressed) is then shared
too, so a member's history is not copied on every trial. The scheduler stays on the driver.

Requires ``pip install mbrlhpo[cluster]`` (Ray). Members must implement ``save(path)``,
``restore(path)`` and a ``load(path)`` class method (``PETSAgent`` does).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mbrlhpo.runner.executors import TrialOutcome
from mbrlhpo.runner.protocol import TrialResult


def _run_remote_trial(cls_path: str, path: str) -> tuple[dict, float]:
    """Loads the member saved at ``path``, runs one trial, saves it back; in a Ray worker."""
    import importlib

    module, _, name = cls_path.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    start = time.perf_counter()
    member = cls.load(path)
    result = member.run_trial()
    member.save(path)
    return result.to_dict(), time.perf_counter() - start


LOCAL_IP = "127.0.0.1"


class RayExecutor:
    """Runs each member's trial as a Ray task.

    Args:
        exchange_dir: shared directory for the members' checkpoints in flight.
        address: Ray cluster address (None: start or join a local one).
        num_cpus_per_trial: CPUs Ray reserves per trial (the native planner uses its threads).
        init_kwargs: extra ``ray.init`` arguments when this executor starts Ray.
    """

    def __init__(
        self,
        exchange_dir: str | os.PathLike,
        address: str | None = None,
        num_cpus_per_trial: float = 1,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        try:
            import ray
        except ImportError as exc:
            raise ImportError("RayExecutor needs Ray: pip install mbrlhpo[cluster]") from exc
        self.ray = ray
        if not ray.is_initialized():
            # A local Ray (no cluster address) listens on the loopback only: the trials are
            # this machine's, and nobody else should be able to submit work to it.
            local = {} if address else {"_node_ip_address": LOCAL_IP}
            ray.init(
                address=address,
                **local,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
                **(init_kwargs or {}),
            )
        self.exchange = Path(exchange_dir)
        self.exchange.mkdir(parents=True, exist_ok=True)
        self._task = ray.remote(num_cpus=num_cpus_per_trial)(_run_remote_trial)

    def run(self, members: Sequence[Any]) -> list[TrialOutcome]:
        jobs = []
        for member in members:
            cls = type(member)
            path = self.exchange / uuid.uuid4().hex
            start = time.perf_counter()
            try:
                member.save(path)
                ref = self._task.remote(f"{cls.__module__}.{cls.__qualname__}", str(path))
                jobs.append((member, path, ref, start, None))
            except Exception as exc:  # could not even ship it: that member's failure
                jobs.append((member, path, None, start, exc))
        outcomes = []
        for member, path, ref, start, error in jobs:
            try:
                if error is not None:
                    raise error
                result, _ = self.ray.get(ref)
                member.restore(path)
                outcomes.append(
                    TrialOutcome(TrialResult.from_dict(result), None, time.perf_counter() - start)
                )
            except Exception as exc:
                outcomes.append(TrialOutcome(None, _unwrap(exc), time.perf_counter() - start))
            finally:
                shutil.rmtree(path, ignore_errors=True)
        return outcomes


def _unwrap(exc: BaseException) -> BaseException:
    """A Ray task error carries the worker's exception as its cause; report that one."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc
