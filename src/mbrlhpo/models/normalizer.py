"""Input standardisation refit on all data before each training."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

STD_EPSILON = 1e-12


class Normalizer(nn.Module):
    """``(x - mean) / std`` per input dimension; std below ``1e-12`` becomes 1.

    ``mean`` and ``std`` are float32 buffers of shape ``(1 x D)`` (state_dict friendly; the
    native planner reads them in place). Statistics are computed in float64.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"expected a positive int dim, got {dim!r}")
        self.dim = dim
        self.register_buffer("mean", torch.zeros(1, dim))
        self.register_buffer("std", torch.ones(1, dim))

    def fit(self, x: np.ndarray | torch.Tensor) -> None:
        """Refit on all data ``x`` of shape ``(B x D)``, B >= 1; updates the buffers in place.

        Computed on the buffers' device (a GPU model's data does not come back to the host)."""
        x64 = torch.as_tensor(x).detach().to(dtype=torch.float64, device=self.mean.device)
        if x64.ndim != 2 or x64.shape[1] != self.dim or x64.shape[0] < 1:
            raise ValueError(f"expected data of shape (B >= 1, {self.dim}), got {tuple(x64.shape)}")
        if not torch.isfinite(x64).all():
            raise ValueError("normaliser data contains NaN or inf")
        mean = x64.mean(dim=0, keepdim=True)
        std = x64.std(dim=0, keepdim=True, unbiased=False)
        std = torch.where(std < STD_EPSILON, torch.ones_like(std), std)
        with torch.no_grad():
            self.mean.copy_(mean.to(self.mean))
            self.std.copy_(std.to(self.std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``(... x D)``."""
        return (x - self.mean) / self.std
