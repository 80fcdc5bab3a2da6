"""Filter and sort expressions, compiled to SQL over the catalog's cache tables.

Filters: ``project=fraud-model``, ``val_auc>0.9``, ``config.optimizer.lr=0.01``,
``status!=failed``, ``name~cosine`` (contains), or a bare word (free text over
id, name and project). Operators: ``= != > >= < <= ~``. Keys: a record field, a
metric (bare name or ``metrics.NAME``), or ``config.``, ``data.``, ``seeds.``,
``env.``, ``code.`` paths. Sort keys are the same keys, ``-KEY`` for descending.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

FIELDS: dict[str, str] = {
    "id": "r.id",
    "kind": "r.kind",
    "project": "r.project",
    "name": "r.name",
    "path": "r.path",
    "status": "r.status",
    "started": "r.started",
    "run_number": "r.run_number",
    "sweep": "r.sweep",
    "problems": "r.n_problems",
}
"""Record fields that live in real columns of the ``records`` table."""

FACET_PREFIXES: tuple[str, ...] = ("config.", "data.", "seeds.", "env.", "code.")
"""Key prefixes answered from the ``facets`` table (flattened record details)."""

OPERATORS: tuple[str, ...] = ("!=", ">=", "<=", "=", ">", "<", "~")
_SPLIT = re.compile(r"^(?P<key>[^=!<>~\s][^=!<>~]*?)\s*(?P<op>!=|>=|<=|==|=|>|<|~)\s*(?P<value>.*)$")


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
    return Filter(key, op, value)


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


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def as_number(value: str) -> float | None:
    """The value as a number, when it is one (``1e-3``, ``0.01``, ``42``)."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def compile_filters(filters: list[Filter]) -> tuple[str, list[object]]:
    """SQL WHERE clause (over ``records r``) and its parameters for all filters, AND-ed."""
    clauses: list[str] = []
    params: list[object] = []
    for f in filters:
        clause, p = _compile(f)
        clauses.append(clause)
        params.extend(p)
    return (" AND ".join(clauses) if clauses else "1"), params


def _compile(f: Filter) -> tuple[str, list[object]]:
    if f.key is None:
        like = _like(f.value)
        return (
            "(r.id LIKE ? ESCAPE '\\' OR r.name LIKE ? ESCAPE '\\' OR r.project LIKE ? ESCAPE '\\')",
            [like, like, like],
        )
    key = f.key
    number = as_number(f.value)
    if key in FIELDS:
        return _compare(FIELDS[key], f.op, f.value, number)
    if key.startswith(FACET_PREFIXES):
        inner, params = _compare("x.num" if number is not None and f.op != "~" else "x.text", _positive(f.op), f.value, number)
        sub = f"EXISTS (SELECT 1 FROM facets x WHERE x.id = r.id AND x.key = ? AND {inner})"
        return (f"NOT {sub}" if f.op == "!=" else sub), [key, *params]
    metric = key[len("metrics.") :] if key.startswith("metrics.") else key
    if number is None and f.op != "~":
        raise QueryError(f"metric {metric!r} is a number: compare it with a number, e.g. {metric}>0.9")
    if f.op == "~":
        raise QueryError(f"~ (contains) works on text; for metric {metric!r} use = != > >= < <=")
    inner, params = _compare("m.value", _positive(f.op), f.value, number)
    sub = f"EXISTS (SELECT 1 FROM metrics m WHERE m.id = r.id AND m.name = ? AND {inner})"
    return (f"NOT {sub}" if f.op == "!=" else sub), [metric, *params]


def _positive(op: str) -> str:
    return "=" if op == "!=" else op


def _compare(column: str, op: str, value: str, number: float | None) -> tuple[str, list[object]]:
    if op == "~":
        return f"{column} LIKE ? ESCAPE '\\'", [_like(value)]
    if number is not None and column not in ("r.id", "r.name", "r.project", "r.path", "r.status", "r.kind", "r.sweep", "x.text"):
        return f"{column} {op} ?", [number]
    if op in ("=", "!="):
        if value == "" and op == "=":
            return f"({column} IS NULL OR {column} = '')", []
        if value == "" and op == "!=":
            return f"({column} IS NOT NULL AND {column} != '')", []
        sql = f"{column} = ? COLLATE NOCASE"
        return (f"({column} IS NULL OR NOT {sql})" if op == "!=" else sql), [value]
    return f"{column} {op} ?", [value]


def sort_sql(sort: Sort) -> tuple[str, str, list[object]]:
    """(JOIN clause, ORDER BY expression, params) for a sort key; missing values last."""
    direction = "DESC" if sort.descending else "ASC"
    key = sort.key
    if key in FIELDS:
        col = FIELDS[key]
        return "", f"{col} IS NULL, {col} {direction}, r.id", []
    if key.startswith(FACET_PREFIXES):
        join = "LEFT JOIN facets sx ON sx.id = r.id AND sx.key = ?"
        return join, f"sx.text IS NULL, sx.num IS NULL, sx.num {direction}, sx.text {direction}, r.id", [key]
    metric = key[len("metrics.") :] if key.startswith("metrics.") else key
    join = "LEFT JOIN metrics sm ON sm.id = r.id AND sm.name = ?"
    return join, f"sm.value IS NULL, sm.value {direction}, r.id", [metric]
