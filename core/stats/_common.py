"""Input checks and small helpers shared by the statistics modules."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from types import ModuleType


def _scipy_stats() -> ModuleType:
    """scipy.stats, imported on first use: it takes about a second to import, numpy a tenth of that."""
    from scipy import stats

    module: ModuleType = stats  # scipy has no type information
    return module


def _labels(labels: ArrayLike) -> NDArray[np.bool_]:
    """0/1 or boolean labels as a bool array; ValueError for anything else."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError("labels must be one-dimensional")
    if y.dtype == np.bool_:
        return y
    if y.size and not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0/1 (binary); map classes to 0/1 first")
    return y.astype(bool)


def _scores(scores: ArrayLike, n: int, what: str = "scores") -> NDArray[np.float64]:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.shape[0] != n:
        raise ValueError(f"{what} must be one-dimensional with one value per label ({n}), got shape {s.shape}")
    return s


def _counts(y: NDArray[np.bool_]) -> tuple[int, int]:
    n_pos = int(np.count_nonzero(y))
    return n_pos, int(y.size - n_pos)


def _z_test(delta: float, se: float) -> tuple[float, float]:
    """z and two-sided normal p-value; a zero se gives z = 0 (p = 1) or +-inf (p = 0)."""
    if se > 0 and math.isfinite(se):
        z = delta / se
    elif delta == 0 or math.isnan(delta):
        return 0.0, 1.0
    else:
        z = math.copysign(math.inf, delta)
    return float(z), float(min(1.0, 2.0 * _scipy_stats().norm.sf(abs(z))))

