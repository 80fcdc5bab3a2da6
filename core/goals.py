"""Which way is better for a metric: higher (auc, accuracy ...) or lower (loss, error ...).

A metric's name is read as whole words, never substrings: ``answer_f1`` holds "wer",
``cancer_recall`` "cer" and ``power_auc`` "wer" only as letters inside other words,
and reading them there once made ``regress`` pass a drop. Rules, in order:

1. The name is split into tokens at ``_ - . / :``, spaces and camelCase boundaries
   (``valAUC`` → val, auc); ``top_5`` and ``f_1`` are joined back into ``top5`` and ``f1``;
   a ``/`` before a unit reads "per" (``tokens/sec``).
2. Everything from ``@``, or from a word ``at``/``per``, on describes an operating point
   or a unit, not the metric: ``recall_at_fpr_0.01`` is a recall, ``ndcg@10`` an ndcg, and
   ``samples_per_sec`` is no latency (it has no direction).
3. A few phrases count as one word: ``false_positive_rate`` (lower), ``true_positive_rate``,
   ``exact_match`` (higher) ...
4. When several words have a direction, the last one wins: English puts the head of a
   compound last, so ``top5_error`` is an error and ``accuracy_loss`` a loss.
5. When that last word says the name is a threshold (``f1_threshold``, ``auc_cutoff``), it is
   a setting, not a metric, and has no direction.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from .records import MetricDefinition

Goal = Literal["max", "min"]

LOWER_WORDS: frozenset[str] = frozenset(
    {
        "loss", "losses", "error", "errors", "err", "rmse", "mse", "mae", "mape", "smape", "wape", "msle",
        "rmsle", "nmse", "wer", "cer", "ter", "perplexity", "ppl", "latency", "brier", "logloss", "nll",
        "fpr", "fnr", "far", "frr", "eer", "ece", "mce", "regret", "time", "runtime", "walltime", "seconds",
        "second", "secs", "sec", "ms", "duration", "cost", "distance", "divergence", "kl", "kld", "fid",
        "miss", "misses", "bpc", "bpd",
    }
)
"""Whole words that mean lower is better."""

HIGHER_WORDS: frozenset[str] = frozenset(
    {
        "auc", "auroc", "auprc", "aupr", "roc", "prauc", "acc", "accuracy", "f1", "f2", "f05", "fbeta",
        "fscore", "f1score", "precision", "prec", "recall", "ndcg", "dcg", "map", "mrr", "bleu",
        "sacrebleu", "rouge", "rouge1", "rouge2", "rougel", "meteor", "chrf", "bertscore", "r2", "iou",
        "miou", "dice", "hit", "hits", "hitrate", "tpr", "tnr", "ppv", "npv", "specificity", "sensitivity",
        "score", "conversion", "ctr", "lift", "coverage", "kappa", "mcc", "throughput", "reward",
        "rewards", "return", "returns", "ap", "psnr", "ssim", "em", "spearman", "pearson", "correlation",
        "win", "winrate",
    }
)
"""Whole words that mean higher is better."""

NO_GOAL_WORDS: frozenset[str] = frozenset({"threshold", "thresholds", "thresh", "thr", "cutoff"})
"""Last words that make a name a setting rather than a metric (``f1_threshold``): no direction."""

PHRASES: dict[tuple[str, ...], Goal] = {
    ("false", "positive"): "min",
    ("false", "positives"): "min",
    ("false", "negative"): "min",
    ("false", "negatives"): "min",
    ("false", "alarm"): "min",
    ("false", "alarms"): "min",
    ("true", "positive"): "max",
    ("true", "positives"): "max",
    ("true", "negative"): "max",
    ("exact", "match"): "max",
    ("log", "loss"): "min",
}
"""Several words that together have a direction (each word alone has none, or another)."""

QUALIFIERS: frozenset[str] = frozenset({"at", "per"})
"""Words after which a name describes an operating point or a unit (``recall_at_fpr``, ``tokens_per_sec``)."""

_RATE_SLASH = re.compile(
    r"/(?=(?:s|sec|secs|second|seconds|ms|min|minute|minutes|h|hr|hour|hours|day|step|epoch|batch|sample|example"
    r"|token|query|request|img|image)s?(?![A-Za-z0-9_]))",
    re.IGNORECASE,
)
"""``/`` before a unit means "per" (``tokens/sec``); elsewhere it separates a namespace (``eval/loss``)."""
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9@]+")
_RANKED = re.compile(r"top\d+|topk|f\d+")
"""top5, topk (accuracy among the top k), f2, f05 (F-beta scores): higher is better."""

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


def name_tokens(name: str) -> tuple[str, ...]:
    """Lower-case words of a metric name (``val_Top_5-acc`` → val, top5, acc), ``@`` kept as its own token."""
    words: list[str] = []
    for part in _SEPARATORS.split(_RATE_SLASH.sub(" per ", name).replace("@", " @ ")):
        words += [w.lower() for w in _CAMEL.split(part) if w]
    joined: list[str] = []
    for word in words:
        if joined and ((word.isdigit() and joined[-1] in ("top", "f", "r", "rouge")) or (word == "k" and joined[-1] == "top")):
            joined[-1] += word  # top_5 → top5, top_k → topk, f_1 → f1, r_2 → r2
        else:
            joined.append(word)
    return tuple(joined)


def _word_goal(word: str) -> Goal | None:
    if word in LOWER_WORDS:
        return "min"
    if word in HIGHER_WORDS or _RANKED.fullmatch(word):
        return "max"
    return None


def _goals_in(tokens: tuple[str, ...]) -> list[tuple[int, Goal | None]]:
    """(position, goal) of every word or phrase with a direction, or that marks a setting (goal None)."""
    found: list[tuple[int, Goal | None]] = []
    i = 0
    while i < len(tokens):
        phrase = tokens[i : i + 2]
        if phrase in PHRASES:
            found.append((i + 1, PHRASES[phrase]))
            i += 2
            continue
        goal = _word_goal(tokens[i])
        if goal is not None:
            found.append((i, goal))
        elif tokens[i] in NO_GOAL_WORDS:
            found.append((i, None))
        i += 1
    return found


@lru_cache(maxsize=4096)
def goal_from_name(name: str) -> Goal | None:
    """The direction a metric's name gives (see the module's rules), or None when it gives none."""
    tokens = name_tokens(name)
    cut = next((i for i, t in enumerate(tokens) if i and (t == "@" or t in QUALIFIERS)), len(tokens))
    found = _goals_in(tokens[:cut])
    return found[-1][1] if found else None


def metric_goal(name: str, definition: MetricDefinition | None = None, declared: object = None) -> Goal | None:
    """Goal of a metric: declared (sweep.yaml) first, then its definition, then its name; None if unknown."""
    goal = normalise_goal(declared)
    if goal is None and definition is not None:
        goal = definition.goal
    if goal is not None:
        return goal
    return goal_from_name(name)


def is_better(name: str, a: float, b: float, definition: MetricDefinition | None = None) -> bool | None:
    """True when ``b`` is better than ``a``, False when worse, None when equal or unknown direction."""
    goal = metric_goal(name, definition)
    if goal is None or a == b:
        return None
    return (b > a) if goal == "max" else (b < a)
