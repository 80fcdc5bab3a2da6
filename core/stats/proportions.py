"""Two independent proportions (A/B conversion rates): lift intervals, the z-test and the sample ratio check.

Plain counts in (conversions and units per arm), so these serve any two-arm comparison and can be
tested alone. Every lift is **treatment minus control** (or over control); the arguments come in
the order control, then treatment (statsmodels' own order is the other way round).

Which interval answers which question, and why:

* :func:`pooled_z_test` - the two-proportion z-test with the pooled standard error: the test A/B
  analysis plans name, and the score test of "the ratio is 1".
* :func:`ratio_score_interval` - the relative lift's interval: every ratio ``p_t / p_c`` that the
  same score test does not reject (Koopman's interval). It excludes ratio 1 exactly when the
  z-test's p-value is below ``1 - level``, so the interval and the p-value never disagree, and it
  never goes below ratio 0 (a relative lift of -100%).
* :func:`newcombe_interval` - the absolute lift's interval (Newcombe's hybrid score interval from
  the arms' Wilson intervals): good coverage with small counts, never outside [-1, 1]. It inverts
  no test, so on a few borderline tables it can disagree with the z-test.
* :func:`wald_difference_interval` and :func:`delta_relative_interval` - the textbook normal
  intervals, kept to recognise saved results computed with them: too narrow with small counts,
  and the delta-method interval can go below -100%.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ._common import _scipy_stats

SMALL_COUNT = 10
"""An arm with fewer conversions, or fewer non-conversions, than this has small counts: the normal
approximation behind the z-test (the usual n*p >= 10 and n*(1-p) >= 10 rule) is rough there."""
_LOG_RATIO_LIMIT = 50.0
"""The interval search stops at ratios of e^-50 and e^50: a bound beyond is 0 or infinity."""


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

    Computed as statsmodels' score test of ratio 1 without the small-sample variance correction
    (``score_test_proportions_2indep(compare="ratio", value=1, correction=False)``), which is this
    z-test exactly, so it is the very test :func:`ratio_score_interval` inverts. Both rates 0 or
    both 1 leave no difference to test: z = 0, p = 1.
    """
    _check(x_c, n_c, x_t, n_t)
    if (x_c == 0 and x_t == 0) or (x_c == n_c and x_t == n_t):
        return 0.0, 1.0
    z = _ratio_score(x_c, n_c, x_t, n_t, 1.0)
    return z, float(2 * _scipy_stats().norm.sf(abs(z)))


def _ratio_score(x_c: int, n_c: int, x_t: int, n_t: int, ratio: float) -> float:
    """The score statistic of "p_t / p_c = ratio" (Miettinen-Nurminen form, no variance correction)."""
    # statsmodels takes about a second to import: only when used
    import numpy as np
    from statsmodels.stats.proportion import score_test_proportions_2indep

    with np.errstate(all="ignore"):
        stat, _ = score_test_proportions_2indep(
            x_t, n_t, x_c, n_c, value=ratio, compare="ratio", correction=False, return_results=False
        )
    return float(stat)


def ratio_score_interval(x_c: int, n_c: int, x_t: int, n_t: int, level: float = 0.95) -> tuple[float, float]:
    """Score interval of the ratio ``p_t / p_c`` (Koopman): the ratios the score test does not reject at ``1 - level``.

    The ends are where the score statistic crosses the normal quantile, found numerically
    (scipy's ``brentq`` on the log ratio), so the interval excludes 1 exactly when
    :func:`pooled_z_test` gives p < 1 - level. statsmodels' closed form of this interval
    (``confint_proportions_2indep(method="score", compare="ratio")``) is not used: on boundary
    tables it picks the wrong roots (1/1 against 0/1 gives ratios 2 to infinity although p = 0.16).
    The low end is never below 0 - it is 0 when the treatment has no conversions; the high end is
    infinite when the control has none; no conversions in either arm give (0, infinity).
    """
    _check(x_c, n_c, x_t, n_t)
    if x_c == 0 and x_t == 0:
        return 0.0, math.inf
    crit = _z(level)
    estimate = math.log((x_t / n_t) / (x_c / n_c)) if x_c and x_t else None

    def score(log_ratio: float) -> float:
        """The statistic at exp(log_ratio); 0 at the estimate itself (where both rates 1 would give 0/0)."""
        return 0.0 if log_ratio == estimate else _ratio_score(x_c, n_c, x_t, n_t, math.exp(log_ratio))

    start = estimate if estimate is not None else 0.0
    low = 0.0 if x_t == 0 else math.exp(_crossing(score, start, crit))
    high = math.inf if x_c == 0 else math.exp(_crossing(score, start, -crit))
    return low, high


def _crossing(f: Callable[[float], float], start: float, target: float) -> float:
    """Where the decreasing ``f`` crosses ``target``, searching outwards from ``start``; +-inf past the limit."""
    from scipy.optimize import brentq

    step = 1.0
    if f(start) > target:  # the crossing is to the right
        a, b = start, start + step
        while f(b) > target:
            if b > _LOG_RATIO_LIMIT:
                return math.inf
            a, step = b, 2 * step
            b = a + step
    else:
        a, b = start - step, start
        while f(a) <= target:
            if a < -_LOG_RATIO_LIMIT:
                return -math.inf
            b, step = a, 2 * step
            a = b - step
    return float(brentq(lambda x: f(x) - target, a, b, xtol=1e-12))


def newcombe_interval(x_c: int, n_c: int, x_t: int, n_t: int, level: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval of ``p_t - p_c`` (statsmodels' ``method="newcomb"``); within [-1, 1], zeros allowed."""
    _check(x_c, n_c, x_t, n_t)
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="newcomb", compare="diff", alpha=1 - level)
    return float(low), float(high)


def small_counts(conversions: int, units: int, minimum: int = SMALL_COUNT) -> bool:
    """True when an arm has fewer than ``minimum`` conversions or non-conversions (see :data:`SMALL_COUNT`)."""
    return min(conversions, units - conversions) < minimum


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
