"""Tests on groups of runs: seed noise, Welch's t-test, one run against replicates of the other setup.

A variance estimated from k replicates has k - 1 degrees of freedom, so every test here uses
Student's t, never the normal tail: with three replicates the normal rule calls pure noise real
about three times too often. A known evaluation-sample variance (from DeLong's test or the paired
bootstrap) can be added to the seed variance; the degrees of freedom stay those of the estimated
parts (Welch-Satterthwaite between the two groups of a Welch test), so adding noise never makes a
verdict more confident.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._common import _scipy_stats, _z_test


@dataclass(frozen=True, slots=True)
class WelchResult:
    """Welch's unequal-variance t-test between two groups of runs (e.g. seeds of A vs seeds of B)."""

    mean_a: float
    mean_b: float
    delta: float
    """mean_b - mean_a."""
    t: float
    df: float
    p_value: float
    se: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    """95% interval of the delta, from the same t distribution as the p-value."""


@dataclass(frozen=True, slots=True)
class TResult:
    """A difference judged against its standard error with Student's t (df may be inf: normal)."""

    delta: float
    se: float
    t: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float


def seed_noise(values: ArrayLike) -> float:
    """Seed-to-seed noise of a metric: sample standard deviation (ddof=1) of replicate runs; nan below 2."""
    v = np.asarray(values, dtype=np.float64).ravel()
    return float(v.std(ddof=1)) if v.size >= 2 else math.nan


def decimals(value: float) -> int:
    """Digits after the decimal point in the shortest text of ``value`` (0.925 → 3, 1e-05 → 5, 3.0 → 0)."""
    if not math.isfinite(value):
        return 0
    text = repr(float(value)).lower()
    mantissa, _, exponent = text.partition("e")
    places = len(mantissa.partition(".")[2].rstrip("0"))
    return max(0, places - int(exponent or 0))


def precision_floor(values: Sequence[float]) -> float:
    """The smallest seed σ the recorded values can show: rounding to d decimals leaves σ = 10^-d / √12.

    Replicates whose recorded values are all equal (rounded or deterministic metrics) would
    otherwise have σ = 0 and turn any difference into p = 0.
    """
    places = max((decimals(v) for v in values), default=0)
    return 10.0 ** -places / math.sqrt(12.0)


def t_test(delta: float, parts: Sequence[tuple[float, float]]) -> TResult:
    """Student's t of ``delta`` against a sum of independent variance parts, each ``(variance, df)``.

    A part with ``df = inf`` is known exactly (evaluation-sample variance). Degrees of freedom by
    Welch-Satterthwaite over the estimated parts alone: a known part adds variance but no degrees
    of freedom, which keeps the test conservative. Raises ValueError when the total variance is not
    positive (nothing to judge against).
    """
    var = math.fsum(v for v, _ in parts)
    if not var > 0 or not math.isfinite(var):
        raise ValueError("the variance of the difference is zero or undefined")
    estimated = [(v, d) for v, d in parts if math.isfinite(d) and v > 0]
    est_var = math.fsum(v for v, _ in estimated)
    denom = math.fsum(v * v / d for v, d in estimated)
    df = est_var * est_var / denom if denom > 0 else math.inf
    se = math.sqrt(var)
    t = float(delta) / se
    dist = _scipy_stats().t(df) if math.isfinite(df) else _scipy_stats().norm()
    p = float(min(1.0, 2.0 * dist.sf(abs(t))))
    half = float(dist.ppf(0.975)) * se
    return TResult(float(delta), se, t, float(df), max(p, np.finfo(float).tiny), float(delta) - half, float(delta) + half)


def welch_test(values_a: ArrayLike, values_b: ArrayLike, *, floor: float = 0.0, extra_var: float = 0.0) -> WelchResult:
    """Welch's t-test of mean(B) - mean(A); needs 2+ values a side.

    With ``floor`` each group's σ is at least that much (see :func:`precision_floor`); with
    ``extra_var`` a known variance (evaluation-sample noise) is added to the difference's. Without
    either it equals ``scipy.stats.ttest_ind(equal_var=False)``.
    """
    a = np.asarray(values_a, dtype=np.float64).ravel()
    b = np.asarray(values_b, dtype=np.float64).ravel()
    if a.size < 2 or b.size < 2:
        raise ValueError(f"Welch's test needs at least 2 values per group (got {a.size} and {b.size})")
    mean_a, mean_b = float(a.mean()), float(b.mean())
    delta = mean_b - mean_a
    var_a = max(float(a.var(ddof=1)), floor * floor) / a.size
    var_b = max(float(b.var(ddof=1)), floor * floor) / b.size
    if var_a == 0 and var_b == 0 and extra_var == 0:  # no floor given: the answer is plain
        z, p = _z_test(delta, 0.0)
        return WelchResult(mean_a, mean_b, delta, z, float(a.size + b.size - 2), p, 0.0, delta, delta)
    r = t_test(delta, [(var_a, a.size - 1), (var_b, b.size - 1), (extra_var, math.inf)])
    return WelchResult(mean_a, mean_b, delta, r.t, r.df, r.p_value, r.se, r.ci_low, r.ci_high)


def prediction_interval_test(single: float, values: ArrayLike, *, floor: float = 0.0, extra_var: float = 0.0) -> TResult:
    """One run against k replicates of the other setup: t = (single - mean) / (s·√(1 + 1/k)), df = k - 1.

    The prediction interval of one new run of the replicates' setup; ``single`` outside it is a
    change beyond seed noise. ``floor`` and ``extra_var`` as in :func:`welch_test`.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    k = v.size
    if k < 2:
        raise ValueError(f"a prediction interval needs at least 2 replicates (got {k})")
    s2 = max(float(v.var(ddof=1)), floor * floor)
    return t_test(float(single) - float(v.mean()), [(s2 * (1.0 + 1.0 / k), k - 1), (extra_var, math.inf)])
