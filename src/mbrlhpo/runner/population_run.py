"""A population study (random search, PBT, PBT-BT) round by round: register the members,
replay the store, rebuild the members where the study stopped (the stored decisions re-applied
by ``_apply``), then one round at a time (trials, then the method's decisions, stored and
applied)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from mbrlhpo.hpo.decisions import Backtrack, Decision, Exploit, Explore
from mbrlhpo.hpo.objective import objective
from mbrlhpo.hpo.pbt import exploit_explore, inherited_window
from mbrlhpo.hpo.pbt_bt import PBTBT
from mbrlhpo.hpo.random_search import sample_configurations
from mbrlhpo.runner.executors import TrialOutcome
from mbrlhpo.runner.member_run import MemberRun, _failure, _full, member_seed
from mbrlhpo.runner.protocol import Member
from mbrlhpo.runner.study_dir import study_dir_for
from mbrlhpo.store.sqlite_store import StoreError


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


class PopulationRun(MemberRun):
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
