"""Tests on groups of runs: seed noise, Welch's t-test, one run against seed noise."""

from __future__ import annotations

import math
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


@dataclass(frozen=True, slots=True)
class SingletonResult:
    """One run of A vs one run of B, judged against seed-to-seed noise sigma."""

    z: float
    """delta / (sqrt(2) * sigma)."""
    p_value: float
    """Two-sided normal tail of z."""
    sigma_delta: float
    """sqrt(2) * sigma: the spread of a difference of two single runs."""



def welch_test(values_a: ArrayLike, values_b: ArrayLike) -> WelchResult:
    """Welch's t-test of mean(B) - mean(A) (``scipy.stats.ttest_ind(equal_var=False)``); needs 2+ values a side."""
    a = np.asarray(values_a, dtype=np.float64).ravel()
    b = np.asarray(values_b, dtype=np.float64).ravel()
    if a.size < 2 or b.size < 2:
        raise ValueError(f"Welch's test needs at least 2 values per group (got {a.size} and {b.size})")
    mean_a, mean_b = float(a.mean()), float(b.mean())
    delta = mean_b - mean_a
    if a.var() == 0 and b.var() == 0:  # scipy would return nan; the answer is plain
        z, p = _z_test(delta, 0.0)
        return WelchResult(mean_a, mean_b, delta, z, float(a.size + b.size - 2), p)
    res = _scipy_stats().ttest_ind(b, a, equal_var=False)
    return WelchResult(mean_a, mean_b, delta, float(res.statistic), float(res.df), float(res.pvalue))


def seed_noise(values: ArrayLike) -> float:
    """Seed-to-seed noise of a metric: sample standard deviation (ddof=1) of replicate runs; nan below 2."""
    v = np.asarray(values, dtype=np.float64).ravel()
    return float(v.std(ddof=1)) if v.size >= 2 else math.nan


def singleton_check(delta: float, sigma: float) -> SingletonResult:
    """One run vs one run: z = delta / (sqrt(2) * sigma) with a two-sided normal p-value.

    A difference of two independent runs, each with seed noise sigma, has standard deviation
    sqrt(2) * sigma; the normal approximation assumes sigma is known (it was estimated from
    replicates, so with few of them the p-value is optimistic).
    """
    if not sigma >= 0:
        raise ValueError("sigma must be a non-negative number")
    spread = math.sqrt(2.0) * sigma
    z, p = _z_test(float(delta), spread)
    return SingletonResult(z, p, spread)

