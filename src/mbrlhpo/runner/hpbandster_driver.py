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

The name server, the master's dispatcher and every worker's Pyro4 daemon bind to
``settings.nameserver_host`` (127.0.0.1 by default), so nothing listens beyond the loopback.

Parallel workers (``workers=N``): N hpbandster workers in this process (each a Pyro4 daemon
thread), so hpbandster dispatches N jobs at once and each ``evaluate`` call runs in its own
thread (the caller runs the trials there or sends them to Ray). hpbandster then starts the next
iteration while the last jobs of a rung are running, so the order in which configurations are
sampled depends on timing. Two things make a Hyperband study the same for any N:

* every configuration is drawn from its own random stream, seeded by (study seed, config id):
  ``config_id = (iteration, stage, index)`` is the same for any N, the order of the draws is not;
* every job carries its index in the order one worker runs the jobs (``JobRequest.index``:
  iterations in turn, rung by rung, configurations in hpbandster's order), which the runner
  uses as the job's member number (and so its seed).

BOHB's model-based draws depend on the results the model has seen when it draws, which depends
on timing for N > 1 (docs/hpo.md says exactly what stays equal). BOHB samples with NumPy's
global RNG inside hpbandster; the sampler runs with NumPy's global state swapped for a
``RandomState`` seeded by (study seed, config id) and restored afterwards (only on the master
thread that samples, which holds hpbandster's lock; results reach the model on the dispatcher
thread under the same lock).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mbrlhpo.hpo.hyperband import HyperbandSettings, job_trials
from mbrlhpo.hpo.space import ParamSpec, to_plain

if TYPE_CHECKING:  # imported where a space is built: ConfigSpace pulls in SciPy (~0.7 s)
    import ConfigSpace as CS

log = logging.getLogger(__name__)

MISSING_HPBANDSTER = (
    "method {method!r} needs hpbandster, an optional extra: pip install 'mbrlhpo[hyperband]' "
    "(random search, PBT and PBT-BT do not need it)"
)


class HyperbandStalled(RuntimeError):
    """hpbandster stopped making progress (dead dispatcher or lost result)."""


class MemberFailed(Exception):
    """Raised by an evaluation whose member failed: hpbandster scores it as crashed."""


def configuration_space(specs: Mapping[str, ParamSpec], seed: int) -> CS.ConfigurationSpace:
    """The searched ParamSpecs as the ConfigurationSpace hpbandster samples (the only place a
    study's space becomes ConfigSpace's)."""
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace(seed=seed)
    for s in specs.values():
        if s.integer:
            cs.add(CS.Integer(s.name, (int(s.low), int(s.high)), default=int(s.default), log=s.log))
        else:
            cs.add(CS.Float(s.name, (s.low, s.high), default=s.default, log=s.log))
    return cs


def require_hpbandster(method: str) -> None:
    """Raise a one-line ``ImportError`` saying how to install hpbandster when it is missing."""
    try:
        found = importlib.util.find_spec("hpbandster") is not None
    except ValueError:  # a module object without a spec (or set to None in sys.modules)
        found = False
    if not found:
        raise ImportError(MISSING_HPBANDSTER.format(method=method))


@dataclass(frozen=True)
class JobRequest:
    """One evaluation hpbandster asks for: ``config_id`` = (iteration, stage, index);
    ``trials`` = ``job_trials(budget)``; ``index``: the job's place in the order one worker runs
    the jobs (0, 1, ...), the same for any number of workers."""

    config_id: tuple[int, int, int]
    config: dict
    budget: float
    trials: int
    index: int


@dataclass(frozen=True)
class JobRecord:
    """One hpbandster evaluation: ``loss`` is None for a crashed job."""

    config_id: tuple[int, int, int]
    config: dict
    budget: float
    trials: int
    loss: float | None
    exception: str | None


# JobRequest -> loss (plain float); raise MemberFailed on failure. Called from N threads at once
# when there are N workers.
Evaluate = Callable[[JobRequest], float]


def config_stream_seed(seed: int, purpose: int, config_id: tuple[int, ...]) -> int:
    """A 32-bit seed for drawing configuration ``config_id``: the same whatever the order in
    which hpbandster's iterations ask for their configurations."""
    return int(np.random.SeedSequence([seed, purpose, *config_id]).generate_state(1)[0])


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


# Purposes of the per-configuration seeds (config_stream_seed).
_CONFIGSPACE_STREAM = 2
_NUMPY_STREAM = 3


def _job_index(master: Any, config_id: tuple[int, int, int]) -> int:
    """Where hpbandster's job ``config_id`` (of the current rung of its iteration) comes in the
    order one worker runs the jobs: every rung runs exactly ``num_configs[stage]`` jobs, one
    worker finishes an iteration before it starts the next, and within a rung it runs the
    configurations in the iteration's insertion order (advanced ones, then fresh draws)."""
    it = master.iterations[config_id[0]]
    budget = it.budgets[it.stage]
    rung = [cid for cid, datum in it.data.items() if datum.budget == budget]
    earlier = sum(sum(x.num_configs) for x in master.iterations[: config_id[0]])
    return earlier + sum(it.num_configs[: it.stage]) + rung.index(config_id)


def _make_master(
    kind: str,
    specs: Mapping[str, ParamSpec],
    settings: HyperbandSettings,
    run_id: str,
    ns_host: str,
    ns_port: int,
    seed: int,
    plain: bool,
    drawn: Mapping[tuple[int, ...], dict],
):
    from hpbandster.optimizers import BOHB, HyperBand
    from hpbandster.optimizers.config_generators.bohb import BOHB as CG_BOHB
    from hpbandster.optimizers.config_generators.random_sampling import RandomSampling

    rs = np.random.RandomState(np.random.SeedSequence([seed, 1]).generate_state(1)[0])

    class PlainRandomSampling(RandomSampling):
        def sample(self, config_id, budget):
            if config_id in drawn:
                return dict(drawn[config_id]), {}
            self.configspace.seed(config_stream_seed(seed, _CONFIGSPACE_STREAM, config_id))
            return to_plain(self.configspace.sample_configuration(), specs), {}

    class SeededBOHB(CG_BOHB):
        def sample(self, config_id, budget):
            if config_id in drawn:  # a resumed study: the model may differ from the first run's
                return dict(drawn[config_id]), {}
            self.configspace.seed(config_stream_seed(seed, _CONFIGSPACE_STREAM, config_id))
            own = np.random.RandomState(config_stream_seed(seed, _NUMPY_STREAM, config_id))
            with _GlobalNumpyRNG(own):
                cfg, info = super().get_config(budget)
            return to_plain(cfg, specs), _plain_value(info)

        def new_result(self, job, update_model=True):
            with _GlobalNumpyRNG(rs):
                return super().new_result(job, update_model)

    def ordered(cls):
        """``cls`` whose iterations draw each configuration by its id, and whose jobs carry
        their one-worker order (``_job_index``) to the worker."""

        class Ordered(cls):
            def get_next_iteration(self, iteration, iteration_kwargs=None):
                it = super().get_next_iteration(iteration, iteration_kwargs or {})
                generator = self.config_generator

                def sampler(budget):
                    # add_configuration names the configuration it asks for this way.
                    cid = (it.HPB_iter, it.stage, it.actual_num_configs[it.stage])
                    return generator.sample(cid, budget)

                it.config_sampler = sampler
                return it

            def _submit_job(self, config_id, config, budget):
                with self.thread_cond:
                    self.dispatcher.submit_job(
                        config_id,
                        config=config,
                        budget=budget,
                        working_directory=self.working_directory,
                        job_index=_job_index(self, config_id),
                    )
                    self.num_running_jobs += 1

        return Ordered

    space = configuration_space(specs, seed)  # hpbandster's samplers reseed it per config id
    common = dict(
        configspace=space,
        eta=settings.eta,
        min_budget=float(settings.min_budget),
        max_budget=float(settings.max_budget),
        run_id=run_id,
        nameserver=ns_host,
        nameserver_port=ns_port,
        host=ns_host,  # the dispatcher's Pyro4 daemon: loopback too
        ping_interval=settings.ping_interval,
        logger=logging.getLogger("hpbandster.master"),
    )
    if kind == "hyperband":
        master = ordered(HyperBand)(**common)
        master.config_generator = PlainRandomSampling(space)
    else:
        master = ordered(BOHB)(**common, **dict(settings.bohb))
        master.config_generator = SeededBOHB(configspace=space, **dict(settings.bohb))
    if plain:
        master.budgets = [float(b) for b in master.budgets]
        master.config["budgets"] = list(master.budgets)
    return master


def run_hpbandster(
    method: Literal["hyperband", "bohb"],
    specs: Mapping[str, ParamSpec],
    evaluate: Evaluate,
    settings: HyperbandSettings,
    seed: int,
    run_id: str | None = None,
    workers: int = 1,
    drawn: Mapping[tuple[int, ...], dict] | None = None,
    _plain_transport: bool = True,
) -> list[JobRecord]:
    """Run Hyperband or BOHB over the searched ``specs`` (ConfigSpace's space is made here)
    with ``workers`` in-process worker threads; return every evaluation.

    ``evaluate(job)`` returns the loss (negated objective) and raises ``MemberFailed`` for a
    failed member (hpbandster records it as crashed); with ``workers > 1`` it is called from
    that many threads at once. Any other exception from ``evaluate`` aborts the study and is
    re-raised here, after the other workers' jobs have returned (or ``stall_timeout`` passed).
    ``drawn``: configurations a previous run of this study already drew, by config id (a
    resumed study takes them instead of drawing again: BOHB's model may have seen other
    results when the first run drew them).
    A stalled dispatcher raises ``HyperbandStalled``. ``_plain_transport=False`` only exists to
    test the watchdog.
    """
    if method not in ("hyperband", "bohb"):
        raise ValueError(f"unknown method {method!r}: expected 'hyperband' or 'bohb'")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: expected an int >= 1, got {workers!r}")
    require_hpbandster(method)
    from hpbandster.core.nameserver import NameServer
    from hpbandster.core.worker import Worker

    run_id = run_id or f"mbrlhpo-{uuid.uuid4().hex[:12]}"
    lock = threading.Lock()
    state = {"progress": time.monotonic(), "computing": 0, "fatal": None}

    def progress(computing: int = 0) -> None:
        with lock:
            state["progress"] = time.monotonic()
            state["computing"] += computing

    class PlainWorker(Worker):
        def compute(self, config_id, config, budget, working_directory, job_index=-1, **kw):
            progress(computing=1)
            try:
                trials = job_trials(budget)
                job = JobRequest(
                    _plain_tuple(config_id), to_plain(config), float(budget), trials, job_index
                )
                try:
                    loss = evaluate(job)
                except MemberFailed:
                    raise
                except BaseException as e:  # abort the study, do not let hpbandster swallow it
                    with lock:
                        if state["fatal"] is None:
                            state["fatal"] = e
                    if not isinstance(e, Exception):  # hpbandster's worker catches Exception only
                        raise RuntimeError(f"the study was aborted: {e!r}") from e
                    raise
                return {"loss": float(loss), "info": {"trials": trials}}
            finally:
                progress(computing=-1)

    quiet = logging.getLogger("hpbandster.worker")
    host = settings.nameserver_host
    ns = NameServer(run_id=run_id, host=host, port=0)
    ns_host, ns_port = ns.start()
    master = None
    pool: list[Any] = []
    result_box: dict[str, Any] = {}
    try:
        master = _make_master(
            method, specs, settings, run_id, ns_host, ns_port, seed, _plain_transport, drawn or {}
        )
        original_callback = master.job_callback

        def job_callback(job):
            progress()
            return original_callback(job)

        master.job_callback = job_callback
        master.dispatcher.new_result_callback = job_callback
        for i in range(workers):
            worker = PlainWorker(
                run_id=run_id,
                nameserver=ns_host,
                nameserver_port=ns_port,
                host=host,
                logger=quiet,
                id=i,
            )
            worker.run(background=True)
            pool.append(worker)

        def run_master() -> None:
            try:
                result_box["result"] = master.run(
                    n_iterations=settings.n_iterations, min_n_workers=workers
                )
            except BaseException as e:  # reported by the watchdog below
                result_box["error"] = e

        runner = threading.Thread(target=run_master, name="hpbandster-master", daemon=True)
        runner.start()
        _watch(runner, master, state, lock, settings.stall_timeout)
        if "error" in result_box:
            raise RuntimeError(
                f"hpbandster's master failed: {result_box['error']!r}"
            ) from result_box["error"]
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
    except BaseException:
        # Let the other workers' jobs return first (the caller's evaluate stops them at their
        # next trial), so that nothing writes the study after this call has ended.
        _wait_idle(state, lock, pool, settings.stall_timeout, master)
        raise
    finally:
        _shutdown(master, pool, ns)


def _watch(runner: threading.Thread, master: Any, state: dict, lock: Any, timeout: float) -> None:
    """Wait for the master thread; raise a worker's fatal error or ``HyperbandStalled``."""
    while runner.is_alive():
        runner.join(timeout=0.1)
        with lock:
            fatal = state["fatal"]
            stalled = state["computing"] == 0 and time.monotonic() - state["progress"] > timeout
        if fatal is not None:
            raise fatal
        if not master.dispatcher_thread.is_alive():
            raise HyperbandStalled("hpbandster's dispatcher thread died")
        if stalled:
            raise HyperbandStalled(
                f"hpbandster made no progress for {timeout:.0f} s with no job computing: its "
                "dispatcher or Pyro4 transport is dead (a job or result that never arrived)"
            )
    if state["fatal"] is not None:
        raise state["fatal"]


def _wait_idle(
    state: dict, lock: Any, workers: list[Any], timeout: float, master: Any = None
) -> None:
    """Wait until no job computes and every worker has sent its last result.

    A worker returns from ``compute`` and then, on its Pyro4 one-way thread, sends the result
    to the dispatcher (``register_result``, under its ``thread_cond``, right after clearing
    ``busy``). Shutting the dispatcher down in between refused that connection: the
    ``Exception in thread oneway-call`` traceback after an aborted study (issue 28). A job
    dispatched but not yet started (``start_computation`` in flight) is neither computing
    nor busy, so the dispatcher is stopped first: no job is dispatched any more, and those
    dispatched are waited for until their results are registered (issue 24)."""
    deadline = time.monotonic() + timeout
    _stop_dispatching(master, deadline)
    while time.monotonic() < deadline:
        with lock:
            computing = state["computing"]
        if computing == 0 and all(_sent_last_result(w, deadline) for w in workers):
            return
        time.sleep(0.05)
    log.warning("hpbandster jobs still running after %.0f s; shutting down anyway", timeout)


def _stop_dispatching(master: Any, deadline: float) -> None:
    """Under hpbandster's ``runner_cond``: drop the jobs not yet dispatched, stop its job
    runner (``shutdown_all_threads``) and wait until every dispatched job's result is in
    (``register_result`` removes it from ``running_jobs`` under the same condition)."""
    dispatcher = getattr(master, "dispatcher", None)
    if dispatcher is None:
        return
    with dispatcher.runner_cond:
        while True:
            try:
                dispatcher.waiting_jobs.get_nowait()
            except queue.Empty:
                break
        dispatcher.shutdown_all_threads = True
        dispatcher.runner_cond.notify_all()
        while dispatcher.running_jobs and time.monotonic() < deadline:
            dispatcher.runner_cond.wait(timeout=0.05)


def _sent_last_result(worker: Any, deadline: float) -> bool:
    """True when ``worker`` is not inside a job, its result (if any) delivered."""
    cond = getattr(worker, "thread_cond", None)
    if cond is None:
        return True
    if not cond.acquire(timeout=max(0.0, deadline - time.monotonic())):
        return False
    try:
        return not worker.busy
    finally:
        cond.release()


def _shutdown(master, workers, ns) -> None:
    """Stop hpbandster's threads without ever blocking for long."""

    def stop() -> None:
        try:
            if master is not None:
                master.shutdown(shutdown_workers=True)
        except Exception as e:  # best effort
            log.debug("hpbandster master shutdown: %r", e)
        # The dispatcher keeps a connection to every worker: close them, else each worker's
        # daemon keeps a thread waiting on it after the daemon has shut down.
        pool = getattr(getattr(master, "dispatcher", None), "worker_pool", {})
        for held in list(pool.values()):
            try:
                held.proxy._pyroRelease()
            except Exception as e:
                log.debug("hpbandster worker proxy release: %r", e)
        for worker in workers:
            try:
                if getattr(worker, "pyro_daemon", None) is not None:
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
