"""The catalog: every record below a root, indexed in an SQLite cache kept outside it.

``Catalog.open(root)`` walks the root, re-reads only records whose files changed
since the cache was written (size or mtime), drops records that disappeared, and
answers list/filter/sort queries from real SQL columns so that a 100k-run list is
quick. Full records are loaded one at a time with :meth:`Catalog.get`.
"""

from __future__ import annotations

import builtins
import contextlib
import difflib
import functools
import hashlib
import json
import operator
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from . import cachefile, formats
from .cachefile import CacheCorrupt, CacheUnusable, crc, verified
from .discover import (
    FolderMemo,
    Found,
    Held,
    Memo,
    RunMemo,
    Walk,
    discover,
    is_utf8,
    relist,
    settled_key,
    shown,
)
from .facetcols import Column, FacetColumns
from .gcpause import paused_gc
from .places import is_inside
from .query import Filter, Sort, compile_tests, refines, sort_rows
from .records import Problem, Record, Summary
from .rows import RETRY, Progress, Reader, Row, compact, read_row
from .serialize import from_dict

MAX_ORDERS = 32
"""Sorted orders kept per refresh (a list of pointers each: 0.8 MB at 100k runs)."""

class CatalogError(Exception):
    """A catalog-level failure the user must act on (bad root, cache inside the root ...)."""


class RunNotFound(CatalogError):
    """No record matches the reference; ``candidates`` lists near misses."""

    def __init__(self, ref: str, candidates: list[str]) -> None:
        hint = f"; did you mean: {', '.join(candidates)}" if candidates else ""
        super().__init__(f"no run matches {ref!r}{hint}")
        self.ref = ref
        self.candidates = candidates


class AmbiguousRun(CatalogError):
    """Several records match the reference; ``candidates`` lists them."""

    def __init__(self, ref: str, candidates: list[str], total: int | None = None) -> None:
        """``total``: how many match, when ``candidates`` holds only the first of them."""
        total = len(candidates) if total is None else total
        shown = ", ".join(candidates[:10]) + (" ..." if total > 10 else "")
        super().__init__(f"{ref!r} matches {total} records: {shown}; give more of the path")
        self.ref = ref
        self.candidates = candidates


@dataclass(frozen=True, slots=True)
class RefreshStats:
    """What a refresh did."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    listed: int = 0
    """Records whose files were listed one by one; the rest were known unchanged from folder times."""
    seconds: float = 0.0


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/runsift`` (``~/.cache/runsift`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "runsift"


def root_key(root: Path) -> str:
    """A file-name-safe key for a root: its folder name plus a hash of its absolute path."""
    root = Path(os.path.realpath(root))
    digest = hashlib.sha256(str(root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in root.name)[:40] or "root"
    return f"{safe}-{digest}"


def cache_path_for(root: Path, cache_dir: Path | None = None) -> Path:
    """Cache file of a root: one per absolute root path, named so a person can tell which."""
    return Path(cache_dir or default_cache_dir()) / f"{root_key(root)}.sqlite"


SETTLED = frozenset({"finished", "failed"})
"""Statuses of runs that are done: a quick walk trusts their folder and live files' times."""
QUIET_NS = 24 * 3600 * 1_000_000_000
"""A run not yet finished but untouched for this long (a killed job) is trusted like a settled one."""
SETTLED_NS = QUIET_NS
"""A settled run whose folder and live files (metrics, status, error log) were untouched for this long
when a walk last looked at them is checked by its folder's time alone: a quick walk stops looking at
its live files (one ``stat`` a run instead of two or three at 100k runs). A file added, removed or
renamed still changes the folder's time; a live file edited in place is then seen by a full walk or
by opening the run (see "The cache" in the README)."""


class _Cached(NamedTuple):
    """A cached record as a refresh compares it with what the walk found."""

    fingerprint: str
    status: str
    kind: str
    project: str
    sweep: str | None

    def differs(self, found: Found) -> bool:
        """True when the record must be read again: its files changed, or where it sits does
        (a folder that stops being a sweep leaves its runs' files as they were).

        The walk's project is not compared: it is the name of a folder in the id (or the root's),
        so it cannot change while the id stays, and the cache holds the record's own project
        (a tracker's experiment name), which is not the walk's."""
        return (self.fingerprint, self.kind, self.sweep) != (found.fingerprint, found.kind, found.sweep)


_P = ParamSpec("_P")
_T = TypeVar("_T")


def _heals(method: Callable[Concatenate[Catalog, _P], _T]) -> Callable[Concatenate[Catalog, _P], _T]:
    """Run a catalog method; when the cache turns out damaged, rebuild it (once) and run the method again.

    The cache is only a cache: what it held is read again from the runs, never shown from a damaged file.
    """

    def healing(self: Catalog, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if self._healing or not cachefile.is_corruption(exc):
                raise
            self._heal(exc)
            return method(self, *args, **kwargs)

    functools.update_wrapper(healing, method)  # not @wraps: its _Wrapped type hides the signature from mypy
    return healing


class Catalog:
    """Records below one root, backed by an SQLite cache (on disk, or in memory with ``use_cache=False``)."""

    page_rows: int | None = None
    """``None``: every list is cut from the summaries held in memory, so a screen asks for it whole."""

    def __init__(self, root: Path, db: sqlite3.Connection, cache_file: Path | None) -> None:
        self.root = root
        self.db = db
        self.cache_file = cache_file
        self.problems: list[Problem] = []
        """Problems not attached to a record (folders that could not be entered ...)."""
        self.last_refresh = RefreshStats()
        self.show_deleted = False
        """List runs a tracker marks deleted too (MLflow's deleted runs are left out by default)."""
        self._summaries: list[Summary] | None = None
        self._facets = FacetColumns()
        self._last_query: tuple[list[Summary] | None, str | None, Sort | None, tuple[Filter, ...], list[Summary]] | None = None
        """The last filtered list: the summaries it came from, kind, sort, filters, and the rows."""
        self._orders: dict[Sort, list[Summary]] = {}
        self._orders_of: list[Summary] | None = None
        """The summaries list ``_orders`` was sorted from: a new list (after a refresh) voids them."""
        self._lock = threading.RLock()
        """One connection, several threads (the app's workers): every use of ``db`` holds this."""
        self.cache_problems: list[Problem] = []
        """Warnings about the cache itself (unusable, found damaged and rebuilt): shown with :attr:`problems`."""
        self._healing = False
        self._workers: int | None = None

    # -- opening ---------------------------------------------------------------
    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str],
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        refresh: bool = True,
        full: bool = False,
        workers: int | None = None,
        progress: Progress | None = None,
        show_deleted: bool = False,
    ) -> Catalog:
        """Open the catalog of ``root``; with ``refresh`` bring the cache up to date with the disk.

        ``full`` lists every file of every record instead of trusting folder times (see :meth:`refresh`).
        ``show_deleted`` lists runs a tracker marks deleted too (they can always be shown by id).
        """
        root_path = Path(os.path.realpath(os.fspath(root)))
        if not root_path.is_dir():
            raise CatalogError(f"{os.fspath(root)!r} is not a folder")
        if not is_utf8(str(root_path)):
            raise CatalogError(
                f"the path {shown(str(root_path))} is not valid UTF-8, which the index cannot hold; "
                "rename the folder or open it through a link with a UTF-8 name"
            )
        cache_file: Path | None = None
        warning: Problem | None = None
        db: sqlite3.Connection | None = None
        if use_cache:
            cache_file = cache_path_for(root_path, Path(cache_dir) if cache_dir else None)
            if is_inside(cache_file.parent, root_path):
                raise CatalogError(
                    f"the cache folder {cache_file.parent} is inside the runs folder; runsift never writes "
                    "there. Choose another --cache-dir or use --no-cache"
                )
            try:
                db = cachefile.connect(cache_file, root_path)
            except CacheUnusable as exc:
                warning = Problem(str(cache_file), f"{exc}; the index is kept in memory for this session (nothing is saved)")
                cache_file = None
        if db is None:
            db = cachefile.memory()
        catalog = cls(root_path, db, cache_file)
        catalog.show_deleted = show_deleted
        if warning is not None:
            catalog.cache_problems.append(warning)
        if refresh:
            catalog.refresh(full=full, workers=workers, progress=progress)
        return catalog

    def _heal(self, exc: BaseException) -> None:
        """Replace a damaged cache with a new one (in memory when the file cannot be made again) and re-index."""
        with self._lock:
            self._healing = True
            try:
                with contextlib.suppress(sqlite3.Error):
                    self.db.close()
                db: sqlite3.Connection | None = None
                where = str(self.cache_file) if self.cache_file is not None else "the in-memory index"
                if self.cache_file is not None:
                    cachefile.remove(self.cache_file)
                    try:
                        db = cachefile.connect(self.cache_file, self.root)
                    except CacheUnusable:
                        self.cache_file = None
                reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                then = "rebuilt from the runs" if db is not None else "rebuilt in memory for this session"
                self.cache_problems.append(Problem(where, f"the cache was damaged ({reason}); {then}"))
                self.db = db if db is not None else cachefile.memory()
                self._summaries = self._last_query = self._orders_of = None
                self._facets.forget()
                self._orders = {}
                self.refresh(full=True, workers=self._workers)
            finally:
                self._healing = False

    @property
    def reachable(self) -> bool:
        """True while the root's files can be read (always, for the embedded catalog, unless the folder went away)."""
        return self.root.is_dir()

    def close(self) -> None:
        """Close the cache."""
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- indexing ----------------------------------------------------------------
    @_heals
    def refresh(
        self, *, full: bool = False, workers: int | None = None, progress: Progress | None = None
    ) -> RefreshStats:
        """Walk the root; read new and changed records, drop vanished ones.

        The quick walk (default) re-lists only folders whose mtime changed, and trusts a finished
        run whose folder and live files (metrics, status, error log) are unchanged, or, once it has
        been settled and untouched for :data:`SETTLED_NS`, whose folder is: a file edited in place
        that the quick walk does not watch is noticed by :meth:`get` or by ``full=True``, which
        lists every file of every record.
        """
        started = time.perf_counter()
        self._workers = workers
        with paused_gc():  # 100k ids and memo entries: collections would walk them again and again
            # The ids as they are before the walk: what another process stores meanwhile (the app and
            # a command on one cache) is not taken for removed.
            known, memo, settling = (self._ids(), None, []) if full else self._memo()
        with Reader(self.root, workers) as reader:

            def found(record: Found) -> None:  # new records are read while the walk goes on
                if record.id not in known and record.kind != "sweep":
                    reader.add(record)

            with paused_gc():  # ~10 small objects a file, none cyclic: a third of a full walk otherwise
                walk = discover(self.root, memo, on_found=found)
                self.problems = [*self.cache_problems, *walk.problems]
            with self._lock:
                cached = self._cached([f.id for f in walk.found if f.id in known])
            changed = [f for f in walk.found if f.id in cached and cached[f.id].differs(f)]
            for f in changed:
                reader.add(f)
            for f in walk.found:
                if f.kind == "sweep" and f.id not in known:  # its members are complete only now
                    reader.add(f)
            held: set[str] = set()
            if walk.held:  # a locked store's runs stay, marked as last read
                with self._lock, self.db:
                    held = _hold(self.db, walk.held)
            removed = list(known.difference(walk.kept, (f.id for f in walk.found), held))
            if removed or held:
                with self._lock, self.db:
                    for ids in _chunks(removed, 500):
                        _delete(self.db, ids)
                    self._stored([*removed, *held])
            statuses = {rid: c.status if not c.fingerprint.startswith(RETRY) else RETRY for rid, c in cached.items()}
            for batch in reader.rows(progress):
                with self._lock, self.db:  # short transactions: readers in other threads get turns
                    _store(self.db, batch)
                    self._stored([row[0] for row in batch])
                statuses.update((row[0], row[5] if not row[12].startswith(RETRY) else RETRY) for row in batch)
        if settling:  # the settled runs this walk kept whose memo still names live files
            kept = set(walk.kept)
            settling = [(rid, key) for rid, key in settling if rid in kept]
        self._save_memo(walk, memo, statuses, settling)
        self.last_refresh = RefreshStats(
            added=reader.added - len(changed),
            changed=len(changed),
            removed=len(removed),
            unchanged=len(walk.kept) + len(walk.found) - reader.added,
            listed=len(walk.found),
            seconds=time.perf_counter() - started,
        )
        return self.last_refresh

    def _stored(self, ids: builtins.list[str]) -> None:
        """These records were stored or deleted (the caller holds the lock): the list is read again when asked (kept
        when nothing changed: a 100k list costs 1 s), their detail values patched into the kept columns."""
        self._summaries = None
        self._facets.changed(self.db, ids)

    def refresh_records(self, ids: Iterable[str]) -> tuple[list[str], list[str]]:
        """List these runs' folders again and re-read those whose files changed: ``(changed, gone)`` ids.

        For a watcher that knows which folders changed: a running run costs one listing and one read,
        not a walk of the root. Records that are not runs, or whose folder is gone, are returned in
        ``gone`` for a :meth:`refresh` to settle.
        """
        changed: list[str] = []
        gone: list[str] = []
        for record_id in ids:
            with self._lock:
                row = self.db.execute("SELECT kind, fingerprint, project, sweep FROM records WHERE id = ?", (record_id,)).fetchone()
            found = relist(self.root, record_id, row[2], row[3]) if row is not None and row[0] == "run" else None
            if found is None:
                gone.append(record_id)
            elif found.fingerprint != row[1]:
                fresh = read_row(found, self.root)
                with self._lock, self.db:
                    _store(self.db, [fresh])
                    self._stored([fresh[0]])
                changed.append(record_id)
        return changed, gone

    def _ids(self) -> set[str]:
        """Ids of every cached record."""
        with self._lock:
            return {rid for (rid,) in self.db.execute("SELECT id FROM records")}

    def _cached(self, ids: list[str]) -> dict[str, _Cached]:
        """What the cache holds of these records, to tell whether a listed one changed."""
        out: dict[str, _Cached] = {}
        for chunk in _chunks(ids, 500):
            rows = verified(self.db.execute(f"SELECT {_COLS} FROM records WHERE id IN ({','.join('?' * len(chunk))})", chunk))
            out.update((row[0], _Cached(row[12], row[5], row[1], row[2], row[8])) for row in rows)
        return out

    def _memo(self) -> tuple[set[str], Memo, list[tuple[str, RunMemo]]]:
        """The ids of every cached record, the walk memo stored by the last refresh (empty for a new cache),
        and the memo entries of settled runs that still name live files (the walk may let them go).

        Read in one snapshot of the cache (whatever other processes write meanwhile). Only runs with a
        cached record are in the memo: an entry left without one (by an interrupted refresh, or one
        raced by another process) would otherwise hide its run for good.
        """
        with self._lock:
            began = not self.db.in_transaction
            if began:
                self.db.execute("BEGIN")
            try:
                return self._read_memo()
            finally:
                if began:
                    self.db.commit()

    def _read_memo(self) -> tuple[set[str], Memo, list[tuple[str, RunMemo]]]:
        """:meth:`_memo`'s queries, in the caller's transaction."""
        folders = {
            path: FolderMemo(mtime, tuple(json.loads(subdirs)), sweep)
            for path, mtime, subdirs, sweep, _ in verified(self.db.execute("SELECT path, mtime_ns, subdirs, sweep, crc FROM walk_folders"))
        }
        known: set[str] = set()
        add = known.add
        settled: dict[str, str] = {}  # runs settled long ago (most of a big root): their folder's key alone
        runs: dict[str, RunMemo] = {}
        names: dict[str, tuple[str, ...]] = {}  # most runs share one list of live files: split it once
        settles: dict[str, bool] = {}  # and whether a settled run of them can drop some (MLflow's cannot)
        settling: list[tuple[str, RunMemo]] = []
        rows = self.db.execute(
            "SELECT r.id, w.key, w.live, CASE WHEN w.live != '' THEN r.status END FROM records r LEFT JOIN walk_runs w USING (id)"
        )
        for rid, key, live, status in rows:  # 100k times on a warm open: the common case first, and no tuple
            add(rid)
            if live == "":
                settled[rid] = key
            elif key is not None:
                live_names = names.get(live)
                if live_names is None:
                    live_names = names[live] = tuple(live.split("\n"))
                run = runs[rid] = (key, live_names)
                if status in SETTLED:
                    can = settles.get(live)
                    if can is None:
                        can = settles[live] = not all(formats.live_when_settled(n) for n in live_names)
                    if can:
                        settling.append((rid, run))
        return known, Memo(folders, runs, settled), settling

    def _save_memo(
        self, walk: Walk, memo: Memo | None, statuses: Mapping[str, str], settling: Iterable[tuple[str, RunMemo]] = ()
    ) -> None:
        """Store what this walk learnt: changed folders, and quick keys of the settled runs it listed.

        A settled run whose folder and live files are older than :data:`SETTLED_NS` gets the key of
        its folder alone; ``settling`` are runs the walk kept that may now have become so.
        """
        old = memo.folders if memo is not None else {}
        folders = [
            (*values, crc(values))
            for path, m in walk.folders.items()
            if old.get(path) != m and is_utf8(path, *m.subdirs)
            for values in [(path, m.mtime_ns, json.dumps(m.subdirs), m.sweep)]
        ]
        gone = [(path,) for path in old if path not in walk.folders]
        runs: list[tuple[str, str, str]] = []
        dropped: list[tuple[str]] = []
        now = time.time_ns()
        quiet_since, settled_since = now - QUIET_NS, now - SETTLED_NS
        for f in walk.found:
            key = walk.run_keys.get(f.id)
            status = statuses.get(f.id)
            if (
                key is None
                or status == RETRY  # read with a read error: listed again every time until it reads
                or not is_utf8(*key[1])  # live file names; the id itself was checked by the walk
                or not (status in SETTLED or max((x.mtime_ns for x in f.files), default=0) < quiet_since)
            ):
                dropped.append((f.id,))  # a run still being written (or a sweep, an A/B record) is listed on every walk
                continue
            if status in SETTLED:
                key = settled_key(key, settled_since) or key
            runs.append((f.id, key[0], "\n".join(key[1])))
        for rid, key in settling:  # kept by this walk, settled, and now untouched long enough
            settled = settled_key(key, settled_since)
            if settled is not None:
                runs.append((rid, settled[0], "\n".join(settled[1])))
        with self._lock, self.db:
            if memo is None:
                self.db.execute("DELETE FROM walk_folders")
                self.db.execute("DELETE FROM walk_runs")
            self.db.executemany("DELETE FROM walk_folders WHERE path = ?", gone)
            self.db.executemany("INSERT OR REPLACE INTO walk_folders VALUES (?,?,?,?,?)", folders)
            self.db.executemany("DELETE FROM walk_runs WHERE id = ?", dropped)
            self.db.executemany("INSERT OR REPLACE INTO walk_runs VALUES (?,?,?)", runs)

    # -- queries -----------------------------------------------------------------
    @_heals
    def summaries(self) -> list[Summary]:
        """Every record's summary, by id; loaded once per refresh and kept in memory."""
        with self._lock:
            if self._summaries is None:
                with paused_gc():
                    if not self.db.in_transaction:
                        self.db.execute("BEGIN")  # rows and totals from one snapshot, whatever other processes write
                    try:
                        rows = verified(self.db.execute(f"SELECT {_COLS} FROM records ORDER BY id"))
                        n, x = cachefile.totals(self.db)
                    finally:
                        self.db.commit()
                    if len(rows) != n or functools.reduce(operator.xor, (row[14] for row in rows), 0) != x:
                        raise CacheCorrupt(f"the cache holds {len(rows)} records where it wrote {n}, or other ones")
                    show_deleted = self.show_deleted
                    self._summaries = [_summary(row) for row in rows if show_deleted or not row[13]]
            return self._summaries

    @_heals
    def head(self, limit: int) -> tuple[list[Summary], int]:
        """The first ``limit`` summaries by id and the total count, without loading the rest.

        Lets the app paint its first screen at once on a huge catalog while the full list loads.
        """
        with self._lock:
            if self._summaries is not None:
                return self._summaries[:limit], len(self._summaries)
            rows = verified(self.db.execute(f"SELECT {_COLS} FROM records {self._shown} ORDER BY id LIMIT ?", (limit,)))
            head = [_summary(row) for row in rows]
            total = cachefile.totals(self.db)[0]  # as stored by the last write (summaries() checks it against the rows)
            if not self.show_deleted:
                total -= self.deleted_count()
        return head, total

    @property
    def _shown(self) -> str:
        """The WHERE clause of the records a list shows: runs a tracker marks deleted only when asked for."""
        return "" if self.show_deleted else "WHERE deleted = 0"

    @_heals
    def deleted_count(self) -> int:
        """How many records a tracker marks deleted (left out of lists unless ``show_deleted``)."""
        with self._lock:
            return int(self.db.execute("SELECT COUNT(*) FROM records WHERE deleted = 1").fetchone()[0])

    @_heals
    def facet(self, key: str, ids: Iterable[str] | None = None) -> Column:
        """``{record id: (text, number)}`` for one detail key such as ``config.optimizer.lr`` (of ``ids`` only, if given):
        cut out of each record's facets by SQLite, a key at a time (:mod:`.facetcols`)."""
        with self._lock:
            if ids is None:
                return dict(self._facets.column(self.db, key))  # a copy: the kept column is patched as records change
            return self._facets.of(self.db, key, ids)

    @_heals
    def facet_keys(self) -> builtins.list[str]:
        """Every detail key some record has (``config.optimizer.lr`` ...), sorted: what a filter, sort or column may name."""
        with self._lock:
            return self._facets.keys(self.db)

    def list(
        self,
        *,
        kind: str | None = None,
        filters: Iterable[Filter] = (),
        sort: Sort | None = None,
        limit: int | None = None,
        offset: int = 0,
        after: str | None = None,
    ) -> builtins.list[Summary]:
        """Summaries of the records that pass every filter, sorted (default: by id). ``after`` (the id of the row
        before ``offset``) is not needed: the list is in memory, and a slice of it passes over ``offset`` at once."""
        filters = tuple(filters)
        everything = self.summaries()  # one list throughout: a refresh in another thread may replace it
        rows = self._ordered(sort, everything) if sort is not None else everything
        last = self._last_query
        if last is not None and last[0] is everything and last[1:3] == (kind, sort) and refines(filters, last[3]):
            rows = last[4]  # typing "fr" after "f": only the rows that matched "f" can match "fr"
        tests = compile_tests(filters, self.facet)
        with paused_gc():
            if kind is not None:
                rows = [r for r in rows if r.kind == kind]
            for test in tests:  # one pass per filter, in sorted order
                rows = [r for r in rows if test(r)]
        if filters:
            with self._lock:
                if everything is self._summaries:  # not a result of a list that is gone
                    self._last_query = (everything, kind, sort, filters, rows)
        if limit is not None:
            return rows[offset : offset + limit]
        return rows[offset:] if offset else list(rows)

    def cancel_counts(self, *, keep: Iterable[Filter] | None = None) -> None:
        """Nothing to stop: a list in memory counts at once."""

    def presort(self, sorts: Iterable[Sort], cancelled: Callable[[], bool] = lambda: False) -> None:
        """Sort in advance (e.g. by each column a table shows), so that asking for one later is instant."""
        for sort in sorts:
            if cancelled():
                return
            self._ordered(sort, self.summaries())

    def _ordered(self, sort: Sort, everything: builtins.list[Summary]) -> builtins.list[Summary]:
        """``everything`` (the current summaries) in ``sort`` order, remembered until the next refresh.

        A filter typed while a 100k-row list is sorted then only filters; a sort is paid once per key.
        """
        with self._lock:
            if self._orders_of is not everything:
                self._orders, self._orders_of = {}, everything
            ordered = self._orders.get(sort)
        if ordered is None:
            with paused_gc():  # 100k sort keys: otherwise full collections take most of the time
                ordered = sort_rows(everything, sort, self.facet, in_id_order=True)
            with self._lock:
                if self._orders_of is everything:
                    if len(self._orders) >= MAX_ORDERS:
                        self._orders.pop(next(iter(self._orders)))
                    self._orders[sort] = ordered
        return ordered

    def count(self, *, kind: str | None = None, filters: Iterable[Filter] = (), background: bool = False) -> int:
        """How many records pass the filters (``background`` changes nothing for a list in memory)."""
        return len(self.list(kind=kind, filters=filters))

    def ids(self, *, kind: str | None = None, filters: Iterable[Filter] = (), sort: Sort | None = None) -> builtins.list[str]:
        """Ids of the matching records in order."""
        return [r.id for r in self.list(kind=kind, filters=filters, sort=sort)]

    def get_many(self, record_ids: Iterable[str]) -> builtins.list[Record]:
        """The full records with these ids that exist, in the order asked (each as :meth:`get` gives it)."""
        out = []
        for record_id in dict.fromkeys(record_ids):
            try:
                out.append(self.get(record_id))
            except RunNotFound:
                continue
        return out

    @_heals
    def get(self, record_id: str) -> Record:
        """The full record with this id (raises RunNotFound).

        A run is listed again first and re-read if any of its files changed since it was indexed,
        so what is shown is never older than the disk, even between quick walks.
        """
        if not is_utf8(record_id):
            raise RunNotFound(shown(record_id), [])
        with self._lock:
            row = self.db.execute(f"SELECT {_COLS} FROM records WHERE id = ?", (record_id,)).fetchone()
            details = self.db.execute("SELECT id, detail, dcrc FROM details WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise RunNotFound(record_id, self._near(record_id))
        if details is None:
            raise CacheCorrupt(f"the cache has a record {record_id!r} without its details")
        verified([row, details])
        detail = details[1]
        kind, fingerprint, project, sweep = row[1], row[12], row[2], row[8]
        if kind == "run":
            found = relist(self.root, record_id, project, sweep)
            if found is not None and found.fingerprint != fingerprint:
                fresh = read_row(found, self.root)
                with self._lock, self.db:
                    _store(self.db, [fresh])
                    self._stored([fresh[0]])
                detail = fresh[-1]
        return from_dict(json.loads(detail))

    def projects(self) -> builtins.list[str]:
        """Every project name of the listed records, sorted."""
        return sorted({r.project for r in self.summaries()})

    def metric_names(self, kind: str = "run") -> builtins.list[str]:
        """Final-metric names in the catalog, most common first."""
        counts: dict[str, int] = {}
        for row in self.summaries():
            if row.kind == kind:
                for name in row.metrics:
                    counts[name] = counts.get(name, 0) + 1
        return sorted(counts, key=lambda name: (-counts[name], name))

    def resolve(self, ref: str, *, kind: str | None = None, cwd: str | None = None) -> str:
        """The id of the record ``ref`` names: an id, a path, or a unique suffix of an id."""
        return resolve_ref(self.ids(kind=kind), self.root, ref, cwd)

    def _near(self, ref: str, ids: builtins.list[str] | None = None) -> builtins.list[str]:
        return near_ids(ref, ids if ids is not None else self.ids())


def ref_forms(root: Path, ref: str, cwd: str | None = None) -> tuple[str, str | None]:
    """``ref`` as an id is written (``/`` between parts, none at the end), and as the id of the path it names
    from ``cwd`` (None when that path is not below ``root``): the two exact forms :func:`resolve_ref` looks for."""
    candidate = Path(cwd or os.getcwd(), ref).resolve() if not os.path.isabs(ref) else Path(ref).resolve()
    try:
        as_id: str | None = candidate.relative_to(root).as_posix()
    except ValueError:
        as_id = None
    return ref.strip().rstrip("/").replace(os.sep, "/"), as_id


def resolve_ref(ids: builtins.list[str], root: Path, ref: str, cwd: str | None = None) -> str:
    """The one of ``ids`` that ``ref`` names: an id, a path (from ``cwd``) below ``root``, or a unique end of an id.

    Raises :class:`AmbiguousRun` with the candidates, or :class:`RunNotFound` with close names.
    """
    known = set(ids)
    ref_clean, as_id = ref_forms(root, ref, cwd)
    if ref_clean in known:
        return ref_clean
    if as_id is not None and as_id in known:
        return as_id
    matches = [i for i in ids if i.endswith("/" + ref_clean) or i.rsplit("/", 1)[-1] == ref_clean]
    if not matches:
        matches = [i for i in ids if ref_clean in i.rsplit("/", 1)[-1]]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AmbiguousRun(ref, matches)
    raise RunNotFound(ref, near_ids(ref_clean, ids))


def near_ids(ref: str, ids: builtins.list[str]) -> builtins.list[str]:
    """Up to five ids whose last part is close to ``ref``'s (for "did you mean")."""
    names = {i.rsplit("/", 1)[-1]: i for i in ids}
    close = difflib.get_close_matches(ref.rsplit("/", 1)[-1], list(names), n=5, cutoff=0.6)
    return [names[c] for c in close]


# -- cache plumbing -------------------------------------------------------------------


_COLS = "id, kind, project, name, path, status, started, run_number, sweep, n_problems, problems, metrics, fingerprint, deleted, crc"
"""Every ``records`` column in table order: a row is read whole, to check it against its CRC."""


def _forget_totals(db: sqlite3.Connection, ids: list[str]) -> tuple[int, int]:
    """The ``records`` totals with these ids' rows taken out (they are about to be deleted or replaced)."""
    cachefile.begin(db)
    n, x = cachefile.totals(db)
    for chunk in _chunks(ids, 500):
        for (old,) in db.execute(f"SELECT crc FROM records WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            n, x = n - 1, x ^ old
    return n, x


def _delete(db: sqlite3.Connection, ids: list[str]) -> None:
    """Forget these records, and their walk memo in the same transaction."""
    if ids:
        marks = ",".join("?" * len(ids))
        cachefile.set_totals(db, *_forget_totals(db, ids))
        db.execute(f"DELETE FROM records WHERE id IN ({marks})", ids)
        db.execute(f"DELETE FROM details WHERE id IN ({marks})", ids)
        db.execute(f"DELETE FROM walk_runs WHERE id IN ({marks})", ids)


def _hold(db: sqlite3.Connection, held: list[Held]) -> set[str]:
    """Ids of the cached runs of stores the walk could not list now, each given the store's note once,
    and a fingerprint no listing has, so the run is read again as soon as its store can be."""
    out: set[str] = set()
    for h in held:
        note = {"file": h.note.file, "message": h.note.message, "line": h.note.line}
        prefix = f"{h.rel}/" if h.rel else ""
        rows = db.execute(
            "SELECT r.id, r.kind, r.project, r.name, r.path, r.status, r.started, r.run_number, r.sweep, r.n_problems,"
            " r.problems, r.metrics, r.fingerprint, r.deleted, d.facets, d.detail"
            " FROM records r JOIN details d USING (id) WHERE r.path = ?",
            (h.folder,),
        )
        rewritten: list[Row] = []
        for row in rows.fetchall():
            if not row[0].startswith(prefix):
                continue
            out.add(row[0])
            listed = json.loads(row[10])
            if note not in listed:
                record = json.loads(row[15])
                record["problems"] = [note, *record.get("problems", [])]
                # Through _store, so the rows' checksums and the table's totals stay those of what is stored.
                rewritten.append((*row[:9], len(listed) + 1, json.dumps([note, *listed]), row[11], "", row[13], row[14], compact(record)))
        if rewritten:
            _store(db, rewritten)
    return out


def _store(db: sqlite3.Connection, rows: list[Row]) -> None:
    """Write rows from :func:`read_row`: the list columns to ``records``, facets and detail to ``details``."""
    rows = list({row[0]: row for row in rows}.values())  # one row per id, or the totals would count one twice
    n, x = _forget_totals(db, [row[0] for row in rows])
    records = [(*row[:14], crc(row[:14])) for row in rows]
    for record in records:
        n, x = n + 1, x ^ record[14]
    db.executemany("INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", records)
    db.executemany(
        "INSERT OR REPLACE INTO details VALUES (?,?,?,?,?)",
        [(row[0], row[14], row[15], crc((row[0], row[14])), crc((row[0], row[15]))) for row in rows],
    )
    cachefile.set_totals(db, n, x)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _summary(row: Sequence[Any]) -> Summary:
    """A list row from a whole ``records`` row (:data:`_COLS`)."""
    problems = tuple(Problem(p["file"], p["message"], p.get("line")) for p in json.loads(row[10])) if row[10] != "[]" else ()
    search = f"{row[0]}\0{row[3]}\0{row[2]}".lower()
    return Summary(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], json.loads(row[11]), problems, search)
