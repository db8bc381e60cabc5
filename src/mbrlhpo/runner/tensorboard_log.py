"""Opt-in TensorBoard logging of a study (``mbrlhpo tune --tensorboard DIR``), laid out as Ray
Tune users know it: one run per member (``DIR/member_00003``) plus ``DIR/defaults``.

Per member and trial: ``return``, ``model_loss`` (the last training epoch's loss of the training
after the trial acted: the random trial's too) and ``hparams/<name>`` (the configuration it
ran); its PBT decisions as
``pbt/exploit_source`` (the member it copied) and ``pbt/explored`` (1 at the trial where
explore changed its hyperparameters), with a text entry each; at the end the member's last
configuration and final score in TensorBoard's HParams tab.

Everything but the model loss is read from the study store (what was committed, so a
resumed study logs each trial once more at most: event files are appended, TensorBoard shows
the latest value); the model loss arrives through ``run_study``'s ``on_trial`` hook, which is
the only thing the runner knows about this logger. torch's writer needs the ``tensorboard``
package: ``pip install 'mbrlhpo[tensorboard]'``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from mbrlhpo.hpo.objective import DEFAULT_LAST_K, objective
from mbrlhpo.store.sqlite_store import StudyStore


def need_tensorboard() -> None:
    """ImportError naming the extra when the tensorboard package is missing."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise ImportError(
            "--tensorboard needs the tensorboard package: pip install 'mbrlhpo[tensorboard]' "
            "(or pip install tensorboard)"
        )


def _scalar(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


class TensorBoardLogger:
    """Writes the study in ``db`` to TensorBoard event files under ``logdir``.

    Call :meth:`on_trial` (``run_study(on_trial=...)``) and :meth:`sync` (``on_round``);
    :meth:`close` writes the HParams summary and flushes. Not thread-safe: the runner calls
    it from one thread at a time (Hyperband's jobs under its lock).
    """

    def __init__(self, logdir: str | os.PathLike, db: str | os.PathLike) -> None:
        need_tensorboard()
        from torch.utils.tensorboard import SummaryWriter

        self._writer_cls = SummaryWriter
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.db = Path(db)
        self._writers: dict[str, Any] = {}
        self._store: StudyStore | None = None
        self._seen_trials: set[tuple[int, int]] = set()
        self._seen_events: set[int] = set()
        self._losses: dict[tuple[int, int], float] = {}

    def _writer(self, run: str) -> Any:
        if run not in self._writers:
            self._writers[run] = self._writer_cls(log_dir=str(self.logdir / run))
        return self._writers[run]

    @staticmethod
    def member_run(member: int) -> str:
        return f"member_{int(member):05d}"

    def _read(self) -> StudyStore | None:
        if self._store is None and self.db.is_file():
            self._store = StudyStore(self.db, readonly=True, verify=False)
        return self._store

    def on_trial(self, member: int, trial: int, result: Any) -> None:
        """A stored trial's result: its model loss, then everything new in the store."""
        loss = _scalar(getattr(result, "model_loss", None))
        if loss is not None:
            self._writer(self.member_run(member)).add_scalar("model_loss", loss, int(trial))
        self.sync()

    def sync(self, _round: int | None = None) -> None:
        """Writes the trials and PBT decisions committed since the last call."""
        store = self._read()
        if store is None:
            return
        with store.snapshot():
            trials = store.trials()
            schedule = {(s["member"], s["trial"]): s["config"] for s in store.schedule()}
            lineage = store.lineage()
        for t in trials:
            key = (t["member"], t["trial"])
            if key in self._seen_trials:
                continue
            self._seen_trials.add(key)
            w = self._writer(self.member_run(t["member"]))
            ret = _scalar(t["ret"]) if t["status"] == "ok" else None
            if ret is not None:
                w.add_scalar("return", ret, t["trial"])
            else:
                w.add_text("failures", f"{t['status']}: {t['cause']}", t["trial"])
            for name, value in (schedule.get(key) or {}).items():
                v = _scalar(value)
                if v is not None:
                    w.add_scalar(f"hparams/{name}", v, t["trial"])
        for e in lineage:
            if e["id"] in self._seen_events or e.get("dst") is None:
                continue
            self._seen_events.add(e["id"])
            w = self._writer(self.member_run(e["dst"]))
            step = int(e["round"])
            if e["kind"] == "explore":
                w.add_scalar("pbt/explored", 1.0, step)
                old, new = e.get("old_config") or {}, e.get("new_config") or {}
                changes = ", ".join(f"{k}: {old.get(k)} -> {v}" for k, v in new.items()
                                    if old.get(k) != v)  # fmt: skip
                w.add_text("pbt/events", f"explore: {changes or 'no change'}", step)
            else:  # exploit, replace_failed, backtrack: a copy from a source member
                w.add_scalar("pbt/exploit_source", float(e["src"]), step)
                w.add_text(
                    "pbt/events",
                    f"{e['kind']}: copied member {e['src']} (its round {e.get('src_round')})",
                    step,
                )

    def close(self) -> None:
        """Last sync, each member's final configuration and score as HParams, flush."""
        try:
            self.sync()
            store = self._read()
            if store is not None:
                self._write_hparams(store)
        finally:
            for w in self._writers.values():
                w.close()
            self._writers.clear()
            if self._store is not None:
                self._store.close()
                self._store = None

    def _write_hparams(self, store: StudyStore) -> None:
        head = store.study() or {}
        last_k = int((head.get("settings") or {}).get("last_k", DEFAULT_LAST_K))
        per: dict[int, list[float]] = {}
        for t in sorted(store.trials(), key=lambda t: (t["member"], t["trial"])):
            ok = t["status"] == "ok" and t["ret"] is not None
            per.setdefault(t["member"], []).append(float(t["ret"]) if ok else math.nan)
        last_cfg: dict[int, dict] = {}
        for s in sorted(store.schedule(), key=lambda s: (s["member"], s["trial"])):
            last_cfg[s["member"]] = s["config"]
        for m, rets in per.items():
            hp = {k: v for k, v in (last_cfg.get(m) or {}).items() if _scalar(v) is not None}
            score = objective(rets, last_k)
            if not hp or not math.isfinite(score):
                continue
            self._writer(self.member_run(m)).add_hparams(
                hp, {"hparam/score": score}, run_name="hparams"
            )


def log_defaults(logdir: str | os.PathLike, returns: list[float]) -> None:
    """The defaults' run (the study's baseline, run after it) as the run ``defaults``."""
    need_tensorboard()
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(log_dir=str(Path(logdir) / "defaults"))
    try:
        for i, r in enumerate(returns):
            v = _scalar(r)
            if v is not None:
                w.add_scalar("return", v, i + 1)
    finally:
        w.close()
