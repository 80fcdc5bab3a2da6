"""Tests and comparisons of two runs on the same examples: DeLong, McNemar, divergence step, flips."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._common import _counts, _labels, _scipy_stats, _scores, _z_test

EXACT_MCNEMAR_BELOW = 25
"""McNemar uses the exact binomial test when fewer discordant pairs than this, else chi-square."""

MAX_EXAMPLES = 10
"""Example ids kept per category in :class:`FlipsResult`."""


@dataclass(frozen=True, slots=True)
class DeLongResult:
    """DeLong's test of two correlated ROC AUCs measured on the same examples."""

    auc_a: float
    auc_b: float
    delta: float
    """auc_b - auc_a."""
    se: float
    """Standard error of the delta."""
    z: float
    p_value: float
    """Two-sided, from the normal approximation."""
    ci_low: float
    ci_high: float
    """95% normal confidence interval of the delta."""
    n_pos: int
    n_neg: int



@dataclass(frozen=True, slots=True)
class McNemarResult:
    """McNemar's test on the examples whose correctness differs between two runs."""

    b01: int
    """Wrong in A, right in B (fixed)."""
    b10: int
    """Right in A, wrong in B (broken)."""
    statistic: float
    """min(b01, b10) for the exact test; the continuity-corrected chi-square otherwise."""
    p_value: float
    exact: bool



@dataclass(frozen=True, slots=True)
class FlipsResult:
    """How per-example decisions changed from run A to run B at one threshold."""

    positive_to_negative: int
    negative_to_positive: int
    fixed: int
    """Wrong in A, right in B."""
    broken: int
    """Right in A, wrong in B."""
    mean_score_shift_of_flipped: float
    """Mean of score_b - score_a over the examples whose decision flipped; nan when none did."""
    examples: Mapping[str, tuple[str, ...]]
    """Up to 10 ids per category (fixed, broken, positive_to_negative, negative_to_positive),
    those with the largest score shift first."""
    n: int
    threshold: float



# -- DeLong -------------------------------------------------------------------------------------------


def delong_test(labels: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike) -> DeLongResult:
    """DeLong (1988) test of auc_b - auc_a on the same examples, by Sun & Xu's (2014) midrank algorithm."""
    y = _labels(labels)
    sa = _scores(scores_a, y.size, "scores_a")
    sb = _scores(scores_b, y.size, "scores_b")
    m, n = _counts(y)
    if m < 2 or n < 2:
        raise ValueError(f"DeLong's test needs at least 2 positives and 2 negatives (got {m} and {n})")
    if not (np.isfinite(sa).all() and np.isfinite(sb).all()):
        raise ValueError("scores must be finite")
    z_all = np.vstack([np.concatenate([sa[y], sa[~y]]), np.concatenate([sb[y], sb[~y]])])
    x, v = z_all[:, :m], z_all[:, m:]
    rankdata = _scipy_stats().rankdata
    tx = rankdata(x, axis=1)
    ty = rankdata(v, axis=1)
    tz = rankdata(z_all, axis=1)
    aucs = (tz[:, :m].sum(axis=1) / m - (m + 1) / 2.0) / n
    v10 = (tz[:, :m] - tx) / n  # structural components of the positives
    v01 = 1.0 - (tz[:, m:] - ty) / m  # ... and of the negatives
    cov = np.cov(v10) / m + np.cov(v01) / n
    var = float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1])
    se = math.sqrt(max(var, 0.0))
    delta = float(aucs[1] - aucs[0])
    z, p = _z_test(delta, se)
    half = _scipy_stats().norm.ppf(0.975) * se
    return DeLongResult(float(aucs[0]), float(aucs[1]), delta, se, z, p, float(delta - half), float(delta + half), m, n)



def mcnemar_test(labels: ArrayLike, pred_a: ArrayLike, pred_b: ArrayLike) -> McNemarResult:
    """McNemar's test on correctness flips: exact binomial below 25 discordant pairs, else chi-square with continuity correction.

    Works for any classes: an example is correct when its prediction equals its label.
    """
    y = np.asarray(labels)
    a = np.asarray(pred_a)
    b = np.asarray(pred_b)
    if not (y.ndim == a.ndim == b.ndim == 1 and y.shape == a.shape == b.shape):
        raise ValueError("labels, pred_a and pred_b must be one-dimensional and of equal length")
    right_a, right_b = a == y, b == y
    b01 = int(np.count_nonzero(~right_a & right_b))
    b10 = int(np.count_nonzero(right_a & ~right_b))
    n = b01 + b10
    if n == 0:
        return McNemarResult(0, 0, 0.0, 1.0, True)
    if n < EXACT_MCNEMAR_BELOW:
        p = _scipy_stats().binomtest(b01, n, 0.5, alternative="two-sided").pvalue
        return McNemarResult(b01, b10, float(min(b01, b10)), float(min(1.0, p)), True)
    stat = (abs(b01 - b10) - 1.0) ** 2 / n
    return McNemarResult(b01, b10, float(stat), float(_scipy_stats().chi2.sf(stat, 1)), False)



# -- comparing two runs' curves and decisions ----------------------------------------------------------------


def divergence_step(
    series_a: Sequence[tuple[float, float]], series_b: Sequence[tuple[float, float]], band: float
) -> float | None:
    """First shared step from which the two curves stay more than ``band`` apart to the last shared step.

    Compared only at steps both series have (a repeated step keeps its last value). None when they
    share no step or are within the band at the last shared step. A nan value counts as not apart.
    """
    if band < 0:
        raise ValueError("band must be non-negative")
    a = {float(s): float(v) for s, v in series_a}
    b = {float(s): float(v) for s, v in series_b}
    steps = np.array(sorted(a.keys() & b.keys()), dtype=np.float64)
    if steps.size == 0:
        return None
    gap = np.abs(np.array([a[s] for s in steps]) - np.array([b[s] for s in steps]))
    apart = gap > band  # nan compares False
    if not apart[-1]:
        return None
    close = np.flatnonzero(~apart)
    first = 0 if close.size == 0 else int(close[-1]) + 1
    return float(steps[first])


def flips(
    ids: Sequence[str] | NDArray[Any],
    labels: ArrayLike,
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    threshold: float,
) -> FlipsResult:
    """Per-example decision changes at ``threshold`` between run A and run B, with example ids."""
    y = _labels(labels)
    sa = _scores(scores_a, y.size, "scores_a")
    sb = _scores(scores_b, y.size, "scores_b")
    id_arr = np.asarray(ids)
    if id_arr.shape != (y.size,):
        raise ValueError("ids must have one entry per label")
    pa, pb = sa >= threshold, sb >= threshold
    right_a, right_b = pa == y, pb == y
    shift = sb - sa
    masks = {
        "fixed": ~right_a & right_b,
        "broken": right_a & ~right_b,
        "positive_to_negative": pa & ~pb,
        "negative_to_positive": ~pa & pb,
    }
    examples: dict[str, tuple[str, ...]] = {}
    for key, mask in masks.items():
        where = np.flatnonzero(mask)
        top = where[np.argsort(-np.abs(shift[where]), kind="stable")[:MAX_EXAMPLES]]
        examples[key] = tuple(str(i) for i in id_arr[top])
    flipped = pa != pb
    mean_shift = float(shift[flipped].mean()) if flipped.any() else math.nan
    return FlipsResult(
        positive_to_negative=int(np.count_nonzero(masks["positive_to_negative"])),
        negative_to_positive=int(np.count_nonzero(masks["negative_to_positive"])),
        fixed=int(np.count_nonzero(masks["fixed"])),
        broken=int(np.count_nonzero(masks["broken"])),
        mean_score_shift_of_flipped=mean_shift,
        examples=examples,
        n=int(y.size),
        threshold=float(threshold),
    )
