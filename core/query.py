"""Filter and sort expressions over catalog summaries.

Filters: ``project=fraud-model``, ``val_auc>0.9``, ``config.optimizer.lr=0.01``,
``status!=failed``, ``name~cosine`` (contains), or a bare word (free text over
id, name and project). Operators: ``= != > >= < <= ~``. Keys: a record field, a
metric (bare name or ``metrics.NAME``), or ``config.``, ``data.``, ``seeds.``,
``env.``, ``code.`` paths. Sort keys are the same keys, ``-KEY`` for descending.

Evaluation happens in memory over :class:`~runsift.core.records.Summary` rows, so
the command line and the app share one implementation and typing a filter in the
app never waits for disk. Detail keys (``config.`` ...) are looked up through a
``facets`` callback that returns ``{record id: (text, number)}`` for one key.
"""

from __future__ import annotations

import difflib
import functools
import math
import operator
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from .records import Summary

FIELDS: tuple[str, ...] = ("id", "kind", "project", "name", "path", "status", "started", "run_number", "sweep", "problems")
"""Record fields every summary carries."""
TEXT_FIELDS: frozenset[str] = frozenset({"id", "kind", "project", "name", "path", "status", "started", "sweep"})
"""The fields holding text (or None); the others are counts."""

FACET_PREFIXES: tuple[str, ...] = ("config.", "data.", "seeds.", "env.", "code.", "tags.")
"""Key prefixes answered from the record details (flattened into the cache's facets table)."""
FACET_FIELDS: frozenset[str] = frozenset(
    {"source", "user", "host", "exit_code", "ended", "duration", "error", "started_source", "status_source"}
)
"""Run fields answered from the record details too (what a tracker recorded about the run)."""
SOURCE_FACETS: tuple[str, ...] = ("started_source", "status_source")
"""Whether a run's start and status were recorded or guessed: asked with every list that shows them."""

OPERATORS: tuple[str, ...] = ("!=", ">=", "<=", "=", ">", "<", "~")
_SPLIT = re.compile(r"^(?P<key>[^=!<>~\s][^=!<>~]*?)\s*(?P<op>!=|>=|<=|==|=|>|<|~)\s*(?P<value>.*)$")
_ORDER: dict[str, Callable[[Any, Any], bool]] = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}

FacetValue = tuple[str | None, float | None]
FacetLookup = Callable[[str], Mapping[str, FacetValue]]
"""``lookup(key) -> {record id: (text, number)}`` for one detail key such as ``config.optimizer.lr``."""


class QueryError(ValueError):
    """A filter or sort expression the user has to fix; the message says how."""


@dataclass(frozen=True, slots=True)
class Filter:
    """One condition: ``key op value``, or free text when ``key`` is None."""

    key: str | None
    op: str
    value: str

    def __str__(self) -> str:
        return self.value if self.key is None else f"{self.key}{self.op}{self.value}"


@dataclass(frozen=True, slots=True)
class Sort:
    """Sort by ``key``; missing values always sort last."""

    key: str
    descending: bool = False


def parse_filter(expr: str) -> Filter:
    """Parse one filter expression; a bare word becomes free text."""
    expr = expr.strip()
    if not expr:
        raise QueryError("empty filter")
    match = _SPLIT.match(expr)
    if not match:
        if any(op in expr for op in OPERATORS):
            raise QueryError(f"cannot read filter {expr!r}: write KEY OP VALUE, e.g. val_auc>0.9 or status!=failed")
        return Filter(None, "~", _unquote(expr))
    key, op, value = match.group("key").strip(), match.group("op"), _unquote(match.group("value").strip())
    if op == "==":
        op = "="
    if value == "" and op not in ("=", "!="):
        raise QueryError(f"filter {expr!r} has no value after {op}")
    flt = Filter(key, op, value)
    _check(flt)
    return flt


def parse_filters(text: str) -> list[Filter]:
    """Split a line typed in the app (``project=x val_auc>0.9 cosine``) into filters."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    return [parse_filter(w) for w in words if w.strip()]


def parse_filters_lenient(text: str, check: Callable[[Filter], None] | None = None) -> tuple[list[Filter], str | None]:
    """The filters of ``text`` that parse (and pass ``check``), and the first error among the others.

    For a filter being typed: ``status=failed val_auc>`` still filters by ``status=failed`` while the
    comparison is unfinished, instead of showing every row or none.
    """
    try:
        words = shlex.split(text)
    except ValueError as exc:
        return [], f"cannot read filter: {exc}"
    filters: list[Filter] = []
    error: str | None = None
    for word in words:
        if not word.strip():
            continue
        try:
            flt = parse_filter(word)
            if check is not None:
                check(flt)
        except QueryError as exc:
            error = error or str(exc)
            continue
        filters.append(flt)
    return filters, error


def parse_sort(text: str) -> Sort:
    """``val_auc`` ascending, ``-val_auc`` or ``val_auc:desc`` descending."""
    text = text.strip()
    if not text:
        raise QueryError("empty sort key")
    descending = False
    if text.startswith("-"):
        descending, text = True, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    for suffix, desc in ((":desc", True), (":asc", False)):
        if text.lower().endswith(suffix):
            descending, text = desc, text[: -len(suffix)]
    return Sort(text, descending)


_FLOAT_CHARS = "0123456789+-._eEinfatyINFATY \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
"""Every ASCII character float() accepts in text (digits, sign, point, exponent, inf/nan/infinity, spaces):
the only ASCII texts that can be numbers use no other."""
_DROP_NUMBER_CHARS = str.maketrans("", "", _FLOAT_CHARS)


def as_number(value: Any) -> float | None:
    """The value as a finite-or-not float when it is a number or numeric text, else None."""
    kind = type(value)  # exact types first: a 100k-row sort asks once a row
    if kind is float:
        return cast(float, value)
    if kind is int:
        return _int_number(value)
    if kind is str:
        return _text_number(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return _int_number(value)
    if isinstance(value, str):
        return _text_number(value)
    return None


def _int_number(value: int) -> float:
    """An integer as a float; one past a float's range (~1.8e308) as an infinity of its sign, as float("1e400") reads."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _text_number(text: str) -> float | None:
    # Names, statuses and dates are text: rule them out before float()'s exception, which was most
    # of a 100k-row sort. An ASCII text with a character float() never accepts is not a number.
    if not text or (text.isascii() and text.translate(_DROP_NUMBER_CHARS)):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def is_facet(key: str) -> bool:
    """True for keys answered from record details rather than the summary."""
    return key.startswith(FACET_PREFIXES) or key in FACET_FIELDS


def metric_of(key: str) -> str:
    """Metric name a key refers to (``metrics.val_auc`` or ``val_auc``)."""
    return key.removeprefix("metrics.")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _check(f: Filter) -> None:
    if f.key is None or f.key in FIELDS or is_facet(f.key):
        return
    metric = metric_of(f.key)
    if f.op == "~":
        raise QueryError(f"~ (contains) works on text; for metric {metric!r} use = != > >= < <=")
    if as_number(f.value) is None:
        raise QueryError(f"metric {metric!r} is a number: compare it with a number, e.g. {metric}>0.9")


# -- key validation --------------------------------------------------------------------


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``choices`` that look like ``word`` (difflib, cutoff 0.75): close matches only."""
    return difflib.get_close_matches(word, list(dict.fromkeys(choices)), n=n, cutoff=0.75)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean val_auc"`` (or ``"val_auc or val_f1"``) when ``choices`` hold close matches, else ``""``."""
    close = close_matches(word, choices)
    return f"; did you mean {' or '.join(close)}" if close else ""


def check_key(key: str, metrics: Iterable[str], facet_keys: Iterable[str] = ()) -> None:
    """Raise :class:`QueryError` for a key no record has (``val_acu``), with the close matches as suggestions.

    Fields and tracker fields are always known; a metric must be among ``metrics`` (bare or
    ``metrics.NAME``); a ``config.``/``data.``... path among ``facet_keys``. A filter that names a
    key nobody records would silently match nothing, which reads as "no run is that good".
    """
    if key in FIELDS or key in FACET_FIELDS:
        return
    metric_set = set(metrics)
    if key.startswith(FACET_PREFIXES):
        known = set(facet_keys)
        if key in known or not known:  # an empty catalog knows no keys: nothing to check against
            return
        raise QueryError(f"unknown key {key}{did_you_mean(key, sorted(known))}")
    if metric_of(key) in metric_set or not metric_set:
        return
    choices = [*FIELDS, *sorted(FACET_FIELDS), *sorted(metric_set)]
    word = metric_of(key)
    hint = did_you_mean(word, choices) or did_you_mean(key, sorted(set(facet_keys)))
    raise QueryError(f"unknown key {key}{hint}")


def check_keys(filters: Iterable[Filter], sort: Sort | None, metrics: Iterable[str], facet_keys: Callable[[], Iterable[str]]) -> None:
    """:func:`check_key` for every filter key and the sort key; ``facet_keys`` is called only when a detail path is used."""
    keys = [f.key for f in filters if f.key is not None]
    if sort is not None:
        keys.append(sort.key)
    if not keys:
        return
    metric_list = list(metrics)
    facets: list[str] | None = None
    for key in keys:
        if key.startswith(FACET_PREFIXES) and facets is None:
            facets = list(facet_keys())
        check_key(key, metric_list, facets or ())


# -- evaluation ------------------------------------------------------------------------


def field_value(row: Summary, key: str) -> Any:
    """Value of a summary field (``problems`` is the number of problems)."""
    if key == "problems":
        return len(row.problems)
    return getattr(row, key)


def compare(actual: Any, op: str, wanted: str) -> bool:
    """Does ``actual`` (a value, None when missing) satisfy ``op wanted``?

    Numbers compare as numbers; text compares case-insensitively for = and !=;
    a missing value satisfies only ``!=`` (and ``=`` with an empty value).
    """
    if actual is None or (isinstance(actual, float) and math.isnan(actual)):
        return (op == "!=" and wanted != "") or (op == "=" and wanted == "")
    if op == "~":
        return wanted.lower() in _text(actual).lower()
    a_num, w_num = as_number(actual), as_number(wanted)
    if op in ("=", "!="):
        if wanted == "":
            same = _text(actual) == ""
        elif a_num is not None and w_num is not None:
            same = a_num == w_num
        else:
            same = _text(actual).lower() == wanted.lower()
        return same if op == "=" else not same
    if a_num is not None and w_num is not None:
        return _ORDER[op](a_num, w_num)
    return _ORDER[op](_text(actual), wanted)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _facet_value(entry: FacetValue | None) -> Any:
    if entry is None:
        return None
    text, number = entry
    return number if number is not None else text


def compile_filters(filters: Iterable[Filter], facets: FacetLookup | None = None) -> Callable[[Summary], bool]:
    """A predicate that is true for rows passing every filter."""
    tests = compile_tests(filters, facets)
    if len(tests) == 1:
        return tests[0]
    return lambda row: all(t(row) for t in tests)


def compile_tests(filters: Iterable[Filter], facets: FacetLookup | None = None) -> list[Callable[[Summary], bool]]:
    """One predicate per filter; a list of rows filtered by each in turn passes them all.

    Applying them one at a time over a list costs less than one combined predicate per row.
    """
    return [_compile(f, facets) for f in filters]


def refines(new: Sequence[Filter], old: Sequence[Filter]) -> bool:
    """True when every row passing ``new`` surely passes ``old`` (so ``new`` may filter ``old``'s result).

    Holds when ``new`` keeps each of ``old``'s filters, or narrows a free-text or ``~`` one to a
    longer text containing it (typing on), and perhaps adds more.
    """
    if not old or len(new) < len(old):
        return False
    for n, o in zip(new, old):
        if n == o:
            continue
        if n.key != o.key or n.op != o.op or (o.key is not None and o.op != "~"):
            return False
        if o.value.lower() not in n.value.lower():
            return False
    return True


def _compile(f: Filter, facets: FacetLookup | None) -> Callable[[Summary], bool]:
    if f.key is None:
        needle = f.value.lower()
        return lambda r: needle in (r.search or f"{r.id}\0{r.name}\0{r.project}".lower())
    key, op, wanted = f.key, f.op, f.value
    number = as_number(wanted)
    if op in _ORDER and number is not None and not math.isnan(number) and key not in FIELDS and not is_facet(key):
        # The common case on big catalogs (val_auc>0.9): one dict lookup and one comparison a row.
        metric, order = metric_of(key), _ORDER[op]
        return lambda r: (v := r.metrics.get(metric)) is not None and v == v and order(v, number)
    if key in TEXT_FIELDS and op in ("=", "!=", "~") and wanted and number is None:
        # project=fraud-model: what compare() does for text that is not a number, without its checks.
        needle = wanted.lower()
        if op == "~":
            return lambda r: (v := getattr(r, key)) is not None and needle in v.lower()
        equal = op == "="
        return lambda r: ((v := getattr(r, key)) is not None and v.lower() == needle) is equal
    if key in FIELDS:
        return lambda r: compare(field_value(r, key), op, wanted)
    if is_facet(key):
        values = facets(key) if facets is not None else {}
        return lambda r: compare(_facet_value(values.get(r.id)), op, wanted)
    _check(f)
    metric = metric_of(key)
    return lambda r: compare(r.metrics.get(metric), op, wanted)


def _metric_value(row: Summary, metric: str) -> Any:
    """A row's summary value of ``metric``, None when it has none (a sort key)."""
    return row.metrics.get(metric)


def _started_for_sorting(rows: Sequence[Summary], sources: Mapping[str, FacetValue]) -> Callable[[Summary], str | None]:
    """Start time to sort by: a start guessed from file times sorts at its sweep's recorded start.

    A sweep's runs copied or checked out later get file times of that day, a year after the sweep;
    sorted by those they would leave their sweep. Shown, they keep their guessed time and its ``~``.
    """
    sweeps = {r.id: r.started for r in rows if r.kind == "sweep" and r.started}

    def started(r: Summary) -> str | None:
        if r.sweep and r.sweep in sweeps and (sources.get(r.id) or (None, None))[0] == "guessed":
            return sweeps[r.sweep]
        return r.started

    return started


def sort_rows(
    rows: Sequence[Summary], sort: Sort, facets: FacetLookup | None = None, *, in_id_order: bool = False
) -> list[Summary]:
    """Summaries ordered by ``sort`` (ties by id); missing values last in either direction.

    Numbers come before text going up, after it going down (as if each value were keyed ``(0,
    number)`` or ``(1, text)``). ``in_id_order`` says the rows already come sorted by id (as the
    catalog keeps them), which saves a pass.
    """
    key = sort.key
    if key == "started" and facets is not None:
        get: Callable[[Summary], Any] = _started_for_sorting(rows, facets("started_source"))
    elif key in TEXT_FIELDS:
        get = operator.attrgetter(key)
    elif key in FIELDS:
        get = functools.partial(field_value, key=key)
    elif is_facet(key):
        facet_values = facets(key) if facets is not None else {}

        def facet_of(r: Summary) -> Any:
            return _facet_value(facet_values.get(r.id))

        get = facet_of
    else:
        get = functools.partial(_metric_value, metric=metric_of(key))
    values = list(map(get, rows))
    kinds = set(map(type, values))
    numbers: list[tuple[float, Summary]]
    texts: list[tuple[str, Summary]]
    missing: list[Summary]
    if kinds <= _NUMBER_TYPES:  # a metric: no text to tell apart
        numbers = [(v, r) for v, r in zip(values, rows) if v is not None and v == v]
        texts = []
        missing = [r for v, r in zip(values, rows) if v is None or v != v]
    elif kinds <= _TEXT_TYPES and not _numeric_texts([v for v in values if v is not None] if type(None) in kinds else values):
        numbers = []  # names, dates, statuses: the common case, done with C-level passes
        if type(None) in kinds:
            texts = [(v.lower(), r) for v, r in zip(values, rows) if v is not None]
            missing = [r for v, r in zip(values, rows) if v is None]
        else:
            texts = list(zip(map(str.lower, values), rows))
            missing = []
    else:
        numbers, texts, missing = _split_by_kind(values, rows)
    if not in_id_order:
        numbers.sort(key=_by_id)
        texts.sort(key=_by_id)
        missing.sort(key=_id_of)
    first = operator.itemgetter(0)
    numbers.sort(key=first, reverse=sort.descending)  # stable, also reversed: ties stay in id order
    texts.sort(key=first, reverse=sort.descending)
    ordered = texts + numbers if sort.descending else numbers + texts
    return [row for _, row in ordered] + missing


_NUMBER_TYPES = frozenset({float, int, type(None)})
_TEXT_TYPES = frozenset({str, type(None)})
_FLOAT_BYTES = _FLOAT_CHARS.replace("\n", "").encode("ascii")
""":data:`_FLOAT_CHARS` but the newline, which :func:`_numeric_texts` keeps as its separator."""


def _numeric_texts(texts: list[str]) -> bool:
    """True when some of these texts may read as numbers, decided in a few passes over them all at once.

    The texts of an ASCII column joined by newlines, with every character float() accepts deleted:
    an empty line is the only place a number can be (then the slow check decides).
    """
    joined = "\n".join(texts)
    if not joined.isascii() or joined.count("\n") != len(texts) - 1:
        return any(_text_number(v) is not None for v in set(texts))
    rests = b"\n" + joined.encode("ascii").translate(None, _FLOAT_BYTES) + b"\n"
    if b"\n\n" not in rests:
        return False
    return any(_text_number(v) is not None for v, rest in zip(texts, rests[1:-1].split(b"\n")) if not rest)


def _split_by_kind(values: list[Any], rows: Sequence[Summary]) -> tuple[list[tuple[float, Summary]], list[tuple[str, Summary]], list[Summary]]:
    """Rows keyed as numbers, as texts, and missing ones, for a column that mixes them."""
    numbers: list[tuple[float, Summary]] = []
    texts: list[tuple[str, Summary]] = []
    missing: list[Summary] = []
    text_keys: dict[str, tuple[bool, Any]] = {}  # a column repeats its texts (projects, statuses): key each once
    for value, row in zip(values, rows):
        if type(value) is str:
            keyed = text_keys.get(value)
            if keyed is None:
                keyed = text_keys[value] = _text_sort_key(value)
            if keyed[0]:
                texts.append((keyed[1], row))
            elif keyed[1] is None:
                missing.append(row)
            else:
                numbers.append((keyed[1], row))
            continue
        number = None if value is None else as_number(value)
        if value is None or (number is not None and number != number):
            missing.append(row)
        elif number is None:
            texts.append((_text(value).lower(), row))
        else:
            numbers.append((number, row))
    return numbers, texts, missing


def _text_sort_key(text: str) -> tuple[bool, Any]:
    """``(True, lower-case text)`` for text, ``(False, number)`` for numeric text (None when NaN)."""
    number = _text_number(text)
    if number is None:
        return True, text.lower()
    return False, (None if number != number else number)


def _by_id(item: tuple[Any, Summary]) -> str:
    return item[1].id


def _id_of(row: Summary) -> str:
    return row.id
