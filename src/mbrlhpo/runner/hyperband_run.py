"""A Hyperband/BOHB study: hpbandster's jobs, each a member run for its budget, in
``workers`` threads at once, everything else under one lock (one database writer)."""

from __future__ import annotations

import threading

from mbrlhpo.hpo.hyperband import HyperbandSettings
from mbrlhpo.hpo.objective import objective
from mbrlhpo.runner.hpbandster_driver import (
    JobRequest,
    MemberFailed,
    run_hpbandster,
)
from mbrlhpo.runner.member_run import MemberRun, _full, member_seed
from mbrlhpo.runner.results import best_hb_job
from mbrlhpo.store.sqlite_store import StoreError


class HyperbandAborted(RuntimeError):
    """A Hyperband/BOHB job stopped because another job failed the study."""


def _resume_mismatch(label: str, stored: dict, asked: dict) -> StoreError:
    return StoreError(
        f"resume mismatch for Hyperband job {label}: the store ran {stored}, hpbandster now "
        f"asks for {asked}"
    )


class HyperbandRun(MemberRun):
    # -- Hyperband / BOHB -------------------------------------------------------------------
    def run_hyperband(self, settings: HyperbandSettings, workers: int = 1) -> None:
        """Run (or resume) the study's Hyperband/BOHB jobs, ``workers`` of them at once.

        A job runs in the thread of its hpbandster worker: its trials go through the executor
        (concurrently with the other workers' trials); everything else (member numbers, the
        store, checkpoints) happens under one lock, so the database has one writer at a time.
        A job's member number is its place in the order one worker runs the jobs, so a study
        stores the same members, trials and jobs for any number of workers.
        """
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
            self.specs,
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
