"""Per-step metric logs, ``metrics.jsonl`` and ``metrics.csv``, as series and the final values they end on."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from ..safeio import Unreadable, parse_json
from ._metric_common import NON_METRIC_ROW_KEYS, STEP_KEYS, ParsedMetrics, _Builder, _Columns, _debom, _is_mapping, _number, _row_into, _step, _Tally


def parse_metrics_jsonl(lines: Iterable[tuple[int, str]]) -> ParsedMetrics:
    """Parse a ``metrics.jsonl`` log from (line number, text) pairs: one JSON object per line with a step key.

    Blank lines are skipped. An invalid last line is reported as truncated (the run
    may still be writing it); earlier lines are kept. Without any step key, the
    n-th object is step n.
    """
    b = _Builder()
    found: dict[str, dict[float, float]] = {}
    columns: _Columns = {}
    step_key: str | None = None
    positional = False
    index = 0
    pending: tuple[int, str] | None = None
    invalid = _Tally()
    missing_step = _Tally()
    skipped = _Tally()
    for number, text in _debom(lines):
        if not text.strip():
            continue
        if pending is not None:
            invalid.add(pending[0], pending[1])
            pending = None
        try:
            obj = parse_json(text)
        except Unreadable as exc:
            pending = (number, exc.message)
            continue
        if not _is_mapping(obj):
            invalid.add(number, f"a {type(obj).__name__}, not an object")
            continue
        index += 1
        if step_key is None and not positional:
            step_key = next((k for k in STEP_KEYS if k in obj), None)
            positional = step_key is None
        if positional:
            step: float | None = float(index)
        elif step_key in obj:
            step = _step(obj[step_key])
        else:
            step = None
        if step is None:
            missing_step.add(number, step_key or "")
            continue
        _row_into(found, obj, step, "", skipped, number, columns)
    if invalid.count:
        b.note(f"{invalid.count} line(s) not valid JSON objects, skipped ({invalid.detail})", invalid.first)
    if pending is not None:
        b.note("last line is not complete JSON (truncated or still being written?); ignored", pending[0])
    if missing_step.count:
        b.note(f"{missing_step.count} line(s) without a numeric '{step_key}', skipped", missing_step.first)
    if skipped.count:
        b.note(f"{skipped.count} non-numeric value(s) skipped (first: '{skipped.detail}')", skipped.first)
    if index == 0 and not invalid.count and pending is None:
        b.note("no data lines (still being written?)")
    for name, points in found.items():
        b.add_series(name, points, "the log")
    return b.result()


def parse_metrics_csv(lines: Iterable[tuple[int, str]], delimiter: str = ",") -> ParsedMetrics:
    """Parse a per-step CSV log from (line number, text) pairs: a header, a step column, metric columns.

    The step column is the first header named in :data:`STEP_KEYS` (``step``
    before ``epoch``), else the first column. Cells may hold ``nan``/``inf``.
    Blank or non-numeric cells are skipped and reported once per file with the
    first offending line.
    """
    b = _Builder()
    where = [0]

    def texts() -> Iterator[str]:
        for number, text in _debom(lines):
            where[0] = number
            yield text

    reader = csv.reader(texts(), delimiter=delimiter)
    header: list[str] | None = None
    step_col = 0
    metric_cols: list[tuple[int, str]] = []
    found: dict[str, dict[float, float]] = {}
    bad_cells = _Tally()
    bad_steps = _Tally()
    ragged = _Tally()
    rows = 0
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                lowered = [h.lower() for h in header]
                step_col = next((lowered.index(k) for k in STEP_KEYS if k in lowered), 0)
                seen: set[str] = set()
                for col, name in enumerate(header):
                    low = name.lower()
                    if col == step_col or low in STEP_KEYS or low in NON_METRIC_ROW_KEYS:
                        continue
                    if not name:
                        b.note(f"column {col + 1} has no name; ignored", where[0])
                        continue
                    if name in seen:
                        b.note(f"column '{name}' appears twice; the later one is ignored", where[0])
                        continue
                    seen.add(name)
                    metric_cols.append((col, name))
                continue
            rows += 1
            line = where[0]
            if len(row) > len(header):
                ragged.add(line, "")
            step = _step(row[step_col]) if step_col < len(row) else None
            if step is None:
                bad_steps.add(line, row[step_col] if step_col < len(row) else "")
                continue
            for col, name in metric_cols:
                cell = row[col].strip() if col < len(row) else ""
                value = _number(cell, loose=True) if cell else None
                if value is None:
                    bad_cells.add(line, f"column '{name}': {cell!r}")
                    continue
                found.setdefault(name, {})[step] = value
    except csv.Error as exc:
        b.note(f"unreadable CSV: {exc}; rest of the file ignored", where[0])
    if header is None:
        b.note("empty file (still being written?)")
    elif rows == 0:
        b.note("header only, no data rows (still being written?)")
    if bad_steps.count:
        step_name = header[step_col] if header and step_col < len(header) else "step"
        b.note(
            f"{bad_steps.count} row(s) without a numeric '{step_name}' skipped (first value {bad_steps.detail!r})",
            bad_steps.first,
        )
    if bad_cells.count:
        b.note(f"{bad_cells.count} blank or non-numeric cell(s) skipped (first: {bad_cells.detail})", bad_cells.first)
    if ragged.count:
        b.note(f"{ragged.count} row(s) have more cells than the header; extra cells ignored", ragged.first)
    for name, points in found.items():
        b.add_series(name, points, "the log")
    return b.result()
