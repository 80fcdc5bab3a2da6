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
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..safeio import ReadContext, Unreadable
from ._text import clip
from .splits import ID_COLUMNS

Issue = tuple[str, int | None]

SUFFIXES: Mapping[str, str] = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
"""Prediction file kinds by suffix."""
NAME_WORD = re.compile(r"(?<![a-z])(?:preds?|predicted|predictions?)(?![a-z])")
"""A prediction file's name (lower-cased stem) or folder name contains one of these words."""
SEARCH_DIRS: tuple[str, ...] = (".", "artifacts", "artifacts/*", "predictions")
"""Folders of a run searched, relative to the run folder (``*``: each folder one level down)."""
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
SPLIT_WORDS: Mapping[str, str] = {
    "val": "val", "valid": "val", "validation": "val", "dev": "val",
    "test": "test", "holdout": "test",
    "train": "train", "training": "train",
}
"""Words of a file name that name its split."""
SPLIT_ORDER: tuple[str | None, ...] = ("val", "test", None, "train")
"""Order of :func:`find_predictions`' result: validation predictions first."""
MAX_ID_CHARS = 1000
"""Longer ids are treated as unreadable rows (they are not ids, and would cost memory)."""
MAX_ROWS = 20_000_000
"""Rows read from one file; the rest is reported and ignored."""

_TRUE = frozenset({"1", "1.0", "+1", "true", "t", "yes", "y", "pos", "positive"})
_FALSE = frozenset({"0", "0.0", "false", "f", "no", "n", "neg", "negative"})
_PLUS_MINUS = frozenset({"1", "+1", "1.0", "-1", "-1.0"})

PREDICTION_PATTERNS: Mapping[str, Any] = {
    "folders": SEARCH_DIRS,
    "suffixes": tuple(SUFFIXES),
    "name_words": ("pred", "preds", "predicted", "prediction", "predictions"),
    "split_words": dict(SPLIT_WORDS),
    "id_columns": (*ID_COLUMNS, "*_id"),
    "label_columns": (*LABEL_COLUMNS, "is_*"),
    "score_columns": SCORE_COLUMNS,
    "predicted_columns": PREDICTED_COLUMNS,
    "binary_labels": ("0/1", "true/false", "t/f", "yes/no", "y/n", "pos/neg", "positive/negative", "-1/+1"),
}
"""What :func:`find_predictions` and :func:`read_predictions` recognise, for documentation."""


@dataclass(frozen=True, slots=True, eq=False)
class Predictions:
    """One run's per-example predictions, as read from one file (arrays are read-only)."""

    ids: NDArray[np.object_]
    """Example ids (str), in file order."""
    labels: NDArray[np.signedinteger[Any]]
    """0/1 (int8) for binary labels; else codes into ``classes`` (int8, int32 past 127 classes)."""
    scores: NDArray[np.float64] | None
    predicted: NDArray[np.signedinteger[Any]] | None
    """Predicted class: 0/1, or codes into ``classes``."""
    split: str | None
    source: str
    """The file, relative to the catalog root."""
    classes: tuple[str, ...] | None = None
    """None for binary 0/1 labels; else the class names that ``labels`` and ``predicted`` index."""
    columns: Mapping[str, str] = field(default_factory=dict)
    """Which header column gave what: keys id, label, score, predicted."""
    skipped: int = 0
    """Rows that could not be read."""

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def binary(self) -> bool:
        """True when labels are 0/1."""
        return self.classes is None

    def label_names(self) -> NDArray[np.object_]:
        """Labels as class names ("0"/"1" when binary)."""
        return _names(self.classes)[self.labels]


@dataclass(frozen=True, slots=True, eq=False)
class Aligned:
    """Two runs' predictions on their common examples; unpacks as ``ids, labels, scores_a, scores_b``."""

    ids: NDArray[np.object_]
    labels: NDArray[np.signedinteger[Any]]
    scores_a: NDArray[np.float64] | None
    scores_b: NDArray[np.float64] | None
    predicted_a: NDArray[np.signedinteger[Any]] | None = None
    predicted_b: NDArray[np.signedinteger[Any]] | None = None
    classes: tuple[str, ...] | None = None
    """None when both runs have binary labels; else the union of both runs' classes."""
    n_a: int = 0
    """Distinct ids in A."""
    n_b: int = 0
    only_a: int = 0
    """Ids in A but not in B."""
    only_b: int = 0
    label_mismatches: int = 0
    """Common ids whose label differs between the two files; left out of the arrays."""
    mismatch_examples: tuple[str, ...] = ()
    """Up to 10 of those ids."""

    def __iter__(self) -> Iterator[Any]:
        return iter((self.ids, self.labels, self.scores_a, self.scores_b))

    def __len__(self) -> int:
        return int(self.ids.shape[0])


# -- finding -----------------------------------------------------------------------------------------


def is_prediction_file(name: str, folder: str = "") -> bool:
    """True when a file name (or its folder's name) says predictions and its suffix is readable."""
    stem, suffix = os.path.splitext(name.lower())
    if suffix not in SUFFIXES or name.startswith("."):
        return False
    return bool(NAME_WORD.search(stem) or NAME_WORD.search(folder.lower()))


def prediction_split(path: Path | str) -> str | None:
    """Split named by a prediction file's name (or, failing that, its folder's): val, test, train or None."""
    p = Path(path)
    for text in (p.stem, p.parent.name):
        for word in re.split(r"[^a-z]+", text.lower()):
            if word in SPLIT_WORDS:
                return SPLIT_WORDS[word]
    return None


def find_predictions(run_dir: Path) -> list[Path]:
    """Prediction files of a run (see :data:`PREDICTION_PATTERNS`): validation first, then test, unnamed, train."""
    run_dir = Path(run_dir)
    folders: list[Path] = []
    for pattern in SEARCH_DIRS:
        if pattern == "artifacts/*":
            folders.extend(sorted(_subdirs(run_dir / "artifacts")))
        else:
            folder = run_dir / pattern if pattern != "." else run_dir
            if folder == run_dir or (folder.is_dir() and not folder.is_symlink()):
                folders.append(folder)
    found: list[Path] = []
    seen: set[str] = set()
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.path in seen or not is_prediction_file(entry.name, folder.name if folder != run_dir else ""):
                continue
            try:
                if not entry.is_file():
                    continue
            except OSError:
                continue
            seen.add(entry.path)
            found.append(Path(entry.path))
    return sorted(found, key=lambda p: (SPLIT_ORDER.index(prediction_split(p)), p.as_posix()))


def _subdirs(folder: Path) -> Iterator[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                yield Path(entry.path)
        except OSError:
            continue


# -- reading -----------------------------------------------------------------------------------------


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
            result = _read_parquet(path, ctx, split, source, issues)
        elif kind in ("csv", "tsv", "jsonl"):
            result = parse_predictions(ctx.iter_lines(path), path.name, split=split, source=source, issues=issues)
        else:
            issues.append(("not a predictions file type (csv, tsv, jsonl, parquet)", None))
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
    if kind == "jsonl":
        table = _jsonl_table(lines, issues)
    else:
        table = _csv_table(lines, "\t" if kind == "tsv" else ",", issues)
    if table is None:
        return None
    return _build(table, split if split is not None else prediction_split(file_name), source or file_name, issues)


@dataclass
class _Table:
    """Raw column values of a predictions file, before conversion."""

    columns: dict[str, str]
    ids: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    scores: list[Any] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    """(line, reason) of rows skipped while reading."""
    truncated: bool = False
    row_word: str = "line"


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
    if missing:
        shown = ", ".join(clip(str(h), 30) for h in list(header)[:12])
        return {}, f"not read as predictions: no {'; no '.join(missing)} in header [{shown}]"
    cols["id"], cols["label"] = ident, label  # type: ignore[assignment]
    if score is not None:
        cols["score"] = score
    if predicted is not None:
        cols["predicted"] = predicted
    return cols, None


def _first(lowered: Mapping[str, str], names: Iterable[str]) -> str | None:
    return next((lowered[n] for n in names if n in lowered), None)


def _csv_table(lines: Iterable[tuple[int, str]], delimiter: str, issues: list[Issue]) -> _Table | None:
    """Stream a CSV/TSV: header, then one row at a time into column lists."""
    reader = csv.reader(map(itemgetter(1), lines), delimiter=delimiter)
    header: list[str] | None = None
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                header = [cell.removeprefix("\ufeff").strip() for cell in row]
                break
    except csv.Error as exc:
        issues.append((f"invalid CSV: {exc}", reader.line_num))
        return None
    if header is None:
        issues.append(("empty file (still being written?)", None))
        return None
    cols, error = pick_columns(header)
    if error:
        issues.append((error, reader.line_num))
        return None
    index = {name: i for i, name in reversed(list(enumerate(header)))}
    i_id, i_label = index[cols["id"]], index[cols["label"]]
    i_score = index.get(cols.get("score", ""), -1)
    i_pred = index.get(cols.get("predicted", ""), -1)
    width = len(header)
    table = _Table(cols)
    ids, labels, scores, preds, line_nos, bad = table.ids, table.labels, table.scores, table.predicted, table.lines, table.bad
    while True:  # resumes after a csv.Error (one bad row)
        try:
            for row in reader:
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue
                    bad.append((reader.line_num, f"{len(row)} fields, the header has {width}"))
                    continue
                if len(ids) >= MAX_ROWS:
                    table.truncated = True
                    break
                ids.append(row[i_id])
                labels.append(row[i_label])
                if i_score >= 0:
                    scores.append(row[i_score])
                if i_pred >= 0:
                    preds.append(row[i_pred])
                line_nos.append(reader.line_num)
            break
        except csv.Error as exc:
            bad.append((reader.line_num, f"invalid CSV: {exc}"))
    return table


def _jsonl_table(lines: Iterable[tuple[int, str]], issues: list[Issue]) -> _Table | None:
    """JSON Lines: columns from the first object's keys, then one object a line (parsed in bulk)."""
    numbered = [(number, text) for number, text in lines if text.strip()]
    if not numbered:
        issues.append(("empty file (still being written?)", None))
        return None
    try:  # one parser call for the whole file is several times faster than one per line
        objects: list[Any] = json.loads("[" + ",".join(text for _, text in numbered) + "]")
        if len(objects) != len(numbered):  # a line held two values, e.g. "1, 2"
            raise ValueError
    except (ValueError, RecursionError):
        objects = []
        for number, text in numbered:
            try:
                objects.append(json.loads(text))
            except (ValueError, RecursionError):
                objects.append(_INVALID)
    table: _Table | None = None
    keys: dict[str, str] = {}
    for (number, _), obj in zip(numbered, objects):
        if table is None:
            if obj is _INVALID:
                issues.append(("not read as predictions: the first line is not valid JSON", number))
                return None
            if not isinstance(obj, dict):
                issues.append(("not read as predictions: lines are not JSON objects", number))
                return None
            cols, error = pick_columns(list(obj))
            if error:
                issues.append((error.replace("header", "first object's keys"), number))
                return None
            table = _Table(cols)
            keys = cols
        if obj is _INVALID:
            table.bad.append((number, "invalid JSON"))
            continue
        if not isinstance(obj, dict):
            table.bad.append((number, "not a JSON object"))
            continue
        if len(table.ids) >= MAX_ROWS:
            table.truncated = True
            break
        try:
            ident, label = obj[keys["id"]], obj[keys["label"]]
            score = obj[keys["score"]] if "score" in keys else None
            pred = obj[keys["predicted"]] if "predicted" in keys else None
        except KeyError as exc:
            table.bad.append((number, f"no {exc.args[0]!r}"))
            continue
        if isinstance(ident, (dict, list)) or ident is None:
            table.bad.append((number, "id is not a string or number"))
            continue
        table.ids.append(ident if isinstance(ident, str) else _token(ident))
        table.labels.append(_token(label))
        if "score" in keys:
            table.scores.append(score if isinstance(score, (int, float)) and not isinstance(score, bool) else _token(score))
        if "predicted" in keys:
            table.predicted.append(_token(pred))
        table.lines.append(number)
    return table


_INVALID = object()
"""Stands for a line that is not valid JSON."""


def _token(value: Any) -> str:
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


def _read_parquet(path: Path, ctx: ReadContext, split: str | None, source: str, issues: list[Issue]) -> Predictions | None:
    """Predictions from a Parquet file, when pyarrow is installed."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        issues.append(("Parquet predictions need pyarrow: pip install 'runsift[parquet]'", None))
        return None
    ctx.check_file(path, None)
    try:
        schema = pq.read_schema(path)
        cols, error = pick_columns(list(schema.names))
        if error:
            issues.append((error, None))
            return None
        data = pq.read_table(path, columns=list(dict.fromkeys(cols.values()))).to_pydict()
    except Exception as exc:
        issues.append((f"cannot read Parquet: {clip(str(exc), 120)}", None))
        return None
    n = len(data[cols["id"]])
    table = _Table(cols, row_word="row")
    table.ids = [_token(v) for v in data[cols["id"]][:MAX_ROWS]]
    table.labels = [_token(v) for v in data[cols["label"]][:MAX_ROWS]]
    if "score" in cols:
        table.scores = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else _token(v) for v in data[cols["score"]][:MAX_ROWS]]
    if "predicted" in cols:
        table.predicted = [_token(v) for v in data[cols["predicted"]][:MAX_ROWS]]
    table.lines = list(range(1, min(n, MAX_ROWS) + 1))
    table.truncated = n > MAX_ROWS
    return _build(table, split, source, issues)


# -- converting columns ---------------------------------------------------------------------------------


def _build(table: _Table, split: str | None, source: str, issues: list[Issue]) -> Predictions | None:
    """Typed arrays from raw columns; unreadable rows dropped and reported once."""
    n = len(table.ids)
    ok = np.ones(n, dtype=bool)
    reasons: dict[int, str] = {}

    def reject(rows: Iterable[int], reason: str) -> None:
        for r in rows:
            if ok[r]:
                ok[r] = False
                reasons[r] = reason

    ids = [s.strip() for s in table.ids]
    reject([i for i, s in enumerate(ids) if not s], "empty id")
    reject([i for i, s in enumerate(ids) if len(s) > MAX_ID_CHARS], f"id longer than {MAX_ID_CHARS} characters")
    label_tokens = [s.strip() for s in table.labels]
    if "" in set(label_tokens):
        reject([i for i, s in enumerate(label_tokens) if not s], "empty label")

    scores: NDArray[np.float64] | None = None
    if table.scores:
        scores, bad_scores = _floats(table.scores)
        reject(bad_scores, "score is not a finite number")
    pred_tokens = [s.strip() for s in table.predicted] if table.predicted else None
    if pred_tokens is not None and "" in set(pred_tokens):
        reject([i for i, s in enumerate(pred_tokens) if not s], "empty predicted class")

    label_set = {label_tokens[i] for i in np.flatnonzero(ok)}
    binary_map = _binary_map(label_set)
    columns = dict(table.columns)
    if pred_tokens is not None and binary_map is not None:
        rows = np.flatnonzero(ok)
        if _binary_map({pred_tokens[i] for i in rows} | label_set) is None:
            as_scores, _ = _floats(pred_tokens)
            finite = np.isfinite(as_scores[rows])
            fractional = (as_scores[rows] != 0) & (as_scores[rows] != 1) & finite
            if finite.mean() > 0.5 and fractional.any():
                # a "prediction" column of probabilities: the score, unless there is one already
                name = columns.pop("predicted")
                if scores is None:
                    scores = as_scores
                    columns["score"] = name
                    reject(np.flatnonzero(~np.isfinite(as_scores)).tolist(), "score is not a finite number")
                pred_tokens = None
            else:
                word = {s: _binary_map({s}) is not None for s in {pred_tokens[i] for i in rows}}
                reject((i for i in rows if not word[pred_tokens[i]]), "predicted class is not 0/1 like the labels")
        if pred_tokens is not None:
            binary_map = _binary_map({pred_tokens[i] for i in np.flatnonzero(ok)} | label_set)

    keep = np.flatnonzero(ok)
    if table.bad or keep.size < n:
        bad = sorted([*table.bad, *((table.lines[i], reasons[i]) for i in reasons)])
        line, reason = bad[0]
        many = len(bad) != 1
        message = (
            f"{len(bad):,} row{'s' if many else ''} could not be read and {'were' if many else 'was'} "
            f"skipped (first: {table.row_word} {line}: {reason})"
        )
        issues.append((message, line if table.row_word == "line" else None))
    if table.truncated:
        issues.append((f"more than {MAX_ROWS:,} rows; only the first {MAX_ROWS:,} were read", None))
    if keep.size == 0:
        issues.append(("no readable prediction rows", None))
        return None

    classes: tuple[str, ...] | None
    if binary_map is not None:
        classes = None
        labels = _codes(label_tokens, keep, binary_map, np.int8)
        predicted = _codes(pred_tokens, keep, binary_map, np.int8) if pred_tokens is not None else None
    else:
        values = {label_tokens[i] for i in keep}
        if pred_tokens is not None:
            values |= {pred_tokens[i] for i in keep}
        classes = sort_classes(values)
        code = {c: k for k, c in enumerate(classes)}
        dtype = np.int8 if len(classes) <= 127 else np.int32
        labels = _codes(label_tokens, keep, code, dtype)
        predicted = _codes(pred_tokens, keep, code, dtype) if pred_tokens is not None else None

    id_arr = np.empty(keep.size, dtype=object)
    id_arr[:] = [ids[i] for i in keep] if keep.size < n else ids
    dup = _first_duplicate(id_arr)
    if dup is not None:
        count, value, row = dup
        where = table.lines[keep[row]]
        message = (
            f"{count:,} duplicate id{'s' if count != 1 else ''} (first: {clip(value, 40)!r} again on "
            f"{table.row_word} {where}); the first row of each id is used when comparing runs"
        )
        issues.append((message, where if table.row_word == "line" else None))
    score_arr = None if scores is None else np.ascontiguousarray(scores[keep])
    for arr in (id_arr, labels, score_arr, predicted):
        if arr is not None:
            arr.setflags(write=False)
    return Predictions(
        ids=id_arr,
        labels=labels,
        scores=score_arr,
        predicted=predicted,
        split=split,
        source=source,
        classes=classes,
        columns=columns,
        skipped=len(table.bad) + (n - keep.size),
    )


def _floats(values: Sequence[Any]) -> tuple[NDArray[np.float64], list[int]]:
    """Values as float64 and the indices that are not finite numbers (those are nan in the array)."""
    try:
        arr = np.fromiter(map(float, values), dtype=np.float64, count=len(values))
    except (ValueError, TypeError):
        arr = np.empty(len(values), dtype=np.float64)
        for i, v in enumerate(values):
            try:
                arr[i] = float(v)
            except (ValueError, TypeError):
                arr[i] = math.nan
    bad = np.flatnonzero(~np.isfinite(arr)).tolist()
    return arr, bad


def _binary_map(values: set[str]) -> dict[str, int] | None:
    """token -> 0/1 when every token is a binary label word, else None."""
    lowered = {v: v.lower() for v in values}
    if set(lowered.values()) <= _TRUE | _FALSE:
        return {v: int(low in _TRUE) for v, low in lowered.items()}
    if set(lowered.values()) <= _PLUS_MINUS:
        return {v: int(not low.startswith("-")) for v, low in lowered.items()}
    return None


def _codes(tokens: Sequence[str], keep: NDArray[np.intp], mapping: Mapping[str, int], dtype: Any) -> NDArray[Any]:
    if keep.size == len(tokens):
        return np.fromiter(map(mapping.__getitem__, tokens), dtype=dtype, count=len(tokens))
    return np.fromiter((mapping[tokens[i]] for i in keep), dtype=dtype, count=keep.size)


def sort_classes(values: Iterable[str]) -> tuple[str, ...]:
    """Class names sorted numerically when all are numbers, else as strings."""
    values = list(values)
    try:
        return tuple(sorted(values, key=float))
    except ValueError:
        return tuple(sorted(values))


def _first_duplicate(ids: NDArray[np.object_]) -> tuple[int, str, int] | None:
    """(number of repeated rows, first repeated id, its row index) or None when ids are unique."""
    values = ids.tolist()
    distinct = len(set(values))
    if distinct == len(values):
        return None
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            return len(values) - distinct, value, i
        seen.add(value)
    return None  # pragma: no cover - unreachable


def _names(classes: tuple[str, ...] | None) -> NDArray[np.object_]:
    out = np.empty(2 if classes is None else len(classes), dtype=object)
    out[:] = ("0", "1") if classes is None else classes
    return out


# -- aligning two runs ------------------------------------------------------------------------------------


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
        names_a, names_b = _names(a.classes), _names(b.classes)
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
