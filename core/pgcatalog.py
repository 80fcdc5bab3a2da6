"""A shared catalog in PostgreSQL: several indexers write it, any host reads it, filters and sorts run in SQL.

The same records, query language and record JSON as the embedded SQLite :class:`~runsift.core.catalog.Catalog`
(the tests run one suite over both). Records are keyed by a root *name* and their id, paths are kept
relative to the root, and a reader on another host maps the name to its own path (``--root-map``).
Every value a filter or sort may ask for is one row of ``vals`` (text, lower-case text, number, sort
class), written by :mod:`runsift.core.sqlquery` rules so that SQL answers what :mod:`runsift.core.query`
answers in memory. SQL is built only from fixed text and bound parameters.

Needs the optional ``psycopg`` driver (``pip install 'runsift[postgres]'``).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import itertools
import json
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from .catalog import (
    AmbiguousRun,
    CatalogError,
    RefreshStats,
    RunNotFound,
    _summary,
    near_ids,
    ref_forms,
)
from .discover import discover, is_utf8
from .pgschema import (
    DDL,
    FACET_KEYS,
    LOCK,
    PROJECT_PLAN,
    SCHEMA_CURRENT,
    add_search_index,
    analyze,
    lock_out_writers,
    upgrade_projects,
)
from .query import Filter, Sort
from .records import Problem, Record, Summary
from .rows import Progress, Reader, stamped
from .serialize import from_dict
from .sqlquery import (
    BY_ID,
    COLUMNS,
    MISSING,
    NUMBER,
    NUMBERS_KEY,
    TEXTS_KEY,
    SortPart,
    TieGroup,
    after_cond,
    column_filter,
    column_passing,
    column_sort_parts,
    db_text,
    filter_sql,
    like_escaped,
    project_values,
    slice_sql,
    sort_parts,
    tie_values_sql,
    values_of,
    vkey,
    walk_sql,
)

COLUMN_VALUES_MAX = 10_000
"""A :data:`~runsift.core.sqlquery.COLUMNS` field with more distinct values than this is filtered through ``vals``."""
SORT_GROUPS_MAX = 64
"""A sort by such a field is one slice a value only up to this many values (a query each, until the page is full)."""
AMBIGUOUS_SHOWN = 1000
"""An ambiguous reference lists at most this many of its matches (and says how many there are)."""
NEAR_POOL = 20_000
"""Ids a "did you mean" compares the reference with, at most."""
GET_MANY_BATCH = 2000
"""Records :meth:`SharedCatalog.get_many` reads in one query (~15 MB of record JSON)."""
WALK_SHARE = 0.3
"""The share of records a filter on :data:`~runsift.core.sqlquery.COLUMNS` must pass for a metric sort to walk the
metric's index in order (a page then fills within a few thousand values); a filter passing fewer has its matches
found first."""
WALK_CAP = 4
"""A page through ``vals`` filters is first looked for among this many pages of records in the list's order
(:meth:`SharedCatalog._walked`): found there when the filters pass a quarter of them, else ~10 µs a record lost."""
WALK_MAX = 20_000
"""Records such a walk looks at, at most (~0.2 s lost when it fails): a list reloaded with 100k rows held would
otherwise walk 400k."""
TIE_VALUES_MAX = 16
"""A sort's numbers or texts slice is read a tie group at a time (:meth:`SharedCatalog._ties`) when its key has at most
this many distinct values there (a config key: ``config.batch_size``); a key with more (a metric) keeps the index's order,
its ties small. Finding them costs a probe a value (17 at most: 0.4-0.8 ms at 100k records)."""
FACET_IDS_MAX = 50_000
"""More ids than this and :meth:`SharedCatalog.facet` reads the key's every value and keeps theirs: an array
of a million ids probes the primary key a million times, where one pass over the key's values is cheaper."""


@dataclass(frozen=True)
class Resume:
    """Where a page after a listed row starts (:meth:`SharedCatalog._resume`)."""

    slice: int
    """The index of the row's slice."""
    cond: str
    """The condition of that slice's rows after the row (:func:`~runsift.core.sqlquery.after_cond`)."""
    params: list[Any]
    """The parameters of :attr:`cond`."""
    after: str
    """The row's id."""
    value: Any = None
    """The row's sort value in a numbers or texts slice (``num`` or ``ltext``: what its tie group is, :meth:`SharedCatalog._ties`)."""


class ConnectionLost(CatalogError):
    """The catalog's connection was lost during a query (a server restarted, a network dropped): asked again, a
    read runs on a new connection (:func:`_once_more`)."""


_T = TypeVar("_T")
_P = ParamSpec("_P")


def _once_more(read: Callable[Concatenate[SharedCatalog, _P], _T]) -> Callable[Concatenate[SharedCatalog, _P], _T]:
    """A read asked again, once, when it raised :class:`ConnectionLost` (``_tx`` opens a new connection first). Only
    the outermost such read on a thread is asked again (``ids`` calls ``list``: once, not twice), and never one inside
    a transaction already open on the thread (its statements must all run on one connection)."""

    @functools.wraps(read)
    def asked(self: SharedCatalog, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        local = self._local
        if getattr(local, "depth", 0) or getattr(local, "asking", False):
            return read(self, *args, **kwargs)
        local.asking = True
        try:
            try:
                return read(self, *args, **kwargs)
            except ConnectionLost:
                return read(self, *args, **kwargs)
        finally:
            local.asking = False

    return asked


KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
"""TCP keepalives (libpq's): a server gone without a word (a network dropped) ends a waiting query in about a minute,
as a lost connection, rather than leaving it, and the catalog's lock, waiting for ever."""
SIDE_RETRY = 60.0
"""Seconds before a side connection that could not be opened is tried again (counts run on the main one meanwhile)."""


_MISSING = object()


def mask(url: str) -> str:
    """The URL with any password replaced by ``***``, for messages."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
    except ImportError:  # pragma: no cover - reported by _connect
        return "<catalog URL>"
    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return "<catalog URL>"
    if "password" in parts:
        parts["password"] = "***"
    return make_conninfo("", **{k: v for k, v in parts.items() if v is not None})


def _connect(url: str) -> Any:
    """A psycopg connection; errors name the server but never the password."""
    try:
        import psycopg
    except ImportError:
        raise CatalogError("a PostgreSQL catalog needs psycopg: pip install 'runsift[postgres]'") from None
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = conninfo_to_dict(url)
    except Exception:  # libpq's message quotes the bad part, which may be the password
        raise CatalogError("cannot connect to the catalog: its URL is not a PostgreSQL URL or connection string "
                           "(not shown: it may hold a password)") from None
    keepalives: dict[str, Any] = {k: v for k, v in KEEPALIVES.items() if k not in given}  # the URL's own settings win
    try:
        # prepare_threshold=None: psycopg prepares a statement on its sixth run, and the server may then plan it once for
        # every value (a generic plan): a project's tie group took 36-44 ms instead of 5-7 ms at 100k records, and the
        # app runs the same few statements on every key. Unprepared, each is planned for its values (and a pooler in
        # transaction mode, which cannot keep prepared statements, works).
        return psycopg.connect(url, autocommit=False, connect_timeout=10, application_name="runsift", prepare_threshold=None,
                               **keepalives)
    except psycopg.Error as exc:
        text = str(exc)
        secret = _password(url)
        if secret:
            text = text.replace(secret, "***")
        raise CatalogError(f"cannot connect to the catalog {mask(url)}: {text.strip()}") from None


def _password(url: str) -> str | None:
    try:
        from psycopg.conninfo import conninfo_to_dict

        value = conninfo_to_dict(url).get("password")
    except Exception:
        return None
    return str(value) if value else None


class SharedCatalog:
    """Records of one named root in a PostgreSQL catalog; the query methods of :class:`Catalog`."""

    page_rows: int | None = 2000
    """A screen asks for lists a page at a time: each page is an index range in the database, and a whole
    list of 1M records would be ~18 s of moving and decoding rows."""

    def __init__(self, conn: Any, root_name: str, root: Path | None, *, writer: bool = False, url: str = "") -> None:
        self._main = conn
        self.url = url
        """The catalog's URL (only ever shown through :func:`mask`)."""
        # Locks, always taken in this order when more than one is held: _side_lock, _lock, _memo_lock.
        self._lock = threading.RLock()
        """Held while the main connection is used: a transaction (:meth:`_tx`), or an answer being computed to keep."""
        self._side: Any = None
        """A second connection for counts asked in the background (:meth:`count`), opened on the first (None: not open)."""
        self._side_lock = threading.RLock()
        """Held while the side connection is used, or opened (:meth:`_aside`)."""
        self._side_retry_at = 0.0
        self._side_busy = False
        """True while a background count runs on the side connection (what :meth:`cancel_counts` stops)."""
        self._cancel_lock = threading.Lock()
        """Held to send a cancel, and to mark a count as running or ended, so a cancel never reaches the next count."""
        self._tickets = itertools.count(1)
        self._asked: tuple[int, tuple[Any, ...]] | None = None
        """The ticket and ``(kind, filters)`` of the background count asked last."""
        self._stopped_below = 0
        """Background counts with a lower ticket are stopped (:meth:`cancel_counts`): those not started yet never start."""
        self._closed = False
        """Set by :meth:`close`: no connection is opened again after it."""
        self._local = threading.local()
        """Per thread: ``conn`` and ``lock``, the side ones within :meth:`_aside` (else None: the main ones); ``depth``,
        the transactions open on the thread; ``asking``, a read :func:`_once_more` may ask again."""
        self.writer = writer
        """True when this session may index (write); a reader's refresh only re-reads the database."""
        self.root_name = root_name
        self.root = root if root is not None else Path(f"{root_name}:")
        """Where the root is on this host; ``NAME:`` when unknown, so a record's path never passes for a local one."""
        self.reachable = root is not None and root.is_dir()
        """True when this host sees the root's files (full details, splits, predictions)."""
        self.indexed: tuple[str, str] | None = None
        """``(host, folder)`` the root was last indexed from, as its indexer recorded it."""
        self.problems: builtins.list[Problem] = []
        self.last_refresh = RefreshStats()
        self.show_deleted = False
        self.cache_file = None
        self.cache_problems: builtins.list[Problem] = []
        self._project_index: bool | None = None
        """Whether the catalog has ``vals_project_num`` (None: not asked since the last refresh)."""
        self._memo: dict[tuple[Any, ...], Any] = {}
        """Answers that only a refresh changes (every summary, the total, project and metric names ...), asked
        on every keystroke."""
        self._memo_lock = threading.Lock()
        """Held only to read or change :attr:`_memo`, never while computing."""
        self._forgotten = 0
        """How many times :attr:`_memo` was dropped: an answer computed across a drop is not kept."""

    @property
    def conn(self) -> Any:
        """The connection this thread's queries run on: the side one within :meth:`_aside`, else the main one."""
        side = getattr(self._local, "conn", None)
        return self._main if side is None else side

    @classmethod
    def open(
        cls,
        url: str,
        root: str | os.PathLike[str] | None = None,
        *,
        root_name: str | None = None,
        root_map: Mapping[str, str] | None = None,
        refresh: bool = False,
        index: bool = False,
        workers: int | None = None,
        show_deleted: bool = False,
        notice: Callable[[str], None] | None = None,
    ) -> SharedCatalog:
        """Open the catalog at ``url`` for one root (by path, by name, or both); ``refresh`` indexes it first.

        Only an indexer (``refresh`` or ``index``) creates tables or writes: a reader needs no more than
        SELECT on ``roots``, ``runs`` and ``vals``, and its :meth:`refresh` re-reads the database. ``notice`` is told
        when an indexer upgrades an older catalog's tables (minutes at 1M records), so that a wait is not a mystery.
        """
        if root is None and root_name is None:
            raise CatalogError("name a root: a folder, or --root-name NAME")
        local = Path(os.path.realpath(os.fspath(root))) if root is not None else None
        name = root_name or (local.name if local is not None else "")
        writer = refresh or index
        conn = _connect(url)
        upgrading = False
        try:
            with conn.transaction():
                if writer:  # two first indexers must not both create or upgrade the tables; asked before what exists
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
                exists = conn.execute("SELECT to_regclass('vals') IS NOT NULL").fetchone()[0]
                if exists and conn.execute(
                    "SELECT 1 FROM information_schema.columns WHERE table_name = 'vals' AND column_name = 'rid'"
                ).fetchone() is None:
                    raise CatalogError(f"the catalog {mask(url)} was made by an earlier runsift (vals without rid): "
                                       "index again into a new database")
                # Only when something is missing: CREATE INDEX IF NOT EXISTS still locks its table first, and
                # against another indexer's batch (holding runs, wanting vals) that deadlocked. Both tables are
                # locked against writers first, both at once or neither (lock_out_writers).
                if writer and conn.execute(SCHEMA_CURRENT).fetchone()[0] is not True:
                    if exists:
                        lock_out_writers(conn, "runs, vals")
                    conn.execute(DDL)
                    upgrading = True
            if upgrading:
                if exists and notice is not None:
                    notice("upgrading the catalog's tables for this runsift: once, about 5 minutes at 1M records; "
                           "other indexers wait, readers read on")
                upgrade_projects(conn)
            if writer:
                add_search_index(conn, notice if exists else None)  # a new catalog's is built at once
        except CatalogError:
            conn.close()
            raise
        except Exception as exc:
            conn.close()
            raise CatalogError(f"cannot prepare the catalog {mask(url)}: {_clean(exc, url)}") from None
        if not writer and not exists:
            conn.close()
            raise CatalogError(f"the catalog {mask(url)} holds no runs yet: index a root first (runsift index ROOT --catalog URL)")
        indexed: tuple[str, str] | None = None
        if exists:
            row = conn.execute("SELECT host, path FROM roots WHERE name = %s", (name,)).fetchone()
            conn.commit()
            indexed = (row[0], row[1]) if row is not None else None
        if local is None:
            if indexed is None and not writer:
                conn.close()
                raise CatalogError(f"the catalog has no root named {name!r}")
            mapped = (root_map or {}).get(name)
            if mapped is not None:
                local = Path(mapped)
            elif indexed is not None and os.path.isdir(indexed[1]):  # the same host, or the same mount on this one
                local = Path(indexed[1])
        catalog = cls(conn, name, local, writer=writer, url=url)
        catalog.indexed = indexed
        catalog.show_deleted = show_deleted
        if refresh:
            catalog.refresh(workers=workers)
        return catalog

    @contextlib.contextmanager
    def _tx(self, *, consistent: bool = False) -> Iterator[None]:
        """One transaction, one thread at a time: the app queries from several workers, and psycopg's
        transaction blocks on one connection must nest, never interleave. ``consistent``: its statements
        all see one snapshot (REPEATABLE READ, read-only), as a list read in several statements needs.
        The main connection, lost before (a server restarted, a dropped network), is opened again first."""
        import psycopg

        lock = getattr(self._local, "lock", None) or self._lock
        depth = getattr(self._local, "depth", 0)
        conn = None
        try:
            with lock:
                if self._closed:
                    raise CatalogError(f"the catalog {mask(self.url)} is closed")
                if self.conn.closed and not depth:
                    self._reconnect()
                conn = self.conn
                self._local.depth = depth + 1
                try:
                    fresh = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                    with conn.transaction():
                        if consistent and fresh:
                            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        yield
                finally:
                    self._local.depth = depth
        except psycopg.Error as exc:  # a dropped connection, a revoked grant ...: a message, not a traceback
            kind = ConnectionLost if conn is not None and conn.closed else CatalogError
            raise kind(f"the catalog {mask(self.url)} failed: {_clean(exc, self.url)}") from None

    def _reconnect(self) -> None:
        """Open the connection this thread uses again: the main one; the side one is :meth:`_aside`'s to open."""
        if getattr(self._local, "conn", None) is not None or not self.url:
            raise ConnectionLost(f"the catalog {mask(self.url)} lost its connection")
        self._main.close()
        fresh = _connect(self.url)  # raises CatalogError (the server still down, say)
        if self._closed:  # closed meanwhile: nothing stays open after close()
            fresh.close()
            raise CatalogError(f"the catalog {mask(self.url)} is closed")
        self._main = fresh

    @contextlib.contextmanager
    def _aside(self, ticket: int) -> Iterator[None]:
        """This thread's queries, within the block, on the side connection: opened on first use, and again when lost;
        one that cannot be opened is tried again after :data:`SIDE_RETRY` seconds, the queries running on the main
        connection meanwhile, as on a catalog with one. ``ticket``: the background count's, which does not start when
        :meth:`cancel_counts` stopped it while it waited (CatalogError)."""
        with self._side_lock:
            side = self._side
            if (side is None or side.closed) and self.url and not self._closed and time.monotonic() >= self._side_retry_at:
                if side is not None:
                    side.close()
                try:
                    side = _connect(self.url)
                except CatalogError:  # too many connections, a server restarting: counts wait their turn on the main one
                    side, self._side_retry_at = None, time.monotonic() + SIDE_RETRY
                if side is not None and self._closed:  # closed meanwhile: nothing stays open after close()
                    side.close()
                self._side = side
            if side is not None and side.closed:
                side = None
            with self._cancel_lock:
                if ticket < self._stopped_below:
                    raise CatalogError("the count was stopped: its list is no longer shown")
                self._side_busy = side is not None
            if side is None:
                yield
                return
            self._local.conn, self._local.lock = side, self._side_lock
            try:
                yield
            finally:
                with self._cancel_lock:
                    self._side_busy = False
                self._local.conn = self._local.lock = None

    def cancel_counts(self, *, keep: Iterable[Filter] | None = None) -> None:
        """Stop the background count asked last, unless it counts ``keep`` (the filters of the list now shown: a new
        sort keeps its count): under way, it is cancelled in the database, and not yet started, it never starts. The
        app asks when a newer list replaces the one counted, so that the database spends no more on it (0.35-0.6 s
        at 1M records) and the next count need not wait for it. The count raises CatalogError. Nothing else runs on
        its connection, and none starts there while the cancel is sent (a late cancel finds the connection idle,
        which the server ignores)."""
        with self._cancel_lock:
            asked = self._asked
            if asked is None or (keep is not None and asked[1] == (None, tuple(keep))):
                return
            self._stopped_below = asked[0] + 1
            side = self._side
            if not self._side_busy or side is None or side.closed:
                return
            with contextlib.suppress(Exception):  # only ever a saving: a cancel that cannot be sent changes nothing
                if hasattr(side, "cancel_safe"):  # psycopg 3.2: waits (up to 5 s, with libpq 17) for the server to take it
                    side.cancel_safe(timeout=5)
                else:
                    side.cancel()

    def close(self) -> None:
        """Close the connections, at once (a count under way on the side one ends with it); none is opened after."""
        self._closed = True
        side, self._side = self._side, None
        if side is not None:
            side.close()
        self._main.close()

    def __enter__(self) -> SharedCatalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- indexing ----------------------------------------------------------------
    def refresh(self, *, full: bool = True, workers: int | None = None, progress: Progress | None = None) -> RefreshStats:
        """Walk the root and upsert new and changed records, delete vanished ones; one short transaction a batch.

        No lock is held across the walk: two indexers of the same tree write the same rows (an upsert
        keeps one), and readers see each batch whole or not at all. A reader (not opened to index) only
        counts what the database holds now: its lists are always read from the database anyway.
        """
        self._forget()
        if not self.writer:
            started = time.perf_counter()
            self.last_refresh = RefreshStats(unchanged=self.count(), seconds=time.perf_counter() - started)
            return self.last_refresh
        if not self.reachable:
            raise CatalogError(f"the root {self.root_name!r} is not reachable from this host at {self.root}")
        started = time.perf_counter()
        host = socket.gethostname()
        with self._tx():
            known = dict(self.conn.execute("SELECT id, fingerprint FROM runs WHERE root = %s", (self.root_name,)).fetchall())
        walk = discover(self.root)
        self.problems = walk.problems
        # a changed record, or one another runsift read (its rows may lack a field, or hold what a reader got wrong)
        todo = [f for f in walk.found if known.get(f.id) != stamped(f.fingerprint)]
        with Reader(self.root, workers) as reader:
            for f in todo:
                reader.add(f)
            for batch in reader.rows(progress):
                with self._tx():
                    self._store(batch, host)
        seen = {f.id for f in walk.found}
        removed = [rid for rid in known if rid not in seen]
        for gone in batches(removed, 500):
            with self._tx():
                params = (self.root_name, gone)
                self.conn.execute("DELETE FROM vals WHERE rid IN (SELECT rid FROM runs WHERE root = %s AND id = ANY(%s))", params)
                self.conn.execute("DELETE FROM runs WHERE root = %s AND id = ANY(%s)", params)
        with self._tx():
            self.conn.execute(
                "INSERT INTO roots VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, "
                "path = EXCLUDED.path, indexed_at = EXCLUDED.indexed_at",
                (self.root_name, host, str(self.root), time.time()),
            )
        if len(todo) + len(removed) > max(1000, len(known) // 10):
            with self._lock:
                analyze(self.conn)
        self._forget()  # what was listed while the walk ran is stale now
        changed = sum(1 for f in todo if f.id in known)
        self.last_refresh = RefreshStats(
            added=len(todo) - changed, changed=changed, removed=len(removed), unchanged=len(walk.found) - len(todo),
            listed=len(walk.found), seconds=time.perf_counter() - started,
        )
        return self.last_refresh

    def refresh_records(self, ids: Iterable[str]) -> tuple[builtins.list[str], builtins.list[str]]:
        """Nothing is re-read one by one here: every id is ``gone`` for a :meth:`refresh` to settle."""
        return [], builtins.list(ids)

    def _store(self, rows: builtins.list[tuple[Any, ...]], host: str) -> None:
        """Upsert rows from the SQLite catalog's reader (same columns), with their ``vals``."""
        cur = self.conn.cursor()
        runs = []
        for row in rows:
            rid, kind, project, name, path = row[:5]
            rel = os.path.relpath(path, self.root) if os.path.isabs(path) else path
            search = db_text(f"{rid}\x01{name}\x01{project}".lower())
            texts = [None if t is None else db_text(t) for t in (project, name, *row[5:7])]
            runs.append((self.root_name, rid, kind, texts[0], texts[1], rel, texts[2], texts[3], row[7],
                         None if row[8] is None else db_text(row[8]), row[9], row[10], row[11], stamped(row[12]),
                         bool(row[13]), search, relative_detail(row[15], path, rel), host, path, [db_text(m) for m in json.loads(row[11])]))
        cur.executemany(
            "INSERT INTO runs (root, id, kind, project, name, rel, status, started, run_number, sweep, n_problems, problems, "
            "metrics, fingerprint, deleted, search, detail, host, path, metric_names) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (root, id) DO UPDATE SET kind=EXCLUDED.kind, project=EXCLUDED.project, name=EXCLUDED.name, "
            "rel=EXCLUDED.rel, status=EXCLUDED.status, started=EXCLUDED.started, run_number=EXCLUDED.run_number, "
            "sweep=EXCLUDED.sweep, n_problems=EXCLUDED.n_problems, problems=EXCLUDED.problems, metrics=EXCLUDED.metrics, "
            "fingerprint=EXCLUDED.fingerprint, deleted=EXCLUDED.deleted, search=EXCLUDED.search, detail=EXCLUDED.detail, "
            "host=EXCLUDED.host, path=EXCLUDED.path, metric_names=EXCLUDED.metric_names",
            runs,
        )
        rids = dict(cur.execute("SELECT id, rid FROM runs WHERE root = %s AND id = ANY(%s)", (self.root_name, [row[0] for row in rows])).fetchall())
        cur.execute("DELETE FROM vals WHERE rid = ANY(%s)", (builtins.list(rids.values()),))
        vals = []
        for row, run in zip(rows, runs):
            rid, project = rids[row[0]], run[3]  # values a project's list is sorted by carry its project (vals_project_*)
            vals += [(rid, *v, project if project_values(v[0]) else None) for v in values_of(_summary_of(row), json.loads(row[14]))]
        with cur.copy("COPY vals (rid, key, ctext, ltext, num, sortclass, project) FROM STDIN") as copy:
            for v in vals:  # COPY: ~60 values a record, several times faster than INSERTs; still only data, never SQL
                copy.write_row(v)

    # -- queries -----------------------------------------------------------------

    @_once_more
    def list(
        self, *, kind: str | None = None, filters: Iterable[Filter] = (), sort: Sort | None = None,
        limit: int | None = None, offset: int = 0, after: str | None = None,
    ) -> builtins.list[Summary]:
        """Summaries of the records passing every filter, sorted (default: by id), filtered and sorted in SQL.

        A sort is read slice by slice (numbers, texts, missing: :func:`sort_parts`), each slice in an
        index's order, in one repeatable-read transaction so that the slices see the same catalog; a
        page (``limit``, ``offset``) stops reading once it is full, and passes over ``offset`` rows in the
        database (a slice wholly before the page is only counted). ``after``, the id of the row before
        ``offset`` as listed before, starts the page right after that row instead of passing over ``offset`` rows
        (keyset paging: a page half-way down 1M records 1.5 s -> 60-76 ms); it is not used for a first page
        (``offset`` 0), nor in a sorted list whose record is gone since (its sort value unknown: the rows after it
        moved up one place, and the page passes over ``offset - 1`` rows).
        """
        rows: builtins.list[tuple[Any, ...]] = []
        generation = self._forgotten  # a count this list finds is kept only if no refresh came since
        skip = offset  # rows still to pass over: a slice wholly before the page is counted, not read
        filters = tuple(filters)
        probed: tuple[builtins.list[str], builtins.list[Any]] | None = None
        through_vals = any(flt.key not in COLUMNS for flt in filters)  # a filter through vals
        walkable = limit is not None and through_vals
        with self._tx(consistent=True):  # the column values a filter passes and its rows: one snapshot
            where, params, slices = self._slices(kind, filters, sort)
            resume = self._resume([part for part, *_ in slices], sort, after) if after is not None and offset else None
            if after is not None and offset and resume is None:
                # The row before the page is gone, and with it its sort value: the rows after it moved up one place, so
                # the page starts one row earlier (passing over `offset` rows skipped a record that stayed).
                skip = offset - 1
            for i, (part, conds, args, found_first) in enumerate(slices):
                if limit is not None and len(rows) >= limit:
                    break
                resumed = None
                if resume is not None:
                    if i < resume.slice:
                        continue  # wholly before the row the page follows
                    if i == resume.slice:
                        resumed = resume.cond, resume.params
                        skip, conds, args = 0, [*conds, resume.cond], [*args, *resume.params]
                if part.probe and not self.conn.execute(part.probe, part.params).fetchone()[0]:
                    continue  # no record has a value of this class: nothing to find, count or pass over
                if sort is not None and part.key and limit is not None and not skip and not through_vals:
                    tied = self._ties(part, sort, where, params, limit - len(rows), resume if resume is not None and i == resume.slice else None)
                    if tied is not None:
                        rows.extend(tied)
                        continue
                if found_first and walkable and limit is not None and not skip and not part.where:
                    probed = probed or self._where(kind, filters, probed=True)[:2]
                    walked = self._walked(part, kind, *probed, limit - len(rows), resumed)
                    if walked is not None:
                        rows.extend(walked)
                        continue
                sql, sql_args = slice_sql(part, conds, args, None if limit is None else limit - len(rows), skip, found_first)
                got = self.conn.execute(sql, sql_args).fetchall()
                if found_first and not part.key:  # by id, each row also carries the slice's size
                    if got and sort is None and resume is None:  # one slice, all the matches: count() need not ask again
                        self._keep(("count", kind, filters), int(got[0][-1]), generation)
                    got = [row[:-1] for row in got]
                if skip and not got:
                    whole, whole_args = slice_sql(part, conds, args, None, 0, found_first)
                    skip -= int(self.conn.execute(f"SELECT COUNT(*) FROM ({whole}) part", whole_args).fetchone()[0])
                elif skip:
                    skip = 0
                rows.extend(got)
        base = str(self.root)
        # The stored path is relative to the root (os.path.relpath: normalised, "." for the root itself); joined
        # as text, since 100k dataclasses.replace calls cost 40% of listing them all.
        return [_summary((*row[:4], base if row[4] in (None, ".") else f"{base}/{row[4]}", *row[5:])) for row in rows]

    def _walked(
        self, part: SortPart, kind: str | None, where: builtins.list[str], params: builtins.list[Any], wanted: int,
        resumed: tuple[str, builtins.list[Any]] | None,
    ) -> builtins.list[tuple[Any, ...]] | None:
        """A page of a slice whose filters go through ``vals`` (``where``, ``params``: :meth:`_where`'s, checked a record
        at a time), read by walking the slice's first :data:`WALK_CAP` pages of records of ``kind`` in order, at most
        :data:`WALK_MAX` (:func:`walk_sql`); None when those records hold fewer than a page. (Filters all on columns
        are never walked so: their share is known, :meth:`_share`.)"""
        cap = min(WALK_CAP * wanted, WALK_MAX)
        if cap < wanted:
            return None
        base, base_args, _ = self._where(kind, ())  # the root's listed records of ``kind``
        if resumed is not None:  # where the page resumes: the walk starts there
            base, base_args = [*base, resumed[0]], [*base_args, *resumed[1]]
        sql, args = walk_sql(part, base, base_args, where, params, wanted, cap)
        got: builtins.list[tuple[Any, ...]] = self.conn.execute(sql, args).fetchall()
        return got if len(got) == wanted else None

    def _ties(
        self, part: SortPart, sort: Sort, where: builtins.list[str], params: builtins.list[Any], wanted: int,
        resume: Resume | None,
    ) -> builtins.list[tuple[Any, ...]] | None:
        """Up to ``wanted`` rows of a numbers or texts slice (``part``) read a tie group at a time, each group's records
        by id (:class:`TieGroup`), when the sort key has at most :data:`TIE_VALUES_MAX` distinct values there; None
        when it has more (the slice is then read in the index's order). ``where``, ``params``: the list's conditions,
        none through ``vals``; ``resume``: the row the page follows, in this slice.

        A group is walked when it is large enough to fill the page early (:meth:`_walks`): the list's records by id,
        each probed for the group (``config.batch_size=64``, 26% of 100k records: a page of 2,000 after 4,500 records,
        18-26 ms, where sorting the group by id took 60-95 ms). Other groups are found first and sorted by id. A walk
        that does not fill its page (the group sparse in the list, or its records late in id order) has its group
        found first and ends the walks of this page: at most one walk lost a page (:data:`WALK_MAX` records, ~75 ms)."""
        texts = part.key == TEXTS_KEY
        key = vkey(sort.key)
        values = [v for (v,) in self.conn.execute(tie_values_sql(texts), (key, key, TIE_VALUES_MAX + 1)).fetchall()]
        if len(values) > TIE_VALUES_MAX:
            return None
        if sort.descending:
            values.reverse()
        if resume is not None:
            if resume.value not in values:  # not in this snapshot's values: the slice is read as before
                return None
            values = values[values.index(resume.value):]
        sizes: tuple[float, int] | None = None  # the list's and the catalog's, asked once a walk is thought of
        rows: builtins.list[tuple[Any, ...]] = []
        walk = True
        for n, value in enumerate(values):
            need = wanted - len(rows)
            if need <= 0:
                break
            group = TieGroup(key, texts, value)
            base, base_args = where, params
            if n == 0 and resume is not None:  # the group the page resumes in: its records after that row's id
                cond, cond_args = after_cond(SortPart("", "", ()), None, resume.after)
                base, base_args = [*where, cond], [*params, *cond_args]
            if walk and self._walks(group, need, sizes := sizes or (self._estimate(where, params), self._records_stored())):
                sql, args = walk_sql(SortPart("", "", ()), base, base_args, [group.probe], builtins.list(group.params), need, WALK_MAX)
                got = self.conn.execute(sql, args).fetchall()
                if len(got) == need:
                    rows.extend(got)
                    break
                walk = False
            sql, args = slice_sql(group.part, base, [*group.params, *base_args], need, 0, True)
            rows.extend(row[:-1] for row in self.conn.execute(sql, args).fetchall())  # each row ends with the group's size
        return rows

    def _walks(self, group: TieGroup, need: int, sizes: tuple[float, int]) -> bool:
        """Whether ``need`` rows of a tie group are best found by walking the list by id: when the list (about ``sizes[0]``
        records) is larger than a walk may look at (:data:`WALK_MAX`; a smaller one is found first as fast: a project of
        6k records at 100k, its groups found first 7-14 ms each, walked 13 ms when the project held none of the group),
        and the group's values, as a share of every record (``sizes[1]``), would fill the page within half of those.
        Counted from the index up to that bound (~0.15 µs a value), so a group too small is found first without a walk
        that would fail."""
        listed, records = sizes
        whole = max(records, listed)
        enough = math.ceil(2 * need * whole / WALK_MAX)
        if listed <= WALK_MAX or enough > whole:
            return False
        return bool(self.conn.execute(group.size_sql, (*group.params, enough)).fetchone()[0] >= enough)

    def _records_stored(self) -> int:
        """About how many records the catalog holds, every root's (what a tie group's values are a share of): the
        planner's figure, read from ``pg_class`` (0 before the table was first analyzed)."""
        return max(int(self.conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'runs'::regclass").fetchone()[0]), 0)

    def _resume(self, parts: builtins.list[SortPart], sort: Sort | None, after: str) -> Resume | None:
        """Where a page after the record ``after`` starts: its slice, the condition (with parameters) of that slice's
        rows after it, and its sort value; None when a sorted list's record is gone (the page then passes over its
        offset). By id, the place of an id is known whether or not its record is still there."""
        if sort is None:
            cond, params = after_cond(parts[0], None, after)
            return Resume(0, cond, params, after)
        column = sort.key if parts[0].members else "id"
        row = self.conn.execute(f"SELECT rid, {column} FROM runs WHERE root = %s AND id = %s", (self.root_name, after)).fetchone()
        if row is None:
            return None
        if parts[0].members:  # a column sort: the group holding its value
            for i, part in enumerate(parts):
                if row[1] in part.members:
                    cond, params = after_cond(part, None, after)
                    return Resume(i, cond, params, after)
            return None
        value = self.conn.execute("SELECT num, ltext, sortclass FROM vals WHERE rid = %s AND key = %s", (row[0], vkey(sort.key))).fetchone()
        if value is None or value[2] == MISSING:
            wanted, key = "", None  # the slice of records missing the value
        else:
            wanted, key = (NUMBERS_KEY, value[0]) if value[2] == NUMBER else (TEXTS_KEY, value[1])
        for i, part in enumerate(parts):
            if part.key == wanted:
                cond, params = after_cond(part, key, after)
                return Resume(i, cond, params, after, key)
        return None

    def queries(
        self, *, kind: str | None = None, filters: Iterable[Filter] = (), sort: Sort | None = None,
    ) -> builtins.list[tuple[str, builtins.list[Any]]]:
        """The SELECTs (SQL, parameters) whose rows, one after the other, are :meth:`list`'s (to run or EXPLAIN); a
        slice by id found first (filters, or the records missing a sort key) ends each row with the slice's size. A page
        of a slice found first may be read by a walk instead (:meth:`_walked`), which these do not show."""
        _, _, slices = self._slices(kind, tuple(filters), sort)
        return [slice_sql(part, conds, args, None, 0, found_first) for part, conds, args, found_first in slices]

    def _slices(
        self, kind: str | None, filters: tuple[Filter, ...], sort: Sort | None,
    ) -> tuple[builtins.list[str], builtins.list[Any], builtins.list[tuple[SortPart, builtins.list[str], builtins.list[Any], bool]]]:
        """The list's own WHERE conditions and their parameters (:meth:`_where`), and each slice of the sorted list: its
        WHERE conditions, the parameters of its join and conditions, and whether its matches are found first
        (:func:`slice_sql`: with a filter through ``vals``, or a slice's own condition that no index serves in id order)."""
        where, params, through_vals = self._where(kind, filters)
        project = self._one_project(kind, filters, where, params) if sort is not None and project_values(vkey(sort.key)) else None
        parts = sort_parts(sort, project)
        if sort is not None and sort.key in COLUMNS:
            values = self._column_values(sort.key)
            if values is not None and len(values) <= SORT_GROUPS_MAX:
                parts = column_sort_parts(sort, values)
        # Column filters alone walk an index in order; under a sort through vals (a metric) that is a walk of the
        # sort key's every value, probing each record, which a sparse filter correlated with the key makes long:
        # project=churn-predictor sorted -val_auc walked 406k of 547k values (1.4 s; found first 0.4 s). Walked
        # only where the filters pass a large share of the records, which then fills a page in a few thousand.
        sparse = (project is None and not through_vals and (bool(filters) or kind is not None) and any(part.join for part in parts)
                  and self._share(kind, filters, where, params) < WALK_SHARE)
        out = []
        for part in parts:
            conds = [*where, part.where] if part.where else where
            args = [*params, *part.params] if part.where else [*part.params, *params]
            found_first = through_vals or (bool(part.where) and not part.indexed) or (sparse and bool(part.join))
            out.append((part, conds, args, found_first))
        return where, params, out

    def _where(self, kind: str | None, filters: Iterable[Filter], probed: bool = False) -> tuple[builtins.list[str], builtins.list[Any], bool]:
        """WHERE conditions (and their parameters) of the records of this root passing ``kind`` and ``filters``,
        and whether some filter is answered through ``vals`` (its matches then are best found first; ``probed``:
        checked a record at a time, :func:`~runsift.core.sqlquery.filter_sql`)."""
        where, params = ["r.root = %s"], [self.root_name]
        through_vals = False
        if not self.show_deleted:
            where.append("NOT r.deleted")
        if kind is not None:
            where.append("r.kind = %s")
            params.append(kind)
        for flt in filters:
            values = self._column_values(flt.key) if flt.key in COLUMNS else None
            if values is not None:
                clause, more = column_filter(flt, values)
            else:
                clause, more = filter_sql(flt, texts=flt.key is None or self._has_texts(vkey(flt.key)), probed=probed)
                through_vals = True
            where.append(clause)
            params.extend(more)
        return where, params, through_vals

    def _share(self, kind: str | None, filters: tuple[Filter, ...], where: builtins.list[str], params: builtins.list[Any]) -> float:
        """The share of the root's records that pass (``where``, ``params``: :meth:`_where` of ``kind`` and ``filters``),
        to choose a plan: exact when both counts are kept, else the planner's estimate of each, one ``EXPLAIN``. Counting
        both cost 0.2-0.45 s at 1M (a status passing 937k), where the page itself took 40 ms; an estimate off by a
        little only picks the other plan near :data:`WALK_SHARE`, where both are about as fast."""
        kept = self._kept(("count", kind, filters)), self._kept(("count", None, ()))
        if kept[0] is not _MISSING and kept[1] is not _MISSING:
            return int(kept[0]) / max(int(kept[1]), 1)
        base, base_params, _ = self._where(None, ())
        return self._estimate(where, params) / max(self._estimate(base, base_params), 1.0)

    def _estimate(self, where: builtins.list[str], params: builtins.list[Any]) -> float:
        """The planner's estimate of how many records pass ``where``, from the table's statistics (no rows read)."""
        sql = f"EXPLAIN (FORMAT JSON) SELECT 1 FROM runs r WHERE {' AND '.join(where)}"
        plan = self.conn.execute(sql, params).fetchone()[0]
        if isinstance(plan, str):  # psycopg gives json as text unless a loader is set
            plan = json.loads(plan)
        return float(plan[0]["Plan"]["Plan Rows"])

    def _one_project(self, kind: str | None, filters: tuple[Filter, ...], where: builtins.list[str], params: builtins.list[Any]) -> str | None:
        """The project when one of ``filters`` is on the project and one project alone passes it (the project picker's),
        in a catalog with the indexes by project: a sort by a metric, a name, a start or a run number then walks that
        project's values in order. Other filters on columns that pass most of the project are checked on the way
        (``status=finished`` in a project of 62.5k sorted ``-val_auc`` at 1M: its matches found first and joined,
        247-297 ms; walked, 33-59 ms); a sparse one (``status=failed``, 25%) walked 1.4-4.3 s, and is found first."""
        on_project = [flt for flt in filters if flt.key == "project"]
        if len(on_project) != 1 or not self._by_project():
            return None
        values = self._column_values("project")
        if values is None:
            return None
        passing, missing_passes = column_passing(on_project[0], values)
        if len(passing) != 1 or missing_passes:
            return None
        if len(filters) > 1:  # the others on columns (status, kind) and passing most of the project, by the planner's estimate
            if any(flt.key not in COLUMNS for flt in filters):
                return None
            alone = self._where(kind, tuple(on_project))  # where, params: all of the filters
            if self._estimate(where, params) < WALK_SHARE * self._estimate(*alone[:2]):
                return None
        return passing[0]

    def _by_project(self) -> bool:
        """Whether the catalog has ``vals_project_num`` and ``vals_project_text`` as this version makes them, and the
        trigger that fills in a project (:data:`~runsift.core.pgschema.PROJECT_PLAN`); asked again after a refresh."""
        known = self._project_index
        if known is None:
            generation = self._forgotten
            with self._tx():  # asked of the list's own snapshot, in pg_indexes (to_regclass would see indexes made since)
                known = bool(self.conn.execute(f"SELECT {PROJECT_PLAN}").fetchone()[0])
            with self._memo_lock:
                if generation == self._forgotten:  # not across a refresh (which may have made the indexes)
                    self._project_index = known
        return known

    def _column_values(self, column: str) -> builtins.list[str] | None:
        """Every distinct non-NULL value of a :data:`~runsift.core.sqlquery.COLUMNS` field among this root's
        records (deleted ones too), one index probe a value; None when there are more than :data:`COLUMN_VALUES_MAX`.
        Asked afresh each time (not kept until a refresh), so a value another indexer just added is not missed."""
        assert column in COLUMNS  # a fixed column name, never user text
        sql = (f"WITH RECURSIVE t(v) AS ((SELECT {column} FROM runs WHERE root = %s AND {column} IS NOT NULL ORDER BY {column} LIMIT 1) "
               f"UNION ALL SELECT (SELECT {column} FROM runs WHERE root = %s AND {column} > t.v ORDER BY {column} LIMIT 1) "
               f"FROM t WHERE t.v IS NOT NULL) SELECT v FROM t WHERE v IS NOT NULL LIMIT %s")
        with self._tx():
            rows = self.conn.execute(sql, (self.root_name, self.root_name, COLUMN_VALUES_MAX + 1)).fetchall()
        return None if len(rows) > COLUMN_VALUES_MAX else [v for (v,) in rows]

    def _has_texts(self, key: str) -> bool:
        """Whether any record (of any root) has a text value of this ``vals`` key now: one index probe."""
        with self._tx():
            return bool(self.conn.execute("SELECT EXISTS (SELECT 1 FROM vals WHERE key = %s AND sortclass = 1)", (key,)).fetchone()[0])

    @_once_more
    def summaries(self) -> builtins.list[Summary]:
        """Every record's summary, by id: read once, then kept until the next :meth:`refresh` (as the SQLite catalog's).

        The app asks for it on every filter keystroke (the total, the project names) and the watcher on every
        change batch: re-reading 100k rows each time cost ~1.5 s a keystroke, for a list only a refresh changes.
        """
        summaries: builtins.list[Summary] = self._remembered(("summaries",), self.list)
        return summaries

    def _forget(self) -> None:
        """Drop what was kept until a refresh (the catalog may have changed)."""
        with self._memo_lock:
            self._memo = {}
            self._forgotten += 1
            self._project_index = None

    def _remembered(self, key: tuple[Any, ...], compute: Callable[[], Any], lock: threading.RLock | None = None) -> Any:
        """``compute()``, kept until the next refresh (per ``show_deleted``, which changes the answers). One thread
        computes it while others wanting it on the same connection wait (the metric names are seconds at 1M records),
        holding that connection's lock (``lock``: the side one's, for a background count)."""
        with self._lock if lock is None else lock:
            generation = self._forgotten
            kept = self._kept(key)
            if kept is not _MISSING:
                return kept
            value = compute()
            self._keep(key, value, generation)
            return value

    def _kept(self, key: tuple[Any, ...]) -> Any:
        """The answer kept under ``key`` (for this ``show_deleted``), or ``_MISSING``."""
        with self._memo_lock:
            return self._memo.get((*key, self.show_deleted), _MISSING)

    def _keep(self, key: tuple[Any, ...], value: Any, generation: int) -> None:
        """Keep ``value``, an answer read when :attr:`_forgotten` was ``generation``: not when a refresh dropped the
        kept answers since (it may be of the catalog before)."""
        with self._memo_lock:
            if generation == self._forgotten:
                self._memo.setdefault((*key, self.show_deleted), value)

    @_once_more
    def head(self, limit: int) -> tuple[builtins.list[Summary], int]:
        """The first ``limit`` summaries and the total count."""
        return self.list(limit=limit), self.count()

    @_once_more
    def count(self, *, kind: str | None = None, filters: Iterable[Filter] = (), background: bool = False) -> int:
        """How many records pass the filters: counted by the database, or by the list of the same filters by id (which
        had to find them all), and kept until a refresh (the app asks on every keystroke and reload).

        ``background`` (the app's count after a page it shows) counts on a connection of its own: a broad filter's
        count takes 0.35-0.6 s at 1M records, and a key typed meanwhile waited for it on the one connection."""
        filters = tuple(filters)
        ticket = 0
        if background:
            with self._cancel_lock:
                ticket = next(self._tickets)
                self._asked = (ticket, (kind, filters))

        def counted() -> int:
            # the column values a filter passes and the count: one snapshot
            with self._aside(ticket) if background else contextlib.nullcontext(), self._tx(consistent=True):
                where, params, _ = self._where(kind, filters)
                return int(self.conn.execute(f"SELECT COUNT(*) FROM runs r WHERE {' AND '.join(where)}", params).fetchone()[0])

        return int(self._remembered(("count", kind, filters), counted, self._side_lock if background else None))

    @_once_more
    def projects(self) -> builtins.list[str]:
        """Every project name of the listed records, sorted (kept until a refresh)."""

        def read() -> builtins.list[str]:
            where, params, _ = self._where(None, ())
            with self._tx(consistent=True):
                values = self._column_values("project")
                if values is None:
                    rows = self.conn.execute(f"SELECT DISTINCT r.project FROM runs r WHERE {' AND '.join(where)}", params).fetchall()
                    return sorted(project for (project,) in rows)
                # one probe a project for a listed record (a project only deleted records have is not offered)
                held = f"SELECT EXISTS (SELECT 1 FROM runs r WHERE {' AND '.join(where)} AND r.project = %s)"
                return sorted(v for v in values if self.conn.execute(held, [*params, v]).fetchone()[0])

        return builtins.list(self._remembered(("projects",), read))

    @_once_more
    def deleted_count(self) -> int:
        """How many records a tracker marks deleted."""
        with self._tx():
            return int(self.conn.execute("SELECT COUNT(*) FROM runs WHERE root = %s AND deleted", (self.root_name,)).fetchone()[0])

    @_once_more
    def ids(self, *, kind: str | None = None, filters: Iterable[Filter] = (), sort: Sort | None = None) -> builtins.list[str]:
        """Ids of the matching records in order."""
        return [r.id for r in self.list(kind=kind, filters=filters, sort=sort)]

    def presort(self, sorts: Iterable[Sort], cancelled: Callable[[], bool] = lambda: False) -> None:
        """Nothing to do: the database sorts on demand from its indexes."""

    @_once_more
    def facet(self, key: str, ids: Iterable[str] | None = None) -> dict[str, tuple[str | None, float | None]]:
        """``{record id: (text, number)}`` for one detail key (of ``ids`` only, if given: a page, one record)."""
        sql = "SELECT r.id, v.ctext, v.num FROM vals v JOIN runs r ON r.rid = v.rid WHERE r.root = %s AND v.key = %s"
        args: builtins.list[Any] = [self.root_name, "f:" + key]
        wanted = None if ids is None else {db_text(i) for i in ids}
        if wanted is not None and len(wanted) <= FACET_IDS_MAX:
            sql, args = f"{sql} AND r.id = ANY(%s)", [*args, builtins.list(wanted)]
        with self._tx():
            rows = self.conn.execute(sql, args).fetchall()
        return {rid: (text, num) for rid, text, num in rows if wanted is None or rid in wanted}

    @_once_more
    def facet_keys(self) -> builtins.list[str]:
        """Every detail key some record has (``config.optimizer.lr`` ...), sorted: what a filter, sort or column may name."""

        def read() -> builtins.list[str]:
            with self._tx():
                rows = self.conn.execute(FACET_KEYS, (self.root_name,)).fetchall()
            return [key for (key,) in rows]

        return builtins.list(self._remembered(("facet_keys",), read))

    @_once_more
    def metric_names(self, kind: str = "run") -> builtins.list[str]:
        """Final-metric names, most common first (kept until a refresh: the app asks on every keystroke)."""

        def read() -> builtins.list[str]:
            # Grouped by the whole list of names (runs log a few dozen distinct lists), summed here: unnesting every
            # record's names into a million-row aggregate took 0.82 s at 1M records, this 0.27-0.32 s (from runs_metrics).
            with self._tx():
                rows = self.conn.execute(
                    "SELECT r.metric_names, COUNT(*) FROM runs r WHERE r.root = %s AND r.kind = %s AND (%s OR NOT r.deleted) GROUP BY 1",
                    (self.root_name, kind, self.show_deleted),
                ).fetchall()
            counts: dict[str, int] = {}
            for names, n in rows:
                for name in names:
                    counts[name] = counts.get(name, 0) + n
            return sorted(counts, key=lambda name: (-counts[name], name))

        return builtins.list(self._remembered(("metric_names", kind), read))

    @_once_more
    def get(self, record_id: str) -> Record:
        """The full record as indexed (files are not needed; :attr:`reachable` says whether they can be read too)."""
        if not is_utf8(record_id):
            raise RunNotFound(record_id, [])
        with self._tx():
            row = self.conn.execute("SELECT detail FROM runs WHERE root = %s AND id = %s", (self.root_name, record_id)).fetchone()
        if row is None:
            raise RunNotFound(record_id, self._near(record_id))
        return self._record(row[0])

    @_once_more
    def get_many(self, record_ids: Iterable[str]) -> builtins.list[Record]:
        """The full records with these ids that exist, in the order asked: a query per :data:`GET_MANY_BATCH`, not a
        round trip each (explain's 5,000 peers at 1M records: 3.1 s one by one); a batch bounds the text read at once."""
        wanted = [i for i in dict.fromkeys(record_ids) if is_utf8(i)]
        out: builtins.list[Record] = []
        for batch in batches(wanted, GET_MANY_BATCH):
            with self._tx():
                rows = dict(self.conn.execute("SELECT id, detail FROM runs WHERE root = %s AND id = ANY(%s)", (self.root_name, batch)).fetchall())
            out += [self._record(rows[i]) for i in batch if i in rows]
        return out

    def _record(self, detail: str) -> Record:
        """A record from its stored JSON, its paths mapped to where the root is on this host."""
        return from_dict(json.loads(mapped_detail(detail, self.root)))

    @_once_more
    def resolve(self, ref: str, *, kind: str | None = None, cwd: str | None = None) -> str:
        """The id ``ref`` names: an id, a path below the root, or a unique end of an id (:func:`resolve_ref`'s rules),
        each asked of the database: listing every id to match them took 13 s and 2.5 GB at 1M records, per run named."""
        ref_clean, as_id = ref_forms(self.root, ref, cwd)
        if not is_utf8(ref_clean):  # a name no database text can hold (a lone surrogate from a bad file name)
            raise RunNotFound(ref, [])
        where, params, _ = self._where(kind, ())
        listed = " AND ".join(where)
        with self._tx(consistent=True):
            for exact in dict.fromkeys((ref_clean, as_id)):
                if exact is not None and is_utf8(exact) and self.conn.execute(
                    f"SELECT EXISTS (SELECT 1 FROM runs r WHERE {listed} AND r.id = %s)", [*params, db_text(exact)]
                ).fetchone()[0]:
                    return exact
            text = db_text(ref_clean)
            ends = "r.id LIKE %s ESCAPE '\\'"  # ends with "/" + ref: the last parts, or a path's tail
            # held by the last part; the LIKE first passes over most ids at a fraction of the last part's cost
            in_last = "r.id LIKE %s ESCAPE '\\' AND strpos(reverse(split_part(reverse(r.id), '/', 1)), %s) > 0"
            for cond, args in ((ends, ["%/" + like_escaped(text)]), (in_last, [f"%{like_escaped(text)}%", text])):
                sql = f"SELECT r.id FROM runs r WHERE {listed} AND {cond} ORDER BY {BY_ID}"
                matches = [i for (i,) in self.conn.execute(f"{sql} LIMIT %s", [*params, *args, AMBIGUOUS_SHOWN + 1]).fetchall()]
                if len(matches) == 1:
                    return str(matches[0])
                if matches:
                    total = len(matches)
                    if total > AMBIGUOUS_SHOWN:
                        total = int(self.conn.execute(f"SELECT COUNT(*) FROM ({sql}) m", [*params, *args]).fetchone()[0])
                    raise AmbiguousRun(ref, matches[:AMBIGUOUS_SHOWN], total)
            raise RunNotFound(ref, self._near(ref_clean, listed, params))

    def _near(self, ref: str, listed: str | None = None, params: builtins.list[Any] | None = None) -> builtins.list[str]:
        """Up to five ids whose last part is close to ``ref``'s (:func:`near_ids`), among the ids whose last part begins
        with the same two characters (at most :data:`NEAR_POOL`): a hint, from a bounded read rather than every id."""
        if listed is None or params is None:
            where, params, _ = self._where(None, ())
            listed = " AND ".join(where)
        last = ref.rsplit("/", 1)[-1]
        head = like_escaped(db_text(last[:2])) + "%"
        sql = (f"SELECT r.id FROM runs r WHERE {listed} AND reverse(split_part(reverse(r.id), '/', 1)) LIKE %s ESCAPE '\\' "
               f"ORDER BY {BY_ID} LIMIT %s")
        with self._tx():
            pool = [i for (i,) in self.conn.execute(sql, [*params, head, NEAR_POOL]).fetchall()]
        return near_ids(ref, pool)


ROOT_MARK = "@root"
"""What stands for the root's folder in a stored record's ``"path"`` values: each reader puts its own folder back."""


def relative_detail(detail: str, path: str, rel: str) -> str:
    """Compact record JSON with the indexing host's root folder in ``"path"`` values replaced by :data:`ROOT_MARK`.

    ``path`` is the record's folder on the indexing host and ``rel`` the same below the root, so the
    root's folder is ``path`` without ``rel``. Nothing else changes: a reader maps the mark back.
    """
    root = path[: len(path) - len(rel)].rstrip("/") if rel not in ("", ".") and path.endswith(rel) else path
    if not root:
        return detail
    quoted = json.dumps(root)[1:-1]
    return detail.replace(f'"path":"{quoted}/', f'"path":"{ROOT_MARK}/').replace(f'"path":"{quoted}"', f'"path":"{ROOT_MARK}"')


def mapped_detail(detail: str, root: Path) -> str:
    """Stored record JSON with :data:`ROOT_MARK` replaced by where the root is on this host."""
    quoted = json.dumps(str(root))[1:-1]
    return detail.replace(f'"path":"{ROOT_MARK}/', f'"path":"{quoted}/').replace(f'"path":"{ROOT_MARK}"', f'"path":"{quoted}"')


def _clean(exc: BaseException, url: str) -> str:
    """An error's first line with the URL's password, if any, masked."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    secret = _password(url)
    return text.replace(secret, "***") if secret else text


def _summary_of(row: tuple[Any, ...]) -> Summary:
    """The Summary a reader row lists as (what ``vals`` is made from)."""
    return _summary((*row[:9], row[9], row[10], row[11]))


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of at most ``size``, in order."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
