"""``RayExecutor``: a round's trials as Ray tasks, on one machine or a cluster.

Each member travels as bytes: the driver saves it self-contained (weights, optimiser, random
streams and its replay buffer; a study's shared episode store is detached for the save) into a
temporary directory, packs that into one tar blob, and a Ray task (on any node, with the CPUs
and GPUs it requested) unpacks it into its own temporary directory, loads the member, runs one
trial, saves and packs it back. The driver unpacks the returned blob and restores the member in
place. So no worker needs the study database or a shared POSIX directory: the blobs move
through Ray's object store, and the driver alone writes the database and the checkpoints.

A trial is a pure function of its blob (the member's random streams travel in it), so when a
node dies mid-trial Ray runs the task again elsewhere (``max_retries``) and the result is the
one the first attempt would have given. A member's own exception is not retried: it is that
member's failure, reported like in-process execution.

Threads: a task sets torch's threads to the CPUs Ray assigned it, and ``OMP_NUM_THREADS`` in
its runtime environment, so a member does not take every core of its node.

Requires ``pip install mbrlhpo[cluster]`` (Ray). Members implement ``save(path)``,
``restore(path)`` and a ``load(path)`` class method (``PETSAgent`` does).
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mbrlhpo.runner.executors import TrialOutcome

DEFAULT_MAX_RETRIES = 3  # reruns of a trial whose node or worker process died


def pack_member(member: Any) -> bytes:
    """The member saved self-contained, as an uncompressed tar of its checkpoint directory."""
    with tempfile.TemporaryDirectory(prefix="mbrlhpo-out-") as tmp:
        store = getattr(member, "episode_store", None)
        if store is not None:
            member.episode_store = None  # episodes inline: the blob needs no shared folder
        try:
            member.save(Path(tmp) / "member")
        finally:
            if store is not None:
                member.episode_store = store
        return _tar(Path(tmp) / "member")


def restore_member(member: Any, blob: bytes) -> None:
    """Makes ``member`` (on the driver) the member packed in ``blob``, keeping its episode
    store (the next checkpoint of the study writes its episodes there again)."""
    with tempfile.TemporaryDirectory(prefix="mbrlhpo-in-") as tmp:
        path = _untar(blob, Path(tmp))
        store = getattr(member, "episode_store", None)
        member.restore(path)
        if store is not None:
            member.episode_store = store


def _tar(path: Path) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        tar.add(path, arcname="member")
    return out.getvalue()


def _untar(blob: bytes, into: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r") as tar:
        tar.extractall(into, filter="data")
    return into / "member"


def _set_threads() -> int:
    """Torch's threads from the CPUs Ray assigned this task (at least one)."""
    import ray
    import torch

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    threads = max(1, int(cpus))
    torch.set_num_threads(threads)
    return threads


def _run_remote_trial(
    cls_path: str, blob: bytes, task_ref: str | None = None
) -> tuple[Any, bytes, float]:
    """In a Ray worker: unpack the member, run one trial, pack it back. ``task_ref``: the
    custom task the driver's user named (a checkpoint never imports one by itself)."""
    import importlib

    _set_threads()
    if task_ref is not None:
        from mbrlhpo.envs.custom_task import load_task

        load_task(task_ref)
    module, _, name = cls_path.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mbrlhpo-trial-") as tmp:
        member = cls.load(_untar(blob, Path(tmp)))
        result = member.run_trial()
    return result, pack_member(member), time.perf_counter() - start


class RayExecutor:
    """Runs each member's trial as a Ray task.

    Args:
        address: Ray cluster address (None: ``RAY_ADDRESS`` if set, else a new local Ray that
            listens on 127.0.0.1 only).
        num_cpus_per_trial: CPUs Ray reserves per trial; the trial's torch threads and
            ``OMP_NUM_THREADS`` follow it.
        num_gpus_per_trial: GPUs Ray reserves per trial (members built with ``device="cuda"``).
        max_retries: reruns of a trial whose node or worker died (not of a member's error).
        init_kwargs: extra ``ray.init`` arguments when this executor starts Ray.
    """

    def __init__(
        self,
        address: str | None = None,
        num_cpus_per_trial: float = 1,
        num_gpus_per_trial: float = 0,
        max_retries: int = DEFAULT_MAX_RETRIES,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        try:
            import ray
        except ImportError as exc:
            raise ImportError("RayExecutor needs Ray: pip install mbrlhpo[cluster]") from exc
        if num_cpus_per_trial <= 0:
            raise ValueError(f"num_cpus_per_trial: expected > 0, got {num_cpus_per_trial!r}")
        if num_gpus_per_trial < 0:
            raise ValueError(f"num_gpus_per_trial: expected >= 0, got {num_gpus_per_trial!r}")
        self.ray = ray
        address = address or os.environ.get("RAY_ADDRESS") or None
        if not ray.is_initialized():
            if address is None:
                # A local Ray: this machine's trials only, so nobody else may reach it.
                from mbrlhpo.integrations.ray_local import init_local_ray

                init_local_ray(**(init_kwargs or {}))
            else:
                ray.init(
                    address=address,
                    log_to_driver=False,
                    configure_logging=False,
                    **(init_kwargs or {}),
                )
        # Per trial of the last ``run``: seconds on the driver (ship, wait, restore), seconds in
        # the task, blob bytes each way (bench/bench_cluster.py reads them).
        self.timings: list[dict[str, float]] = []
        threads = str(max(1, int(num_cpus_per_trial)))
        self._task = ray.remote(_run_remote_trial).options(
            num_cpus=num_cpus_per_trial,
            num_gpus=num_gpus_per_trial,
            max_retries=max_retries,
            retry_exceptions=False,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}},
        )

    def run(self, members: Sequence[Any]) -> list[TrialOutcome]:
        """Runs each member's trial as a Ray task. May be called from several threads at once
        (Hyperband's parallel jobs): each call waits only for its own tasks."""
        jobs = []
        timings: list[dict[str, float]] = []
        for member in members:
            cls = type(member)
            start = time.perf_counter()
            try:
                blob = pack_member(member)
                task_ref = getattr(getattr(member, "task", None), "ref", None)
                ref = self._task.remote(f"{cls.__module__}.{cls.__qualname__}", blob, task_ref)
                jobs.append((member, ref, start, None, len(blob)))
            except Exception as exc:  # could not even ship it: that member's failure
                jobs.append((member, None, start, exc, 0))
        outcomes = []
        for member, ref, start, error, sent in jobs:
            try:
                if error is not None:
                    raise error
                result, blob, task_s = self.ray.get(ref)
                restore_member(member, blob)
                elapsed = time.perf_counter() - start
                outcomes.append(TrialOutcome(result, None, elapsed))
                timings.append(
                    {"driver_s": elapsed, "task_s": task_s, "sent": sent, "received": len(blob)}
                )
            except Exception as exc:
                outcomes.append(TrialOutcome(None, _unwrap(exc), time.perf_counter() - start))
        self.timings = timings
        return outcomes


def _unwrap(exc: BaseException) -> BaseException:
    """A Ray task error carries the worker's exception as its cause; report that one."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc
