"""Records read into the rows both catalogs store: the list columns, the facets filters ask for, the record JSON.

:class:`Reader` reads them as a walk finds them, in worker processes for many records (a spawn pool) and in
the caller's process for a few; :func:`read_row` is what each worker does for one record.
"""

from __future__ import annotations

import collections
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .discover import Found
from .loader import load
from .mappings import flatten
from .query import as_number
from .records import status_source
from .serialize import from_dict, to_dict

ROWS_VERSION = 1
"""Bumped whenever what :func:`read_row` makes of a record changes (a new field, a reader's fix): the embedded
cache is rebuilt for another, and a shared catalog stores each row's fingerprint :func:`stamped` with it, so an
indexer reads again exactly the rows another version wrote (an indexer of an older version, too)."""
PARALLEL_MIN = 400
"""Below this many records to read, a process pool costs more than it saves."""

Row = tuple[Any, ...]
"""What :func:`read_row` gives for one record: the ``records`` columns in order, then facets and detail."""
Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while records are read."""


class Reader:
    """Reads records as the walk finds them: in the caller's process for a few, in a spawn pool for many.

    New records go to the pool while the walk goes on, so reading overlaps walking on a cold index;
    records that need a fingerprint comparison (or, like sweeps, their whole walk) are added afterwards.
    """

    TASK = 64
    """Records per pool task: large enough to amortise the transfer, small enough to spread the work."""

    def __init__(self, root: Path, workers: int | None) -> None:
        self.root = root
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
        self.pending: list[Found] = []
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Future[list[Row]]] = []
        """Submitted tasks not yet taken by :meth:`rows`."""
        self.added = 0

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def add(self, found: Found) -> None:
        """Queue one record; once PARALLEL_MIN are queued, start the pool and hand it work in tasks."""
        self.pending.append(found)
        self.added += 1
        if self.pool is None and self.workers > 1 and self.added >= PARALLEL_MIN:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"))
        if self.pool is not None and len(self.pending) >= self.TASK:
            self._submit()

    def _submit(self) -> None:
        assert self.pool is not None
        self.futures.append(self.pool.submit(_read_rows, self.pending, self.root))
        self.pending = []

    def rows(self, progress: Progress | None) -> Iterator[list[Row]]:
        """Batches of rows of every added record, reporting ``progress(done, total)``."""
        total, done = self.added, 0
        if progress:
            progress(0, total)
        if self.pool is not None:
            if self.pending:
                self._submit()
            batches: Iterator[list[Row]] = self._results()
        else:
            batches = (_read_rows(self.pending[i : i + 200], self.root) for i in range(0, len(self.pending), 200))
        for batch in batches:
            done += len(batch)
            if progress:
                progress(done, total)
            yield batch

    def _results(self) -> Iterator[list[Row]]:
        """Results in submission order, each let go once taken (a 100k index would keep 1 GB of rows)."""
        futures = collections.deque(self.futures)
        self.futures = []
        while futures:
            yield futures.popleft().result()


def stamped(fingerprint: str) -> str:
    """A record's fingerprint as a shared catalog stores it: with the :data:`ROWS_VERSION` that read it."""
    return f"r{ROWS_VERSION}:{fingerprint}"


def _read_rows(found: list[Found], root: Path) -> list[Row]:
    """Rows of several records (one pool task)."""
    return [read_row(f, root) for f in found]


def read_row(found: Found, root: Path) -> Row:
    """Read one record and flatten it into cache rows (runs in a worker process)."""
    try:
        record = load(found, root)
        detail = to_dict(record)
    except Exception as exc:
        detail = {
            "kind": found.kind,
            "id": found.id,
            "path": str(found.dir),
            "project": found.project,
            "name": found.name,
            "problems": [{"file": found.id, "message": f"runsift could not read this record: {type(exc).__name__}: {exc}", "line": None}],
        }
        record = from_dict(detail)
        detail = to_dict(record)
    try:
        detail_text = compact(detail)
    except ValueError:  # an integer of more than 4,300 digits: str() refuses it, so JSON cannot hold it
        detail = _bounded(detail)
        detail_text = compact(detail)
    final = detail.get("metrics", {}).get("final", {}) if found.kind == "run" else {}
    problems = detail.get("problems", [])
    return (
        found.id,
        found.kind,
        detail.get("project") or found.project,  # a tracker's own experiment and run names, where it records them
        detail.get("name") or found.name,
        str(found.dir),
        detail.get("status", "unknown"),
        detail.get("started"),
        _sqlite_int(detail.get("run_number")),
        detail.get("sweep"),
        len(problems),
        json.dumps(problems),
        json.dumps(final),
        RETRY + found.fingerprint if any(_is_read_error(p.get("message", "")) for p in problems) else found.fingerprint,
        1 if detail.get("deleted") else 0,
        compact({key: [text, num] for key, text, num in _facets(detail)}),
        detail_text,
    )


RETRY = "retry:"
"""Prefix of the fingerprint stored for a record read with a read error: it matches no listing, so the
record is read again on the next refresh (a file made readable again, a folder renamed back)."""
_READ_ERRORS = ("cannot read", "cannot list", "could not read this record", "no such file", "permission denied",
                "input/output error", "stale file handle")
"""Problem texts (lower case) of errors that may pass: unlike a bad value, they say nothing about the file's content."""


def _is_read_error(message: str) -> bool:
    """True when a problem says a file could not be read (rather than what it holds is wrong)."""
    lowered = message.lower()
    return any(marker in lowered for marker in _READ_ERRORS)


INT64 = 2**63
"""SQLite's INTEGER holds -2^63 .. 2^63-1; a run number outside it (a folder named run-9223372036854775808) is stored as missing."""


def _sqlite_int(value: Any) -> int | None:
    """``value`` when SQLite can hold it as an INTEGER, else None (the record still lists)."""
    if isinstance(value, int) and not isinstance(value, bool) and -INT64 <= value < INT64:
        return value
    return None


def _huge_int_text(value: int) -> str:
    """Text for an integer too long for str() (over 4,300 digits): its size, not its digits."""
    digits = int(abs(value).bit_length() * math.log10(2)) + 1
    return f"{'-' if value < 0 else ''}<integer of about {digits} digits>"


def _bounded(value: Any) -> Any:
    """``value`` with every integer too long for str() replaced by :func:`_huge_int_text`, so JSON can hold it."""
    if isinstance(value, dict):
        return {key: _bounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_bounded(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            str(value)
        except ValueError:
            return _huge_int_text(value)
    return value


compact = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
"""JSON for the cache's big columns: no spaces, no cycle check (records are trees)."""


def _real(value: Any) -> float | None:
    """The number a filter compares, or None: non-finite values (and integers past a float's range) never satisfy a comparison."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer above ~1.8e308
            return None
        return number if math.isfinite(number) else None
    return None


def _facets(detail: Mapping[str, Any]) -> Iterator[tuple[str, str | None, float | None]]:
    """Flattened details a filter or sort may ask for: config.*, data.*, seeds.*, env.python/os, code.*, tags.*, and
    what a tracker recorded: source (format), user, host, exit_code, ended, duration, error."""
    if detail.get("kind", "run") != "run":
        return
    for key, value in flatten(detail.get("config", {}), "config."):
        yield _facet(key, value)
    for key, value in (detail.get("seeds") or {}).items():
        yield _facet(f"seeds.{key}", value)
    data = detail.get("data") or {}
    for key in ("name", "version", "format", "rows"):
        if data.get(key) is not None:
            yield _facet(f"data.{key}", data[key])
    for key, value in {**(data.get("hashes") or {}), **(data.get("extra") or {})}.items():
        yield _facet(f"data.{key}", value)
    env = detail.get("env") or {}
    for key in ("python", "os"):
        if env.get(key) is not None:
            yield _facet(f"env.{key}", env[key])
    code = detail.get("code") or {}
    for key in ("commit", "dirty"):
        if code.get(key) is not None:
            yield _facet(f"code.{key}", code[key])
    for key, value in (detail.get("tags") or {}).items():
        yield _facet(f"tags.{key}", value)
    source = detail.get("source") or {}
    if source.get("format"):
        yield _facet("source", source["format"])
    guessed = source.get("guessed") or ()
    if detail.get("started") is not None:  # a start time read from file times is a guess: say so wherever it shows
        yield _facet("started_source", "guessed" if "started" in guessed else "recorded")
    said = status_source(detail.get("status"), guessed)  # likewise a status inferred from how a run's files end
    if said is not None:
        yield _facet("status_source", said)
    for key in ("user", "host", "exit_code", "ended", "duration", "error"):
        if detail.get(key) is not None:
            yield _facet(key, detail[key])


def _facet(key: str, value: Any) -> tuple[str, str | None, float | None]:
    if isinstance(value, bool):
        return key, "true" if value else "false", None
    if isinstance(value, (int, float)):
        try:
            text = repr(value)
        except ValueError:  # an integer of more than 4,300 digits
            text = _huge_int_text(int(value))
        return key, text, _real(value)
    if value is None:
        return key, None, None
    if isinstance(value, (list, dict)):
        return key, json.dumps(_bounded(value), sort_keys=True, default=str), None
    text = str(value)
    number = as_number(text)  # rules out most words without float()'s exception
    return key, text, number if number is not None and math.isfinite(number) else None
