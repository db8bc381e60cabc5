"""Runs Hyperband and BOHB through hpbandster (as the paper did), made safe to embed.

The ladder and settings are pure decisions (``mbrlhpo.hpo.hyperband``); this module executes
them with hpbandster, an optional extra (``pip install mbrlhpo[hyperband]``): random search and
PBT never import it.

hpbandster runs a master (with a dispatcher thread) and workers that talk over Pyro4 through a
name server. Two traps are closed here:

* Pyro4's serpent serializer turns NumPy scalars into strings the other side cannot parse; the
  oneway call then dies silently and ``Master.run`` never returns. hpbandster's own budgets are
  NumPy floats, and samplers may yield NumPy values. Every budget and configuration that crosses
  the transport is converted to plain Python ``float``/``int`` first.
* A dead dispatcher (or a lost result) must end the study with an error, never a hang. A
  watchdog notices when no job is computing and nothing has progressed for ``stall_timeout``
  seconds, shuts hpbandster down and raises ``HyperbandStalled``.

The name server binds to 127.0.0.1 by default.

BOHB samples with NumPy's global RNG inside hpbandster; to make it reproducible from the
study's seed, the sampler runs with NumPy's global state swapped for the study's own
``RandomState`` and restored afterwards (only on the master thread that samples).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import ConfigSpace as CS
import numpy as np

from mbrlhpo.hpo.hyperband import HyperbandSettings, job_trials
from mbrlhpo.hpo.space import to_plain

log = logging.getLogger(__name__)

MISSING_HPBANDSTER = (
    "method {method!r} needs hpbandster, an optional extra: pip install 'mbrlhpo[hyperband]' "
    "(random search, PBT and PBT-BT do not need it)"
)


class HyperbandStalled(RuntimeError):
    """hpbandster stopped making progress (dead dispatcher or lost result)."""


class MemberFailed(Exception):
    """Raised by an evaluation whose member failed: hpbandster scores it as crashed."""


def require_hpbandster(method: str) -> None:
    """Raise a one-line ``ImportError`` saying how to install hpbandster when it is missing."""
    try:
        found = importlib.util.find_spec("hpbandster") is not None
    except ValueError:  # a module object without a spec (or set to None in sys.modules)
        found = False
    if not found:
        raise ImportError(MISSING_HPBANDSTER.format(method=method))


@dataclass(frozen=True)
class JobRecord:
    """One hpbandster evaluation: ``loss`` is None for a crashed job."""

    config_id: tuple[int, int, int]
    config: dict
    budget: float
    trials: int
    loss: float | None
    exception: str | None


# (config_id, plain config, budget, trials) -> loss (plain float); raise MemberFailed on failure.
Evaluate = Callable[[tuple[int, int, int], dict, float, int], float]


def _plain_tuple(t: Any) -> tuple[int, ...]:
    return tuple(int(x) for x in t)


def _plain_value(v: Any) -> Any:
    """Recursively plain Python values (for anything crossing Pyro4)."""
    if isinstance(v, (bool, str)) or v is None:
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, Mapping):
        return {str(k): _plain_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain_value(x) for x in v]
    raise TypeError(f"cannot send {type(v).__name__} across hpbandster's transport")


class _GlobalNumpyRNG:
    """Run a block with NumPy's legacy global RNG set to ``state``, then restore it."""

    def __init__(self, rs: np.random.RandomState) -> None:
        self.rs = rs

    def __enter__(self) -> None:
        self.saved = np.random.get_state()  # noqa: NPY002 (hpbandster uses the global RNG)
        np.random.set_state(self.rs.get_state())  # noqa: NPY002

    def __exit__(self, *exc: object) -> None:
        self.rs.set_state(np.random.get_state())  # noqa: NPY002
        np.random.set_state(self.saved)  # noqa: NPY002


def _make_master(
    kind: str,
    space: CS.ConfigurationSpace,
    settings: HyperbandSettings,
    run_id: str,
    ns_host: str,
    ns_port: int,
    seed: int,
    plain: bool,
):
    from hpbandster.optimizers import BOHB, HyperBand
    from hpbandster.optimizers.config_generators.bohb import BOHB as CG_BOHB
    from hpbandster.optimizers.config_generators.random_sampling import RandomSampling

    rs = np.random.RandomState(np.random.SeedSequence([seed, 1]).generate_state(1)[0])
    space.seed(int(np.random.SeedSequence([seed, 2]).generate_state(1)[0]))

    class PlainRandomSampling(RandomSampling):
        def get_config(self, budget):
            return to_plain(self.configspace.sample_configuration(), self.configspace), {}

    class SeededBOHB(CG_BOHB):
        def get_config(self, budget):
            with _GlobalNumpyRNG(rs):
                cfg, info = super().get_config(budget)
            return to_plain(cfg, self.configspace), _plain_value(info)

        def new_result(self, job, update_model=True):
            with _GlobalNumpyRNG(rs):
                return super().new_result(job, update_model)

    common = dict(
        configspace=space,
        eta=settings.eta,
        min_budget=float(settings.min_budget),
        max_budget=float(settings.max_budget),
        run_id=run_id,
        nameserver=ns_host,
        nameserver_port=ns_port,
        ping_interval=settings.ping_interval,
        logger=logging.getLogger("hpbandster.master"),
    )
    if kind == "hyperband":
        master = HyperBand(**common)
        master.config_generator = PlainRandomSampling(space)
    else:
        master = BOHB(**common, **dict(settings.bohb))
        master.config_generator = SeededBOHB(configspace=space, **dict(settings.bohb))
    if plain:
        master.budgets = [float(b) for b in master.budgets]
        master.config["budgets"] = list(master.budgets)
    return master


def run_hpbandster(
    method: Literal["hyperband", "bohb"],
    space: CS.ConfigurationSpace,
    evaluate: Evaluate,
    settings: HyperbandSettings,
    seed: int,
    run_id: str | None = None,
    _plain_transport: bool = True,
) -> list[JobRecord]:
    """Run Hyperband or BOHB with one in-process worker thread; return every evaluation.

    ``evaluate(config_id, config, budget, trials)`` returns the loss (negated objective) and
    raises ``MemberFailed`` for a failed member (hpbandster records it as crashed). Any other
    exception from ``evaluate`` aborts the study and is re-raised here. A stalled dispatcher
    raises ``HyperbandStalled``. ``_plain_transport=False`` only exists to test the watchdog.
    """
    if method not in ("hyperband", "bohb"):
        raise ValueError(f"unknown method {method!r}: expected 'hyperband' or 'bohb'")
    require_hpbandster(method)
    from hpbandster.core.nameserver import NameServer
    from hpbandster.core.worker import Worker

    run_id = run_id or f"mbrlhpo-{uuid.uuid4().hex[:12]}"
    lock = threading.Lock()
    state = {"progress": time.monotonic(), "computing": False, "fatal": None}

    def progress(computing: bool | None = None) -> None:
        with lock:
            state["progress"] = time.monotonic()
            if computing is not None:
                state["computing"] = computing

    class PlainWorker(Worker):
        def compute(self, config_id, config, budget, working_directory, **kwargs):
            progress(computing=True)
            try:
                cid = _plain_tuple(config_id)
                cfg = to_plain(config)
                trials = job_trials(budget)
                try:
                    loss = evaluate(cid, cfg, float(budget), trials)
                except MemberFailed:
                    raise
                except BaseException as e:  # abort the study, do not let hpbandster swallow it
                    with lock:
                        state["fatal"] = e
                    raise
                return {"loss": float(loss), "info": {"trials": trials}}
            finally:
                progress(computing=False)

    quiet = logging.getLogger("hpbandster.worker")
    ns = NameServer(run_id=run_id, host=settings.nameserver_host, port=0)
    ns_host, ns_port = ns.start()
    master = None
    worker = None
    result_box: dict[str, Any] = {}
    try:
        master = _make_master(
            method, space, settings, run_id, ns_host, ns_port, seed, _plain_transport
        )
        original_callback = master.job_callback

        def job_callback(job):
            progress()
            return original_callback(job)

        master.job_callback = job_callback
        master.dispatcher.new_result_callback = job_callback
        worker = PlainWorker(
            run_id=run_id, nameserver=ns_host, nameserver_port=ns_port, logger=quiet, id=0
        )
        worker.run(background=True)

        def run_master() -> None:
            try:
                result_box["result"] = master.run(
                    n_iterations=settings.n_iterations, min_n_workers=1
                )
            except BaseException as e:  # reported by the watchdog below
                result_box["error"] = e

        runner = threading.Thread(target=run_master, name="hpbandster-master", daemon=True)
        runner.start()
        while runner.is_alive():
            runner.join(timeout=0.1)
            with lock:
                fatal = state["fatal"]
                stalled = (
                    not state["computing"]
                    and time.monotonic() - state["progress"] > settings.stall_timeout
                )
            if fatal is not None:
                raise fatal
            if not master.dispatcher_thread.is_alive():
                raise HyperbandStalled("hpbandster's dispatcher thread died")
            if stalled:
                raise HyperbandStalled(
                    f"hpbandster made no progress for {settings.stall_timeout:.0f} s with no "
                    "job computing: its dispatcher or Pyro4 transport is dead (a job or result "
                    "that never arrived)"
                )
        if "error" in result_box:
            raise RuntimeError(
                f"hpbandster's master failed: {result_box['error']!r}"
            ) from result_box["error"]
        if state["fatal"] is not None:
            raise state["fatal"]
        res = result_box["result"]
        id2conf = res.get_id2config_mapping()
        out = []
        for r in res.get_all_runs():
            loss = None if r.loss is None or not math.isfinite(r.loss) else float(r.loss)
            out.append(
                JobRecord(
                    _plain_tuple(r.config_id),
                    to_plain(id2conf[r.config_id]["config"]),
                    float(r.budget),
                    job_trials(r.budget),
                    loss,
                    None if r.error_logs is None else str(r.error_logs),
                )
            )
        return out
    finally:
        _shutdown(master, worker, ns)


def _shutdown(master, worker, ns) -> None:
    """Stop hpbandster's threads without ever blocking for long."""

    def stop() -> None:
        try:
            if master is not None:
                master.shutdown(shutdown_workers=True)
        except Exception as e:  # best effort
            log.debug("hpbandster master shutdown: %r", e)
        try:
            if worker is not None and getattr(worker, "pyro_daemon", None) is not None:
                worker.pyro_daemon.shutdown()
        except Exception as e:
            log.debug("hpbandster worker shutdown: %r", e)

    t = threading.Thread(target=stop, name="hpbandster-shutdown", daemon=True)
    t.start()
    t.join(timeout=10.0)
    try:
        if ns is not None:
            ns.shutdown()
    except Exception as e:
        log.debug("hpbandster name server shutdown: %r", e)
