"""Which way is better for a metric: higher (auc, accuracy ...) or lower (loss, error ...)."""

from __future__ import annotations

import re
from typing import Literal

from .records import MetricDefinition

Goal = Literal["max", "min"]

_LOWER = re.compile(
    r"(loss|error|err\b|rmse|mse|mae|mape|smape|wer|cer|perplexity|ppl|latency|brier|logloss|"
    r"log_loss|nll|fpr|fnr|eer|ece|calibration_error|regret|time|seconds|duration|cost|distance)",
    re.IGNORECASE,
)
_HIGHER = re.compile(
    r"(auc|acc|accuracy|f1|f_1|fbeta|precision|recall|ndcg|map\b|mrr|bleu|rouge|meteor|r2|iou|dice|"
    r"hit|top[_-]?\d|tpr|specificity|sensitivity|score|conversion|ctr|lift|coverage|kappa|mcc|"
    r"throughput|reward|return|ap\b|pr_auc)",
    re.IGNORECASE,
)

_WORDS: dict[str, Goal] = {
    "max": "max", "maximize": "max", "maximise": "max", "maximum": "max", "higher": "max",
    "high": "max", "up": "max", "increase": "max", "greater": "max", "larger": "max",
    "bigger": "max", "higher is better": "max", "greater is better": "max",
    "min": "min", "minimize": "min", "minimise": "min", "minimum": "min", "lower": "min",
    "low": "min", "down": "min", "decrease": "min", "smaller": "min", "less": "min",
    "lower is better": "min", "smaller is better": "min",
}


def normalise_goal(word: object) -> Goal | None:
    """"max"/"min" for the many ways files say it (maximize, higher, lower_is_better ...), else None."""
    if not isinstance(word, str):
        return None
    return _WORDS.get(re.sub(r"[\s_\-]+", " ", word.strip().lower()))


def metric_goal(name: str, definition: MetricDefinition | None = None, declared: object = None) -> Goal | None:
    """Goal of a metric: declared (sweep.yaml) first, then its definition, then its name; None if unknown."""
    goal = normalise_goal(declared)
    if goal is None and definition is not None:
        goal = definition.goal
    if goal is not None:
        return goal
    if _LOWER.search(name):
        return "min"
    if _HIGHER.search(name):
        return "max"
    return None


def is_better(name: str, a: float, b: float, definition: MetricDefinition | None = None) -> bool | None:
    """True when ``b`` is better than ``a``, False when worse, None when equal or unknown direction."""
    goal = metric_goal(name, definition)
    if goal is None or a == b:
        return None
    return (b > a) if goal == "max" else (b < a)
