"""What the metrics parsers share: the parsed result, the key vocabularies, number and step parsing, rows into series."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, NamedTuple

from ..records import MetricDefinition

STEP_KEYS: tuple[str, ...] = ("step", "_step", "global_step", "epoch", "iteration", "iter")
"""Keys naming the x-axis of a per-step row, in order of preference. Never metrics themselves."""

_EPOCH_FIRST: tuple[str, ...] = ("epoch", "step", "_step", "global_step", "iteration", "iter")

FINAL_KEYS: tuple[str, ...] = ("final", "final_metrics", "summary")

SERIES_KEYS: tuple[str, ...] = ("per_epoch", "per_step", "history", "epochs", "steps", "curves", "log_history")

DEFINITION_KEYS: tuple[str, ...] = ("definitions", "metric_definitions")

WRAPPER_KEYS: tuple[str, ...] = ("metrics",)

VALUE_KEYS: tuple[str, ...] = ("value", "y")
"""Keys holding the value in ``{"step": .., "value": ..}`` series points."""

NON_METRIC_ROW_KEYS: frozenset[str] = frozenset(
    {"timestamp", "time", "wall_time", "walltime", "datetime", "date", "_timestamp", "_runtime"}
)
"""Per-step row columns that are bookkeeping, not metrics; dropped from series."""


_SPECIAL_FLOATS = {
    "nan": math.nan, "+nan": math.nan, "-nan": math.nan,
    "inf": math.inf, "+inf": math.inf, "-inf": -math.inf,
    "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf,
}

_EXPONENT_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+")


_NEVER_MAPPINGS = frozenset({str, int, float, bool, type(None), list, tuple})
"""Exact types a parsed document is made of that are certainly not mappings."""


def _is_mapping(value: Any) -> bool:
    """``isinstance(value, Mapping)``, answered without the slow ABC check for plain parsed values."""
    kind = type(value)
    if kind is dict:
        return True
    if kind in _NEVER_MAPPINGS:
        return False
    return isinstance(value, Mapping)


class ParsedMetrics(NamedTuple):
    """What one metrics file says, before merging: the pure parsers' result (unpacks as a 5-tuple)."""

    final: dict[str, float]
    series: dict[str, tuple[tuple[float, float], ...]]
    """Metric name -> ((step, value), ...) sorted by step; a repeated step keeps its last value."""
    definitions: dict[str, MetricDefinition]
    extra: dict[str, Any]
    messages: list[tuple[str, int | None]]
    """(problem message, line or None) for everything that could not be understood."""


def last_values(series: Mapping[str, Sequence[tuple[float, float]]]) -> dict[str, float]:
    """Value at the highest step of each series: the loader's stand-in for missing final values."""
    return {name: points[-1][1] for name, points in series.items() if points}


class _Tally:
    """Counts one kind of skipped input and remembers the first occurrence, for one problem per file."""

    def __init__(self) -> None:
        self.count = 0
        self.first: int | None = None
        self.detail = ""

    def add(self, line: int | None, detail: str) -> None:
        """Count one more; keep the line and detail of the first."""
        if self.count == 0:
            self.first, self.detail = line, detail
        self.count += 1


class _Builder:
    """Mutable collector behind the parsers: first value wins, conflicts become messages."""

    def __init__(self) -> None:
        self.final: dict[str, float] = {}
        self.series: dict[str, dict[float, float]] = {}
        self.definitions: dict[str, MetricDefinition] = {}
        self.extra: dict[str, Any] = {}
        self.messages: list[tuple[str, int | None]] = []

    def note(self, message: str, line: int | None = None) -> None:
        """Record a problem message."""
        self.messages.append((message, line))

    def put_final(self, name: str, value: float) -> None:
        """Set a final value unless already set; a different repeat is reported."""
        if name in self.final:
            if not _same(self.final[name], value):
                self.note(f"final '{name}' given twice ({self.final[name]!r}, {value!r}); kept the first")
            return
        self.final[name] = value

    def put_extra(self, name: str, value: Any) -> None:
        """Keep a non-metric value unless the name is taken."""
        if name in self.extra:
            if self.extra[name] != value:
                self.note(f"'{name}' given twice; kept the first")
            return
        self.extra[name] = value

    def add_series(self, name: str, points: dict[float, float], where: str) -> None:
        """Add a series unless one of that name exists (series from two places are never mixed)."""
        if not points:
            return
        if name in self.series:
            self.note(f"series '{name}' given twice; kept the first, ignored the one in {where}")
            return
        self.series[name] = points

    def sorted_series(self) -> dict[str, tuple[tuple[float, float], ...]]:
        """Series as step-sorted tuples, the shape :class:`Metrics` stores."""
        return {name: tuple(sorted(points.items())) for name, points in self.series.items()}

    def result(self) -> ParsedMetrics:
        """Freeze the collected values into a :class:`ParsedMetrics`."""
        return ParsedMetrics(self.final, self.sorted_series(), self.definitions, self.extra, self.messages)


_Columns = dict[str, "dict[float, float] | None"]
"""Per block of rows: each text key's series in ``found``, or None for a key that is not a metric."""

_UNSEEN: dict[float, float] = {}
"""A key not yet seen in this block: compared by identity only, never stored in ``columns`` nor written to."""


def _row_into(
    found: dict[str, dict[float, float]],
    row: Mapping[Any, Any],
    step: float,
    prefix: str,
    skipped: _Tally,
    where: int | None,
    columns: _Columns,
) -> None:
    """Add one row's numeric values at ``step``; nulls are ignored, other non-numbers tallied.

    Rows of a block repeat their keys, so ``columns`` (shared by the block's rows, all
    adding to the same ``found``) remembers where each plain text key goes: a float
    under a known key is then stored with one look-up.
    """
    for raw_key, raw in row.items():
        if type(raw_key) is str:
            series = columns.get(raw_key, _UNSEEN)
            if series is None:
                continue  # a step or bookkeeping column
            if series is not _UNSEEN and type(raw) is float:
                series[step] = raw
                continue
        key = str(raw_key)
        if key.lower() in _ROW_SKIP_KEYS:
            if type(raw_key) is str:
                columns[raw_key] = None
            continue
        if type(raw) is float:  # the usual value; _number(x) would give x itself
            series = found.setdefault(prefix + key, {})
            series[step] = raw
            if type(raw_key) is str:
                columns[raw_key] = series
            continue
        pairs = _flat_items(raw, key + ".", top=False) if _is_mapping(raw) else ((key, raw),)
        for name, value in pairs:
            if value is None:
                continue
            number = _number(value)
            if number is None:
                skipped.add(where, prefix + name)
                continue
            found.setdefault(prefix + name, {})[step] = number


_ROW_SKIP_KEYS = frozenset(STEP_KEYS) | NON_METRIC_ROW_KEYS
"""Lower-cased top-level row keys that are not metrics (x-axis and bookkeeping columns)."""


def _flat_items(row: Mapping[Any, Any], prefix: str, top: bool) -> Iterator[tuple[str, Any]]:
    """Dotted (name, value) pairs of a row, without step and bookkeeping keys at its top level."""
    for raw_key, value in row.items():
        key = str(raw_key)
        if top and key.lower() in _ROW_SKIP_KEYS:
            continue
        if _is_mapping(value):
            yield from _flat_items(value, f"{prefix}{key}.", top=False)
        else:
            yield f"{prefix}{key}", value


def _take(mapping: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """Pop and return the first present key's value (None if none); the others stay for extras."""
    for k in keys:
        if k in mapping:
            return mapping.pop(k)
    return None


_MISSING = object()


def _number(value: Any, loose: bool = False) -> float | None:
    """``value`` as a float, or None: never bools; NaN/inf spellings and ``1e-3`` text yes; other text only if ``loose``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, str):
        text = value.strip()
        special = _SPECIAL_FLOATS.get(text.lower())
        if special is not None:
            return special
        if loose or _EXPONENT_RE.fullmatch(text):
            try:
                return float(text)
            except ValueError:
                return None
    return None


def _step(value: Any) -> float | None:
    """A finite step number from a number or numeric text, else None."""
    if type(value) is int:  # the usual step; what _number does with an int, and always finite
        try:
            return float(value)
        except OverflowError:
            return None
    number = _number(value, loose=True)
    return number if number is not None and math.isfinite(number) else None


def _same(a: float, b: float) -> bool:
    """Equal floats, counting NaN as equal to NaN."""
    return a == b or (math.isnan(a) and math.isnan(b))


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of an extra value (dates become ISO text, unknown objects their str)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if _is_mapping(value):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _debom(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """The lines with a UTF-8 byte-order mark dropped from the first one (editors on Windows add it)."""
    first = True
    for number, text in lines:
        if first:
            first = False
            text = text.removeprefix("\ufeff")
        yield number, text
