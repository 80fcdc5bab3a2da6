"""Which columns of a predictions file hold the id, label, score and predicted class, and what label words mean."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..fmt import clip
from .splits import ID_COLUMNS

LABEL_COLUMNS: tuple[str, ...] = ("label", "y", "y_true", "target", "true_label", "ground_truth", "gt", "truth", "actual")
"""Label columns in order of preference; then the first ``is_*`` column."""
SCORE_COLUMNS: tuple[str, ...] = (
    "score", "prob", "proba", "y_score", "p", "prediction_score", "probability", "y_prob", "y_proba",
    "pred_prob", "pred_proba", "prob_1", "proba_1", "prob_pos", "positive_prob",
)
"""Score (probability of the positive class, or confidence) columns in order of preference."""
PREDICTED_COLUMNS: tuple[str, ...] = (
    "pred", "y_pred", "prediction", "predicted", "pred_label", "predicted_label", "pred_class",
    "predicted_class", "y_hat", "yhat",
)
"""Predicted class columns in order of preference."""
BINARY_LABELS: tuple[str, ...] = ("0/1", "true/false", "t/f", "yes/no", "y/n", "pos/neg", "positive/negative", "-1/+1")
"""Label words read as binary, for documentation."""

_TRUE = frozenset({"1", "1.0", "+1", "true", "t", "yes", "y", "pos", "positive"})
_FALSE = frozenset({"0", "0.0", "false", "f", "no", "n", "neg", "negative"})
_PLUS_MINUS = frozenset({"1", "+1", "1.0", "-1", "-1.0"})


def pick_columns(header: Sequence[str]) -> tuple[dict[str, str], str | None]:
    """Columns to use, role -> header name (id, label, score, predicted), or an error message."""
    lowered: dict[str, str] = {}
    for name in header:
        lowered.setdefault(str(name).strip().lower(), str(name))
    cols: dict[str, str] = {}
    ident = _first(lowered, ID_COLUMNS) or next((lowered[k] for k in lowered if k.endswith("_id")), None)
    label = _first(lowered, LABEL_COLUMNS) or next(
        (lowered[k] for k in lowered if k.startswith("is_") and "pred" not in k), None
    )
    score = _first(lowered, SCORE_COLUMNS)
    predicted = _first(lowered, PREDICTED_COLUMNS)
    missing = []
    if ident is None:
        missing.append(f"an id column ({', '.join(ID_COLUMNS)} or *_id)")
    if label is None:
        missing.append(f"a label column ({', '.join(LABEL_COLUMNS)} or is_*)")
    if score is None and predicted is None:
        missing.append(f"a score ({', '.join(SCORE_COLUMNS[:6])} ...) or predicted class column ({', '.join(PREDICTED_COLUMNS[:4])} ...)")
    if missing or ident is None or label is None:
        shown = ", ".join(clip(str(h), 30) for h in list(header)[:12])
        return {}, f"not read as predictions: no {'; no '.join(missing)} in header [{shown}]"
    cols["id"], cols["label"] = ident, label
    if score is not None:
        cols["score"] = score
    if predicted is not None:
        cols["predicted"] = predicted
    return cols, None


def _first(lowered: Mapping[str, str], names: Iterable[str]) -> str | None:
    return next((lowered[n] for n in names if n in lowered), None)


def binary_map(values: Iterable[str]) -> dict[str, int] | None:
    """token -> 0/1 when every token is a binary label word, else None."""
    lowered = {v: v.lower() for v in values}
    if set(lowered.values()) <= _TRUE | _FALSE:
        return {v: int(low in _TRUE) for v, low in lowered.items()}
    if set(lowered.values()) <= _PLUS_MINUS:
        return {v: int(not low.startswith("-")) for v, low in lowered.items()}
    return None


def token(value: Any) -> str:
    """A JSON/Parquet value as the text a CSV would hold (true -> "true", 1 -> "1", None -> "")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
