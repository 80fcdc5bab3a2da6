"""The statistics behind "is this change real or noise?": one home, one module per kind of question.

* :mod:`.metrics` - metrics on per-example predictions (AUC, AP, F1 at a threshold ...);
* :mod:`.paired` - two runs on the same examples (DeLong, McNemar, flips, divergence step);
* :mod:`.bootstrap` - the paired bootstrap of a metric difference;
* :mod:`.groups` - groups of runs (seed noise, Welch, one run against replicates);
* :mod:`.multiple` - corrections for testing several hypotheses at once (Holm).

Everything public is re-exported here, so callers write ``stats.delong_test(...)``.

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

from .bootstrap import BootstrapResult, Resampling, paired_bootstrap
from .groups import (
    TResult,
    WelchResult,
    decimals,
    precision_floor,
    prediction_interval_test,
    seed_noise,
    t_test,
    welch_test,
)
from .metrics import (
    DEFAULT_THRESHOLD,
    METRIC_NAMES,
    Metric,
    accuracy_at,
    average_precision,
    canonical_metric,
    compute_metric,
    confusion_at,
    f1_at,
    metric_for,
    precision_at,
    recall_at,
    roc_auc,
)
from .multiple import holm
from .paired import (
    EXACT_MCNEMAR_BELOW,
    MAX_EXAMPLES,
    DeLongResult,
    FlipsResult,
    McNemarResult,
    delong_test,
    divergence_step,
    flips,
    mcnemar_test,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "EXACT_MCNEMAR_BELOW",
    "MAX_EXAMPLES",
    "METRIC_NAMES",
    "BootstrapResult",
    "DeLongResult",
    "FlipsResult",
    "McNemarResult",
    "Metric",
    "Resampling",
    "TResult",
    "WelchResult",
    "accuracy_at",
    "average_precision",
    "canonical_metric",
    "compute_metric",
    "confusion_at",
    "decimals",
    "delong_test",
    "divergence_step",
    "f1_at",
    "flips",
    "holm",
    "mcnemar_test",
    "metric_for",
    "paired_bootstrap",
    "precision_at",
    "precision_floor",
    "prediction_interval_test",
    "recall_at",
    "roc_auc",
    "seed_noise",
    "t_test",
    "welch_test",
]
