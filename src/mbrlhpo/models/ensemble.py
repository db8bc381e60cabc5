"""The PETS probabilistic ensemble: E independent MLPs with weights batched member-major.

Layer l of all members is one batched matmul: ``(E x B x in) @ (E x in x out) + (E x 1 x out)``.
Hidden layers use swish (``x * sigmoid(x)``). The last layer outputs ``2 x out``: the mean and a
raw log-variance that is softly bounded by learned per-dimension bounds (Chua et al. 2018):

    logvar = max_logvar - softplus(max_logvar - raw)
    logvar = min_logvar + softplus(logvar - min_logvar)

Weights are initialised from a normal truncated at 2 std with std ``1 / (2 sqrt(fan_in))``,
biases at 0, bounds at ``max = 0.5``, ``min = -10`` (the original PETS values).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn
from torch.nn import functional as F

MAX_LOGVAR_INIT = 0.5
MIN_LOGVAR_INIT = -10.0
LOGVAR_BOUND_PENALTY = 0.01


def swish(x: torch.Tensor) -> torch.Tensor:
    """Swish / SiLU activation ``x * sigmoid(x)``."""
    return x * torch.sigmoid(x)


def bound_logvar(
    raw: torch.Tensor, max_logvar: torch.Tensor, min_logvar: torch.Tensor
) -> torch.Tensor:
    """Softly bound a raw log-variance between ``min_logvar`` and ``max_logvar``."""
    logvar = max_logvar - F.softplus(max_logvar - raw)
    return min_logvar + F.softplus(logvar - min_logvar)


class ProbabilisticEnsemble(nn.Module):
    """E Gaussian MLPs ``in_dim -> hidden (x depth, swish) -> 2 x out_dim``.

    Parameters are ``weights[l]`` of shape ``(E x in_l x out_l)`` and ``biases[l]`` of shape
    ``(E x 1 x out_l)`` (contiguous, member-major: the native planner reads them in place),
    plus the learned ``max_logvar`` / ``min_logvar`` of shape ``(1 x out_dim)``.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        ensemble_size: int = 5,
        hidden: int = 200,
        depth: int = 4,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_dim", in_dim),
            ("out_dim", out_dim),
            ("ensemble_size", ensemble_size),
            ("hidden", hidden),
            ("depth", depth),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"expected {name} to be a positive int, got {value!r}")
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.ensemble_size = ensemble_size
        self.hidden = hidden
        self.depth = depth
        sizes = [in_dim] + [hidden] * depth + [2 * out_dim]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in itertools.pairwise(sizes):
            w = torch.empty(ensemble_size, fan_in, fan_out)
            std = 1.0 / (2.0 * math.sqrt(fan_in))
            nn.init.trunc_normal_(w, 0.0, std, -2.0 * std, 2.0 * std, generator=generator)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(torch.zeros(ensemble_size, 1, fan_out)))
        self.max_logvar = nn.Parameter(torch.full((1, out_dim), MAX_LOGVAR_INIT))
        self.min_logvar = nn.Parameter(torch.full((1, out_dim), MIN_LOGVAR_INIT))

    @property
    def layer_sizes(self) -> list[int]:
        """``[in_dim, hidden, ..., hidden, 2 * out_dim]``."""
        return [self.in_dim] + [self.hidden] * self.depth + [2 * self.out_dim]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and bounded log-variance of the targets.

        Args:
            x: normalised inputs ``(E x B x in_dim)``.
        Returns:
            ``(mean, logvar)``, each ``(E x B x out_dim)``.
        """
        if x.ndim != 3 or x.shape[0] != self.ensemble_size or x.shape[2] != self.in_dim:
            raise ValueError(
                f"expected input of shape ({self.ensemble_size}, B, {self.in_dim}), "
                f"got {tuple(x.shape)}"
            )
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=False)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = swish(h)
        mean, raw = h[..., : self.out_dim], h[..., self.out_dim :]
        return mean, bound_logvar(raw, self.max_logvar, self.min_logvar)

    def weight_l2(self) -> torch.Tensor:
        """``0.5 * sum of squared weights`` over all layers (biases excluded), as PETS's decay."""
        return 0.5 * sum((w * w).sum() for w in self.weights)

    def logvar_bound_penalty(self) -> torch.Tensor:
        """``0.01 * (sum max_logvar - sum min_logvar)``: keeps the learned bounds tight."""
        return LOGVAR_BOUND_PENALTY * (self.max_logvar.sum() - self.min_logvar.sum())


def gaussian_nll_terms(
    mean: torch.Tensor, logvar: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """PETS training loss: per member ``mean((mu - y)^2 exp(-logvar) + logvar)``, summed over E.

    Args:
        mean, logvar: ``(E x B x O)``; target: ``(E x B x O)`` or ``(B x O)``.
    Returns:
        A scalar tensor.
    """
    sq = (mean - target) ** 2 * torch.exp(-logvar) + logvar
    return sq.mean(dim=(1, 2)).sum()
