"""Two runs' predictions side by side: the examples both scored, in A's order, labels checked to agree."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .pred_model import Aligned, Predictions, class_names, sort_classes


def align(a: Predictions, b: Predictions) -> Aligned:
    """Both runs' predictions on their common ids (A's order; first row of a repeated id).

    Labels must agree: common ids whose label differs are left out and counted in
    ``label_mismatches``. Unpacks as ``ids, labels, scores_a, scores_b``.
    """
    first_a = _first_rows(a.ids)
    first_b = _first_rows(b.ids)
    common = [i for i in first_a if i in first_b]
    idx_a = np.fromiter(map(first_a.__getitem__, common), dtype=np.intp, count=len(common))
    order = np.argsort(idx_a, kind="stable")  # A's file order
    common = [common[k] for k in order]
    idx_a = idx_a[order]
    idx_b = np.fromiter(map(first_b.__getitem__, common), dtype=np.intp, count=len(common))
    ids = np.empty(len(common), dtype=object)
    ids[:] = common

    both_binary = a.binary and b.binary
    la: NDArray[Any]
    lb: NDArray[Any]
    if both_binary:
        la, lb = a.labels[idx_a], b.labels[idx_b]
    else:
        la, lb = a.label_names()[idx_a], b.label_names()[idx_b]
    agree = la == lb
    mismatched = np.flatnonzero(~agree)
    keep = np.flatnonzero(agree)
    idx_a, idx_b = idx_a[keep], idx_b[keep]

    classes: tuple[str, ...] | None = None
    pa = pb = None
    if both_binary:
        labels = a.labels[idx_a]
        pa = None if a.predicted is None else a.predicted[idx_a]
        pb = None if b.predicted is None else b.predicted[idx_b]
    else:
        names_a, names_b = class_names(a.classes), class_names(b.classes)
        classes = sort_classes(set(names_a) | set(names_b))
        code = {c: k for k, c in enumerate(classes)}
        dtype = np.int8 if len(classes) <= 127 else np.int32
        recode_a = np.array([code[c] for c in names_a], dtype=dtype)
        recode_b = np.array([code[c] for c in names_b], dtype=dtype)
        labels = recode_a[a.labels[idx_a]]
        pa = None if a.predicted is None else recode_a[a.predicted[idx_a]]
        pb = None if b.predicted is None else recode_b[b.predicted[idx_b]]
    return Aligned(
        ids=ids[keep],
        labels=labels,
        scores_a=None if a.scores is None else a.scores[idx_a],
        scores_b=None if b.scores is None else b.scores[idx_b],
        predicted_a=pa,
        predicted_b=pb,
        classes=classes,
        n_a=len(first_a),
        n_b=len(first_b),
        only_a=len(first_a) - len(common),
        only_b=len(first_b) - len(common),
        label_mismatches=int(mismatched.size),
        mismatch_examples=tuple(str(common[i]) for i in mismatched[:10]),
    )


def _first_rows(ids: NDArray[np.object_]) -> dict[str, int]:
    """id -> index of its first row."""
    values = ids.tolist()
    # built backwards so that the first row of a repeated id is the one that stays
    return dict(zip(reversed(values), range(len(values) - 1, -1, -1)))
