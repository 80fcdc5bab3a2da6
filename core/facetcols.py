"""The embedded catalog's detail values (``config.*``, ``data.*``, ``seeds.*`` …), read from the cache one key at a time.

Each record's facets are one JSON object in the cache (``details.facets``: ~57 keys, 2.7 KB a run). Decoding them
all on the first detail filter took 8.4 s and 2 GB at 100k records (5.7M small lists, most for keys nobody asked
about). SQLite's ``json_extract`` cuts one key out of every record instead (0.7 s at 100k), and a key's column
holds ~10 MB. The columns last used are kept, and patched when this process stores or drops records, so a live
app filtering on a config key does not read every record again after each refresh; what another process writes
to the same cache (SQLite's ``data_version`` tells) drops them.
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from .cachefile import check_row
from .gcpause import paused_gc

FacetValue = tuple[str | None, float | None]
Column = dict[str, FacetValue]

KEPT = 16
"""Columns kept, the most recently used (one key of 100k records: ~10 MB)..."""
KEPT_VALUES = 4_000_000
"""... and no more values than this in all (~400 MB): four keys of 1M records."""
FEW_IDS = 5_000
"""Up to this many ids (a page, a record, the rows a column picker looks at), a key's values for them come from those
records' facets, decoded once and kept for the next key asked of the same records; more, from the key's whole column."""
PATCH_MAX = 2_000
"""Records changed since the columns were read that are patched into them; past this many (an index), everything kept
is dropped and read again when asked."""


class FacetColumns:
    """Columns of detail values of one cache, kept between reads; the caller holds the lock of its connection."""

    def __init__(self) -> None:
        self._columns: OrderedDict[str, Column] = OrderedDict()
        self._keys: set[str] | None = None
        self._checked = False
        """True once every row's facets were checked against their CRC (since the last :meth:`forget`)."""
        self._decoded: tuple[frozenset[str], dict[str, Column]] | None = None
        """The last few records asked for, and their facets decoded, by key (the column picker asks ~40 keys of them)."""
        self._patched = 0
        """Records patched in since everything kept was dropped (:data:`PATCH_MAX`)."""
        self._version: int | None = None
        """SQLite's ``data_version`` when this was last used: it changes when another process writes the cache."""

    def forget(self) -> None:
        """Drop everything kept: the cache was rebuilt, another process wrote it, or too many records changed to patch."""
        self._columns.clear()
        self._keys = None
        self._checked = False
        self._decoded = None
        self._patched = 0

    def changed(self, db: sqlite3.Connection, ids: Iterable[str]) -> None:
        """This process stored or deleted these records: their values in the kept columns (and the keys) read again."""
        ids = list(dict.fromkeys(ids))
        self._decoded = None
        if not ids or (not self._columns and self._keys is None):
            return
        self._patched += len(ids)
        if self._patched > PATCH_MAX:
            self.forget()
            return
        for column in self._columns.values():
            for rid in ids:
                column.pop(rid, None)
        found = _decoded_rows(db, ids)
        if self._keys is not None:
            if len(found) < len(ids):
                self._keys = None  # a record gone may have held the only value of a key: read them again when asked
            else:
                for values in found.values():  # a key an edited record no longer holds stays until then too
                    self._keys.update(values)
        patch = _by_key(found)
        for key, column in self._columns.items():
            column.update(patch.get(key, {}))

    def current(self, db: sqlite3.Connection) -> None:
        """Drop everything kept when another process wrote the cache since (an ``index`` in a shell, a second app):
        its records were not patched in, and its rows not checked."""
        version = int(db.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            if self._version is not None:
                self.forget()
            self._version = version

    def column(self, db: sqlite3.Connection, key: str) -> Column:
        """``{record id: (text, number)}`` of every record holding ``key``."""
        self.current(db)
        column = self._columns.get(key)
        if column is not None:
            self._columns.move_to_end(key)
            return column
        self._check(db)
        column = _column(db, key)
        self._columns[key] = column
        while len(self._columns) > 1 and (len(self._columns) > KEPT or sum(map(len, self._columns.values())) > KEPT_VALUES):
            self._columns.popitem(last=False)
        return column

    def of(self, db: sqlite3.Connection, key: str, ids: Iterable[str]) -> Column:
        """``key``'s values of the records ``ids`` only."""
        self.current(db)
        wanted = frozenset(ids)
        if key in self._columns or len(wanted) > FEW_IDS:
            column = self.column(db, key)
            return {rid: column[rid] for rid in wanted if rid in column}
        if self._decoded is None or self._decoded[0] != wanted:
            self._decoded = wanted, _by_key(_decoded_rows(db, sorted(wanted)))
        return dict(self._decoded[1].get(key, {}))

    def keys(self, db: sqlite3.Connection) -> list[str]:
        """Every detail key some record holds, sorted."""
        self.current(db)
        if self._keys is None:
            self._check(db)
            self._keys = _all_keys(db)
        return sorted(self._keys)

    def _check(self, db: sqlite3.Connection) -> None:
        """Every row's facets checked against their CRC, once until everything kept is dropped."""
        if not self._checked:
            for row in db.execute("SELECT id, facets, fcrc FROM details"):  # one row at a time: they are not kept
                check_row(row)
            self._checked = True


def _plain(key: str) -> bool:
    """True for a key an SQLite JSON path names exactly: printable ASCII without quotes or backslashes (the cache's JSON
    escapes every other character, and a path's label is matched against the text as written, escapes and all)."""
    return key.isascii() and key.isprintable() and '"' not in key and "\\" not in key


def _column(db: sqlite3.Connection, key: str) -> Column:
    """``key``'s values of every record holding it. ``json_extract`` cuts out the value's JSON text as stored, decoded
    here by ``json`` (all at once, as one array) exactly as the whole facets would be. A key no JSON path can name is
    found by decoding each record's facets, one at a time."""
    with paused_gc():  # 100k small lists: collections would walk them again and again
        if not _plain(key):
            out: Column = {}
            for row in db.execute("SELECT id, facets, fcrc FROM details"):
                check_row(row)
                rid, facets, _ = row
                value = json.loads(facets).get(key)
                if value is not None:
                    out[rid] = (value[0], value[1])
            return out
        rows = db.execute("SELECT id, json_extract(facets, ?) AS v FROM details WHERE v IS NOT NULL", (f'$."{key}"',)).fetchall()
        values = json.loads("[" + ",".join(text for _, text in rows) + "]")
        return {rid: (value[0], value[1]) for (rid, _), value in zip(rows, values)}


def _by_key(rows: dict[str, dict[str, Any]]) -> dict[str, Column]:
    """Decoded facets of some records turned into one column a key."""
    columns: dict[str, Column] = {}
    with paused_gc():  # ~300k tuples for the picker's 5,000 rows
        for rid, values in rows.items():
            for key, value in values.items():
                columns.setdefault(key, {})[rid] = (value[0], value[1])
    return columns


def _decoded_rows(db: sqlite3.Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The facets of these records that exist, decoded, each row checked against its CRC."""
    out: dict[str, dict[str, Any]] = {}
    with paused_gc():
        for row in db.execute("SELECT id, facets, fcrc FROM details WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)):
            check_row(row)
            out[row[0]] = json.loads(row[1])
    return out


def _all_keys(db: sqlite3.Connection) -> set[str]:
    """Every key of every record's facets. SQLite lists them where the text holds no ``\\u`` escape (its decoding of a
    ``\\u0000`` cuts the key short, and of a lone surrogate is no UTF-8); those few records are decoded by ``json``."""
    keys = {key for (key,) in db.execute("SELECT DISTINCT j.key FROM details, json_each(details.facets) j WHERE instr(details.facets, '\\u') = 0")}
    with paused_gc():
        for row in db.execute("SELECT id, facets, fcrc FROM details WHERE instr(facets, '\\u') > 0"):
            check_row(row)
            keys.update(json.loads(row[1]))
    return keys

