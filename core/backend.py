"""The catalog backend boundary: what the app and every command may ask of a catalog, whichever engine holds it.

Two engines implement it: the embedded SQLite cache (:class:`~runsift.core.catalog.Catalog`, the default,
nothing to set up) and a shared PostgreSQL database (:class:`~runsift.core.pgcatalog.SharedCatalog`).
Code that only reads records (the CLI, the app, explain, leaderboards) is typed against :class:`Backend`,
so a third engine is one class, and a test checks both classes expose every member declared here.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from .catalog import RefreshStats
from .query import Filter, Sort
from .records import Problem, Record, Summary
from .rows import Progress


@runtime_checkable
class Backend(Protocol):
    """A catalog of the records below one root: listing, filtering, sorting, reading, refreshing."""

    root: Path
    """Where the root's files are on this host (may not exist for a shared catalog read elsewhere)."""
    problems: builtins.list[Problem]
    """Problems not attached to a record (folders that could not be entered ...)."""
    last_refresh: RefreshStats
    """What the last :meth:`refresh` did."""
    show_deleted: bool
    """List runs a tracker marks deleted too."""
    page_rows: int | None
    """How many rows a screen should ask :meth:`list` for at a time (``None``: the whole list is in memory anyway)."""

    @property
    def reachable(self) -> bool:
        """True when this host can read the root's files (full details, split ids, predictions)."""
        ...

    def close(self) -> None:
        """Let go of the database."""
        ...

    def __enter__(self) -> Backend:
        """The catalog itself, closed on leaving the block."""
        ...

    def __exit__(self, *exc: object) -> None:
        """Close the catalog."""
        ...

    def refresh(self, *, full: bool = False, workers: int | None = None, progress: Progress | None = None) -> RefreshStats:
        """Bring the catalog up to date with the files (or, for a read-only reader, with the database)."""
        ...

    def refresh_records(self, ids: Iterable[str]) -> tuple[builtins.list[str], builtins.list[str]]:
        """Re-read these records if their files changed: ``(changed, gone)`` ids."""
        ...

    def summaries(self) -> builtins.list[Summary]:
        """Every listed record's summary, by id."""
        ...

    def head(self, limit: int) -> tuple[builtins.list[Summary], int]:
        """The first ``limit`` summaries by id and the total count (the app's first frame)."""
        ...

    def list(
        self, *, kind: str | None = None, filters: Iterable[Filter] = (), sort: Sort | None = None,
        limit: int | None = None, offset: int = 0, after: str | None = None,
    ) -> builtins.list[Summary]:
        """Summaries of the records passing every filter, sorted (default: by id); a page is ``limit`` rows from
        ``offset``. ``after``, the id of the row just before ``offset`` as listed before, lets a database start
        the page after that row rather than pass over ``offset`` rows (the result is the same while nothing changed;
        a list in memory ignores it)."""
        ...

    def count(self, *, kind: str | None = None, filters: Iterable[Filter] = (), background: bool = False) -> int:
        """How many records pass the filters. ``background``: the caller shows it when it comes (the app, after a page);
        a database may count it on a connection of its own, so that other queries do not wait for it."""
        ...

    def ids(self, *, kind: str | None = None, filters: Iterable[Filter] = (), sort: Sort | None = None) -> builtins.list[str]:
        """Ids of the matching records in order."""
        ...

    def cancel_counts(self, *, keep: Iterable[Filter] | None = None) -> None:
        """Stop the background :meth:`count` asked last, unless it counts ``keep`` (its list is no longer shown): it
        raises CatalogError."""
        ...

    def presort(self, sorts: Iterable[Sort], cancelled: Callable[[], bool] = ...) -> None:
        """Prepare these sort orders in advance where that helps (a no-op for a database that sorts by index)."""
        ...

    def deleted_count(self) -> int:
        """How many records a tracker marks deleted."""
        ...

    def projects(self) -> builtins.list[str]:
        """Every project name of the listed records, sorted."""
        ...

    def facet(self, key: str, ids: Iterable[str] | None = None) -> dict[str, tuple[str | None, float | None]]:
        """``{record id: (text, number)}`` for one detail key such as ``config.optimizer.lr`` (of ``ids`` only, if given)."""
        ...

    def facet_keys(self) -> builtins.list[str]:
        """Every detail key some record has, sorted."""
        ...

    def metric_names(self, kind: str = "run") -> builtins.list[str]:
        """Final-metric names, most common first."""
        ...

    def get(self, record_id: str) -> Record:
        """The full record with this id (raises RunNotFound)."""
        ...

    def get_many(self, record_ids: Iterable[str]) -> builtins.list[Record]:
        """The full records with these ids that exist, in the order asked (a database reads them in one query)."""
        ...

    def resolve(self, ref: str, *, kind: str | None = None, cwd: str | None = None) -> str:
        """The id ``ref`` names: an id, a path below the root, or a unique end of an id."""
        ...


MEMBERS = (
    "root", "problems", "last_refresh", "show_deleted", "page_rows", "reachable", "close", "__enter__", "__exit__", "refresh",
    "refresh_records", "summaries", "head", "list", "count", "cancel_counts", "ids", "presort", "deleted_count", "projects", "facet",
    "facet_keys", "metric_names", "get", "get_many", "resolve",
)
"""Every member of :class:`Backend` (a conformance test checks it against the protocol and both engines)."""


def pages(
    catalog: Backend, *, kind: str | None = None, filters: Iterable[Filter] = (), sort: Sort | None = None, size: int,
) -> Iterator[builtins.list[Summary]]:
    """A list ``size`` rows at a time, each page asked after the last row of the one before (keyset on a database),
    so a million-record list is written out without being held whole. Pages are read one by one: a record another
    host indexes meanwhile may show or not, but a record that stays is listed once."""
    filters = tuple(filters)
    offset, after = 0, None
    while True:
        rows = catalog.list(kind=kind, filters=filters, sort=sort, limit=size, offset=offset, after=after)
        if rows:
            yield rows
        if len(rows) < size:
            return
        offset, after = offset + len(rows), rows[-1].id
