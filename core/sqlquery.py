"""The query language (:mod:`runsift.core.query`) translated to SQL over a table of values, bound parameters only.

Every value a filter or sort may ask for (summary fields, final metrics, detail facets) is stored as one
row ``(key, ctext, ltext, num, sortclass)`` computed here in Python by the same rules
:func:`~runsift.core.query.compare` and :func:`~runsift.core.query.sort_rows` apply, so the database
answers exactly what the in-memory catalog answers. The SQL text is fixed; user text only ever travels
as a parameter (a hostile run name or filter value is data, never SQL).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .query import (
    FIELDS,
    Filter,
    Sort,
    _facet_value,
    _text,
    as_number,
    compare,
    field_value,
    is_facet,
    metric_of,
)
from .records import Summary

NUMBER, TEXT, MISSING = 0, 1, 2
"""Sort classes: numbers come first going up, texts after; NaN-like texts sort with missing values, last."""

Value = tuple[str, str, str, float | None, int]
"""``(key, ctext, ltext, num, sortclass)``."""

_ORDER_OPS = frozenset({">", ">=", "<", "<="})

COLUMNS = ("project", "status", "kind")
"""Summary fields that are ``runs`` columns with few distinct values, each with an index ``(root, column, id)``
(past ``pgcatalog.COLUMN_VALUES_MAX`` values a filter, past ``SORT_GROUPS_MAX`` a sort, goes through ``vals``).

A filter or a sort on one is answered from the column's distinct values (a few index probes): the values
that pass a filter are chosen here by :func:`query.compare` itself, and a sort is one slice per value (its
records by id, in that index's order). At 1M records ``project=…`` (125k matches) was 0.5 s found through
``vals`` and sorted by id; a sort by ``-status`` ordered its 900k-record tie group by id (2 s).
"""


def db_text(text: str) -> str:
    """Text PostgreSQL can hold: it refuses NUL characters, which no file name has either."""
    return text.replace("\0", "\ufffd") if "\0" in text else text


_TRIGRAM = re.compile(r"[^\W_]{3}")
"""Three letters or digits in a row: what ``pg_trgm`` makes a trigram of (it splits words at anything else), in a
UTF-8 locale; in a ``C`` one, letters outside ASCII make none, and such a word reads the index whole (slower, same rows)."""


def like_escaped(text: str) -> str:
    """``text`` matched literally by LIKE (with ``ESCAPE '\\'``): its ``%``, ``_`` and backslashes escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in_search(word: str) -> tuple[str, list[Any]]:
    """A record's search text (id, name and project, lower case) holds ``word`` (lower case, as stored): a LIKE that the
    trigram index serves (pgschema.SEARCH_INDEX) when the word has a trigram (:data:`_TRIGRAM`)."""
    return "r.search LIKE %s ESCAPE '\\'", [f"%{like_escaped(word)}%"]


def vkey(key: str) -> str:
    """The ``vals`` key of a query key: ``F:`` a summary field, ``f:`` a detail facet, ``m:`` a metric."""
    if key in FIELDS:
        return "F:" + key
    if is_facet(key):
        return "f:" + key
    return "m:" + metric_of(key)


def value(key: str, v: Any) -> Value | None:
    """The stored row of one value (None for a missing one: None, or a float NaN)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    ctext = db_text(_text(v))
    number = as_number(v)
    if number is not None and math.isnan(number):
        return key, ctext, ctext.lower(), None, MISSING
    return key, ctext, ctext.lower(), number, NUMBER if number is not None else TEXT


def values_of(row: Summary, facets: Mapping[str, list[Any]]) -> Iterator[Value]:
    """Every value a filter or sort may ask of one record."""
    for field in FIELDS:
        out = value("F:" + field, field_value(row, field))
        if out is not None:
            yield out
    for name, metric in row.metrics.items():
        out = value("m:" + name, metric)
        if out is not None:
            yield out
    for key, (text, num) in facets.items():
        out = value("f:" + key, _facet_value((text, num)))
        if out is not None:
            yield out


def filter_sql(flt: Filter, texts: bool = True, probed: bool = False) -> tuple[str, list[Any]]:
    """A WHERE clause over ``runs r`` (and its ``vals``) true exactly where :func:`query.compare` is.

    ``texts=False`` says no record has a text value of the filter's key (a probe found none): a number
    then needs no text arm, whose estimate (every text above '0.89') made the planner expect 30x the
    matches and scan where it should probe (``val_auc>0.89`` at 1M records: 0.49 -> 0.17 s).
    ``probed``: each ``vals`` subquery is fenced (``OFFSET 0``), so that it is one index probe a record
    checked (:func:`walk_sql`), never a join with the key's every value.
    """
    if flt.key is None:
        word = db_text(flt.value.lower())  # as the search text is stored
        if _TRIGRAM.search(word):  # LIKE, which the trigram index serves (pgschema.SEARCH_INDEX), where there is one
            return _in_search(word)
        # no three letters or digits in a row, so no trigram to look up: the index would be read whole (1.1 s for
        # "ab" at 1M records, where reading every record takes 0.5 s)
        return "strpos(r.search, %s) > 0", [word]
    op, wanted = flt.op, flt.value
    w_num = as_number(wanted)
    params: list[Any] = []
    if op == "~":
        cond = "strpos(v.ltext, %s) > 0"
        params = [db_text(wanted.lower())]
    elif op in ("=", "!="):
        if wanted == "":
            same = "v.ctext = ''"
        elif w_num is not None and math.isnan(w_num):
            same, params = "(v.sortclass = 1 AND v.ltext = %s)", [db_text(wanted.lower())]
        elif w_num is not None and not texts:
            same, params = "(v.num IS NOT NULL AND v.num = %s)", [w_num]
        elif w_num is not None:
            same = "((v.num IS NOT NULL AND v.num = %s) OR (v.sortclass = 1 AND v.ltext = %s))"
            params = [w_num, db_text(wanted.lower())]
        else:  # every sort class (always one of the three): lets vals_class_text serve it, one probe a class
            same, params = "v.sortclass IN (0, 1, 2) AND v.ltext = %s", [db_text(wanted.lower())]
        cond = same if op == "=" else f"NOT ({same})"
    # A number compares as a number, a text as text, a NaN-like value never: as an OR of two arms (each
    # always true or false, never NULL, so that NOT of it is right), which the planner serves with a BitmapOr
    # of vals_num (the number range) and vals_class_text (the key's texts) instead of reading every value.
    elif op in _ORDER_OPS:
        if w_num is not None and math.isnan(w_num):
            cond, params = f"(v.sortclass = 1 AND v.ctext {op} %s)", [db_text(wanted)]
        elif w_num is not None and not texts:
            cond, params = f"(v.num IS NOT NULL AND v.num {op} %s)", [w_num]
        elif w_num is not None:
            cond = f"((v.num IS NOT NULL AND v.num {op} %s) OR (v.sortclass = 1 AND v.ctext {op} %s))"
            params = [w_num, db_text(wanted)]
        else:
            cond, params = f"v.ctext {op} %s", [db_text(wanted)]
    else:  # pragma: no cover - parse_filter admits no other operator
        raise ValueError(f"unknown operator {op!r}")
    key = vkey(flt.key)
    fence = " OFFSET 0" if probed else ""
    exists = f"EXISTS (SELECT 1 FROM vals v WHERE v.rid = r.rid AND v.key = %s AND {cond}{fence})"
    missing_ok = (op == "!=" and wanted != "") or (op == "=" and wanted == "")
    if flt.key == "name" and op == "~" and _TRIGRAM.search(params[0]):
        # A name holding the word is in the record's search text too (its id, name and project, lower case): read
        # first through the trigram index, the few records found are then checked (name~run-00001 sorted by a metric
        # at 1M records: 1.5-2.2 s -> 0.1 s).
        held, held_params = _in_search(params[0])
        return f"({held} AND {exists})", [*held_params, key, *params]
    if not missing_ok:
        return exists, [key, *params]
    absent = f"NOT EXISTS (SELECT 1 FROM vals v WHERE v.rid = r.rid AND v.key = %s{fence})"
    return f"({exists} OR {absent})", [key, *params, key]


BY_ID = 'r.id COLLATE "C"'
"""The order of ties and of records without a value: by id, byte-wise (what Python's string order is)."""


@dataclass(frozen=True)
class SortPart:
    """One slice of a sorted list, in an order an index serves: numbers, texts, or records missing the value.

    A list sorted by a key is its slices one after the other (numbers up then texts up, or texts down
    then numbers down; missing values last either way). Each slice alone is an index range scan of
    ``vals`` (``vals_num`` for numbers, ``vals_text`` for texts) or of ``runs`` by id, so a first page
    reads a page's worth of rows instead of sorting every record by a ``CASE`` expression.
    """

    join: str
    """SQL joined to ``runs r`` (``vals s`` of the sort key, of this slice's class), or ``""``."""
    where: str
    """An extra WHERE condition (records with no value of the key), or ``""``."""
    params: tuple[Any, ...]
    """Parameters of ``join`` or ``where`` (the sort key)."""
    key: str = ""
    """The slice's sort value as an SQL expression (``s.num``, ``s.ltext``), or ``""`` for a slice by id alone."""
    way: str = ""
    """``" DESC"`` or ``""``: the direction of ``key`` (ties are by id, ascending, either way)."""
    probe: str = ""
    """A one-row SELECT true when some record of any root has a value in this slice (``params`` are its
    parameters): one index probe that spares finding every match of a filter for a slice that is empty
    (a metric's texts slice, almost always)."""
    indexed: bool = False
    """True when ``where`` is a column's values (:data:`COLUMNS`), read from its index in id order: the slice
    walks that index rather than finding its matches first."""
    members: tuple[str | None, ...] = ()
    """A column group's values (None: a missing value), to tell which slice a record is in."""

    @property
    def order(self) -> str:
        """The ORDER BY of the slice, ties by id."""
        return f"{self.key}{self.way}, {BY_ID}" if self.key else BY_ID


NUMBERS_KEY, TEXTS_KEY = "s.num", "s.ltext"
"""The sort value of a sort's numbers slice and of its texts slice (:attr:`SortPart.key`); its missing slice has none."""


def sort_parts(sort: Sort | None, project: str | None = None) -> list[SortPart]:
    """The slices of a list ordered as :func:`query.sort_rows` orders it, in order (one slice by id without a sort).

    ``project``: the list is that one project's records, and a sort by a key whose values carry their project
    (:func:`project_values`) reads that project's values from the indexes by project, in order."""
    if sort is None:
        return [SortPart("", "", ())]
    key = (vkey(sort.key),)
    way = " DESC" if sort.descending else ""
    # num IS NOT NULL is exactly sort class 0 (value() stores no number for texts and NaN-like ones).
    numbers = SortPart("JOIN vals s ON s.rid = r.rid AND s.key = %s AND s.num IS NOT NULL", "", key, NUMBERS_KEY, way,
                       "SELECT EXISTS (SELECT 1 FROM vals s WHERE s.key = %s AND s.num IS NOT NULL)")
    has_value = "s.rid = r.rid AND s.key = %s AND s.sortclass < 2"
    missing = SortPart("", f"NOT EXISTS (SELECT 1 FROM vals s WHERE {has_value})", key)
    texts = SortPart("JOIN vals s ON s.rid = r.rid AND s.key = %s AND s.sortclass = 1", "", key, TEXTS_KEY, way,
                     "SELECT EXISTS (SELECT 1 FROM vals s WHERE s.key = %s AND s.sortclass = 1)")
    held = project_values(key[0])
    if project is not None and held is not None:
        # The index's own condition is written out so that the planner may use it whatever the key parameter is.
        # A record's values of these keys hold its project: the project's records without one are then its
        # records less the few values of the index's range (a hash of them), not a probe a record (nlp-intent,
        # which logs no val_auc, sorted -val_auc at 1M: a first page 433-557 -> 56-65 ms).
        in_project = f"s.project = %s AND {held}"
        numbers = dataclasses.replace(numbers, join=f"{numbers.join} AND {in_project}", params=(*key, project),
                                      probe=f"SELECT EXISTS (SELECT 1 FROM vals s WHERE s.key = %s AND s.num IS NOT NULL AND {in_project})")
        if held == FIELD_VALUES:  # a name's or a start's texts, in vals_project_text's order (a metric's texts are rare)
            texts = dataclasses.replace(texts, join=f"{texts.join} AND {in_project}", params=(*key, project),
                                        probe=f"SELECT EXISTS (SELECT 1 FROM vals s WHERE s.key = %s AND s.sortclass = 1 AND {in_project})")
        missing = SortPart("", f"NOT EXISTS (SELECT 1 FROM vals s WHERE {has_value} AND {in_project})", (*key, project))
    return [texts, numbers, missing] if sort.descending else [numbers, texts, missing]


PROJECT_FIELDS = ("F:name", "F:run_number", "F:started")
"""The summary fields a project's list is sorted by in the app (``s`` steps through the columns) whose values carry
their record's project; ``project``, ``status`` and ``kind`` are ``runs`` columns with indexes of their own."""


def metric_values(key: str) -> str:
    """SQL true for the ``vals`` rows of metrics, ``key`` naming the key column (``s.key``, ``NEW.key`` ...)."""
    return f"{key} >= 'm:' AND {key} < 'm;'"


def field_values(key: str) -> str:
    """SQL true for the ``vals`` rows of :data:`PROJECT_FIELDS`, ``key`` naming the key column."""
    return f"{key} IN ({', '.join(repr(k) for k in PROJECT_FIELDS)})"


METRIC_VALUES = metric_values("s.key")
FIELD_VALUES = field_values("s.key")
"""The two kinds of ``vals`` rows that carry their record's project, in a list's SQL: written out in the partial
indexes by project's own words (:mod:`.pgschema` builds them from the same functions), so that the planner may use them."""


def project_values(key: str) -> str | None:
    """The condition naming the ``vals`` rows of ``key``'s kind that carry their record's project (a metric's, or one
    of :data:`PROJECT_FIELDS`), or None for a key whose values do not."""
    if key.startswith("m:"):
        return METRIC_VALUES
    if key in PROJECT_FIELDS:
        return FIELD_VALUES
    return None


def column_passing(flt: Filter, values: list[str]) -> tuple[list[str], bool]:
    """The ``values`` of a :data:`COLUMNS` field (every distinct value of the root's records) that
    :func:`query.compare` passes, and whether a missing value passes too."""
    assert flt.key in COLUMNS
    wanted = db_text(flt.value)  # as stored: a NUL in a name is held as U+FFFD, typed or not
    return [v for v in values if compare(v, flt.op, wanted)], compare(None, flt.op, wanted)


def column_filter(flt: Filter, values: list[str]) -> tuple[str, list[Any]]:
    """A WHERE clause for a filter on a :data:`COLUMNS` field: the column is one of the ``values`` (every
    distinct value of the root's records) that :func:`query.compare` passes, or NULL where a missing value passes."""
    assert flt.key in COLUMNS
    passing, missing_passes = column_passing(flt, values)
    conds, params = _one_of(flt.key, passing)
    if missing_passes:
        conds.append(f"r.{flt.key} IS NULL")
    if not conds:
        return "FALSE", []
    return (conds[0] if len(conds) == 1 else f"({' OR '.join(conds)})"), params


def _one_of(column: str, values: list[str]) -> tuple[list[str], list[Any]]:
    """``r.column = %s`` for one value (an index range in id order), ``= ANY(%s)`` for several, nothing for none."""
    if not values:
        return [], []
    if len(values) == 1:
        return [f"r.{column} = %s"], [values[0]]
    return [f"r.{column} = ANY(%s)"], [values]


def column_sort_parts(sort: Sort, values: list[str]) -> list[SortPart]:
    """The slices of a list sorted by a :data:`COLUMNS` field: one a group of equal sort values (``Failed`` and
    ``failed``; ``1`` and ``1.0``), in :func:`sort_parts`' order of classes and values, then the missing ones;
    each group's records by id, read from the column's index."""
    numbers: dict[float, list[str]] = {}
    texts: dict[str, list[str]] = {}
    missing: list[str] = []
    for v in values:
        stored = value("F:" + sort.key, v)
        if stored is None or stored[4] == MISSING:
            missing.append(v)
        elif stored[4] == NUMBER:
            numbers.setdefault(stored[3], []).append(v)  # type: ignore[arg-type]
        else:
            texts.setdefault(stored[2], []).append(v)
    way = sort.descending
    ordered = [numbers[k] for k in sorted(numbers, reverse=way)], [texts[k] for k in sorted(texts, reverse=way)]
    groups = [*ordered[1], *ordered[0]] if way else [*ordered[0], *ordered[1]]
    parts = []
    for group in groups:
        conds, params = _one_of(sort.key, group)
        parts.append(SortPart("", conds[0], tuple(params), indexed=True, members=tuple(group)))
    conds, params = _one_of(sort.key, missing)
    where = f"({' OR '.join([*conds, f'r.{sort.key} IS NULL'])})"
    parts.append(SortPart("", where, tuple(params), indexed=True, members=(*missing, None)))
    return parts


def after_cond(part: SortPart, key: Any, after: str) -> tuple[str, list[Any]]:
    """The condition of a slice's rows after one of its rows (sort value ``key``, id ``after``), in the slice's
    order: what a next page reads instead of passing over every row before it (keyset paging). The bound on the
    sort value alone is what lets the index range start there."""
    if not part.key:
        return f"{BY_ID} > %s", [after]
    if part.way:
        return f"{part.key} <= %s AND ({part.key} < %s OR {BY_ID} > %s)", [key, key, after]
    return f"{part.key} >= %s AND ({part.key} > %s OR {BY_ID} > %s)", [key, key, after]


LIST_COLUMNS = "r.id, r.kind, r.project, r.name, r.rel, r.status, r.started, r.run_number, r.sweep, r.n_problems, r.problems, r.metrics"
"""What a list reads of each record (a :class:`Summary`'s fields)."""


def slice_sql(
    part: SortPart, conds: list[str], args: list[Any], limit: int | None, skip: int, found_first: bool,
) -> tuple[str, list[Any]]:
    """One slice of a list as SQL: ``limit`` rows after ``skip``, in the slice's order.

    Not ``found_first`` (nothing but the root and indexed columns to match), the slice walks an index in
    order and stops when the page is full. ``found_first`` (filters through ``vals``, a sparse column filter
    under a metric sort, the records missing a sort key), the matching records are found first, their ids
    and sort values only, then sorted, and only the page is joined back to ``runs``. The planner cannot know
    that matches cluster in id order (ids begin with the project) or in a metric's (a project's AUCs sit
    together): walking with a probe a record, a first page of ``project=…`` or ``val_auc>0.91`` took 3-20 s
    at 1M records, and ``project=churn-predictor`` sorted ``-val_auc`` 1.4 s.

    By id, the matches are ``MATERIALIZED`` and each row ends with how many were found (a count the list
    keeps). By a sort value, they are a subquery behind ``OFFSET 0`` (the planner's fence, which unlike a
    ``MATERIALIZED`` one lets parallel workers find them; a sort expression no index matches was not a fence:
    the planner sorted the metric's values itself and walked them) and a top-N sort keeps the page.
    """
    page, page_args = "", []
    if limit is not None:
        page, page_args = " LIMIT %s", [limit]
    if skip:
        page, page_args = f"{page} OFFSET %s", [*page_args, skip]
    where = " AND ".join(conds)
    if not found_first:
        return f"SELECT {LIST_COLUMNS} FROM runs r {part.join} WHERE {where} ORDER BY {part.order}{page}", [*args, *page_args]
    if part.key:
        sql = (f"SELECT {LIST_COLUMNS} FROM (SELECT * FROM (SELECT r.rid, {BY_ID} AS sid, {part.key} AS k FROM runs r {part.join} "
               f"WHERE {where} OFFSET 0) m ORDER BY k{part.way}, sid{page}) p JOIN runs r ON r.rid = p.rid ORDER BY p.k{part.way}, p.sid")
        return sql, [*args, *page_args]
    sql = (f"WITH m AS MATERIALIZED (SELECT r.rid, {BY_ID} AS sid FROM runs r {part.join} WHERE {where}) "
           f"SELECT {LIST_COLUMNS}, (SELECT COUNT(*) FROM m) FROM (SELECT * FROM m ORDER BY sid{page}) p "
           f"JOIN runs r ON r.rid = p.rid ORDER BY p.sid")
    return sql, [*args, *page_args]


def walk_sql(
    part: SortPart, base: list[str], base_args: list[Any], conds: list[str], args: list[Any], limit: int, cap: int,
) -> tuple[str, list[Any]]:
    """The first ``limit`` rows passing ``conds`` among the first ``cap`` records of a slice (of those passing
    ``base``: the root, not deleted, and where a page resumes), in the slice's order: ``limit`` rows is the page,
    fewer says nothing (the matches are then found first, :func:`slice_sql`).

    For filters through ``vals``, whose share no statistic tells: a broad one fills a page within a few thousand
    records (``config.optimizer.lr>0.001``, half of 1M records: found first 0.9 s, walked 30-50 ms), and a sparse one
    costs ``cap`` probes more. ``conds`` come from :func:`filter_sql` with ``probed``, checked a record at a time
    in the walk's order (joined with a key's every value, the page would wait for all of them); or, by id, a tie
    group's probe (:attr:`TieGroup.probe`), which names the walked record ``b`` and so is made before ``runs`` is read.
    """
    assert not part.where, "a slice with a condition of its own (the records missing a key) is not walked"
    key = f", {part.key} AS k" if part.key else ""
    inner_order, outer_order = (f"k{part.way}, sid", f"b.k{part.way}, b.sid") if part.key else ("sid", "b.sid")
    inner = f"SELECT r.rid, {BY_ID} AS sid{key} FROM runs r {part.join} WHERE {' AND '.join(base)} ORDER BY {inner_order} LIMIT %s"
    sql = f"SELECT {LIST_COLUMNS} FROM ({inner}) b JOIN runs r ON r.rid = b.rid WHERE {' AND '.join(conds)} ORDER BY {outer_order} LIMIT %s"
    return sql, [*(part.params if part.join else ()), *base_args, cap, *args, limit]


@dataclass(frozen=True)
class TieGroup:
    """The records of a sort's numbers or texts slice that share one sort value (its ties), to be read by id.

    ``vals (key, num, rid)`` and ``vals (key, sortclass, ltext, rid)`` hold a slice in value order, but its ties
    in row-number order: a page of a key with few distinct values (``config.batch_size``) sorted the whole first
    tie group by id (265k records at 1M, 0.43-0.71 s). A group is one sort value exactly as the slice orders it:
    ``num`` for numbers (``1``, ``1.0`` and ``"1"`` are one group; ``true`` is a text), ``ltext`` for texts
    (``Adam`` and ``adam`` are one)."""

    key: str
    """The ``vals`` key (:func:`vkey`)."""
    texts: bool
    """The texts slice's group (``ltext``), else the numbers slice's (``num``)."""
    value: float | str
    """The group's sort value as stored."""

    @property
    def held(self) -> str:
        """SQL over ``vals s`` true for the group's values (its parameters: :attr:`params`)."""
        return "s.key = %s AND s.sortclass = 1 AND s.ltext = %s" if self.texts else "s.key = %s AND s.num = %s"

    @property
    def params(self) -> tuple[Any, ...]:
        return self.key, self.value

    @property
    def part(self) -> SortPart:
        """The group as a slice by id whose matches are found first: its values joined to their records."""
        return SortPart(f"JOIN vals s ON s.rid = r.rid AND {self.held}", "", self.params)

    @property
    def probe(self) -> str:
        """SQL true when the walked record ``b`` (:func:`walk_sql`) is in the group: one index-only probe of
        ``vals_num`` or ``vals_class_text`` (every column given), fenced so that it stays a probe a record, made before
        the record is joined to ``runs``."""
        return f"EXISTS (SELECT 1 FROM vals s WHERE {self.held} AND s.rid = b.rid OFFSET 0)"

    @property
    def size_sql(self) -> str:
        """How many values the group holds, counted up to a bound (a parameter after :attr:`params`): from the index alone."""
        return f"SELECT COUNT(*) FROM (SELECT 1 FROM vals s WHERE {self.held} LIMIT %s) g"


def tie_values_sql(texts: bool) -> str:
    """The distinct sort values of a key's numbers (or texts) slice, up, at most a given number: a loose scan of
    ``vals_num`` (or ``vals_class_text``), one index probe a value (parameters: the key, the key, the most)."""
    column, held = ("ltext", "sortclass = 1") if texts else ("num", "num IS NOT NULL")
    return (f"WITH RECURSIVE t(v) AS ((SELECT {column} FROM vals WHERE key = %s AND {held} ORDER BY {column} LIMIT 1) "
            f"UNION ALL SELECT (SELECT {column} FROM vals WHERE key = %s AND {held} AND {column} > t.v ORDER BY {column} LIMIT 1) "
            f"FROM t WHERE t.v IS NOT NULL) SELECT v FROM t WHERE v IS NOT NULL LIMIT %s")
