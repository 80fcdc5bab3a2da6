"""The statistics behind "is this change real or noise?": metrics on predictions and tests of a change.

Conventions used throughout:

* ``labels`` are 0/1 (or booleans); ``scores`` are floats, higher meaning "more positive".
* A score is predicted positive when ``score >= threshold``.
* Every delta is **B minus A** (run B is the newer / candidate run).
* Metrics that are undefined for the data (AUC with one class, AP without positives) are ``nan``;
  precision, recall and F1 with a zero denominator are 0.0 (scikit-learn's ``zero_division=0``).
* Tests raise ``ValueError`` for malformed input (lengths differ, labels not 0/1, too few examples).

What comes from SciPy: midranks (``scipy.stats.rankdata``), the binomial test, Welch's t-test and
the normal and chi-square tails. Written here because no maintained library offers them in this
form: DeLong's test for two correlated AUCs (Sun & Xu 2014 fast midrank algorithm), the paired
bootstrap of a metric difference, and the run-comparison helpers (divergence step, flips).
"""

from __future__ import annotations

import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from types import ModuleType

Metric = Callable[[NDArray[Any], NDArray[Any]], float]
"""A metric over (labels, scores) -> float, e.g. :func:`roc_auc` or ``partial(f1_at, threshold=0.4)``."""

DEFAULT_THRESHOLD = 0.5
"""Threshold used by :func:`compute_metric` when the run did not record one."""

EXACT_MCNEMAR_BELOW = 25
"""McNemar uses the exact binomial test when fewer discordant pairs than this, else chi-square."""

MAX_EXAMPLES = 10
"""Example ids kept per category in :class:`FlipsResult`."""


def _scipy_stats() -> ModuleType:
    """scipy.stats, imported on first use: it takes about a second to import, numpy a tenth of that."""
    from scipy import stats

    return stats


# -- result records -------------------------------------------------------------------------------


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
class BootstrapResult:
    """Paired bootstrap of a metric difference between two runs on the same examples."""

    delta: float
    """metric(B) - metric(A) on the full data."""
    ci_low: float
    ci_high: float
    """Percentile interval of the bootstrap deltas at level ``ci``."""
    p_value: float
    """Two-sided: 2 x share of bootstrap deltas on the other side of 0 (0 included), capped at 1."""
    n_resamples: int
    """Resamples used: those where the metric was defined for both runs."""
    metric_a: float
    metric_b: float
    se: float
    """Standard deviation of the bootstrap deltas."""
    ci: float
    n_failed: int
    """Resamples dropped because the metric was undefined (e.g. AUC of a resample with one class)."""
    resampling: str
    seed: int


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


# -- input checks ---------------------------------------------------------------------------------


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


# -- metrics ----------------------------------------------------------------------------------------


def roc_auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """ROC AUC from midranks (Mann-Whitney U; tied scores count one half); nan with one class."""
    y = _labels(labels)
    s = _scores(scores, y.size)
    n_pos, n_neg = _counts(y)
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = _scipy_stats().rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def average_precision(labels: ArrayLike, scores: ArrayLike) -> float:
    """Average precision, sum over distinct thresholds of (R_k - R_k-1) * P_k (as scikit-learn); nan without positives."""
    y = _labels(labels)
    s = _scores(scores, y.size)
    n_pos, _ = _counts(y)
    if n_pos == 0:
        return math.nan
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    # last index of each run of equal scores: a threshold sits there
    ends = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    tp = np.cumsum(y_sorted)[ends]
    fp = ends + 1 - tp
    precision = tp / (tp + fp)
    recall_step = np.diff(tp, prepend=0) / n_pos
    return float(np.sum(recall_step * precision))


def confusion_at(labels: ArrayLike, scores: ArrayLike, threshold: float) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) with ``score >= threshold`` predicted positive."""
    y = _labels(labels)
    pred = _scores(scores, y.size) >= threshold
    tp = int(np.count_nonzero(pred & y))
    fp = int(np.count_nonzero(pred & ~y))
    fn = int(np.count_nonzero(~pred & y))
    return tp, fp, fn, y.size - tp - fp - fn


def _ratio(num: float, den: float, empty: float = 0.0) -> float:
    return float(num / den) if den else empty


def precision_at(labels: ArrayLike, scores: ArrayLike, threshold: float) -> float:
    """Precision at a threshold; 0.0 when nothing is predicted positive."""
    tp, fp, _, _ = confusion_at(labels, scores, threshold)
    return _ratio(tp, tp + fp)


def recall_at(labels: ArrayLike, scores: ArrayLike, threshold: float) -> float:
    """Recall (true positive rate) at a threshold; 0.0 without positives."""
    tp, _, fn, _ = confusion_at(labels, scores, threshold)
    return _ratio(tp, tp + fn)


def f1_at(labels: ArrayLike, scores: ArrayLike, threshold: float) -> float:
    """F1 at a threshold, 2TP / (2TP + FP + FN); 0.0 when that is 0/0."""
    tp, fp, fn, _ = confusion_at(labels, scores, threshold)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def accuracy_at(labels: ArrayLike, scores: ArrayLike, threshold: float) -> float:
    """Accuracy at a threshold; nan for no examples."""
    tp, fp, fn, tn = confusion_at(labels, scores, threshold)
    return _ratio(tp + tn, tp + fp + fn + tn, math.nan)


_SPLIT_PREFIX = re.compile(r"^(?:val|valid|validation|test|eval|dev|holdout)[_/.]")
_METRIC_NAMES: dict[str, str] = {
    **dict.fromkeys(("auc", "roc_auc", "rocauc", "auroc", "auc_roc"), "auc"),
    **dict.fromkeys(("pr_auc", "prauc", "auprc", "aupr", "average_precision", "avg_precision", "ap"), "ap"),
    **dict.fromkeys(("f1", "f1_score", "f_1", "f1score"), "f1"),
    **dict.fromkeys(("precision", "prec"), "precision"),
    **dict.fromkeys(("recall", "tpr", "sensitivity"), "recall"),
    **dict.fromkeys(("accuracy", "acc"), "accuracy"),
}
_THRESHOLD_METRICS: dict[str, Callable[..., float]] = {
    "f1": f1_at,
    "precision": precision_at,
    "recall": recall_at,
    "accuracy": accuracy_at,
}
METRIC_NAMES: tuple[str, ...] = tuple(_METRIC_NAMES)
"""Metric names :func:`compute_metric` knows (case-insensitive, after a ``val_``/``test_``/... prefix)."""


def canonical_metric(name: str) -> str | None:
    """"auc", "ap", "f1", "precision", "recall" or "accuracy" for a metric name, else None."""
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    key = _SPLIT_PREFIX.sub("", key)
    return _METRIC_NAMES.get(key)


def metric_for(name: str, threshold: float | None = None) -> Metric | None:
    """The (labels, scores) -> float function for a metric name, or None when unknown.

    Threshold metrics come back as ``functools.partial(f1_at, threshold=...)``, which
    :func:`paired_bootstrap` recognises for its fast path. ``threshold=None`` means 0.5.
    """
    canon = canonical_metric(name)
    if canon is None:
        return None
    if canon == "auc":
        return roc_auc
    if canon == "ap":
        return average_precision
    t = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    return partial(_THRESHOLD_METRICS[canon], threshold=t)


def compute_metric(name: str, labels: ArrayLike, scores: ArrayLike, threshold: float | None = None) -> float | None:
    """The named metric (``val_auc``, ``pr_auc``, ``f1`` ...) on predictions; None for an unknown name."""
    fn = metric_for(name, threshold)
    return None if fn is None else fn(labels, scores)


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


def _z_test(delta: float, se: float) -> tuple[float, float]:
    """z and two-sided normal p-value; a zero se gives z = 0 (p = 1) or +-inf (p = 0)."""
    if se > 0 and math.isfinite(se):
        z = delta / se
    elif delta == 0 or math.isnan(delta):
        return 0.0, 1.0
    else:
        z = math.copysign(math.inf, delta)
    return float(z), float(min(1.0, 2.0 * _scipy_stats().norm.sf(abs(z))))


# -- paired bootstrap --------------------------------------------------------------------------------

Resampling = Literal["poisson", "multinomial"]

_POISSON_LEVELS = 1 << 16
_POISSON_TABLE = np.searchsorted(
    np.round(np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(16)]) * _POISSON_LEVELS),
    np.arange(_POISSON_LEVELS),
    side="right",
).astype(np.uint8)
"""Poisson(1) by inversion of 16 random bits: each count's probability is exact to 1/65536."""

_CHUNK_CELLS = 6_000_000
"""Examples x resamples handled at once: bounds memory (a few bytes to ~40 bytes a cell)."""
_MAX_CHUNK = 128


def paired_bootstrap(
    labels: ArrayLike,
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    metric: Metric,
    n_resamples: int = 10_000,
    seed: int = 0,
    ci: float = 0.95,
    *,
    resampling: Resampling = "poisson",
    workers: int | None = None,
) -> BootstrapResult:
    """Paired bootstrap of metric(B) - metric(A): each replicate resamples the examples once, for both runs.

    Resampling: ``"poisson"`` (default) gives every example an independent Poisson(1) count of
    how often it is in the replicate, so the replicate size varies around n (the Poisson
    bootstrap: Hanley & MacGibbon 2006, Chamandy et al. 2012; counts come from a 16-bit table,
    each probability within 1/65536 of Poisson's). That lets counts be drawn in bulk; at 100k
    examples it is about 3x faster than ``"multinomial"``, the classic bootstrap (n indices
    drawn with replacement). Both are asymptotically the same.

    How replicates are computed, by ``metric``:

    * threshold metrics given as ``partial(f1_at | precision_at | recall_at | accuracy_at,
      threshold=t)`` (what :func:`metric_for` returns) depend only on the counts of the 8
      (label, decision of A, decision of B) cells, which are resampled directly: exact and
      instant at any n;
    * :func:`roc_auc` and :func:`average_precision` are computed for blocks of replicates at
      once from the per-example counts (sorting done once); cost grows as n x n_resamples;
    * any other callable is called per replicate on the resampled arrays, with the same counts
      as the previous case (so the same seed gives the same replicates).

    Blocks run on ``workers`` threads (default: the CPU count); each block has its own seed,
    so results do not depend on ``workers``. Same inputs and seed, same result.

    The interval is the percentile interval at level ``ci``. The p-value is two-sided: twice the
    share of bootstrap deltas on the other side of 0 from the observed delta (0 itself counts as
    the other side; an observed delta of 0 gives 1), capped at 1. It cannot resolve p-values below
    2 / n_resamples: a p-value of 0 means "less than that". Replicates where the metric is
    undefined for either run (nan) are dropped and counted in ``n_failed``.
    """
    y = _labels(labels)
    sa = _scores(scores_a, y.size, "scores_a")
    sb = _scores(scores_b, y.size, "scores_b")
    if y.size == 0:
        raise ValueError("no examples")
    if not 0 < ci < 1:
        raise ValueError("ci must be between 0 and 1")
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    if resampling not in ("poisson", "multinomial"):
        raise ValueError("resampling must be 'poisson' or 'multinomial'")
    metric_a, metric_b = float(metric(y, sa)), float(metric(y, sb))
    delta = metric_b - metric_a

    fn = metric.func if isinstance(metric, partial) else metric
    threshold = _partial_threshold(metric)
    if fn in _THRESHOLD_FUNCS and threshold is not None:
        deltas = _cell_deltas(_THRESHOLD_FUNCS[fn], y, sa >= threshold, sb >= threshold, n_resamples, seed, resampling)
    else:
        deltas = _weight_deltas(_kernel(metric, y, sa, sb), y.size, n_resamples, seed, resampling, workers)
    ok = deltas[~np.isnan(deltas)]
    n_failed = int(deltas.size - ok.size)
    if ok.size == 0:
        return BootstrapResult(delta, math.nan, math.nan, math.nan, 0, metric_a, metric_b, math.nan, ci, n_failed, resampling, seed)
    alpha = (1.0 - ci) / 2.0
    low, high = np.quantile(ok, [alpha, 1.0 - alpha])
    if delta > 0:
        other = np.count_nonzero(ok <= 0)
    elif delta < 0:
        other = np.count_nonzero(ok >= 0)
    else:
        other = ok.size
    p = min(1.0, 2.0 * other / ok.size)
    se = float(ok.std(ddof=1)) if ok.size > 1 else math.nan
    return BootstrapResult(
        delta=delta,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p),
        n_resamples=int(ok.size),
        metric_a=metric_a,
        metric_b=metric_b,
        se=se,
        ci=ci,
        n_failed=n_failed,
        resampling=resampling,
        seed=seed,
    )


def _weight_deltas(kernel: Kernel, n: int, n_resamples: int, seed: int, resampling: Resampling, workers: int | None) -> NDArray[np.float64]:
    """Bootstrap deltas from per-example weights, in blocks of replicates spread over threads."""
    size = max(1, min(_MAX_CHUNK, _CHUNK_CELLS // n))
    sizes = [min(size, n_resamples - start) for start in range(0, n_resamples, size)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))

    def block(i: int) -> NDArray[np.float64]:
        rng = np.random.Generator(np.random.PCG64(seeds[i]))
        a, b = kernel(_draw_weights(rng, n, sizes[i], resampling))
        return b - a

    n_workers = max(1, min(workers or os.cpu_count() or 1, len(sizes)))
    if n_workers == 1:
        return np.concatenate([block(i) for i in range(len(sizes))])
    with ThreadPoolExecutor(n_workers) as pool:
        return np.concatenate(list(pool.map(block, range(len(sizes)))))


def _cell_deltas(
    which: str,
    y: NDArray[np.bool_],
    pa: NDArray[np.bool_],
    pb: NDArray[np.bool_],
    n_resamples: int,
    seed: int,
    resampling: Resampling,
) -> NDArray[np.float64]:
    """Bootstrap deltas of a threshold metric, exactly, from resampled counts of the 8 (label, A, B) cells.

    A threshold metric of both runs depends only on how many examples fall in each of the 8
    combinations of label, A's decision and B's decision, so a resample is a multinomial
    (or, for ``"poisson"``, independent Poisson) draw of those 8 counts.
    """
    counts = np.bincount(4 * y.astype(np.intp) + 2 * pa + pb, minlength=8)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    if resampling == "poisson":
        c = rng.poisson(counts, size=(n_resamples, 8)).astype(np.float64)
    else:
        c = rng.multinomial(int(counts.sum()), counts / counts.sum(), size=n_resamples).astype(np.float64)
    # cell code = 4*label + 2*pred_a + pred_b
    a = _from_counts(which, c[:, 6] + c[:, 7], c[:, 2] + c[:, 3], c[:, 4] + c[:, 5], c[:, 0] + c[:, 1])
    b = _from_counts(which, c[:, 5] + c[:, 7], c[:, 1] + c[:, 3], c[:, 4] + c[:, 6], c[:, 0] + c[:, 2])
    return b - a


def _draw_weights(rng: np.random.Generator, n: int, size: int, resampling: Resampling) -> NDArray[np.uint8]:
    """(n, size) bootstrap counts: column j says how often each example is in replicate j."""
    if resampling == "poisson":
        raw = rng.bit_generator.random_raw((n * size + 3) // 4).view(np.uint16)[: n * size]
        return np.take(_POISSON_TABLE, raw, mode="clip").reshape(n, size)
    draws = rng.integers(0, n, size=(size, n), dtype=np.int64)
    draws += (np.arange(size, dtype=np.int64) * n)[:, None]
    counts = np.bincount(draws.ravel(), minlength=n * size).reshape(size, n)
    return np.ascontiguousarray(counts.T).astype(np.uint8)  # a count over 255 has probability ~0


Kernel = Callable[[NDArray[np.uint8]], tuple[NDArray[np.float64], NDArray[np.float64]]]


def _kernel(metric: Metric, y: NDArray[np.bool_], sa: NDArray[np.float64], sb: NDArray[np.float64]) -> Kernel:
    """Function from a block of weights (examples x replicates) to the replicates' metric for A and B.

    Row i of the weights belongs to example ``canon[i]``: the positives, then the negatives, each in
    their original order.
    """
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    canon = np.concatenate([pos, neg])
    m = pos.size
    if metric is roc_auc:
        # prefix sums run over the smaller class, cheap grouping over the larger: when positives
        # outnumber negatives, use AUC(y, s) = AUC(1 - y, -s) and swap the roles
        swap = m > neg.size
        plans = [_AucPlan(-s[neg], -s[pos]) if swap else _AucPlan(s[pos], s[neg]) for s in (sa, sb)]

        def auc(w: NDArray[np.uint8]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            small, large = (w[m:], w[:m]) if swap else (w[:m], w[m:])
            large_f = large.astype(np.float32)
            return plans[0](small, large_f), plans[1](small, large_f)

        return auc
    if metric is average_precision:
        ap_plans = [_ApPlan(s[pos], s[neg]) for s in (sa, sb)]

        def ap(w: NDArray[np.uint8]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            wp, wn = w[:m], w[m:].astype(np.float32)
            return ap_plans[0](wp, wn), ap_plans[1](wp, wn)

        return ap
    ys, a_c, b_c = y[canon], sa[canon], sb[canon]
    rows = np.arange(y.size)

    def generic(w: NDArray[np.uint8]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        out_a = np.empty(w.shape[1])
        out_b = np.empty(w.shape[1])
        for j in range(w.shape[1]):
            idx = np.repeat(rows, w[:, j])
            out_a[j] = metric(ys[idx], a_c[idx])
            out_b[j] = metric(ys[idx], b_c[idx])
        return out_a, out_b

    return generic


_THRESHOLD_FUNCS: dict[Callable[..., float], str] = {
    f1_at: "f1",
    precision_at: "precision",
    recall_at: "recall",
    accuracy_at: "accuracy",
}


def _partial_threshold(metric: Any) -> float | None:
    """The threshold bound in ``partial(f1_at, threshold=t)`` (nothing else bound), else None."""
    if not isinstance(metric, partial) or metric.args:
        return None
    kw = dict(metric.keywords)
    return float(kw.pop("threshold")) if set(kw) == {"threshold"} else None


def _from_counts(which: str, tp: NDArray[Any], fp: NDArray[Any], fn: NDArray[Any], tn: NDArray[Any]) -> NDArray[np.float64]:
    """Vectorised precision/recall/f1/accuracy from weighted confusion counts (same edge cases as above)."""
    if which == "precision":
        num, den, empty = tp, tp + fp, 0.0
    elif which == "recall":
        num, den, empty = tp, tp + fn, 0.0
    elif which == "f1":
        num, den, empty = 2 * tp, 2 * tp + fp + fn, 0.0
    else:
        num, den, empty = tp + tn, tp + fp + fn + tn, math.nan
    out = np.full(np.shape(num), empty, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _cumsum_rows(w: NDArray[Any]) -> NDArray[np.float64]:
    """Row prefix sums with a zero row first: out[k] = w[:k].sum(axis=0). Exact for integer weights."""
    out = np.zeros((w.shape[0] + 1, w.shape[1]), dtype=np.float64)
    np.cumsum(w, axis=0, dtype=np.float64, out=out[1:])
    return out


class _AucPlan:
    """Weighted AUC of one run for blocks of bootstrap weights; sorting is done once, here.

    With weights w, AUC = 1 - sum_j w_j * (P_<(j) + P_<=(j)) / 2 / (W_pos * W_neg) over negatives j,
    where P_<(j) and P_<=(j) are the weights of positives scored below (not above) s_j: prefix sums
    of the positives' weights in score order, read at positions k found once by searchsorted. The
    negatives' weights are first summed per position k (a sparse product, exact in float32 since
    they are small integers), so the float64 dot runs over n_pos + 1 rows only.
    """

    def __init__(self, s_pos: NDArray[np.float64], s_neg: NDArray[np.float64]) -> None:
        from scipy import sparse

        self.order = np.argsort(s_pos, kind="stable")
        sorted_pos = s_pos[self.order]
        lt = np.searchsorted(sorted_pos, s_neg, side="left")
        le = np.searchsorted(sorted_pos, s_neg, side="right")
        cols = np.arange(s_neg.size)
        self.group = sparse.csr_matrix(
            (np.full(2 * s_neg.size, 0.5, dtype=np.float32), (np.concatenate([lt, le]), np.concatenate([cols, cols]))),
            shape=(s_pos.size + 1, s_neg.size),
        )

    def __call__(self, wp: NDArray[np.uint8], wn: NDArray[np.float32]) -> NDArray[np.float64]:
        cp = _cumsum_rows(np.take(wp, self.order, axis=0))
        grouped = np.asarray(self.group @ wn, dtype=np.float64)
        under = np.einsum("ij,ij->j", cp, grouped)
        total = cp[-1] * grouped.sum(axis=0)
        out = np.full(total.shape, math.nan)
        np.divide(under, total, out=out, where=total > 0)
        return 1.0 - out


class _ApPlan:
    """Weighted average precision of one run for blocks of bootstrap weights.

    AP = sum_i w_i * TP(i) / (TP(i) + FP(i)) / W_pos over positives i, where TP(i) and FP(i) are the
    weights of positives and negatives scored at or above s_i (the precision at i's threshold).
    TP comes from prefix sums of the positives' weights in score order; FP from the negatives'
    weights grouped by how many positives score at or below them (as in :class:`_AucPlan`).
    """

    def __init__(self, s_pos: NDArray[np.float64], s_neg: NDArray[np.float64]) -> None:
        from scipy import sparse

        self.order = np.argsort(s_pos, kind="stable")
        sorted_pos = s_pos[self.order]
        self.first = np.searchsorted(sorted_pos, s_pos, side="left")  # positives scored below each positive
        group = np.searchsorted(sorted_pos, s_neg, side="right")  # positives scored at or below each negative
        self.group = sparse.csr_matrix(
            (np.ones(s_neg.size, dtype=np.float32), (group, np.arange(s_neg.size))), shape=(s_pos.size + 1, s_neg.size)
        )

    def __call__(self, wp: NDArray[np.uint8], wn: NDArray[np.float32]) -> NDArray[np.float64]:
        cp = _cumsum_rows(np.take(wp, self.order, axis=0))
        cg = _cumsum_rows(np.asarray(self.group @ wn, dtype=np.float64))
        tp = cp[-1] - np.take(cp, self.first, axis=0)
        fp = cg[-1] - np.take(cg, self.first + 1, axis=0)  # negatives not below the positive's score
        den = tp + fp
        precision = np.zeros_like(tp)
        np.divide(tp, den, out=precision, where=den > 0)
        total = cp[-1]
        out = np.full(total.shape, math.nan)
        np.divide(np.einsum("ij,ij->j", wp.astype(np.float64), precision), total, out=out, where=total > 0)
        return out


# -- tests on decisions and on groups of runs -------------------------------------------------------------


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
