"""The PETS agent (Algorithm 1 of the paper): the optimizee of every HPO method.

Each trial acts first, then trains, as the paper's code does (dmbrl/misc/MBwPBTExp.py): trial 0
acts uniformly at random, every later trial runs one episode with CEM model-predictive control
(replanning every step) on the model trained at the end of the previous trial; then the trial
adds its transitions to the replay buffer and trains the ensemble on all data so far with its
own training hyperparameters (lr, weight decay, epochs). A trial's planning hyperparameters
shape its own return; its training hyperparameters shape the next trial's (docs/agent.md).

A trial collects the task's ``steps_per_trial`` steps: where an episode terminates early (a task
with termination), the env is reset and the trial goes on with a new episode; the trial's return
is its first episode's (docs/agent.md). Hyperparameters may change between trials (a PBT
schedule) without losing the data or the optimiser state. The agent's whole state saves to one
checkpoint file and restores bit for bit.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mbrlhpo.agent.checkpoint import read_checkpoint, write_checkpoint
from mbrlhpo.agent.episode_store import EpisodeStore
from mbrlhpo.agent.hparams import FIXED, PETSHparams, default_hparams, defaults_name
from mbrlhpo.agent.replay_buffer import FIELDS, ReplayBuffer
from mbrlhpo.envs import get_task, make_env
from mbrlhpo.envs.custom_task import Task, is_custom, load_task, name_task, stored_task
from mbrlhpo.models import DynamicsModel, TrainingJob
from mbrlhpo.planning import CEMPlanner
from mbrlhpo.runner.protocol import TrialResult  # the runner's record, re-exported here

CHECKPOINT_KIND = "pets-agent"
CHECKPOINT_FILE = "agent.safetensors"
PLANNER_BACKENDS = ("auto", "cpu", "torch", "cuda")


def resolve_backend(planner_backend: str, device: str, custom: bool = False) -> str:
    """``auto``: the native CPU planner for a model on the CPU (the torch reference where the
    native module is missing); for a model on a GPU the native CUDA planner where it is built and
    a device is usable, else the torch reference (on the GPU). The native CPU planner reads the
    weights in place, so it needs the model on the CPU. A ``custom`` task (:class:`mbrlhpo.Task`)
    on a GPU model plans on the torch backend: the CUDA planner's kernels know the built-in
    tasks only."""
    if planner_backend not in PLANNER_BACKENDS:
        raise ValueError(f"expected planner_backend in {PLANNER_BACKENDS}, got {planner_backend!r}")
    if custom and planner_backend == "cuda":
        raise ValueError(
            "the CUDA planner plans built-in tasks only; a custom task on a GPU model plans "
            "with planner_backend='torch' (or 'auto', which chooses it)"
        )
    if custom and planner_backend == "auto" and not str(device).startswith("cpu"):
        return "torch"
    on_gpu = not str(device).startswith("cpu")
    if planner_backend == "cpu" and on_gpu:
        raise ValueError(
            f"the native CPU planner reads the model's weights in place: expected device='cpu' "
            f"with planner_backend='cpu', got device={device!r}"
        )
    if planner_backend != "auto":
        return planner_backend
    if on_gpu:
        from mbrlhpo.planning.cuda_planner import cuda_planner_available

        return "cuda" if cuda_planner_available() else "torch"
    from mbrlhpo import _native

    return "cpu" if _native.available() else "torch"


class PETSAgent:
    """PETS on one task.

    Args:
        env: a task name (``"cartpole"``...), an environment from :func:`mbrlhpo.make_env`, a
            :class:`mbrlhpo.Task` (its ``env`` runs the rollouts), an importable reference
            ``"package.module:NAME"`` to one, or any ``gymnasium.Env`` with a Box action space
            together with ``task``.
        hparams: a :class:`PETSHparams`, a dict of overrides of the profile's defaults, or None.
        seed: fixes every random choice (actions, bootstraps, initial weights, planner noise,
            reset states).
        device: torch device of the model.
        planner_backend: ``auto``, ``cpu`` (native), ``torch`` (reference) or ``cuda``.
        profile: ``paper`` (the paper's settings) or ``quick`` (small, for CPUs and tests).
        progress: True for tqdm bars of each trial's steps and training epochs; or a watcher
            told of them (``round_started(steps)``, ``round_step()``,
            ``training_started(members)``, ``training_step(done, total)``: a
            :class:`mbrlhpo.progress.StudyProgress`).
        episode_store: a directory shared by many checkpoints (a study's); ``save`` then writes
            each episode there once, by content hash, instead of into every checkpoint.
        task: the :class:`mbrlhpo.Task` that plans for ``env`` (a gymnasium env mbrlhpo did not
            make): the env runs the real rollouts, the task supplies what planning needs.
    """

    def __init__(
        self,
        env: Any,
        hparams: PETSHparams | dict[str, Any] | None = None,
        seed: int = 0,
        device: str = "cpu",
        planner_backend: str = "auto",
        profile: str = "paper",
        progress: Any = False,
        episode_store: str | Path | None = None,
        task: Any = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"expected a non-negative int seed, got {seed!r}")
        self.seed = int(seed)
        self.task, self.env, self.env_ref = _task_and_env(env, task)
        self.profile = profile
        base = default_hparams(defaults_name(self.task), profile)
        if hparams is None:
            hparams = base
        elif isinstance(hparams, dict):
            hparams = base.replace(**hparams)
        elif not isinstance(hparams, PETSHparams):
            raise ValueError(f"expected PETSHparams, a dict or None, got {type(hparams).__name__}")
        self._hparams = hparams
        self.device = str(device)
        self.backend = resolve_backend(planner_backend, self.device, custom=is_custom(self.task))
        self.progress = progress
        self.rng = np.random.default_rng(self.seed)
        self.model = DynamicsModel(
            self.task,
            hparams.ensemble_size,
            hparams.hidden,
            hparams.depth,
            device=self.device,
            seed=self.seed,
        )
        self.planner = CEMPlanner(
            self.task, self.model, hparams.cem, backend=self.backend, seed=self.seed
        )
        self.buffer = ReplayBuffer(self.task.obs_dim, self.task.act_dim)
        self.episode_store = EpisodeStore(episode_store) if episode_store is not None else None
        self.trial = 0
        self.history: list[TrialResult] = []
        self._episode: _Episode | None = None

    # ------------------------------------------------------------------ hyperparameters
    @property
    def hparams(self) -> PETSHparams:
        return self._hparams

    def set_hparams(self, hparams: PETSHparams | dict[str, Any]) -> None:
        """Changes the tunable hyperparameters for the next trials (keeps data and Adam state).

        Architecture settings (ensemble size, width, depth) cannot change on a trained model.
        """
        new = self._hparams.replace(**hparams) if isinstance(hparams, dict) else hparams
        if not isinstance(new, PETSHparams):
            raise ValueError(f"expected PETSHparams or a dict, got {type(hparams).__name__}")
        for name in ("ensemble_size", "hidden", "depth"):
            if getattr(new, name) != getattr(self._hparams, name):
                raise ValueError(
                    f"{name} is fixed for a built model: expected "
                    f"{getattr(self._hparams, name)}, got {getattr(new, name)}"
                )
        self.planner.set_config(new.cem)
        self._hparams = new

    # ------------------------------------------------------------------ Algorithm 1
    def run_trial(self) -> TrialResult:
        """Runs one trial (``steps_per_trial`` MPC steps: one episode, or more where episodes
        terminate early; random actions in trial 0), adds its data to the buffer, then trains
        the model on all data with this trial's hyperparameters."""
        obs = self.start_trial()
        done = False
        while not done:
            action = self.random_action() if self.in_random_trial else self.planner.plan(obs)
            obs, done = self.step_trial(action)
        return self.finish_trial()

    # A trial in three parts, so that a population of agents can run in lock-step with all
    # members' planning in one native call (mbrlhpo.runner.population).
    @property
    def in_random_trial(self) -> bool:
        return self.trial == 0

    def random_action(self) -> np.ndarray:
        return self.rng.uniform(self.task.action_low, self.task.action_high).astype(np.float32)

    def start_trial(self) -> np.ndarray:
        """Resets planner and env for the trial's episode; returns the first obs. The model
        acted on is the one trained at the end of the previous trial (none in trial 0)."""
        if self._episode is not None:
            raise RuntimeError("a trial is already in progress: call finish_trial() first")
        start = time.perf_counter()
        if not self.in_random_trial:
            self.planner.reset()
        obs, _ = self.env.reset(seed=int(self.rng.integers(2**62)))
        self._episode = _Episode(
            self.task.steps_per_trial,
            self.task.obs_dim,
            self.task.act_dim,
            start,
            np.asarray(obs, dtype=np.float64),
        )
        watcher = _watcher(self.progress)
        if watcher is not None:
            watcher.round_started(self.task.steps_per_trial)
        self._episode.bar = _progress(
            self.task.steps_per_trial, f"trial {self.trial}", self.progress is True
        )
        return obs

    def step_trial(self, action: np.ndarray) -> tuple[np.ndarray, bool]:
        """Steps the env with ``action``, records the transition; returns (the obs to act on
        next, trial over). Where an episode terminates before the trial's ``steps_per_trial``
        steps, the env is reset and that obs is the new episode's first."""
        ep = self._episode
        if ep is None:
            raise RuntimeError("no trial in progress: call start_trial() first")
        next_obs, reward, terminated, truncated, info = self.env.step(action)
        if info.get("sim_diverged", False):
            ep.diverged = True  # the transition into a broken state is not data
            return next_obs, True
        n = ep.n
        ep.obs[n], ep.act[n], ep.next_obs[n] = ep.last_obs, action, next_obs
        # Hopper: the paper's env reward adds +1 per healthy step; returns (hence the HPO
        # objective) include it, the planner's cost does not (docs/hpo.md).
        ep.reward[n] = reward + info.get("alive_bonus", 0.0)
        ep.terminated[n] = terminated
        ep.n = n + 1
        ep.last_obs = ep.next_obs[n]
        if ep.bar is not None:
            ep.bar.update(1)
        elif (watcher := _watcher(self.progress)) is not None:
            watcher.round_step()
        if ep.n == len(ep.reward) or truncated:
            return next_obs, True
        if terminated:
            # The trial goes on with a new episode until it has its steps_per_trial steps (a
            # fixed amount of data and cost per trial, as mbrl-lib's initial exploration is a
            # number of steps over as many episodes as needed): a task whose episodes fail after
            # a few steps would otherwise learn from a handful of transitions (docs/agent.md).
            # No built-in task terminates, so their trials stay one episode; a truncation (the
            # env's time limit) still ends the trial.
            if ep.first_episode_steps is None:
                ep.first_episode_steps = ep.n
            if not self.in_random_trial:
                self.planner.reset()
            obs, _ = self.env.reset(seed=int(self.rng.integers(2**62)))
            ep.last_obs = np.asarray(obs, dtype=np.float64)
            return obs, False
        return next_obs, False

    def finish_episode(self) -> None:
        """Ends the trial's acting: closes the episode and adds its transitions to the buffer,
        so that the trial's training (:meth:`training_job`) sees them. ``finish_trial`` calls
        it where the caller did not."""
        ep = self._episode
        if ep is None:
            raise RuntimeError("no trial in progress: call start_trial() first")
        if ep.stored:
            return
        ep.stored = True
        if ep.bar is not None:
            ep.bar.close()
        n = ep.n
        if n > 0:
            self.buffer.add_episode(
                ep.obs[:n], ep.act[:n], ep.next_obs[:n], ep.reward[:n], ep.terminated[:n]
            )

    def finish_trial(self, trained: tuple[float | None, bool, float] | None = None) -> TrialResult:
        """Adds the episode to the buffer, trains the model on all data with this trial's
        hyperparameters and returns the trial's result.

        ``trained``: the outcome of :meth:`finish_training` when the caller trained this agent
        itself after :meth:`finish_episode` (``LockstepExecutor`` trains a whole population in
        one call); then no training happens here.
        """
        ep = self._episode
        if ep is None:
            raise RuntimeError("no trial in progress: call start_trial() first")
        self.finish_episode()
        loss, model_diverged, train_time = None, False, 0.0
        if trained is not None:
            loss, model_diverged, train_time = trained
        elif len(self.buffer) > 0:
            loss, model_diverged, train_time = self.train_model()
        self._episode = None
        n = ep.n
        first = n if ep.first_episode_steps is None else ep.first_episode_steps
        result = TrialResult(
            trial=self.trial,
            ret=float(ep.reward[:first].sum()),
            steps=n,
            wall_time=time.perf_counter() - ep.start,
            train_time=train_time,
            model_loss=loss,
            diverged=ep.diverged,
            model_diverged=model_diverged,
            random=self.in_random_trial,
            hparams=self._hparams.to_dict(),
        )
        self.trial += 1
        self.history.append(result)
        return result

    def train_model(self) -> tuple[float | None, bool, float]:
        """Trains the model on all data with the current hyperparameters, as a trial does after
        acting; on NaN/inf rolls the model back and reports it. Returns
        :meth:`finish_training`'s ``(last epoch's loss, rolled back, training seconds)``."""
        job, before = self.training_job()
        watcher = _watcher(self.progress)
        if watcher is not None:
            watcher.training_started(1)
        start = time.perf_counter()
        losses = self.model.train(
            job.obs,
            job.act,
            job.next_obs,
            epochs=job.epochs,
            lr=job.lr,
            weight_decay=job.weight_decay,
            batch_size=job.batch_size,
            rng=job.rng,
            progress=self.progress is True,
            on_step=None if watcher is None else watcher.training_step,
        )
        return self.finish_training(losses, before, time.perf_counter() - start)

    @staticmethod
    def train_population(jobs: list[TrainingJob], on_step: Any = None) -> list[Any]:
        """Trains many agents' :meth:`training_job` in one batched call (what
        ``LockstepExecutor`` calls: the runner does not import the models itself);
        ``on_step(done, total)`` after every batched step (progress)."""
        import mbrlhpo.models as models

        return models.train_population(jobs, on_step=on_step)

    def training_job(self) -> tuple[TrainingJob, dict[str, torch.Tensor]]:
        """This trial's training (all data, current hyperparameters, the agent's rng) and the
        model state to roll back to: for training many agents in one call
        (:func:`mbrlhpo.models.train_population`), then :meth:`finish_training`."""
        h = self._hparams
        data = self.buffer.all()
        job = TrainingJob(
            self.model,
            data.obs,
            data.act,
            data.next_obs,
            epochs=h.epochs,
            lr=h.lr,
            weight_decay=h.weight_decay,
            batch_size=h.batch_size,
            rng=self.rng,
        )
        return job, self.model.state_dict()

    def finish_training(
        self, losses: list[float], before: dict[str, torch.Tensor], elapsed: float
    ) -> tuple[float | None, bool, float]:
        """Checks the trained model; on NaN/inf rolls it back to ``before``.
        Returns ``(last epoch's loss, rolled back, training seconds)``: ``finish_trial``'s
        ``trained``."""
        finite = all(math.isfinite(x) for x in losses) and all(
            bool(torch.isfinite(t).all())
            for t in self.model.state_dict().values()
            if t.is_floating_point()
        )
        if not finite:
            self.model.load_state_dict(before)
            return None, True, elapsed
        return (float(losses[-1]) if losses else None), False, elapsed

    def act(self, obs: Any) -> np.ndarray:
        """The MPC action for an observation (the agent must have trained at least once)."""
        return self.planner.plan(obs)

    def model_nll(self, observations: Any, actions: Any, next_observations: Any) -> float:
        """The ensemble's Gaussian NLL on given transitions (objective-mismatch analysis)."""
        return self.model.nll(observations, actions, next_observations)

    # ------------------------------------------------------------------ PBT exploit
    def copy_from(self, other: PETSAgent, copy_history: bool = True) -> None:
        """Becomes ``other``'s model, optimiser state and hyperparameters; with
        ``copy_history`` also its replay buffer (shared, not duplicated)."""
        if other.task.name != self.task.name:
            raise ValueError(f"cannot copy a {other.task.name} agent into a {self.task.name} one")
        self.set_hparams(other.hparams)
        self.model.load_state_dict(other.model.state_dict())
        if copy_history:
            self.buffer.share_from(other.buffer)

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | Path) -> Path:
        """Writes the whole agent state to ``path`` (a directory) atomically; returns the file."""
        path = Path(path)
        file = path / CHECKPOINT_FILE if path.suffix != ".safetensors" else path
        arrays: dict[str, np.ndarray] = {
            f"model/{k}": v.detach().cpu().numpy() for k, v in self.model.state_dict().items()
        }
        arrays.update({f"planner/{k}": v for k, v in self.planner.get_state().items()})
        episodes = None
        if self.episode_store is None:
            arrays.update(self.buffer.state())
        else:
            digests = [self.buffer.episode_digest(i) for i in range(self.buffer.num_episodes)]
            for i, digest in enumerate(digests):
                ep = self.buffer.episode(i)
                self.episode_store.put(digest, {f: getattr(ep, f) for f in FIELDS})
            store = os.path.relpath(self.episode_store.root.resolve(), file.parent.resolve())
            episodes = {"store": store, "digests": digests}
        meta = {
            "task": self.task.name,
            "env": self.env_ref,
            "seed": self.seed,
            "trial": self.trial,
            "profile": self.profile,
            "device": self.device,
            "backend": self.backend,
            "hparams": self._hparams.to_dict(),
            "rng": _jsonable_rng_state(self.rng),
            "history": [r.to_dict() for r in self.history],
            "episodes": episodes,
        }
        write_checkpoint(file, arrays, meta, CHECKPOINT_KIND)
        return file

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: str | None = None,
        planner_backend: str | None = None,
        env: Any = None,
        task: Any = None,
    ) -> PETSAgent:
        """Restores an agent saved by :meth:`save`; rejects corrupt or foreign files.

        The env and task are rebuilt from the checkpoint's env reference (a built-in name or a
        ``"package.module:NAME"`` Task); ``env`` (and ``task``) replace it, as in the
        constructor: needed for an agent whose task was not imported by reference."""
        path = Path(path)
        file = path / CHECKPOINT_FILE if path.is_dir() else path
        arrays, meta = read_checkpoint(file, CHECKPOINT_KIND)
        hparams = PETSHparams.from_dict(meta["hparams"])
        if env is None:  # never imports what the file names: see stored_task
            env = stored_task(meta.get("env") or meta["task"], f"checkpoint {file}")
        agent = cls(
            env,
            hparams,
            task=task,
            seed=meta["seed"],
            device=device or meta["device"],
            planner_backend=planner_backend or meta["backend"],
            profile=meta["profile"],
        )
        if agent.task.name != meta["task"]:
            agent.close()
            raise ValueError(
                f"checkpoint {file} holds a {meta['task']!r} agent, but env= gave the task "
                f"{agent.task.name!r}"
            )
        if meta.get("episodes") is not None:
            agent.episode_store = EpisodeStore((file.parent / meta["episodes"]["store"]).resolve())
        agent._restore(arrays, meta)
        return agent

    def restore(self, path: str | Path) -> None:
        """Becomes the agent saved at ``path`` (same task and architecture), in place: how a
        member comes back from a trial run elsewhere (``RayExecutor``)."""
        path = Path(path)
        file = path / CHECKPOINT_FILE if path.is_dir() else path
        arrays, meta = read_checkpoint(file, CHECKPOINT_KIND)
        if meta["task"] != self.task.name:
            raise ValueError(f"expected a {self.task.name} checkpoint, got a {meta['task']} one")
        self.set_hparams(PETSHparams.from_dict(meta["hparams"]))
        if meta.get("episodes") is not None:
            self.episode_store = EpisodeStore((file.parent / meta["episodes"]["store"]).resolve())
        self._restore(arrays, meta)

    def _restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.model.load_state_dict(
            {
                k[len("model/") :]: torch.from_numpy(v.copy())
                for k, v in arrays.items()
                if k.startswith("model/")
            }
        )
        if meta.get("episodes") is None:
            self.buffer = ReplayBuffer.from_state(arrays, self.task.obs_dim, self.task.act_dim)
        else:
            self.buffer = ReplayBuffer(self.task.obs_dim, self.task.act_dim)
            for digest in meta["episodes"]["digests"]:
                ep = self.episode_store.get(digest)
                self.buffer.add_episode(*(ep[f] for f in FIELDS))
        self.planner.set_state(
            {k[len("planner/") :]: v for k, v in arrays.items() if k.startswith("planner/")}
        )
        self.rng.bit_generator.state = meta["rng"]
        self.trial = int(meta["trial"])
        self.history = [TrialResult.from_dict(r) for r in meta["history"]]

    def export(self, path: str | Path) -> Path:
        """Writes the planning policy (model, normaliser, CEM settings, seed, task MJCF) for
        the C++ core (``mbrlhpo::LoadPlanner``, ``examples/cpp_controller``)."""
        from mbrlhpo.planning.export import export_agent

        return export_agent(self, path)

    def close(self) -> None:
        self.env.close()
        self.planner.close()


class _Episode:
    """The transitions of the trial in progress (one or more episodes), preallocated for the
    task's ``steps_per_trial``."""

    def __init__(
        self,
        steps: int,
        obs_dim: int,
        act_dim: int,
        start: float,
        first_obs: np.ndarray,
    ) -> None:
        self.obs = np.empty((steps, obs_dim))
        self.act = np.empty((steps, act_dim))
        self.next_obs = np.empty((steps, obs_dim))
        self.reward = np.empty(steps)
        self.terminated = np.zeros(steps, dtype=bool)
        self.n = 0
        self.last_obs = first_obs
        self.first_episode_steps: int | None = None  # set when the first episode ends early
        self.diverged = False
        self.stored = False  # added to the buffer (finish_episode)
        self.start = start
        self.bar = None


def _jsonable_rng_state(rng: np.random.Generator) -> dict[str, Any]:
    state = rng.bit_generator.state
    return {
        k: (v if not isinstance(v, dict) else {kk: int(vv) for kk, vv in v.items()})
        for k, v in state.items()
    }


def _watcher(progress: Any) -> Any:
    """``progress`` where it is an object told of steps (not a flag for tqdm bars)."""
    return progress if hasattr(progress, "round_step") else None


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, unit="step")


def _task_and_env(env: Any, task: Any) -> tuple[Any, Any, str | None]:
    """(task, env, env reference or None) from PETSAgent's ``env`` and ``task`` arguments."""
    if task is not None and not isinstance(task, Task):
        raise ValueError(f"expected task to be a mbrlhpo.Task, got {type(task).__name__}")
    for given in (env, task):  # a Task the user passes may be named by their checkpoints
        if isinstance(given, Task):
            name_task(given)
    if isinstance(env, str) and task is None:
        if ":" in env:
            custom = load_task(env)
            return custom, custom.make_env(), env
        return get_task(env), make_env(env), env
    if isinstance(env, Task) and task is None:
        return env, env.make_env(), env.ref
    if task is None:
        own = getattr(getattr(env, "unwrapped", env), "task", None)
        if own is None:
            raise ValueError(
                "expected a task name, a mbrlhpo.Task (or its 'package.module:NAME'), an env "
                f"from mbrlhpo.make_env, or a gymnasium env with task=, got {type(env).__name__}"
            )
        return own, env, own.name
    _check_env_fits(env, task)
    return task, env, task.ref


def _check_env_fits(env: Any, task: Task) -> None:
    """A foreign gymnasium env must have a Box action space and the task's dims."""
    import gymnasium

    space = getattr(env, "action_space", None)
    if not isinstance(space, gymnasium.spaces.Box):
        raise ValueError(
            f"expected an env with a gymnasium Box action space, got {type(space).__name__}"
        )
    if space.shape != (task.act_dim,):
        raise ValueError(
            f"task {task.name!r}: expected an action space of shape ({task.act_dim},), got "
            f"{space.shape}"
        )
    obs_shape = getattr(getattr(env, "observation_space", None), "shape", None)
    if obs_shape is not None and tuple(obs_shape) != (task.obs_dim,):
        raise ValueError(
            f"task {task.name!r}: expected an observation space of shape ({task.obs_dim},), got "
            f"{tuple(obs_shape)}"
        )


__all__ = ["FIXED", "PETSAgent", "TrialResult", "resolve_backend"]
