"""Typed :class:`Predictions` from gathered rows: binary or class labels, scores, skipped rows reported once."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..fmt import clip
from .pred_columns import binary_map
from .pred_model import Predictions, sort_classes
from .pred_rows import BAD_SCORE, BATCH, MAX_CLASSES, PREDICTED_NOT_BINARY, REASONS, Rows

Issue = tuple[str, int | None]


def build(rows: Rows, split: str | None, source: str, issues: list[Issue]) -> Predictions | None:
    """Predictions from ``rows``; unreadable rows dropped and reported as one problem."""
    n = rows.rows
    reason = _cat(rows.reasons, np.uint8)
    lines = _cat(rows.lines, np.int64)
    label_codes = _cat(rows.labels, np.int32)
    label_names = list(rows.label_tokens)
    columns = dict(rows.columns)
    scores = _cat(rows.scores, np.float64) if rows.scores else None
    predicted: NDArray[np.int32] | None = None
    pred_names: list[str] = []
    if "predicted" in columns:
        if rows.predicted_overflow:
            issues.append((f"the predicted class column has more than {MAX_CLASSES:,} values; not used as classes", None))
        else:
            predicted = _cat(rows.predicted, np.int32)
            pred_names = list(rows.predicted_tokens)

    label_set = _used(label_names, label_codes, reason == 0)
    bmap = binary_map(label_set)
    if "predicted" in columns and bmap is not None:
        ok = reason == 0
        pred_set = set() if predicted is None else _used(pred_names, predicted, ok)
        if predicted is None or binary_map(pred_set | label_set) is None:
            as_scores = _cat(rows.predicted_floats, np.float64)
            finite = np.isfinite(as_scores[ok])
            fractional = (as_scores[ok] != 0) & (as_scores[ok] != 1) & finite
            if finite.size and finite.mean() > 0.5 and fractional.any():
                # a "prediction" column of probabilities: the score, unless there is one already
                name = columns.pop("predicted")
                if scores is None:
                    scores = as_scores
                    columns["score"] = name
                    reason[~np.isfinite(as_scores) & (reason == 0)] = BAD_SCORE
                predicted = None
            elif predicted is not None:
                word = np.array([binary_map({t}) is not None for t in pred_names], dtype=bool)
                reason[~word[predicted] & (reason == 0)] = PREDICTED_NOT_BINARY
        if predicted is not None:
            bmap = binary_map(_used(pred_names, predicted, reason == 0) | label_set)
    if predicted is None:
        columns.pop("predicted", None)

    keep = np.flatnonzero(reason == 0)
    _report_skipped(rows, reason, lines, issues)
    if keep.size == 0:
        issues.append(("no readable prediction rows", None))
        return None

    classes: tuple[str, ...] | None
    if bmap is not None:
        classes = None
        labels = _lookup(label_names, bmap, np.int8)[label_codes[keep]]
        pred_arr = None if predicted is None else _lookup(pred_names, bmap, np.int8)[predicted[keep]]
    else:
        values = _used(label_names, label_codes, reason == 0)
        if predicted is not None:
            values |= _used(pred_names, predicted, reason == 0)
        classes = sort_classes(values)
        code = {c: k for k, c in enumerate(classes)}
        dtype = np.int8 if len(classes) <= 127 else np.int32
        labels = _lookup(label_names, code, dtype)[label_codes[keep]]
        pred_arr = None if predicted is None else _lookup(pred_names, code, dtype)[predicted[keep]]

    id_bytes = _cat(rows.ids, np.bytes_)[keep]
    _report_duplicates(id_bytes, lines[keep], rows.row_word, issues)
    id_arr = _decoded(id_bytes)
    del id_bytes
    score_arr = None if scores is None else np.ascontiguousarray(scores[keep])
    for arr in (id_arr, labels, score_arr, pred_arr):
        if arr is not None:
            arr.setflags(write=False)
    return Predictions(
        ids=id_arr,
        labels=labels,
        scores=score_arr,
        predicted=pred_arr,
        split=split,
        source=source,
        classes=classes,
        columns=columns,
        skipped=rows.bad_lines + (n - int(keep.size)),
    )


def _cat(parts: list[Any], dtype: Any) -> NDArray[Any]:
    """The batches as one array (empty when there are none)."""
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def _decoded(id_bytes: NDArray[np.bytes_]) -> NDArray[np.object_]:
    """UTF-8 ids as an array of str, decoded a batch at a time (no list of every row's bytes at once)."""
    out = np.empty(id_bytes.shape[0], dtype=object)
    for start in range(0, id_bytes.shape[0], BATCH):
        out[start : start + BATCH] = [b.decode("utf-8", "surrogatepass") for b in id_bytes[start : start + BATCH].tolist()]
    return out


def _used(names: list[str], codes: NDArray[np.int32], where: NDArray[np.bool_]) -> set[str]:
    """The tokens that rows in ``where`` use."""
    return {names[c] for c in np.unique(codes[where]).tolist()}


def _lookup(names: list[str], mapping: dict[str, int], dtype: Any) -> NDArray[Any]:
    """token code -> value in ``mapping`` (0 for tokens only skipped rows use)."""
    return np.array([mapping.get(t, 0) for t in names], dtype=dtype)


def _report_skipped(rows: Rows, reason: NDArray[np.uint8], lines: NDArray[np.int64], issues: list[Issue]) -> None:
    """One problem for all skipped rows: how many, and the first with its reason."""
    skipped_rows = np.flatnonzero(reason)
    count = rows.bad_lines + int(skipped_rows.size)
    if count == 0:
        return
    firsts: list[tuple[int, str]] = [] if rows.first_bad is None else [rows.first_bad]
    if skipped_rows.size:
        i = int(skipped_rows[np.argmin(lines[skipped_rows])])
        firsts.append((int(lines[i]), REASONS[int(reason[i])]))
    line, why = min(firsts)
    many = count != 1
    message = (
        f"{count:,} row{'s' if many else ''} could not be read and {'were' if many else 'was'} "
        f"skipped (first: {rows.row_word} {line}: {why})"
    )
    issues.append((message, line if rows.row_word == "line" else None))


def _report_duplicates(ids: NDArray[np.bytes_], lines: NDArray[np.int64], row_word: str, issues: list[Issue]) -> None:
    """A problem when ids repeat: how many rows, and the first repeated id with where it repeats.

    Sorted with a stable sort, an id equal to its predecessor is a later row of the same id:
    no set of every id is built.
    """
    if ids.shape[0] < 2:
        return
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    again = ordered[1:] == ordered[:-1]
    count = int(np.count_nonzero(again))
    if count == 0:
        return
    row = int(order[1:][again].min())
    where = int(lines[row])
    value = ids[row].decode("utf-8", "surrogatepass")
    message = (
        f"{count:,} duplicate id{'s' if count != 1 else ''} (first: {clip(value, 40)!r} again on "
        f"{row_word} {where}); the first row of each id is used when comparing runs"
    )
    issues.append((message, where if row_word == "line" else None))
