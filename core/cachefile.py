"""The SQLite cache file: opening it safely, and checksums that tell a damaged cache from a good one.

The cache is only a cache. A folder that cannot hold it, a file of another schema or one SQLite
calls malformed is never an error for the user: the catalog rebuilds it, or works in memory.
SQLite cannot see a flipped byte inside a stored text, so every row carries a CRC of its values,
and the ``records`` table a count and an XOR of its rows' CRCs (a row lost with a page shows).
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import stat
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .rows import ROWS_VERSION

SCHEMA_VERSION = 10
"""The tables' layout. A cache written with another, or with another :data:`~runsift.core.rows.ROWS_VERSION` (what
a record's rows hold), is rebuilt."""
_VERSION = f"{SCHEMA_VERSION}.{ROWS_VERSION}"
QUICK_CHECK_MAX_BYTES = 32 * 1024 * 1024
"""Caches up to this size get SQLite's ``PRAGMA quick_check`` at open (a few ms a MB); bigger ones rely
on the row checksums and on the errors SQLite raises when it meets a damaged page."""

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, project TEXT, name TEXT, path TEXT,
    status TEXT, started TEXT, run_number INTEGER, sweep TEXT,
    n_problems INTEGER NOT NULL, problems TEXT NOT NULL, metrics TEXT NOT NULL, fingerprint TEXT NOT NULL,
    deleted INTEGER NOT NULL, crc INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS details (id TEXT PRIMARY KEY, facets TEXT NOT NULL, detail TEXT NOT NULL,
    fcrc INTEGER NOT NULL, dcrc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS walk_folders (path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, subdirs TEXT NOT NULL, sweep TEXT,
    crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS walk_runs (id TEXT PRIMARY KEY, key TEXT NOT NULL, live TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_deleted ON records (id) WHERE deleted = 1;
"""
# ``records`` holds what a list shows, one small row per record in id order, so reading 100k of them
# touches a few MB; ``details`` holds ``facets`` (flattened config, data, seeds ... for filters) and
# ``detail`` (the whole record), read only when asked for. ``walk_*`` is the memo that lets a warm
# open skip unchanged folders (see discover.Memo); a damaged ``walk_runs`` row only makes a run listed again.
# ``records_deleted`` holds only the runs a tracker marks deleted: the first frame's count of the others is
# the stored record count less that index's few entries, not a scan of every row's ``deleted`` (2.2 s
# with a cold page cache at 100k records, 4.3 s at 1M).


class CacheUnusable(Exception):
    """The cache file cannot be opened or written (unwritable folder, a folder in its place ...)."""


class CacheCorrupt(Exception):
    """What the cache holds does not match its checksums: it must be rebuilt, never believed."""


def crc(values: Sequence[Any]) -> int:
    """CRC-32 of a row's values (text, numbers, None); marshal version 2 writes equal values as equal bytes."""
    return zlib.crc32(marshal.dumps(tuple(values), 2))


def verified(rows: Iterable[Sequence[Any]]) -> list[Sequence[Any]]:
    """The rows (values then their CRC last), or CacheCorrupt when one does not match its CRC."""
    out = list(rows)
    for row in out:
        check_row(row)
    return out


def check_row(row: Sequence[Any]) -> None:
    """Raise CacheCorrupt when a row (values then their CRC last) does not match its CRC: for rows read one at a time."""
    if crc(row[:-1]) != row[-1]:
        raise CacheCorrupt(f"a cached row does not match its checksum ({str(row[0])[:80]!r})")


def is_corruption(exc: BaseException) -> bool:
    """True for errors that mean the cache's content is damaged (not that another process holds it)."""
    if isinstance(exc, (CacheCorrupt, UnicodeDecodeError)):  # SQLite hands back text that is no longer UTF-8
        return True
    if isinstance(exc, sqlite3.DatabaseError):
        text = str(exc).lower()
        return not ("locked" in text or "busy" in text or "readonly" in text or "read-only" in text)
    return False


def connect(cache_file: Path, root: Path) -> sqlite3.Connection:
    """Open the cache file, rebuilding it when damaged or of another schema; CacheUnusable when it cannot be."""
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheUnusable(f"cannot create the cache folder: {exc.strerror or exc}") from None
    if os.path.lexists(cache_file) and not stat.S_ISREG(os.lstat(cache_file).st_mode):
        raise CacheUnusable("something other than a file is where the cache file should be")
    for attempt in range(2):
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(cache_file, timeout=30, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            version = _meta(db, "schema")
            if version is not None and (version != _VERSION or not _quick_check(db, cache_file)):
                db.close()
                remove(cache_file)
                continue
            db.executescript(DDL)
            with db:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (_VERSION,))
                db.execute("INSERT OR REPLACE INTO meta VALUES ('root', ?)", (str(root),))
            return db
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            if db is not None:
                db.close()
            if attempt or not is_corruption(exc):
                raise CacheUnusable(f"cannot use the cache: {exc}") from None
            remove(cache_file)
        except OSError as exc:
            if db is not None:
                db.close()
            raise CacheUnusable(f"cannot use the cache: {exc.strerror or exc}") from None
    raise CacheUnusable("cannot open the cache")


def memory() -> sqlite3.Connection:
    """A catalog database in memory (``--no-cache``, or when the cache file cannot be used)."""
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript(DDL)
    return db


def _quick_check(db: sqlite3.Connection, cache_file: Path) -> bool:
    """SQLite's own structural check, where the file is small enough for it to be cheap."""
    try:
        if os.path.getsize(cache_file) > QUICK_CHECK_MAX_BYTES:
            return True
        row = db.execute("PRAGMA quick_check(1)").fetchone()
    except (OSError, sqlite3.DatabaseError):
        return False
    return row is not None and row[0] == "ok"


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return row[0] if row else None


def remove(cache_file: Path) -> None:
    """Delete the cache file and its WAL companions (only regular files: a folder there is not ours)."""
    for suffix in ("", "-wal", "-shm"):
        path = str(cache_file) + suffix
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.remove(path)
        except FileNotFoundError:
            pass


def totals(db: sqlite3.Connection) -> tuple[int, int]:
    """The ``records`` table's stored row count and XOR of row CRCs."""
    try:
        return int(_meta(db, "records_n") or 0), int(_meta(db, "records_xor") or 0)
    except ValueError:
        raise CacheCorrupt("the cache's record totals are not numbers") from None


def set_totals(db: sqlite3.Connection, n: int, x: int) -> None:
    """Store the ``records`` table's row count and XOR of row CRCs (in the caller's transaction)."""
    db.execute("INSERT OR REPLACE INTO meta VALUES ('records_n', ?)", (str(n),))
    db.execute("INSERT OR REPLACE INTO meta VALUES ('records_xor', ?)", (str(x),))


def begin(db: sqlite3.Connection) -> None:
    """Start a write transaction now (not at the first write), so reading the totals and updating them is atomic."""
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
