"""AdamState: a model's Adam moments and settings, without ``torch.optim``.

The population trainer (:mod:`mbrlhpo.models.population`) writes Adam's step out itself; a
model only keeps Adam's state between training calls: per parameter ``step``, ``exp_avg`` and
``exp_avg_sq``, and the group's ``lr``, ``betas`` and ``eps``. ``torch.optim.Adam`` held them
before, but building one imports ``torch._dynamo`` (and sympy with it): about 2 of the 3.4
CPU-s of building one agent (2026-12-07, ``python -X importtime``; bench/README.md). This
class has the same attributes the trainer and the checkpoints read (``state`` keyed by
parameter, ``param_groups``, ``defaults``) and the same ``state_dict`` layout, so a state
saved from either loads into the other (tests/models/test_population.py checks both ways).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

_MOMENTS = ("exp_avg", "exp_avg_sq")


class AdamState:
    """Adam's state for ``params`` (one group): ``state[p]`` holds ``step`` (a float32 scalar
    tensor), ``exp_avg`` and ``exp_avg_sq`` (like ``p``) once ``p`` has been trained."""

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        params = list(params)
        if not params:
            raise ValueError("expected at least one parameter for Adam, got none")
        self.defaults: dict[str, Any] = {"lr": lr, "betas": tuple(betas), "eps": eps}
        self.param_groups: list[dict[str, Any]] = [{"params": params, **self.defaults}]
        self.state: dict[torch.Tensor, dict[str, torch.Tensor]] = {}

    def _params(self) -> list[torch.Tensor]:
        return self.param_groups[0]["params"]

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [...]}`` as ``torch.optim`` writes it
        (tensors by reference, parameters by their index)."""
        params = self._params()
        index = {id(p): i for i, p in enumerate(params)}
        state = {index[id(p)]: dict(st) for p, st in self.state.items()}
        groups = [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]
        groups[0]["params"] = list(range(len(params)))
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores :meth:`state_dict` (or ``torch.optim.Adam``'s): moments cast to each
        parameter's dtype and device, as ``torch.optim`` does; ``step`` kept as given. Copies,
        so that training this model never changes the state it was loaded from."""
        params = self._params()
        new: dict[torch.Tensor, dict[str, torch.Tensor]] = {}
        for key, st in state_dict.get("state", {}).items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(
                    f"expected Adam state for parameters 0..{len(params) - 1}, got index {i}"
                )
            p = params[i]
            missing = {"step", *_MOMENTS} - set(st)
            if missing:
                raise ValueError(f"Adam state of parameter {i} lacks {sorted(missing)}")
            new[p] = {
                "step": torch.as_tensor(st["step"]).clone(),
                **{k: st[k].to(dtype=p.dtype, device=p.device, copy=True) for k in _MOMENTS},
            }
        groups = state_dict.get("param_groups")
        if groups:
            for k in ("lr", "betas", "eps"):
                if k in groups[0]:
                    self.param_groups[0][k] = groups[0][k]
        self.state = new
