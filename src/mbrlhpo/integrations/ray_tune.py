"""PETS as a Ray Tune ``Trainable``, so that Tune's schedulers and searchers (PBT, PB2, ASHA,
BOHB, ...) can tune it.

One Tune iteration is one trial (episode) of one PETS agent: iteration 1 is the random trial,
every later one trains the model and runs an MPC episode, as ``PETSAgent.run_trial``. Each
iteration reports ``ret`` (the episode's return), ``objective`` (the mean of the last ``last_k``
returns, the paper's objective; see ``mbrlhpo.hpo.objective``), ``diverged`` and the wall time.

The trial's ``config`` holds the agent's hyperparameters (any of ``PETSHparams``: lr,
weight_decay, epochs, horizon, ...) plus these settings:

- ``env`` (required): the task, e.g. ``"cartpole"``;
- ``seed`` (default 0): the agent's seed;
- ``profile`` (``"quick"``), ``device`` (``"cpu"``), ``planner_backend`` (``"auto"``);
- ``last_k``: the objective's window (default: the runner's).

Checkpoints are the agent's own (weights, Adam state, replay buffer, random streams), written
into Tune's checkpoint directory, so Tune's PBT exploit (restore another trial's checkpoint
under a mutated config) works: the checkpoint brings the state, the new config the
hyperparameters. Tune's random choices are Tune's own (its searchers take a seed; its PBT draws
from Python's `random`), so a Tune run is not repeatable bit for bit as `mbrlhpo tune` is.

Requires ``pip install mbrlhpo[tune]`` (Ray with Tune; PB2 also needs scikit-learn).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

try:
    from ray import tune
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "mbrlhpo.integrations.ray_tune needs Ray Tune: pip install mbrlhpo[tune]"
    ) from exc

from mbrlhpo.hpo.objective import DEFAULT_LAST_K

SETTINGS = ("env", "seed", "profile", "device", "planner_backend", "last_k")
AGENT_DIR = "agent"


def hparams_of(config: dict[str, Any]) -> dict[str, Any]:
    """The agent's hyperparameters in a Tune config (everything but the settings)."""
    return {k: v for k, v in config.items() if k not in SETTINGS}


class PETSTrainable(tune.Trainable):
    """A PETS agent trained one trial per Tune iteration (see the module's docstring)."""

    def setup(self, config: dict[str, Any]) -> None:
        from mbrlhpo.agent import PETSAgent

        if "env" not in config:
            raise ValueError("PETSTrainable: expected config['env'] (a task name), got none")
        threads = int(os.environ.get("OMP_NUM_THREADS", "0"))
        if threads > 0:  # what Tune reserved for the trial (Ray sets it for its workers)
            import torch

            torch.set_num_threads(threads)
        self.last_k = int(config.get("last_k", DEFAULT_LAST_K))
        self.agent = PETSAgent(
            config["env"],
            hparams_of(config),
            seed=int(config.get("seed", 0)),
            device=config.get("device", "cpu"),
            planner_backend=config.get("planner_backend", "auto"),
            profile=config.get("profile", "quick"),
        )
        self.returns: list[float] = []

    def step(self) -> dict[str, Any]:
        from mbrlhpo.hpo.objective import objective

        result = self.agent.run_trial()
        self.returns.append(float(result.ret))
        return {
            "ret": float(result.ret),
            "objective": objective(self.returns, self.last_k),
            "diverged": bool(result.diverged),
            "trial": int(result.trial),
            "trial_wall_time": float(result.wall_time),
        }

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        self.agent.save(Path(checkpoint_dir) / AGENT_DIR)
        (Path(checkpoint_dir) / "returns.txt").write_text("".join(f"{r!r}\n" for r in self.returns))

    def load_checkpoint(self, checkpoint: str | dict) -> None:
        path = Path(checkpoint)
        self.agent.restore(path / AGENT_DIR)
        # The config may have been mutated since (PBT's explore): it decides the hparams.
        self.agent.set_hparams(hparams_of(self.config))
        self.returns = [float(x) for x in (path / "returns.txt").read_text().split()]

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        """A reused actor starts the next trial with a fresh agent (a checkpoint restored
        afterwards, as in PBT's exploit, brings the state back)."""
        self.setup(new_config)
        return True
