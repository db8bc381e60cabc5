"""The HPO objective: the mean return of the k most recent trials (Sec. 5.1, k = 3)."""

from __future__ import annotations

import math
from collections.abc import Sequence

DEFAULT_LAST_K = 3


def objective(returns: Sequence[float], k: int = DEFAULT_LAST_K) -> float:
    """Mean of the last ``k`` returns (fewer if fewer exist), as a plain float.

    A non-finite return among them (a diverged or failed trial) or an empty history gives
    ``-inf``: such a member ranks below every member with a finite score.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected an int >= 1, got {k!r}")
    tail = [float(r) for r in list(returns)[-k:]]
    if not tail or not all(math.isfinite(r) for r in tail):
        return -math.inf
    return math.fsum(tail) / len(tail)
