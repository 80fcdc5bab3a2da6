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

import math
import operator
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .records import Summary

FIELDS: tuple[str, ...] = ("id", "kind", "project", "name", "path", "status", "started", "run_number", "sweep", "problems")
"""Record fields every summary carries."""

FACET_PREFIXES: tuple[str, ...] = ("config.", "data.", "seeds.", "env.", "code.")
"""Key prefixes answered from the record details (flattened into the cache's facets table)."""

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


def as_number(value: Any) -> float | None:
    """The value as a finite-or-not float when it is a number or numeric text, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def is_facet(key: str) -> bool:
    """True for keys answered from record details rather than the summary."""
    return key.startswith(FACET_PREFIXES)


def metric_of(key: str) -> str:
    """Metric name a key refers to (``metrics.val_auc`` or ``val_auc``)."""
    return key[len("metrics.") :] if key.startswith("metrics.") else key


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
        return op == "!=" and wanted != "" or (op == "=" and wanted == "")
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
    tests: list[Callable[[Summary], bool]] = []
    for f in filters:
        tests.append(_compile(f, facets))
    return lambda row: all(t(row) for t in tests)


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
    if key in FIELDS:
        return lambda r: compare(field_value(r, key), op, wanted)
    if is_facet(key):
        values = facets(key) if facets is not None else {}
        return lambda r: compare(_facet_value(values.get(r.id)), op, wanted)
    _check(f)
    metric = metric_of(key)
    return lambda r: compare(r.metrics.get(metric), op, wanted)


def sort_rows(rows: Sequence[Summary], sort: Sort, facets: FacetLookup | None = None) -> list[Summary]:
    """Summarys ordered by ``sort`` (ties by id); missing values last in either direction."""
    key = sort.key
    if key in FIELDS:
        get: Callable[[Summary], Any] = lambda r: field_value(r, key)  # noqa: E731
    elif is_facet(key):
        values = facets(key) if facets is not None else {}
        get = lambda r: _facet_value(values.get(r.id))  # noqa: E731
    else:
        metric = metric_of(key)
        get = lambda r: r.metrics.get(metric)  # noqa: E731
    present: list[tuple[tuple[int, Any], Summary]] = []
    missing: list[Summary] = []
    for row in rows:
        value = get(row)
        number = as_number(value)
        if value is None or (number is not None and math.isnan(number)):
            missing.append(row)
        elif number is not None:
            present.append(((0, number), row))
        else:
            present.append(((1, _text(value).lower()), row))
    present.sort(key=lambda item: item[1].id)
    present.sort(key=lambda item: item[0], reverse=sort.descending)
    missing.sort(key=lambda r: r.id)
    return [row for _, row in present] + missing
