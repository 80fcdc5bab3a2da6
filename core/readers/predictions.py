"""Reader for a run's per-example predictions: the raw material for explaining a metric change.

What is recognised (also in :data:`PREDICTION_PATTERNS`, for the README):

* **Where**: files in the run folder, in ``artifacts/`` and in the folders directly under
  ``artifacts/``, plus ``predictions/`` in the run folder. Symbolic links to folders are not followed.
* **Name**: a ``.csv``, ``.tsv``, ``.jsonl``/``.ndjson`` or ``.parquet`` file whose name has the
  word ``pred``, ``preds``, ``predicted``, ``prediction`` or ``predictions`` in it
  (``predictions.csv``, ``val_predictions.csv``, ``preds.jsonl``, ``test_preds.csv``), or any
  such file inside a folder named that way (``artifacts/predictions/val.csv``).
* **Split**: guessed from the name: ``val``/``valid``/``validation``/``dev`` -> ``val``,
  ``test``/``holdout`` -> ``test``, ``train``/``training`` -> ``train``, else None.
* **Columns** (header names, any case): an id (:data:`ID_COLUMNS`, else the first ``*_id``), a
  label (:data:`LABEL_COLUMNS`, else the first ``is_*``), and a score (:data:`SCORE_COLUMNS`)
  and/or a predicted class (:data:`PREDICTED_COLUMNS`). A predicted-class column holding
  probabilities (non-integer numbers) is read as the score when there is no score column,
  and left out when there is one.
* **Labels**: binary when every label is one of 0/1, true/false, yes/no, pos/neg (or -1/+1);
  they become 0/1. Anything else is a set of classes (``Predictions.classes``), sorted
  numerically when all are numbers, and labels and predicted classes become codes into it.

Rows that cannot be read (wrong field count, empty id, score that is not a finite number,
predicted class that is not 0/1 for binary labels, invalid JSON) are skipped and reported as
one problem per file, with the first bad line. Duplicate ids are reported too; :func:`align`
uses the first row of each id.

A file is streamed (see :mod:`.pred_rows` for the bounds): rows, distinct labels and the bytes
of ids are bounded while reading, and a text file with more lines than :data:`MAX_ROWS` is
refused after counting its newlines, before any row is parsed.

This module is the entry point; the work is split by job: :mod:`.pred_files` (finding),
:mod:`.pred_columns` (which column is what), :mod:`.pred_sources` (CSV/JSONL/Parquet),
:mod:`.pred_rows` (compact arrays and bounds), :mod:`.pred_build` (typed result),
:mod:`.pred_align` (two runs side by side), :mod:`.pred_model` (the result types).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..safeio import MAX_STREAM_BYTES, ReadContext, Unreadable
from .pred_align import align
from .pred_build import build
from .pred_columns import BINARY_LABELS, LABEL_COLUMNS, PREDICTED_COLUMNS, SCORE_COLUMNS, pick_columns
from .pred_files import (
    NAME_WORD,
    SEARCH_DIRS,
    SPLIT_ORDER,
    SPLIT_WORDS,
    SUFFIXES,
    find_predictions,
    is_prediction_file,
    prediction_split,
)
from .pred_model import Aligned, Predictions, sort_classes
from .pred_rows import MAX_ID_CHARS, MAX_ROWS, Rows, TooBig
from .pred_sources import csv_rows, jsonl_rows, parquet_rows
from .splits import ID_COLUMNS

__all__ = [
    "LABEL_COLUMNS", "MAX_ID_CHARS", "MAX_ROWS", "NAME_WORD", "PREDICTED_COLUMNS", "PREDICTION_PATTERNS",
    "SCORE_COLUMNS", "SEARCH_DIRS", "SPLIT_ORDER", "SPLIT_WORDS", "SUFFIXES", "Aligned", "Predictions",
    "align", "find_predictions", "is_prediction_file", "parse_predictions", "pick_columns",
    "prediction_split", "read_predictions", "sort_classes",
]

Issue = tuple[str, int | None]

PREDICTION_PATTERNS: Mapping[str, Any] = {
    "folders": SEARCH_DIRS,
    "suffixes": tuple(SUFFIXES),
    "name_words": ("pred", "preds", "predicted", "prediction", "predictions"),
    "split_words": dict(SPLIT_WORDS),
    "id_columns": (*ID_COLUMNS, "*_id"),
    "label_columns": (*LABEL_COLUMNS, "is_*"),
    "score_columns": SCORE_COLUMNS,
    "predicted_columns": PREDICTED_COLUMNS,
    "binary_labels": BINARY_LABELS,
}
"""What :func:`find_predictions` and :func:`read_predictions` recognise, for documentation."""

_COUNT_CHUNK = 1024 * 1024


def read_predictions(path: Path, ctx: ReadContext) -> Predictions | None:
    """Predictions in one file, or None (with a problem recorded) when it has no usable columns or rows."""
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    source = ctx.rel(path)
    split = prediction_split(path)
    issues: list[Issue] = []
    result: Predictions | None = None
    try:
        if kind == "parquet":
            ctx.check_file(path, None)
            rows = parquet_rows(path, issues)
            result = None if rows is None else build(rows, split, source, issues)
        elif kind in ("csv", "tsv", "jsonl"):
            _refuse_many_lines(path, ctx)
            lines = ctx.iter_lines(path, max_lines=MAX_ROWS)
            result = parse_predictions(lines, path.name, split=split, source=source, issues=issues)
        else:
            issues.append(("not a predictions file type (csv, tsv, jsonl, parquet)", None))
    except TooBig as exc:
        issues.append((str(exc), None))
        result = None
    except Unreadable as exc:
        issues.append((exc.message, exc.line))
        result = None
    for message, line in issues:
        ctx.problem(path, message, line)
    return result


def parse_predictions(
    lines: Iterable[tuple[int, str]],
    file_name: str,
    *,
    split: str | None = None,
    source: str = "",
    issues: list[Issue] | None = None,
) -> Predictions | None:
    """Predictions from numbered text lines of a CSV/TSV/JSONL file (format from ``file_name``); pure, for tests.

    Problems go to ``issues`` as (message, line); None when nothing usable was found.
    """
    issues = [] if issues is None else issues
    kind = SUFFIXES.get(os.path.splitext(file_name.lower())[1], "csv")
    rows: Rows | None
    try:
        if kind == "jsonl":
            rows = jsonl_rows(lines, issues)
        else:
            rows = csv_rows(lines, "\t" if kind == "tsv" else ",", issues)
    except TooBig as exc:
        issues.append((str(exc), None))
        return None
    if rows is None:
        return None
    return build(rows, split if split is not None else prediction_split(file_name), source or file_name, issues)


def _refuse_many_lines(path: Path, ctx: ReadContext) -> None:
    """Raise TooBig when a text file has more than :data:`MAX_ROWS` lines (the header counts).

    Counting newlines costs a fraction of a second for the largest file read (the byte bound),
    so a file of millions of rows is refused before a row of it is parsed.
    """
    ctx.check_file(path, MAX_STREAM_BYTES)
    newlines = 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_COUNT_CHUNK):
                newlines += chunk.count(b"\n")
                if newlines > MAX_ROWS:
                    raise TooBig(
                        f"more than {MAX_ROWS:,} rows; predictions not read (the bound on rows held in memory)"
                    )
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
