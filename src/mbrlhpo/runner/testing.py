"""A small, fast, deterministic member for testing and benchmarking the HPO layer.

``QuadraticMember``'s return depends on its hyperparameters (a noisy negative quadratic in
log-space around ``TARGET``), on its weights (a vector pulled toward the target by training)
and on its replay buffer (more data, higher return). Its whole state (weights, optimiser
moment, buffer, trial counter, RNG state, hyperparameters) is saved as npz + JSON, so a
resumed member continues bit for bit.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np

from mbrlhpo.runner.protocol import TrialResult

TARGET = {
    "lr": 3e-3,
    "weight_decay": 1e-4,
    "epochs": 8,
    "iterations": 5,
    "population": 400,
    "alpha": 0.1,
    "elite_ratio": 0.1,
    "horizon": 20,
}


class QuadraticMember:
    """Deterministic toy member. ``diverge_lr``: trials diverge (NaN return) when
    ``hparams['lr']`` exceeds it. ``fail_trials``: trial numbers at which ``run_trial`` raises.
    ``sleep``: seconds each trial sleeps (to give a killer something to interrupt)."""

    def __init__(
        self,
        hparams: dict,
        seed: int,
        diverge_lr: float = math.inf,
        fail_trials: tuple[int, ...] = (),
        sleep: float = 0.0,
        dim: int = 8,
    ) -> None:
        self.hparams = dict(hparams)
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.weights = self.rng.normal(size=dim)
        self.moment = np.zeros(dim)
        self.buffer = np.zeros((0, dim))
        self.trial = 0
        self.options = {"diverge_lr": diverge_lr, "fail_trials": list(fail_trials), "sleep": sleep}

    # -- the member protocol --------------------------------------------------------------
    def run_trial(self) -> TrialResult:
        t0 = time.perf_counter()
        self.trial += 1
        if self.options["sleep"]:
            time.sleep(self.options["sleep"])
        if self.trial in self.options["fail_trials"]:
            raise RuntimeError(f"injected failure at trial {self.trial}")
        hp = self.hparams
        miss = sum(
            (math.log(abs(float(v)) + 1e-12) - math.log(TARGET[k])) ** 2
            for k, v in hp.items()
            if k in TARGET
        )
        grad = self.weights - 1.0
        self.moment = 0.9 * self.moment + 0.1 * grad
        self.weights = self.weights - min(float(hp.get("lr", 1e-3)) * 100, 0.5) * self.moment
        self.buffer = np.vstack([self.buffer, self.rng.normal(size=(1, self.weights.size))])
        ret = (
            -miss
            - float(np.sum((self.weights - 1.0) ** 2))
            + 0.1 * math.log1p(len(self.buffer))
            + 0.01 * float(self.rng.normal())
        )
        diverged = float(hp.get("lr", 0.0)) > self.options["diverge_lr"]
        if diverged:
            ret = math.nan
        return TrialResult(
            ret=ret, wall_time=time.perf_counter() - t0, diverged=diverged, hparams=dict(hp)
        )

    def set_hparams(self, hparams: dict) -> None:
        self.hparams = dict(hparams)

    def save(self, path: str | os.PathLike) -> None:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.mkdir(parents=True)
        with open(tmp / "arrays.npz", "wb") as f:
            np.savez(f, weights=self.weights, moment=self.moment, buffer=self.buffer)
        meta = {
            "hparams": self.hparams,
            "seed": self.seed,
            "trial": self.trial,
            "rng": self.rng.bit_generator.state,
            "options": self.options,
        }
        (tmp / "state.json").write_text(json.dumps(meta, sort_keys=True, default=int))
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> QuadraticMember:
        path = Path(path)
        meta = json.loads((path / "state.json").read_text())
        with np.load(path / "arrays.npz") as z:
            arrays = {k: z[k] for k in z.files}
        m = cls(
            meta["hparams"],
            meta["seed"],
            meta["options"]["diverge_lr"],
            tuple(meta["options"]["fail_trials"]),
            meta["options"]["sleep"],
            dim=arrays["weights"].size,
        )
        m.rng.bit_generator.state = meta["rng"]
        m.weights, m.moment, m.buffer = arrays["weights"], arrays["moment"], arrays["buffer"]
        m.trial = meta["trial"]
        return m

    def restore(self, path: str | os.PathLike) -> None:
        """This member's state replaced, in place, by the one saved at ``path``."""
        self.__dict__.update(type(self).load(path).__dict__)

    def copy_from(self, other: QuadraticMember, copy_history: bool) -> None:
        self.weights = other.weights.copy()
        self.moment = other.moment.copy()
        self.hparams = dict(other.hparams)
        self.trial = other.trial
        if copy_history:
            self.buffer = other.buffer  # arrays are never mutated in place: no copy needed


def quadratic_factory(
    diverge_lr: float = math.inf, fail: dict[int, tuple[int, ...]] | None = None, sleep: float = 0.0
):
    """A MemberFactory of QuadraticMembers; ``fail`` maps a seed to its failing trials."""
    fail = fail or {}

    def factory(hparams: dict, seed: int) -> QuadraticMember:
        return QuadraticMember(hparams, seed, diverge_lr, fail.get(seed, ()), sleep)

    def amend(member: QuadraticMember) -> None:
        """A checkpointed member takes this factory's settings (a corrected resume)."""
        member.options["diverge_lr"] = diverge_lr
        member.options["fail_trials"] = list(fail.get(member.seed, ()))
        member.options["sleep"] = sleep

    factory.amend = amend
    return factory
