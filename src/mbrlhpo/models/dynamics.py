"""DynamicsModel: a PETS ensemble bound to a task, with its normaliser, Adam and training loop."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mbrlhpo.models.adam_state import AdamState
from mbrlhpo.models.ensemble import ProbabilisticEnsemble
from mbrlhpo.models.normalizer import Normalizer

_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class EnsembleWeights:
    """References (not copies) to the tensors a planner needs, all float32 and contiguous.

    ``weights[l]``: ``(E x in_l x out_l)``, ``biases[l]``: ``(E x 1 x out_l)``,
    ``max_logvar``/``min_logvar``: ``(1 x O)``, ``input_mean``/``input_std``: ``(1 x D)`` where
    ``D = task.model_input_dim + act_dim`` (model input first, then the action).
    """

    weights: tuple[torch.Tensor, ...]
    biases: tuple[torch.Tensor, ...]
    max_logvar: torch.Tensor
    min_logvar: torch.Tensor
    input_mean: torch.Tensor
    input_std: torch.Tensor

    @property
    def ensemble_size(self) -> int:
        return int(self.weights[0].shape[0])


def _as_2d(name: str, x: Any, dim: int) -> np.ndarray:
    arr = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"expected {name} of shape (B, {dim}), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"expected a numeric {name}, got dtype {arr.dtype}")
    return arr


class DynamicsModel:
    """The PETS dynamics model of a task: ``(obs, act) -> N(next_obs target)`` per member.

    Inputs are ``[task.model_input(obs), act]`` standardised by a normaliser refit on all data
    before each training; targets are ``task.model_target(obs, next_obs)`` (deltas, absolute
    where the task says so). Training: Adam, per-member bootstrap, a fixed number of epochs,
    loss = Gaussian NLL terms summed over members + 0.01 (sum max_logvar - sum min_logvar) +
    weight_decay * 0.5 * sum of squared weights. The model is never re-initialised between
    calls and Adam keeps its state when lr / weight decay / epochs change.
    """

    def __init__(
        self,
        task: Any,
        ensemble_size: int = 5,
        hidden: int = 200,
        depth: int = 4,
        device: str | torch.device = "cpu",
        *,
        seed: int,
    ) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"expected an int seed, got {seed!r}")
        self.task = task
        self.obs_dim = int(task.obs_dim)
        self.act_dim = int(task.act_dim)
        self.input_dim = int(task.model_input_dim) + self.act_dim
        self.device = torch.device(device)
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(seed)
        self.ensemble = ProbabilisticEnsemble(
            self.input_dim, self.obs_dim, ensemble_size, hidden, depth, self.generator
        ).to(self.device)
        self.normalizer = Normalizer(self.input_dim).to(self.device)
        # Adam's state only: the trainer steps it itself (no torch.optim: its import is slow).
        self.optimizer = AdamState(self.ensemble.parameters(), lr=1e-3)
        self.num_train_calls = 0

    @property
    def ensemble_size(self) -> int:
        return self.ensemble.ensemble_size

    # ------------------------------------------------------------------ data preparation
    def _check_batch(self, obs: Any, act: Any, next_obs: Any | None) -> tuple[np.ndarray, ...]:
        o = _as_2d("obs", obs, self.obs_dim)
        a = _as_2d("act", act, self.act_dim)
        if a.shape[0] != o.shape[0]:
            raise ValueError(f"expected act with {o.shape[0]} rows like obs, got {a.shape[0]}")
        out = [o.astype(np.float32), a.astype(np.float32)]
        if next_obs is not None:
            n = _as_2d("next_obs", next_obs, self.obs_dim)
            if n.shape[0] != o.shape[0]:
                raise ValueError(
                    f"expected next_obs with {o.shape[0]} rows like obs, got {n.shape[0]}"
                )
            out.append(n.astype(np.float32))
        return tuple(out)

    def raw_inputs(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """Unnormalised model inputs ``[task.model_input(obs), act]``: ``(... x D)``."""
        return torch.cat([self.task.model_input(obs), act], dim=-1)

    def _inputs(self, obs: np.ndarray, act: np.ndarray) -> torch.Tensor:
        o = torch.from_numpy(obs).to(self.device)
        a = torch.from_numpy(act).to(self.device)
        return self.raw_inputs(o, a).to(torch.float32)

    def _targets(self, obs: np.ndarray, next_obs: np.ndarray) -> torch.Tensor:
        t = self.task.model_target(torch.from_numpy(obs), torch.from_numpy(next_obs))
        return t.to(device=self.device, dtype=torch.float32)

    # ------------------------------------------------------------------ training
    def training_tensors(
        self, obs: Any, act: Any, next_obs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Checks the data, refits the normaliser on it; returns normalised inputs ``(N x D)``
        and targets ``(N x O)`` on the model's device."""
        o, a, n = self._check_batch(obs, act, next_obs)
        if o.shape[0] < 1:
            raise ValueError("expected at least one transition to train on, got 0")
        if not (np.isfinite(o).all() and np.isfinite(a).all() and np.isfinite(n).all()):
            raise ValueError("training data contains NaN or inf")
        raw = self._inputs(o, a)
        self.normalizer.fit(raw)
        with torch.no_grad():
            x_all = self.normalizer(raw)
        return x_all, self._targets(o, n)

    def train(
        self,
        obs: Any,
        act: Any,
        next_obs: Any,
        epochs: int,
        lr: float,
        weight_decay: float,
        batch_size: int = 32,
        *,
        rng: np.random.Generator,
        progress: bool = False,
        on_step: Callable[[int, int], None] | None = None,
    ) -> list[float]:
        """Refit the normaliser on all data and train for ``epochs`` epochs.

        The population trainer with one member (:func:`mbrlhpo.models.train_population`, which
        trains many members at once with the same result as each alone).

        Args:
            obs, next_obs: ``(B x O)``; act: ``(B x A)`` (all transitions so far).
            epochs: number of passes over each member's bootstrap (>= 1).
            lr, weight_decay: Adam learning rate (> 0) and L2 coefficient (>= 0).
            rng: draws the bootstraps and the per-epoch shuffles.
            progress: show a progress bar over epochs.
            on_step: told ``(done, total)`` after every Adam step (a watcher's progress).
        Returns:
            The mean training loss of each epoch (NLL terms + bound penalty + decay).
        """
        from mbrlhpo.models.population import TrainingJob, train_population

        job = TrainingJob(self, obs, act, next_obs, epochs, lr, weight_decay, batch_size, rng)
        return train_population([job], progress=progress, on_step=on_step)[0]

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def _forward(self, o: np.ndarray, a: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.normalizer(self._inputs(o, a))
        x = x.unsqueeze(0).expand(self.ensemble_size, -1, -1)
        return self.ensemble(x)

    @torch.no_grad()
    def nll(self, obs: Any, act: Any, next_obs: Any) -> float:
        """Gaussian negative log-likelihood of the targets per dimension, averaged over members,
        transitions and dimensions (including the ``0.5 log 2 pi`` constant)."""
        o, a, n = self._check_batch(obs, act, next_obs)
        mean, logvar = self._forward(o, a)
        y = self._targets(o, n)
        terms = (mean - y) ** 2 * torch.exp(-logvar) + logvar + _LOG_2PI
        return float(0.5 * terms.mean())

    @torch.no_grad()
    def predict(self, obs: Any, act: Any) -> tuple[np.ndarray, np.ndarray]:
        """Each member's predicted next observation and target variance.

        Args:
            obs: ``(B x O)``; act: ``(B x A)``.
        Returns:
            ``(next_obs_mean, target_var)``, each ``(E x B x O)`` float32 NumPy arrays.
        """
        o, a = self._check_batch(obs, act, None)
        mean, logvar = self._forward(o, a)
        obs_t = torch.from_numpy(o).to(self.device).expand(self.ensemble_size, -1, -1)
        nxt = self.task.next_obs_from_target(obs_t, mean)
        return nxt.cpu().numpy().astype(np.float32), torch.exp(logvar).cpu().numpy()

    # ------------------------------------------------------------------ planner / state
    def planner_weights(self) -> EnsembleWeights:
        """References to the live parameter tensors (updated in place by training)."""
        ens = self.ensemble
        return EnsembleWeights(
            weights=tuple(w.data for w in ens.weights),
            biases=tuple(b.data for b in ens.biases),
            max_logvar=ens.max_logvar.data,
            min_logvar=ens.min_logvar.data,
            input_mean=self.normalizer.mean,
            input_std=self.normalizer.std,
        )

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Everything needed to continue bit-for-bit, as a flat dict of tensors."""
        out: dict[str, torch.Tensor] = {}
        for k, v in self.ensemble.state_dict().items():
            out[f"ensemble.{k}"] = v.detach().cpu().clone()
        for k, v in self.normalizer.state_dict().items():
            out[f"normalizer.{k}"] = v.detach().cpu().clone()
        opt = self.optimizer.state_dict()
        for pid, st in opt["state"].items():
            for k, v in st.items():
                out[f"optimizer.{pid}.{k}"] = torch.as_tensor(v).detach().cpu().clone()
        out["generator_state"] = self.generator.get_state().clone()
        out["num_train_calls"] = torch.tensor(self.num_train_calls, dtype=torch.int64)
        return out

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore from :meth:`state_dict` (shapes must match this model's architecture)."""
        ens = {k[len("ensemble.") :]: v for k, v in state.items() if k.startswith("ensemble.")}
        nrm = {k[len("normalizer.") :]: v for k, v in state.items() if k.startswith("normalizer.")}
        own = self.ensemble.state_dict()
        for k, v in own.items():
            if k not in ens:
                raise ValueError(f"model state is missing 'ensemble.{k}'")
            if tuple(ens[k].shape) != tuple(v.shape):
                raise ValueError(
                    f"expected 'ensemble.{k}' of shape {tuple(v.shape)}, got {tuple(ens[k].shape)}"
                )
        self.ensemble.load_state_dict(ens)
        self.normalizer.load_state_dict(nrm)
        opt = self.optimizer.state_dict()
        new_state: dict[int, dict[str, torch.Tensor]] = {}
        for k, v in state.items():
            if k.startswith("optimizer."):
                _, pid, name = k.split(".", 2)
                new_state.setdefault(int(pid), {})[name] = v.clone()
        opt["state"] = new_state
        self.optimizer.load_state_dict(opt)
        if "generator_state" in state:
            self.generator.set_state(state["generator_state"].clone())
        if "num_train_calls" in state:
            self.num_train_calls = int(state["num_train_calls"])
