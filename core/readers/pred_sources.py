"""Rows of a predictions file streamed from CSV/TSV, JSON Lines or Parquet into :class:`Rows`, batch by batch."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

from ..fmt import clip
from .pred_columns import pick_columns, token
from .pred_rows import BATCH, MAX_ROWS, Rows, TooBig

Issue = tuple[str, int | None]


def csv_rows(lines: Iterable[tuple[int, str]], delimiter: str, issues: list[Issue]) -> Rows | None:
    """Stream a CSV/TSV: header, then rows gathered in batches; None (with an issue) without usable columns."""
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
    rows = Rows(cols)
    # cells go straight into flat lists of str (row lists are not kept: thousands of live
    # containers would make the garbage collector walk them over and over)
    line_nos: list[int] = []
    ids: list[str] = []
    labels: list[str] = []
    scores: list[str] = []
    preds: list[str] = []

    def flush() -> None:
        rows.add(line_nos, ids, labels, scores if i_score >= 0 else None, preds if i_pred >= 0 else None)
        for cells in (line_nos, ids, labels, scores, preds):
            cells.clear()

    while True:  # resumes after a csv.Error (one bad row)
        try:
            for row in reader:
                if len(row) != width:
                    if row and not (len(row) == 1 and not row[0].strip()):
                        rows.bad(reader.line_num, f"{len(row)} fields, the header has {width}")
                    continue
                ids.append(row[i_id])
                labels.append(row[i_label])
                if i_score >= 0:
                    scores.append(row[i_score])
                if i_pred >= 0:
                    preds.append(row[i_pred])
                line_nos.append(reader.line_num)
                if len(ids) >= BATCH:
                    flush()
            break
        except csv.Error as exc:
            rows.bad(reader.line_num, f"invalid CSV: {exc}")
    flush()
    return rows


def jsonl_rows(lines: Iterable[tuple[int, str]], issues: list[Issue]) -> Rows | None:
    """JSON Lines: columns from the first object's keys, then objects parsed a batch of lines at a time."""
    rows: Rows | None = None
    keys: dict[str, str] = {}
    for batch in _batches(((n, t) for n, t in lines if t.strip()), BATCH):
        objects = _parse_batch([text for _, text in batch])
        line_nos: list[int] = []
        ids: list[str] = []
        labels: list[str] = []
        scores: list[Any] = []
        preds: list[str] = []
        for (number, _), obj in zip(batch, objects):
            if rows is None:
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
                rows, keys = Rows(cols), cols
            if obj is _INVALID:
                rows.bad(number, "invalid JSON")
                continue
            if not isinstance(obj, dict):
                rows.bad(number, "not a JSON object")
                continue
            try:
                ident, label = obj[keys["id"]], obj[keys["label"]]
                score = obj[keys["score"]] if "score" in keys else None
                pred = obj[keys["predicted"]] if "predicted" in keys else None
            except KeyError as exc:
                rows.bad(number, f"no {clip(str(exc.args[0]), 40)!r}")
                continue
            if isinstance(ident, (dict, list)) or ident is None:
                rows.bad(number, "id is not a string or number")
                continue
            ids.append(ident if isinstance(ident, str) else token(ident))
            labels.append(token(label))
            scores.append(score if isinstance(score, (int, float)) and not isinstance(score, bool) else token(score))
            preds.append(token(pred))
            line_nos.append(number)
        if rows is not None:
            rows.add(line_nos, ids, labels, scores if "score" in keys else None, preds if "predicted" in keys else None)
    if rows is None:
        issues.append(("empty file (still being written?)", None))
    return rows


_INVALID = object()
"""Stands for a line that is not valid JSON."""


def _parse_batch(texts: list[str]) -> list[Any]:
    """JSON values of lines: one parser call for the batch (several times faster), else line by line."""
    try:
        objects: list[Any] = json.loads("[" + ",".join(texts) + "]")
        if len(objects) == len(texts):  # else a line held two values, e.g. "1, 2"
            return objects
    except (ValueError, RecursionError):
        pass
    out: list[Any] = []
    for text in texts:
        try:
            out.append(json.loads(text))
        except (ValueError, RecursionError):
            out.append(_INVALID)
    return out


def _batches(items: Iterable[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def parquet_rows(path: Path, issues: list[Issue]) -> Rows | None:
    """Rows of a Parquet file read a batch at a time, when pyarrow is installed."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        issues.append(("Parquet predictions need pyarrow: pip install 'runsift[parquet]'", None))
        return None
    try:
        file = pq.ParquetFile(path)
        cols, error = pick_columns(list(file.schema_arrow.names))
        if error:
            issues.append((error, None))
            return None
        if file.metadata.num_rows > MAX_ROWS:
            raise TooBig(f"more than {MAX_ROWS:,} rows; predictions not read (the bound on rows held in memory)")
        rows = Rows(cols, row_word="row")
        first = 1
        for batch in file.iter_batches(batch_size=BATCH, columns=list(dict.fromkeys(cols.values()))):
            data = batch.to_pydict()
            n = batch.num_rows
            score = None
            if "score" in cols:
                score = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else token(v) for v in data[cols["score"]]]
            rows.add(
                range(first, first + n),
                [token(v) for v in data[cols["id"]]],
                [token(v) for v in data[cols["label"]]],
                score,
                [token(v) for v in data[cols["predicted"]]] if "predicted" in cols else None,
            )
            first += n
    except TooBig:
        raise
    except Exception as exc:
        issues.append((f"cannot read Parquet: {clip(str(exc), 120)}", None))
        return None
    return rows
