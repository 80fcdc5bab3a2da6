"""Metrics computed on per-example predictions: ROC AUC, average precision, and threshold metrics."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import ArrayLike

from ._common import _counts, _labels, _scipy_stats, _scores

Metric = Callable[[ArrayLike, ArrayLike], float]
"""A metric over (labels, scores) -> float, e.g. :func:`roc_auc` or ``partial(f1_at, threshold=0.4)``."""

DEFAULT_THRESHOLD = 0.5
"""Threshold used by :func:`compute_metric` when the run did not record one."""


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

