"""Reading an A/B kit's assignment and event logs: formats, safe paths, column names, rows and times.

CSV and TSV are read with the :mod:`csv` module itself (the scan's hot loop indexes its rows);
JSON lines and Parquet go through :func:`runsift.core.readers.abtest.iter_log`.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .abspec import ReplayError
from .readers.abtest import iter_log
from .safeio import ReadContext, Unreadable

EXPERIMENT_COLUMNS: tuple[str, ...] = ("experiment_id", "experiment", "exp_id", "experiment_key", "experiment_name", "test_id")
EXPOSURE_COLUMNS: tuple[str, ...] = (
    "assigned_at", "exposed_at", "exposure_time", "exposure_at", "first_exposure_at", "exposure_timestamp",
    "assignment_time", "assigned_time", "timestamp", "time", "ts", "created_at",
)
"""Assignment log columns accepted as the exposure time, in order of preference."""
EVENT_NAME_COLUMNS: tuple[str, ...] = ("event", "event_name", "event_type", "name", "type", "action")
EVENT_TIME_COLUMNS: tuple[str, ...] = (
    "event_time", "event_timestamp", "timestamp", "time", "ts", "occurred_at", "created_at", "datetime",
)
SCHEMA_COLUMNS: tuple[str, ...] = ("schema_version", "event_version", "schema", "version")
PARQUET_EXTRA = "runsift[parquet]"

_UTC = UTC
_fromiso = datetime.fromisoformat


def log_format(path: str) -> str:
    """csv, tsv, jsonl or parquet, from the file name."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "tsv" if suffix == ".tsv" else "csv"


def checked_path(root: Path, rel: str | None, what: str) -> Path:
    """The log's path after the same root checks as :func:`iter_log`; raise ReplayError."""
    if not rel:
        raise ReplayError(f"no {what} in this kit")
    guard = ReadContext(Path(root))
    path = guard.root / rel
    if Path(rel).is_absolute() or not guard.inside_root(path):
        raise ReplayError(f"{what} {rel} is outside the catalog root; refused")
    if log_format(rel) == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401 - optional
        except ImportError:
            raise ReplayError(
                f"{what} {rel} is Parquet, which needs pyarrow: install the optional extra {PARQUET_EXTRA} "
                f"(pip install '{PARQUET_EXTRA}')"
            ) from None
    try:
        guard.check_file(path, None)
    except Unreadable as exc:
        raise ReplayError(f"{what} {rel}: {exc.message}") from None
    return path


def log_columns(root: Path, rel: str, path: Path) -> list[str]:
    """Column names of a log: the CSV header, the first JSON object's keys or the Parquet schema; raise ReplayError.

    A log that cannot be opened, a header cell past the csv module's field limit (128 KiB)
    or an unreadable first line is the replay's error, said with the log's name.
    """
    try:
        return _log_columns(root, rel, path)
    except Unreadable as exc:
        raise ReplayError(f"{rel}: {exc.message}") from None
    except OSError as exc:
        raise ReplayError(f"{rel}: cannot read: {exc.strerror or exc}") from None
    except csv.Error as exc:
        raise ReplayError(f"{rel}: not a readable CSV header ({exc})") from None


def _log_columns(root: Path, rel: str, path: Path) -> list[str]:
    fmt = log_format(rel)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return [str(n) for n in pq.ParquetFile(path).schema_arrow.names]
    if fmt == "jsonl":
        for row in iter_log(root, rel):
            return [str(k) for k in row]
        return []
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        for cells in csv.reader(fh, delimiter="\t" if fmt == "tsv" else ","):
            if cells and any(c.strip() for c in cells):
                return [c.strip() for c in cells]
    return []


@contextmanager
def open_rows(root: str, rel: str, path: str, names: Sequence[str]) -> Iterator[Iterator[Sequence[Any]]]:
    """Data rows of a log as sequences aligned with ``names``: for CSV the csv module's reader itself."""
    fmt = log_format(rel)
    if fmt in ("csv", "tsv"):
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
            reader = csv.reader(fh, delimiter="\t" if fmt == "tsv" else ",")
            for cells in reader:  # skip to the header (blank lines before it)
                if cells and any(c.strip() for c in cells):
                    break
            yield reader
        return
    yield ([_as_cell(row.get(n)) for n in names] for row in iter_log(Path(root), rel))


def _as_cell(value: Any) -> Any:
    """A JSON/Parquet value as the scan expects: text, or a datetime kept as is."""
    if value is None or isinstance(value, (str, datetime)):
        return "" if value is None else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def find_column(columns: Sequence[str], candidates: Sequence[str], preferred: str | None = None) -> int:
    """Index of the first column named like ``preferred`` or one of ``candidates`` (any case), else -1."""
    lower = [c.strip().lower() for c in columns]
    for name in ([preferred] if preferred else []) + list(candidates):
        if name and name.lower() in lower:
            return lower.index(name.lower())
    return -1


def slow_time(value: Any) -> datetime | None:
    """A timezone-aware datetime from ISO text (``Z``, ``/``, space), a datetime or epoch seconds/ms; else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=_UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    for candidate in (text, text.replace("/", "-"), text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text):
        try:
            t = _fromiso(candidate)
        except ValueError:
            continue
        return t if t.tzinfo is not None else t.replace(tzinfo=_UTC)
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    try:
        return datetime.fromtimestamp(number / 1000 if abs(number) > 1e11 else number, tz=_UTC)
    except (OverflowError, OSError, ValueError):
        return None
