"""What every study run does with its members: build them (seeded per member), load them from
checkpoints, record each trial with its checkpoint, and drop checkpoints no longer needed.
``PopulationRun`` and ``HyperbandRun`` build on it."""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from mbrlhpo.runner.checkpoints import CheckpointDir
from mbrlhpo.runner.executors import Executor, TrialOutcome
from mbrlhpo.runner.protocol import Member
from mbrlhpo.runner.results import MODEL_DIVERGED
from mbrlhpo.runner.spec import StudySpec
from mbrlhpo.store.sqlite_store import StoreError, StudyStore


def member_seed(seed: int, member: int) -> int:
    """The seed handed to the factory for ``member``: ``seed * 1_000_003 + member``."""
    return int(seed) * 1_000_003 + int(member)


def _full(base: Mapping[str, Any], searched: Mapping[str, Any]) -> dict:
    out = dict(base)
    out.update(searched)
    return out


def _cause(e: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(e), e)).strip()


def _failure(outcome: TrialOutcome) -> str | None:
    """Why a trial failed (an error, a diverged or non-finite return), or None."""
    if outcome.error is not None:
        return _cause(outcome.error)
    ret = float(outcome.result.ret)
    if outcome.result.diverged:
        return "diverged"
    return None if math.isfinite(ret) else f"non-finite return {ret}"


class MemberRun:
    def __init__(self, spec: StudySpec, factory, store, ckpt, executor) -> None:
        self.method = spec.method
        self.factory = factory
        self.specs = spec.specs
        self.store: StudyStore = store
        self.ckpt: CheckpointDir = ckpt
        self.trials = spec.trials
        self.rounds = spec.trials + 1  # the random trial, then ``trials`` MPC trials
        self.population = spec.population
        self.seed = spec.seed
        self.base = dict(spec.base_config)
        self.pbt = spec.pbt
        self.last_k = spec.last_k
        self.keep_all = spec.keep_all_checkpoints
        self.keep_final = spec.keep_final_checkpoints
        self.keep_every: int | None = spec.keep_checkpoints_every
        self.on_round: Callable[[int], None] | None = None
        self.executor: Executor = executor
        # The class that loads checkpoints: declared by the factory (``factory.member_class``)
        # or learned from the first member built.
        self.member_cls: type | None = getattr(factory, "member_class", None)
        self.on_trial: Callable[[int, int, Any], None] | None = None
        # ``factory.amend(member)``: brings a member loaded from a checkpoint in line with the
        # factory's corrected settings (set when a study that stopped with every member failed
        # resumes with a corrected setting).
        self.amend: Callable[[Member], None] | None = None

    # -- helpers ----------------------------------------------------------------------------
    def _new_member(self, config: dict, member: int) -> Member:
        obj = self.factory(dict(config), member_seed(self.seed, member))
        if self.member_cls is None:
            self.member_cls = type(obj)
        return obj

    def _load(self, member: int, trial: int) -> Member:
        ref = self.store.checkpoint(member, trial)
        if ref is None or ref["deleted"]:
            raise StoreError(
                f"checkpoint of member {member} at trial {trial} is not in the "
                "store (it is needed to resume)"
            )
        if self.member_cls is None:
            raise StoreError("member class unknown: create a member before loading")
        member = self.ckpt.load(self.member_cls, ref["path"], ref["sha256"])
        if self.amend is not None:
            self.amend(member)
        return member

    def _record(
        self, member: int, trial: int, obj: Member, config: dict, outcome: TrialOutcome
    ) -> tuple[bool, float, str | None]:
        cause = _failure(outcome)
        if outcome.error is not None:
            self.store.record_trial(member, trial, config, None, outcome.elapsed, "failed", cause)
            return False, math.nan, cause
        res = outcome.result
        ret = float(res.ret)
        if cause is not None:
            self.store.record_trial(
                member, trial, config, ret, float(res.wall_time), "diverged", cause
            )
            if self.on_trial is not None:
                self.on_trial(member, trial, res)
            return False, ret, cause
        ref = self.ckpt.save(obj, member, trial)
        # The model's training diverged but was rolled back: the return is real, the trial
        # stays ok, and the store says what happened.
        note = MODEL_DIVERGED if getattr(res, "model_diverged", False) else None
        self.store.record_trial(
            member, trial, config, ret, float(res.wall_time), "ok", note, checkpoint=ref
        )
        if self.on_trial is not None:
            self.on_trial(member, trial, res)
        return True, ret, None

    def _kept_trial(self, trial: int) -> bool:
        """``keep_checkpoints_every=k``: every member's checkpoint after trials k, 2k, ...
        stays (the per-trial models of the objective-mismatch analysis)."""
        return bool(self.keep_every) and trial % self.keep_every == 0

    def _gc(self, keep: set[tuple[int, int]]) -> None:
        if self.keep_all:
            return
        drop = [
            (c["member"], c["trial"], c["path"])
            for c in self.store.checkpoints()
            if (c["member"], c["trial"]) not in keep and not self._kept_trial(c["trial"])
        ]
        if drop:
            self.store.mark_checkpoints_deleted([(m, t) for m, t, _ in drop])
            for _, _, rel in drop:
                self.ckpt.delete(rel)
