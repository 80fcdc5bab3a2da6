"""An A/B kit's assignment and event logs (CSV, JSON lines, Parquet): their columns found, rows counted or replayed by streaming."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..records import ABTest
from ..safeio import ReadContext, Unreadable

UNIT_COLUMNS: tuple[str, ...] = (
    "user_id",
    "unit_id",
    "unit",
    "visitor_id",
    "anonymous_id",
    "session_id",
    "device_id",
    "account_id",
    "customer_id",
    "member_id",
    "cookie_id",
)
"""Assignment log columns accepted as the randomization unit when the definition does not name one present."""

VARIANT_COLUMNS: tuple[str, ...] = (
    "variant",
    "variant_id",
    "variant_name",
    "variation",
    "arm",
    "group",
    "bucket",
    "cohort",
    "treatment",
    "treatment_group",
    "condition",
    "assignment",
    "assigned_variant",
)
"""Assignment log columns accepted as the variant."""


_PARQUET_MISSING = "Parquet needs the optional pyarrow extra"


# -- logs -----------------------------------------------------------------------
def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "tsv" if suffix == ".tsv" else "csv"


def _lines(ctx: ReadContext, path: Path) -> Iterator[str]:
    for _, text in ctx.iter_lines(path):
        yield text + "\n"  # csv needs the newline to keep line breaks inside quoted cells


def find_unit_column(columns: Iterable[str], unit: str | None = None) -> str | None:
    """The column of ``columns`` holding the randomization unit, or None.

    Tried in order (case-insensitively): the definition's ``unit`` itself,
    ``<unit>_id``, then :data:`UNIT_COLUMNS`.
    """
    by_lower = {c.strip().lower(): c for c in columns}
    wanted: list[str] = []
    if unit:
        wanted += [unit.lower(), f"{unit.lower()}_id"]
    for name in wanted + list(UNIT_COLUMNS):
        if name in by_lower:
            return by_lower[name]
    return None


def find_variant_column(columns: Iterable[str]) -> str | None:
    """The column of ``columns`` holding the assigned variant (see :data:`VARIANT_COLUMNS`), or None."""
    by_lower = {c.strip().lower(): c for c in columns}
    return next((by_lower[n] for n in VARIANT_COLUMNS if n in by_lower), None)


def _check_columns(path: Path, ctx: ReadContext, columns: list[str], unit: str | None, line: int | None) -> None:
    if find_unit_column(columns, unit) is None:
        expected = f"{unit!r}, " if unit else ""
        ctx.problem(
            path,
            f"assignment log has no unit column (expected {expected}one of {', '.join(UNIT_COLUMNS[:4])} ...;"
            f" found {', '.join(columns) or 'none'})",
            line,
        )
    if find_variant_column(columns) is None:
        ctx.problem(
            path,
            f"assignment log has no variant column (expected one of {', '.join(VARIANT_COLUMNS[:5])} ...;"
            f" found {', '.join(columns) or 'none'})",
            line,
        )


def count_rows(
    path: Path, ctx: ReadContext, *, check_assignment_columns: bool = False, unit: str | None = None
) -> int | None:
    """Data rows of a CSV/TSV (header excluded), JSON-lines or Parquet log, counted by streaming.

    Returns None, with a problem recorded, when the file cannot be read. With
    ``check_assignment_columns`` the header (first JSON object, Parquet schema)
    must have a unit column and a variant column, else a problem is recorded.
    """
    fmt = _format(path)
    try:
        if fmt == "parquet":
            return _count_parquet(path, ctx, check_assignment_columns, unit)
        if fmt == "jsonl":
            return _count_jsonl(path, ctx, check_assignment_columns, unit)
        return _count_csv(path, ctx, "\t" if fmt == "tsv" else ",", check_assignment_columns, unit)
    except Unreadable as exc:
        ctx.problem(path, exc.message, exc.line)
        return None


def _count_csv(path: Path, ctx: ReadContext, delimiter: str, check: bool, unit: str | None) -> int | None:
    reader = csv.reader(_lines(ctx, path), delimiter=delimiter)
    header: list[str] | None = None
    rows = 0
    bad = 0
    first_bad: int | None = None
    prev_end = 0
    try:
        for cells in reader:
            start, prev_end = prev_end + 1, reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                if check:
                    _check_columns(path, ctx, header, unit, start)
                continue
            rows += 1
            if len(cells) != len(header):
                bad += 1
                first_bad = first_bad or start
    except csv.Error as exc:
        ctx.problem(path, f"CSV error: {exc}; row count unknown", prev_end + 1)
        return None
    if header is None:
        ctx.problem(path, "empty log (no header row)")
        return 0
    if bad:
        message = f"{bad:,} row(s) have a different number of cells than the header (first here)"
        ctx.problem(path, message, first_bad)
    return rows


def _count_jsonl(path: Path, ctx: ReadContext, check: bool, unit: str | None) -> int:
    rows = 0
    bad = 0
    first_bad: int | None = None
    checked = not check
    for number, text in ctx.iter_lines(path):
        text = text.strip()
        if not text:
            continue
        rows += 1
        if not checked:
            checked = True
            try:
                first = json.loads(text)
            except ValueError:
                first = None
            if isinstance(first, Mapping):
                _check_columns(path, ctx, [str(k) for k in first], unit, number)
            else:
                checked = False  # try the next line
        if not (text.startswith("{") and text.endswith("}")):
            bad += 1
            first_bad = first_bad or number
    if bad:
        ctx.problem(path, f"{bad:,} line(s) are not JSON objects (first here); counted anyway", first_bad)
    return rows


def _count_parquet(path: Path, ctx: ReadContext, check: bool, unit: str | None) -> int | None:
    ctx.check_file(path, None)
    try:
        import pyarrow.parquet as pq  # optional
    except ImportError:
        ctx.problem(path, _PARQUET_MISSING)
        return None
    try:
        meta = pq.ParquetFile(path)
        if check:
            _check_columns(path, ctx, list(meta.schema_arrow.names), unit, None)
        return int(meta.metadata.num_rows)
    except Exception as exc:
        ctx.problem(path, f"cannot read Parquet: {exc}")
        return None


# -- replaying logs ----------------------------------------------------------------
def iter_assignments(root: Path, abtest: ABTest, ctx: ReadContext | None = None) -> Iterator[dict[str, Any]]:
    """Rows of the kit's assignment log as dicts, streamed; see :func:`iter_log`."""
    yield from iter_log(root, abtest.assignment_log, ctx, what="assignment log")


def iter_events(root: Path, abtest: ABTest, ctx: ReadContext | None = None) -> Iterator[dict[str, Any]]:
    """Rows of the kit's event log as dicts, streamed; see :func:`iter_log`."""
    yield from iter_log(root, abtest.events_log, ctx, what="event log")


def iter_log(
    root: Path, rel: str | None, ctx: ReadContext | None = None, *, what: str = "log"
) -> Iterator[dict[str, Any]]:
    """Rows of the log at ``rel`` (relative to the catalog ``root``) as dicts, streamed.

    CSV/TSV rows come from :class:`csv.DictReader` (short rows get None, extra
    cells go under the key None). JSON-lines rows are the objects; lines that are
    not JSON objects are skipped and reported to ``ctx`` when given. Parquet needs
    pyarrow. Raises :class:`Unreadable` when there is no log, when it lies (or
    links) outside the root, or cannot be opened.
    """
    if not rel:
        raise Unreadable(f"no {what} in this record")
    guard = ReadContext(Path(root), problems=ctx.problems if ctx is not None else [])
    path = guard.root / rel
    if Path(rel).is_absolute() or not guard.inside_root(path):
        raise Unreadable(f"{what} {rel} is outside the catalog root; refused")
    fmt = _format(path)
    if fmt == "parquet":
        yield from _iter_parquet(guard, path)
    elif fmt == "jsonl":
        for number, text in guard.iter_lines(path):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except ValueError as exc:
                guard.problem(path, f"not JSON ({exc}); line skipped", number)
                continue
            except RecursionError:
                guard.problem(path, "JSON nested too deeply to read; line skipped", number)
                continue
            if not isinstance(row, dict):
                guard.problem(path, "not a JSON object; line skipped", number)
                continue
            yield row
    else:
        yield from csv.DictReader(_lines(guard, path), delimiter="\t" if fmt == "tsv" else ",")


def _iter_parquet(guard: ReadContext, path: Path) -> Iterator[dict[str, Any]]:
    guard.check_file(path, None)
    try:
        import pyarrow.parquet as pq  # optional
    except ImportError:
        raise Unreadable(_PARQUET_MISSING) from None
    try:
        batches = pq.ParquetFile(path).iter_batches()
    except Exception as exc:
        raise Unreadable(f"cannot read Parquet: {exc}") from None
    for batch in batches:
        yield from batch.to_pylist()
