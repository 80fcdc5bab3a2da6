"""Two independent proportions (A/B conversion rates): lift intervals, the z-test and the sample ratio check.

Plain counts in (conversions and units per arm), so these serve any two-arm comparison and can be
tested alone. Every lift is **treatment minus control** (or over control); the arguments come in
the order control, then treatment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ._common import _scipy_stats


def _check(x_c: int, n_c: int, x_t: int, n_t: int) -> None:
    """ValueError unless both arms have units and conversions between 0 and their units."""
    if n_c <= 0 or n_t <= 0:
        raise ValueError("each arm needs at least one unit")
    if not (0 <= x_c <= n_c and 0 <= x_t <= n_t):
        raise ValueError("conversions must be between 0 and the arm's units (count units, not events)")


def _z(level: float) -> float:
    """The two-sided normal quantile of a ``level`` confidence interval (1.96 for 95%)."""
    return float(_scipy_stats().norm.ppf(0.5 + level / 2))


def wald_difference_interval(x_c: int, n_c: int, x_t: int, n_t: int, level: float = 0.95) -> tuple[float, float]:
    """Wald interval of ``p_t - p_c`` with the unpooled standard error (too narrow with small counts)."""
    _check(x_c, n_c, x_t, n_t)
    p_c, p_t = x_c / n_c, x_t / n_t
    se = math.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    z, diff = _z(level), p_t - p_c
    return diff - z * se, diff + z * se


def delta_relative_interval(x_c: int, n_c: int, x_t: int, n_t: int, level: float = 0.95) -> tuple[float, float] | None:
    """Delta-method interval of ``p_t / p_c - 1`` (symmetric: can go below -100%); None when ``p_c`` is 0."""
    _check(x_c, n_c, x_t, n_t)
    p_c, p_t = x_c / n_c, x_t / n_t
    if p_c == 0:
        return None
    var_c, var_t = p_c * (1 - p_c) / n_c, p_t * (1 - p_t) / n_t
    rel = (p_t - p_c) / p_c
    se = math.sqrt(var_t / p_c**2 + p_t**2 * var_c / p_c**4)
    z = _z(level)
    return rel - z * se, rel + z * se


def pooled_z_test(x_c: int, n_c: int, x_t: int, n_t: int) -> tuple[float, float]:
    """(z, two-sided p) of the two-proportion z-test with the pooled standard error.

    Both rates 0 or both 1 leave no difference to test: z = 0, p = 1.
    """
    _check(x_c, n_c, x_t, n_t)
    p_c, p_t = x_c / n_c, x_t / n_t
    pooled = (x_c + x_t) / (n_c + n_t)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    if se <= 0:
        return 0.0, 1.0
    z = (p_t - p_c) / se
    return z, float(2 * _scipy_stats().norm.sf(abs(z)))


def sample_ratio_test(observed: Sequence[int], shares: Sequence[float]) -> tuple[float, float]:
    """(chi-square, p) of units per arm against the planned split (shares need not sum to 1)."""
    if len(observed) != len(shares) or len(observed) < 2:
        raise ValueError("need at least two arms, each with a planned share")
    total, weight = sum(observed), sum(shares)
    if total <= 0 or weight <= 0 or any(s <= 0 for s in shares):
        raise ValueError("need units and positive planned shares")
    expected = [total * s / weight for s in shares]
    res = _scipy_stats().chisquare(list(observed), expected)
    return float(res.statistic), float(res.pvalue)
