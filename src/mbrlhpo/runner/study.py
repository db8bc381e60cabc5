"""Running a study: random search, Hyperband, BOHB, PBT and PBT-BT with the local executor.

The decision logic lives in ``mbrlhpo.hpo``; this module executes it: it runs members' trials
(in one process), checkpoints every member after every trial in a study directory next to the
database, records everything in the ``StudyStore`` and resumes a killed study from the store
and the checkpoints, losing only the trials that were in flight.

Population methods (random, pbt, pbt-bt) advance all members trial round by trial round. After
round r: every trial of the round is stored with its checkpoint; PBT/PBT-BT then decide (every
``interval`` rounds, and whenever a member failed) with a Generator seeded by (seed, r), store
the round's scores and decisions in one transaction, and apply them in memory. A resumed study
rebuilds each member from the checkpoints of the last finished round plus that round's stored
decisions, or from its own checkpoint of the round in flight.

Failures: a trial that raises or diverges is stored with its cause. Random search stops that
member (its score is ``-inf``); PBT and PBT-BT replace it at the end of the round by a copy of a
top member (always its whole state, whatever ``copy`` says, since the failed member's own state
is not trusted).
"""

from __future__ import annotations

import copy
import math
import os
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mbrlhpo.catalog import METHODS
from mbrlhpo.hpo.decisions import Backtrack, Decision, Exploit, Explore
from mbrlhpo.hpo.hyperband import HyperbandSettings
from mbrlhpo.hpo.objective import objective
from mbrlhpo.hpo.pbt import exploit_explore, inherited_window
from mbrlhpo.hpo.pbt_bt import PBTBT
from mbrlhpo.hpo.random_search import sample_configurations
from mbrlhpo.runner.checkpoints import CheckpointDir
from mbrlhpo.runner.executors import (
    Executor,
    LockstepExecutor,
    SequentialExecutor,
    TrialOutcome,
)
from mbrlhpo.runner.hpbandster_driver import (
    JobRequest,
    MemberFailed,
    configuration_space,
    require_hpbandster,
    run_hpbandster,
)
from mbrlhpo.runner.protocol import Member, MemberFactory
from mbrlhpo.runner.results import (  # noqa: F401 (the runner's results, named from here too)
    MODEL_DIVERGED,
    Study,
    best_hb_job,
    collect,
    lineage_schedule,
    top5_curve,
)
from mbrlhpo.runner.spec import StudySpec, is_legacy_record
from mbrlhpo.runner.study_dir import claim_study_dir, study_dir_for
from mbrlhpo.store.sqlite_store import StoreError, StudyStore


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: expected one of {', '.join(METHODS)}")
    return method


def check_workers(method: str, workers: int, executor: Any = None) -> None:
    """``workers`` must be an int >= 1, and > 1 only for Hyperband/BOHB with an executor whose
    ``run`` may be called from several threads at once."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: expected an int >= 1, got {workers!r}")
    if workers == 1:
        return
    if method not in ("hyperband", "bohb"):
        raise ValueError(
            f"workers: only hyperband and bohb run jobs in parallel, got {workers} workers for "
            f"{method!r} (population methods run a round's trials together through the executor)"
        )
    if isinstance(executor, LockstepExecutor):
        raise ValueError(
            f"workers: {workers} parallel jobs need an executor that may run trials from "
            "several threads at once (SequentialExecutor, RayExecutor), got a LockstepExecutor "
            "(one shared population planner)"
        )


def member_seed(seed: int, member: int) -> int:
    """The seed handed to the factory for ``member``: ``seed * 1_000_003 + member``."""
    return int(seed) * 1_000_003 + int(member)


# ---------------------------------------------------------------------------------------------
def run_study(
    spec: StudySpec,
    factory: MemberFactory,
    store: StudyStore | str | os.PathLike,
    *,
    executor: Executor | None = None,
    on_round: Callable[[int], None] | None = None,
    on_trial: Callable[[int, int, Any], None] | None = None,
    study_dir: str | os.PathLike | None = None,
) -> Study:
    """Run (or resume) the study ``spec`` and return its results.

    Args:
        spec: the study (:class:`mbrlhpo.runner.spec.StudySpec`, validated when built).
        factory: ``factory(hparams, seed) -> Member``.
        store: a StudyStore or the path of its database; an existing study is resumed (its
            stored settings must equal the spec's; a study stored before ``StudySpec``
            resumes as it is stored).
        executor: what carries out ``spec.executor`` (default: built from it; ``lockstep``
            takes the factory's ``factory.plan_population``; ``tune`` passes its own, which
            owns the study's planning engine).
        on_round: called with the round number after each finished round (population methods).
        on_trial: called with (member, trial, TrialResult) after each stored trial that ran
            (what the store does not keep, e.g. the model loss, for TensorBoard).
        study_dir: checkpoint directory (default: next to the database, ``<stem>.study``).
    """
    if not isinstance(spec, StudySpec):
        raise TypeError(f"run_study: expected a StudySpec, got {type(spec).__name__}")
    method = spec.method
    if method in ("hyperband", "bohb"):
        require_hpbandster(method)  # before the study is created
    executor = executor if executor is not None else executor_for(spec, factory)
    check_workers(method, spec.workers, executor)
    own = isinstance(store, (str, os.PathLike))
    if own and not os.path.exists(store):  # a taken folder is refused before any file is made
        claim_study_dir(Path(study_dir or study_dir_for(store)), None, new=True)
    st = StudyStore(store) if own else store
    try:
        sdir = Path(study_dir) if study_dir is not None else study_dir_for(st.path)
        head = st.study()
        # A study stored before StudySpec keeps its row as it is: matched in its own format.
        legacy = head is not None and is_legacy_record(head["settings"])
        settings = spec.legacy_record() if legacy else spec.record()
        # The folder first: a study refused for it leaves no study row behind.
        claim_study_dir(sdir, st, new=head is None)
        amend = _accept_corrected_member_settings(st, settings)
        new = st.init_study(method, spec.seed, settings, spec.space_record())
        if not new:
            st.record_event("study_resume", round_=len(st.rounds_done()) or None)
        runner = _Runner(spec, factory, st, CheckpointDir(sdir / "checkpoints"), executor)
        runner.on_round = on_round
        if amend or st.events(("settings_changed",)):
            runner.amend = getattr(factory, "amend", None)
        runner.on_trial = on_trial
        try:
            if method in ("hyperband", "bohb"):
                runner.run_hyperband(spec.hyperband, spec.workers)
            else:
                runner.run_population()
        except BaseException as e:
            st.record_event("study_error", detail={"error": repr(e)})
            raise
        st.record_event("study_done")
        result = collect(st, method, spec.last_k)
        result.db_path, result.study_dir = str(st.path), str(sdir)
        return result
    finally:
        if own:
            st.close()


def executor_for(spec: StudySpec, factory: MemberFactory) -> Executor:
    """The executor ``spec.executor`` names. ``lockstep`` plans with the factory's batch
    planner (``factory.plan_population``); ``ray`` connects to ``spec.ray_address``."""
    if spec.executor == "sequential":
        return SequentialExecutor()
    if spec.executor == "ray":
        from mbrlhpo.runner.ray_executor import RayExecutor

        return RayExecutor(address=spec.ray_address)
    plan_population = getattr(factory, "plan_population", None)
    if plan_population is None:
        raise ValueError(
            "executor 'lockstep': expected a factory with plan_population (a batch planner), "
            "or pass executor=LockstepExecutor(...)"
        )
    return LockstepExecutor(plan_population)


def _without_member_settings(settings: Any) -> Any:
    """The settings without the members' fixed settings (what ``--set`` corrects): the
    agent's ``fixed``, and in a study stored before StudySpec also their copy in ``fixed``."""
    out = copy.deepcopy(settings)
    if isinstance(out.get("agent"), dict):
        out["agent"].pop("fixed", None)
    if is_legacy_record(out) and isinstance(out.get("fixed"), dict):
        out["fixed"].pop("agent", None)
    return out


def _accept_corrected_member_settings(store: StudyStore, settings: dict) -> bool:
    """A study that stopped because every member failed may resume with corrected member
    settings (``tune --set particles=...``): store them (the old ones stay in an event) and
    return True. Any other difference is left to ``init_study``, which refuses it."""
    head = store.study()
    if head is None or head["settings"] == settings:
        return False
    lifecycle = store.events(("study_start", "study_resume", "study_done", "all_failed"))
    if not lifecycle or lifecycle[-1]["kind"] != "all_failed":
        return False
    if _without_member_settings(head["settings"]) != _without_member_settings(settings):
        return False
    store.change_settings(settings, reason=f"every member failed in round {lifecycle[-1]['round']}")
    return True


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


class HyperbandAborted(RuntimeError):
    """A Hyperband/BOHB job stopped because another job failed the study."""


def _resume_mismatch(label: str, stored: dict, asked: dict) -> StoreError:
    return StoreError(
        f"resume mismatch for Hyperband job {label}: the store ran {stored}, hpbandster now "
        f"asks for {asked}"
    )


class AllMembersFailed(RuntimeError):
    """Every member of a PBT/PBT-BT study failed the same round: the study stops there."""

    def __init__(self, round_: int, members: int, cause: str, db: str | os.PathLike) -> None:
        self.round = round_
        cause = " ".join(cause.split())
        super().__init__(
            f"every member failed in round {round_} ({members} members; first cause: {cause}); "
            f"the study stopped after round {round_ - 1}: correct the setting and run the same "
            f"command to run round {round_} again, or abandon the study by deleting {db} and "
            f"its folder {study_dir_for(db)}"
        )


@dataclass
class _PopulationState:
    """A population study's state between rounds (``_Runner.run_population``)."""

    last: int  # the last finished round (0: none)
    trial_rows: dict[tuple[int, int], dict]  # (member, trial) -> stored trial
    sched: dict[tuple[int, int], dict]  # (member, trial) -> configuration it ran with
    hist: dict[int, list[float]]  # score windows: the returns of the member's state's history
    bt: PBTBT | None  # PBT-BT's elite archive
    # (member, round) -> the last last_k returns after that round: what a copy of that state
    # (exploit, backtrack) continues its score window from, as the paper's code does.
    windows: dict[tuple[int, int], tuple[float, ...]] = field(default_factory=dict)
    dead: set[int] = field(default_factory=set)  # random search: failed members stop
    members: dict[int, Member] = field(default_factory=dict)
    configs: dict[int, dict] = field(default_factory=dict)


def _decision(e: dict) -> Decision:
    """A stored lineage event as the decision that made it (the inverse of ``_event``)."""
    detail = e.get("detail") or {}
    if e["kind"] in ("exploit", "replace_failed"):
        return Exploit(src=e["src"], dst=e["dst"], src_round=e["src_round"], reason=e["kind"])
    if e["kind"] == "explore":
        return Explore(e["dst"], detail["how"], dict(e["old_config"]), dict(e["new_config"]))
    if e["kind"] == "backtrack":
        return Backtrack(
            src=e["src"],
            src_round=e["src_round"],
            dst=e["dst"],
            score=detail["elite_score"],
            kind=detail["how"],
            old=dict(e["old_config"]),
            new=dict(e["new_config"]),
        )
    raise StoreError(f"unknown decision {e['kind']!r} stored in round {e['round']}")


class _Runner:
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

    # -- population methods -----------------------------------------------------------------
    def run_population(self) -> None:
        """Replay the store, rebuild the members where the study stopped, run the rest."""
        self._register_members()
        state = self._replay()
        if state.last >= self.rounds:
            return  # finished: nothing to rebuild or run
        self._rebuild(state)
        for r in range(state.last + 1, self.rounds + 1):
            self._run_round(r, state)
            if self.on_round is not None:
                self.on_round(r)

    def _register_members(self) -> None:
        """A new study's members and their sampled initial configurations (seeded by seed)."""
        st = self.store
        rows = st.members()
        if len(rows) < self.population:
            # One commit per member: a kill can leave the first few stored. The samples are
            # seeded, so the missing ones are added as an uninterrupted run would have.
            stored = {r["member"] for r in rows}
            rng = np.random.default_rng([self.seed, 0])
            for m, cfg in enumerate(sample_configurations(self.specs, self.population, rng)):
                if m not in stored:
                    st.add_member(m, member_seed(self.seed, m), _full(self.base, cfg))
            rows = st.members()
        if len(rows) != self.population:
            raise StoreError(
                f"the store holds {len(rows)} members, this study expects {self.population}"
            )
        self.init_cfg = {r["member"]: r["config"] for r in rows}

    def _replay(self) -> _PopulationState:
        """The study's state after its last finished round, from the store alone: score
        windows, stopped members (random search) and PBT-BT's elite archive."""
        st = self.store
        done = st.rounds_done()
        last = done[-1] if done else 0
        if done != list(range(1, last + 1)):
            raise StoreError(f"rounds done are not contiguous: {done}")
        state = _PopulationState(
            last=last,
            trial_rows={(t["member"], t["trial"]): t for t in st.trials()},
            sched={(s["member"], s["trial"]): s["config"] for s in st.schedule()},
            hist={m: [] for m in range(self.population)},
            bt=PBTBT(self.pbt, self.population) if self.method == "pbt-bt" else None,
        )
        decided: dict[int, list[Decision]] = {}
        for e in st.lineage():
            decided.setdefault(e["round"], []).append(_decision(e))
        for r in range(1, last + 1):
            for m in range(self.population):
                t = state.trial_rows.get((m, r))
                if t is not None:
                    state.hist[m].append(t["ret"] if t["status"] == "ok" else math.nan)
                    state.windows[(m, r)] = tuple(state.hist[m][-self.last_k :])
                    if t["status"] != "ok" and self.method == "random":
                        state.dead.add(m)
            if state.bt is not None and self._is_decision_round(r):
                scores = {s["member"]: s["score"] for s in st.scores(r)}
                state.bt.archive.add_round(
                    r,
                    {m: (-math.inf if s is None else s) for m, s in scores.items()},
                    {m: state.sched[(m, r)] for m in scores if (m, r) in state.sched},
                )
            self._inherit_windows(decided.get(r, []), state.hist, state.windows)
        return state

    def _rebuild(self, state: _PopulationState) -> None:
        """The members at the start of round ``last + 1``: fresh ones for a new study, else
        every member from its checkpoint of round ``last`` with that round's stored decisions
        applied by the same code that applied them the first time (``_apply``)."""
        alive = [m for m in range(self.population) if m not in state.dead]
        last = state.last
        if last == 0:
            for m in alive:
                state.configs[m] = dict(self.init_cfg[m])
                state.members[m] = self._new_member(state.configs[m], m)
            return
        if self.member_cls is None:  # from a fresh member (cheap: agents build lazily)
            self._new_member(dict(self.init_cfg[0]), 0)
        failed = set()
        for m in alive:
            t = state.trial_rows.get((m, last))
            state.configs[m] = dict(state.sched[(m, last)])
            if t is not None and t["status"] == "ok":
                state.members[m] = self._load(m, last)
            else:
                failed.add(m)  # replaced by a decision below (its own state is not trusted)
        decisions = [_decision(e) for e in self.store.lineage() if e["round"] == last]
        self._apply(
            last, decisions, state.members, state.configs, state.hist, state.windows, failed
        )
        lost = sorted(m for m in failed if m not in state.members)
        if lost:
            raise StoreError(
                f"members {lost} failed in round {last} and no stored decision replaced them"
            )
        if self.member_cls is None:
            raise StoreError("no member could be rebuilt")

    def _run_round(self, r: int, state: _PopulationState) -> None:
        """Round ``r``: every member's trial (those stored before a kill are read back), then
        the method's decisions, stored and applied."""
        failed_now: set[int] = set()
        outcomes: dict[int, tuple[bool, float]] = {}
        pending = []
        for m in sorted(state.members):
            t = state.trial_rows.get((m, r))
            if t is not None:  # finished before the study was killed
                ok = t["status"] == "ok"
                if ok:
                    state.members[m] = self._load(m, r)
                state.configs[m] = dict(state.sched[(m, r)])
                outcomes[m] = (ok, t["ret"])
            else:
                pending.append(m)
        # All pending members' trials in one executor call (lock-step planning).
        jobs = [(m, state.members[m], state.configs[m]) for m in pending]
        ran = self.executor.run([obj for _, obj, _ in jobs]) if jobs else []
        if self.method != "random" and not any(ok for ok, _ in outcomes.values()):
            self._stop_if_all_failed(r, pending, ran)
        for (m, obj, config), outcome in zip(jobs, ran, strict=True):
            ok, ret, _ = self._record(m, r, obj, config, outcome)
            outcomes[m] = (ok, ret)
        for m in sorted(outcomes):
            ok, ret = outcomes[m]
            state.hist[m].append(ret if ok else math.nan)
            state.windows[(m, r)] = tuple(state.hist[m][-self.last_k :])
            if not ok:
                failed_now.add(m)
        if self.method == "random":
            for m in failed_now:
                del state.members[m]
            self.store.record_round(r, {}, [])
            self._gc({(m, r) for m in state.members})
        else:
            self._decide(r, state, failed_now)

    def _stop_if_all_failed(self, r: int, pending: list[int], ran: list[TrialOutcome]) -> None:
        """Every member failed round ``r`` (PBT, PBT-BT): nothing is left to copy from. The
        round's trials are not stored (their causes go into an ``all_failed`` event), so the
        study stops at the end of round ``r - 1`` and a resume runs round ``r`` again."""
        causes = {m: _failure(o) for m, o in zip(pending, ran, strict=True)}
        if not causes or any(c is None for c in causes.values()):
            return
        self.store.record_event(
            "all_failed", round_=r, detail={"causes": {str(m): c for m, c in causes.items()}}
        )
        raise AllMembersFailed(r, len(causes), next(iter(causes.values())), self.store.path)

    def _is_decision_round(self, r: int) -> bool:
        """PBT steps after every ``interval`` MPC trials (trial 1 is the random one): after
        trials 6, 11, ... for interval 5, never after the last."""
        return r > 1 and (r - 1) % self.pbt.interval == 0 and r < self.rounds

    def _decide(self, r: int, state: _PopulationState, failed_now: set[int]) -> None:
        st = self.store
        members, configs, hist, bt = state.members, state.configs, state.hist, state.bt
        is_dec = self._is_decision_round(r)
        if not (is_dec or (failed_now and r < self.rounds)):
            st.record_round(r, {}, [])
            self._gc({(m, r) for m in members} | self._elite_refs(bt))
            return
        scores = {
            m: (-math.inf if m in failed_now else objective(hist[m], self.last_k)) for m in members
        }
        rng = np.random.default_rng([self.seed, 1, r])
        if bt is not None and is_dec:
            decisions = bt.step(
                (r - 1) // self.pbt.interval, r, scores, configs, self.specs, rng, failed_now
            )
        else:
            decisions = exploit_explore(
                scores, configs, self.specs, rng, self.pbt, r, failed_now, select=is_dec
            )
        events = [self._event(d) for d in decisions]
        st.record_round(r, scores, events)
        self._apply(r, decisions, members, configs, hist, state.windows, failed_now)
        self._gc({(m, r) for m in members} | self._elite_refs(bt))

    def _hparams_only(self, reason: str) -> bool:
        """An exploit that takes only the source's hyperparameters (``copy="hparams"``); a
        failed member is always replaced by the whole state."""
        return reason == "exploit" and self.pbt.copy == "hparams"

    @staticmethod
    def _elite_refs(bt) -> set[tuple[int, int]]:
        return set() if bt is None else bt.archive.retained()

    @staticmethod
    def _event(d: Decision) -> dict:
        if isinstance(d, Exploit):
            return {"kind": d.reason, "src": d.src, "src_round": d.src_round, "dst": d.dst}
        if isinstance(d, Explore):
            return {
                "kind": "explore",
                "dst": d.member,
                "old_config": d.old,
                "new_config": d.new,
                "detail": {"how": d.kind},
            }
        return {
            "kind": "backtrack",
            "src": d.src,
            "src_round": d.src_round,
            "dst": d.dst,
            "old_config": d.old,
            "new_config": d.new,
            "detail": {"how": d.kind, "elite_score": d.score},
        }

    def _inherit_windows(self, decisions, hist, windows) -> None:
        """Score windows after ``decisions``: a member that takes a state (exploit, failure
        replaced, backtrack) continues that state's returns; ``copy="hparams"`` keeps its own."""
        for d in decisions:
            if isinstance(d, (Exploit, Backtrack)):
                copies = not (isinstance(d, Exploit) and self._hparams_only(d.reason))
                src = list(windows[(d.src, d.src_round)])
                hist[d.dst] = inherited_window(hist[d.dst], src, copies)

    def _apply(self, r, decisions, members, configs, hist, windows, failed_now) -> None:
        # Sources are read before any destination changes (a destination is never a source
        # in one PBT step; backtracking reads checkpoints).
        self._inherit_windows(decisions, hist, windows)
        for d in decisions:
            if isinstance(d, Exploit):
                if d.reason == "replace_failed":  # a failed member's state is not trusted
                    members[d.dst] = self._new_member(dict(self.init_cfg[d.dst]), d.dst)
                if not self._hparams_only(d.reason):
                    members[d.dst].copy_from(members[d.src], True)
                # copy="hparams": the member keeps its own state; the Explore that follows
                # sets the hyperparameters explored from the source's.
            elif isinstance(d, Explore):
                members[d.member].set_hparams(dict(d.new))
                configs[d.member] = dict(d.new)
            elif isinstance(d, Backtrack):
                if d.dst in failed_now:
                    members[d.dst] = self._new_member(dict(self.init_cfg[d.dst]), d.dst)
                members[d.dst].copy_from(self._load(d.src, d.src_round), True)
                members[d.dst].set_hparams(dict(d.new))
                configs[d.dst] = dict(d.new)

    # -- Hyperband / BOHB -------------------------------------------------------------------
    def run_hyperband(self, settings: HyperbandSettings, workers: int = 1) -> None:
        """Run (or resume) the study's Hyperband/BOHB jobs, ``workers`` of them at once.

        A job runs in the thread of its hpbandster worker: its trials go through the executor
        (concurrently with the other workers' trials); everything else (member numbers, the
        store, checkpoints) happens under one lock, so the database has one writer at a time.
        A job's member number is its place in the order one worker runs the jobs, so a study
        stores the same members, trials and jobs for any number of workers.
        """
        space = configuration_space(self.specs, self.seed)  # hpbandster's sampler reseeds it
        lock = threading.Lock()
        stop = threading.Event()  # a job failed the study: the others stop at their next trial

        def evaluate(job: JobRequest) -> float:
            try:
                return self._hb_job(job, lock, stop)
            except MemberFailed:
                raise
            except BaseException:
                stop.set()
                raise

        run_hpbandster(
            self.method,
            space,
            evaluate,
            settings,
            self.seed,
            workers=workers,
            drawn=self._drawn(),
        )

    def _drawn(self) -> dict[tuple[int, ...], dict]:
        """The searched configuration of every config id the store has a member of (a resumed
        study takes these instead of drawing them again)."""
        names = list(self.specs)
        out: dict[tuple[int, ...], dict] = {}
        for row in self.store.members():
            label = row["label"] or ""
            if "@" in label:
                cid = tuple(int(x) for x in label.split("@")[0].split("."))
                out[cid] = {n: row["config"][n] for n in names}
        return out

    def _hb_job(self, job: JobRequest, lock: threading.Lock, stop: threading.Event) -> float:
        st = self.store
        cid, n_trials, budget = job.config_id, job.trials, job.budget
        full = _full(self.base, job.config)
        label = f"{cid[0]}.{cid[1]}.{cid[2]}@{n_trials}"
        with lock:
            if stop.is_set():  # hpbandster may still dispatch jobs: nothing of them is stored
                raise HyperbandAborted("another Hyperband job failed the study")
            stored = st.hb_job(cid, n_trials)
            if stored is not None:
                if stored["config"] != full:
                    raise _resume_mismatch(label, stored["config"], full)
                if stored["status"] == "ok":
                    return float(stored["loss"])
                raise MemberFailed(stored["cause"])
            rows = st.members()
            by_label = {r["label"]: r for r in rows}
            if label in by_label:
                m = by_label[label]["member"]
                if by_label[label]["config"] != full:
                    raise _resume_mismatch(label, by_label[label]["config"], full)
            else:
                m = job.index
                taken = {r["member"]: r["label"] for r in rows}
                if m < 0 or m in taken:
                    raise StoreError(
                        f"Hyperband job {label}: expected a free member number, got {m} "
                        f"(held by {taken.get(m)!r}); the study was stored by another "
                        "mbrlhpo version or another ladder"
                    )
                st.add_member(m, member_seed(self.seed, m), full, budget=n_trials, label=label)
            trial_rows = {t["trial"]: t for t in st.trials(m)}
            rets = [trial_rows[t]["ret"] for t in sorted(trial_rows)]
            bad = [t for t in trial_rows.values() if t["status"] != "ok"]
            if bad:
                return self._hb_fail(cid, m, full, budget, n_trials, bad[0]["cause"])
            done = len(trial_rows)
            obj = self._new_member(full, m)  # cheap; tells _load the class if not declared
            if done:
                obj = self._load(m, done)
        for t in range(done + 1, n_trials + 1):
            if stop.is_set():
                raise HyperbandAborted("another Hyperband job failed the study")
            outcome = self.executor.run([obj])[0]  # outside the lock: the jobs run together
            with lock:
                ok, ret, cause = self._record(m, t, obj, full, outcome)
                if not ok:
                    self._gc_member(m, keep=None)
                    return self._hb_fail(cid, m, full, budget, n_trials, cause)
                rets.append(ret)
                self._gc_member(m, keep=t)
        loss = -objective(rets, self.last_k)
        with lock:
            best_before = best_hb_job(st.hb_jobs())
            st.record_hb_job(cid, m, full, budget, n_trials, loss, "ok")
            # The best job's final checkpoint stays (Study.best_checkpoint, mbrlhpo export).
            best = best_hb_job(st.hb_jobs())
            self._gc_member(m, keep=n_trials if self.keep_final or best["member"] == m else None)
            if best_before is not None and best_before["member"] != best["member"]:
                if not self.keep_final:
                    self._gc_member(best_before["member"], keep=None)
        return loss

    def _hb_fail(self, cid, m, full, budget, n_trials, cause):
        self.store.record_hb_job(cid, m, full, budget, n_trials, None, "failed", cause)
        raise MemberFailed(cause or "failed")

    def _gc_member(self, m: int, keep: int | None) -> None:
        if self.keep_all:
            return
        drop = [
            (c["member"], c["trial"], c["path"])
            for c in self.store.checkpoints()
            if c["member"] == m and c["trial"] != keep and not self._kept_trial(c["trial"])
        ]
        if drop:
            self.store.mark_checkpoints_deleted([(a, b) for a, b, _ in drop])
            for _, _, rel in drop:
                self.ckpt.delete(rel)
