"""Running a study: random search, Hyperband, BOHB, PBT and PBT-BT with the local executor.

The decision logic lives in ``mbrlhpo.hpo``; this module opens (or resumes) the study of a
``StudySpec`` and hands it to ``PopulationRun`` (``population_run.py``) or ``HyperbandRun``
(``hyperband_run.py``), both on ``MemberRun`` (``member_run.py``); results come from
``results.py``. Together they run members' trials (in one process), checkpoint every member
after every trial in a study directory next to the database, record everything in the
``StudyStore`` and resume a killed study from the store and the checkpoints, losing only the
trials that were in flight.

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
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mbrlhpo.catalog import METHODS
from mbrlhpo.runner.checkpoints import CheckpointDir
from mbrlhpo.runner.executors import (
    Executor,
    LockstepExecutor,
    SequentialExecutor,
)
from mbrlhpo.runner.hpbandster_driver import (
    require_hpbandster,
)
from mbrlhpo.runner.hyperband_run import HyperbandAborted, HyperbandRun  # noqa: F401
from mbrlhpo.runner.member_run import member_seed  # noqa: F401 (named from here too)
from mbrlhpo.runner.population_run import AllMembersFailed, PopulationRun  # noqa: F401
from mbrlhpo.runner.protocol import MemberFactory
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
from mbrlhpo.store.sqlite_store import StudyStore


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
        run_class = HyperbandRun if method in ("hyperband", "bohb") else PopulationRun
        runner = run_class(spec, factory, st, CheckpointDir(sdir / "checkpoints"), executor)
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
