"""Reader for a run's metrics: ``metrics.json``-style documents plus per-step ``metrics.csv``/``.jsonl`` logs.

What a metrics document may look like (all are accepted, and may be mixed):

* ``{"final": {...}, "per_epoch": [{"epoch": 1, "val_auc": 0.8}, ...]}``; the
  series may also sit under ``per_step``, ``history``, ``epochs``, ``steps``,
  ``curves`` or ``log_history`` (see :data:`SERIES_KEYS`), and the final values
  under ``final``, ``final_metrics`` or ``summary`` (:data:`FINAL_KEYS`).
* Flat scalars ``{"val_auc": 0.91}``: numbers anywhere outside the blocks above
  are final values.
* Nested mappings are flattened with dots: ``{"val": {"auc": 0.9}}`` is ``val.auc``.
* Series as rows (``[{"epoch": 1, "loss": 0.5}, ...]``), as name -> list of
  numbers (steps 1..n), of ``[step, value]`` pairs, of ``{"step":.., "value":..}``
  mappings, or as name -> ``{step: value}``.
* A top-level list of rows: its final values are the last value of each series.
* A ``metrics`` wrapper mapping is read as if its contents were at the top.
* ``definitions`` / ``metric_definitions`` (name -> mapping or text, or a list of
  mappings with ``name``), a ``thresholds`` block (name -> number) and a top-level
  ``threshold`` that applies to thresholded metrics (F1, precision, recall ...).

Non-numeric values (status, timings text, notes, lists) go to ``Metrics.extra``
under their dotted name; ``"status"`` therefore lands in ``extra["status"]``.
Booleans are never metrics. NaN and ±Infinity are ordinary float values.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

from ..goals import Goal, normalise_goal
from ..records import MetricDefinition, Metrics
from ..safeio import MAX_STRUCTURED_BYTES, ReadContext, Unreadable, parse_json, parse_yaml

METRICS_FILE_NAMES: tuple[str, ...] = (
    "metrics.json",
    "metrics.yaml",
    "metrics.yml",
    "metrics.jsonl",
    "metrics.csv",
    "metrics_history.csv",
    "history.csv",
)
"""Exact file names read as metrics, in merge order (earlier files win on conflicts)."""

PREFIXED_METRICS_SUFFIX = "_metrics.json"
"""``<prefix>_metrics.json`` is also read; its names become ``<prefix>.<name>`` (``final_metrics.json``: no prefix)."""

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

THRESHOLDED_METRIC_WORDS: frozenset[str] = frozenset(
    {"f1", "f2", "f05", "fbeta", "fscore", "f1score", "precision", "recall", "sensitivity",
     "specificity", "tpr", "fpr", "tnr", "fnr", "ppv", "npv", "mcc"}
)
"""Name tokens marking a metric computed at a decision threshold (the top-level ``threshold`` applies)."""
_NOT_THRESHOLDED_WORDS = frozenset({"auc", "auroc", "auprc", "aupr", "ap", "map", "curve"})

_DEF_VERSION_KEYS = ("version", "v")
_DEF_THRESHOLD_KEYS = ("threshold", "thresh", "cutoff")
_DEF_TEXT_KEYS = ("text", "description", "desc", "definition", "formula")
_DEF_GOAL_KEYS = ("goal", "mode", "direction", "objective")

_SPECIAL_FLOATS = {
    "nan": math.nan, "+nan": math.nan, "-nan": math.nan,
    "inf": math.inf, "+inf": math.inf, "-inf": -math.inf,
    "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf,
}
_EXPONENT_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+")
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_THRESHOLD_TEXT_RES = (
    re.compile(rf"\b(?:threshold|thresh|thr|cutoff|cut-off)\b\s*(?:==|>=|<=|=|:|>|<|of|at|is)?\s*({_NUM})", re.I),
    re.compile(rf"({_NUM})\s+(?:decision\s+)?threshold\b", re.I),
    re.compile(r"@\s*((?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?)"),
)
_AT_K_RE = re.compile(r"(?:@|(?<![a-z])at[_\s]?)k?\d+(?![\d.])")
_TOKEN_RE = re.compile(r"[a-z0-9]+")


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


# -- public helpers ------------------------------------------------------------


def is_metrics_file(name: str) -> bool:
    """True for a file name :func:`read_metrics` reads, so the run loader can pick the files."""
    return name in METRICS_FILE_NAMES or _prefixed_stem(name) is not None


def last_values(series: Mapping[str, Sequence[tuple[float, float]]]) -> dict[str, float]:
    """Value at the highest step of each series: the loader's stand-in for missing final values."""
    return {name: points[-1][1] for name, points in series.items() if points}


@lru_cache(maxsize=4096)
def threshold_in_text(text: str) -> float | None:
    """The one threshold a text or name states (``F1 (threshold=0.5)``, ``f1@0.5``), or None if none or ambiguous.

    ``@`` needs a decimal point (``f1@0.5``) so that ranking metrics like ``recall@10`` do not count.
    """
    found: set[float] = set()
    for pattern in _THRESHOLD_TEXT_RES:
        for match in pattern.finditer(text):
            try:
                found.add(float(match.group(1)))
            except ValueError:  # pragma: no cover - the pattern only matches numbers
                continue
    return found.pop() if len(found) == 1 else None


@lru_cache(maxsize=4096)
def is_thresholded(name: str) -> bool:
    """True when a metric name looks computed at a decision threshold (F1, precision, recall ...), not @k or AUC."""
    lowered = name.lower()
    if _AT_K_RE.search(lowered):
        return False
    tokens = set(_TOKEN_RE.findall(lowered))
    words = tokens & THRESHOLDED_METRIC_WORDS
    if not words or tokens & _NOT_THRESHOLDED_WORDS:
        return False
    average_precision = words == {"precision"} and bool(tokens & {"average", "avg", "mean"})
    return not average_precision  # average precision is threshold-free


def resolve_thresholds(
    definitions: Mapping[str, MetricDefinition],
    names: Iterable[str],
    default: float | None = None,
) -> dict[str, MetricDefinition]:
    """Fill in thresholds that are not stated per metric: from the name (``f1@0.5``), else ``default`` for thresholded metrics.

    Definitions that already carry a threshold are untouched. Inferred thresholds
    record where they came from in ``extra["threshold_from"]`` (``"name"`` or
    ``"threshold"`` for the top-level default).
    """
    out = dict(definitions)
    for name in sorted(set(names) | set(out)):
        current = out.get(name)
        if current is not None and current.threshold is not None:
            continue
        threshold, source = threshold_in_text(name), "name"
        if threshold is None and default is not None and is_thresholded(name):
            threshold, source = default, "threshold"
        if threshold is None:
            continue
        if current is None:
            current = MetricDefinition(name=name)
        out[name] = dataclasses.replace(
            current, threshold=threshold, extra={**current.extra, "threshold_from": source}
        )
    return out


# -- pure parsers ----------------------------------------------------------------

_ENDS_EARLY = "file ends early"
"""Words of safeio's JSON error for a document cut short (a metrics file still being written)."""
_SALVAGE_TRIES = 64
"""Cut points tried, latest first, before a truncated document is given up."""


def _complete_prefix(text: str) -> Any:
    """The longest prefix of a JSON document cut short that parses once its open brackets are closed.

    A training loop rewriting ``metrics.json`` can be read mid-write: ``{"per_epoch": [{...}, {...}, {"ep``.
    Cutting after the last complete element (at a comma or a closing bracket outside strings) and
    closing what is open gives ``{"per_epoch": [{...}, {...}]}``: the steps written so far. None
    when no cut parses.
    """
    stack: list[str] = []
    cuts: list[tuple[int, str]] = []
    in_string = escaped = False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            stack.append("]" if char == "[" else "}")
        elif char in "]}":
            if not stack:
                return None
            stack.pop()
            cuts.append((i + 1, "".join(reversed(stack))))
        elif char == ",":
            cuts.append((i, "".join(reversed(stack))))
    for end, closers in reversed(cuts[-_SALVAGE_TRIES:]):
        try:
            return parse_json(text[:end] + closers)
        except Unreadable:
            continue
    return None



def parse_metrics_text(text: str, name: str = "metrics.json") -> ParsedMetrics:
    """Parse the text of one metrics file, choosing the format from ``name``; for tests and previews."""
    lines = ((number, line) for number, line in enumerate(text.splitlines(), start=1))
    kind = _file_kind(name)[0]
    if kind == "jsonl":
        return parse_metrics_jsonl(lines)
    if kind == "csv":
        return parse_metrics_csv(lines)
    try:
        if not text.strip():
            raise Unreadable("empty file (still being written?)")
        doc = parse_json(text) if name.lower().endswith(".json") else parse_yaml(text)
    except Unreadable as exc:
        return ParsedMetrics({}, {}, {}, {}, [(exc.message, exc.line)])
    return parse_metrics_document(doc)


def parse_metrics_document(doc: Any) -> ParsedMetrics:
    """Understand an already-parsed metrics document (JSON or YAML) in any of the shapes in the module docstring."""
    b = _Builder()
    if _is_mapping(doc):
        _parse_mapping(b, doc, depth=0)
    elif isinstance(doc, list):
        found = _series_from_rows(b, [(None, row) for row in doc], STEP_KEYS, "", "the top-level list")
        for name, points in found.items():
            b.add_series(name, points, "the top-level list")
        for name, value in last_values(b.sorted_series()).items():
            b.put_final(name, value)
    elif doc is None:
        b.note("metrics document is empty (null)")
    else:
        b.note(f"metrics document is a {type(doc).__name__}, not a mapping or list")
        b.put_extra("value", _plain(doc))
    default = b.extra.get("threshold")
    default = _number(default) if not _is_mapping(default) else None
    b.definitions = resolve_thresholds(b.definitions, chain(b.final, b.series), default)
    return b.result()


def parse_metrics_jsonl(lines: Iterable[tuple[int, str]]) -> ParsedMetrics:
    """Parse a ``metrics.jsonl`` log from (line number, text) pairs: one JSON object per line with a step key.

    Blank lines are skipped. An invalid last line is reported as truncated (the run
    may still be writing it); earlier lines are kept. Without any step key, the
    n-th object is step n.
    """
    b = _Builder()
    found: dict[str, dict[float, float]] = {}
    columns: _Columns = {}
    step_key: str | None = None
    positional = False
    index = 0
    pending: tuple[int, str] | None = None
    invalid = _Tally()
    missing_step = _Tally()
    skipped = _Tally()
    for number, text in _debom(lines):
        if not text.strip():
            continue
        if pending is not None:
            invalid.add(pending[0], pending[1])
            pending = None
        try:
            obj = parse_json(text)
        except Unreadable as exc:
            pending = (number, exc.message)
            continue
        if not _is_mapping(obj):
            invalid.add(number, f"a {type(obj).__name__}, not an object")
            continue
        index += 1
        if step_key is None and not positional:
            step_key = next((k for k in STEP_KEYS if k in obj), None)
            positional = step_key is None
        if positional:
            step: float | None = float(index)
        elif step_key in obj:
            step = _step(obj[step_key])
        else:
            step = None
        if step is None:
            missing_step.add(number, step_key or "")
            continue
        _row_into(found, obj, step, "", skipped, number, columns)
    if invalid.count:
        b.note(f"{invalid.count} line(s) not valid JSON objects, skipped ({invalid.detail})", invalid.first)
    if pending is not None:
        b.note("last line is not complete JSON (truncated or still being written?); ignored", pending[0])
    if missing_step.count:
        b.note(f"{missing_step.count} line(s) without a numeric '{step_key}', skipped", missing_step.first)
    if skipped.count:
        b.note(f"{skipped.count} non-numeric value(s) skipped (first: '{skipped.detail}')", skipped.first)
    if index == 0 and not invalid.count and pending is None:
        b.note("no data lines (still being written?)")
    for name, points in found.items():
        b.add_series(name, points, "the log")
    return b.result()


def parse_metrics_csv(lines: Iterable[tuple[int, str]], delimiter: str = ",") -> ParsedMetrics:
    """Parse a per-step CSV log from (line number, text) pairs: a header, a step column, metric columns.

    The step column is the first header named in :data:`STEP_KEYS` (``step``
    before ``epoch``), else the first column. Cells may hold ``nan``/``inf``.
    Blank or non-numeric cells are skipped and reported once per file with the
    first offending line.
    """
    b = _Builder()
    where = [0]

    def texts() -> Iterator[str]:
        for number, text in _debom(lines):
            where[0] = number
            yield text

    reader = csv.reader(texts(), delimiter=delimiter)
    header: list[str] | None = None
    step_col = 0
    metric_cols: list[tuple[int, str]] = []
    found: dict[str, dict[float, float]] = {}
    bad_cells = _Tally()
    bad_steps = _Tally()
    ragged = _Tally()
    rows = 0
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                lowered = [h.lower() for h in header]
                step_col = next((lowered.index(k) for k in STEP_KEYS if k in lowered), 0)
                seen: set[str] = set()
                for col, name in enumerate(header):
                    low = name.lower()
                    if col == step_col or low in STEP_KEYS or low in NON_METRIC_ROW_KEYS:
                        continue
                    if not name:
                        b.note(f"column {col + 1} has no name; ignored", where[0])
                        continue
                    if name in seen:
                        b.note(f"column '{name}' appears twice; the later one is ignored", where[0])
                        continue
                    seen.add(name)
                    metric_cols.append((col, name))
                continue
            rows += 1
            line = where[0]
            if len(row) > len(header):
                ragged.add(line, "")
            step = _step(row[step_col]) if step_col < len(row) else None
            if step is None:
                bad_steps.add(line, row[step_col] if step_col < len(row) else "")
                continue
            for col, name in metric_cols:
                cell = row[col].strip() if col < len(row) else ""
                value = _number(cell, loose=True) if cell else None
                if value is None:
                    bad_cells.add(line, f"column '{name}': {cell!r}")
                    continue
                found.setdefault(name, {})[step] = value
    except csv.Error as exc:
        b.note(f"unreadable CSV: {exc}; rest of the file ignored", where[0])
    if header is None:
        b.note("empty file (still being written?)")
    elif rows == 0:
        b.note("header only, no data rows (still being written?)")
    if bad_steps.count:
        step_name = header[step_col] if header and step_col < len(header) else "step"
        b.note(
            f"{bad_steps.count} row(s) without a numeric '{step_name}' skipped (first value {bad_steps.detail!r})",
            bad_steps.first,
        )
    if bad_cells.count:
        b.note(f"{bad_cells.count} blank or non-numeric cell(s) skipped (first: {bad_cells.detail})", bad_cells.first)
    if ragged.count:
        b.note(f"{ragged.count} row(s) have more cells than the header; extra cells ignored", ragged.first)
    for name, points in found.items():
        b.add_series(name, points, "the log")
    return b.result()


# -- reader ------------------------------------------------------------------------


def read_metrics(paths: Sequence[Path], ctx: ReadContext) -> Metrics:
    """Read and merge a run's metrics files into one :class:`Metrics`, recording problems in ``ctx``.

    Files are merged in :data:`METRICS_FILE_NAMES` order (documents, then
    ``<prefix>_metrics.json``, then per-step logs). For final values, definitions
    and extras the first file wins (a differing final value is reported); for a
    series, the first file that has the metric wins. Final values are never
    derived from per-step logs: when only logs exist, ``final`` is empty and the
    loader may use :func:`last_values`.
    """
    merged = _Builder()
    for path in sorted(paths, key=_file_rank):
        kind, prefix, delimiter = _file_kind(path.name)
        if kind == "document":
            before = len(ctx.problems)
            doc = ctx.load_structured(path)
            if doc is None and path.suffix.lower() == ".json" and any(_ENDS_EARLY in p.message for p in ctx.problems[before:]):
                doc = _complete_prefix(ctx.read_text(path, MAX_STRUCTURED_BYTES) or "")  # a run still writing it
                if doc is not None:  # the problem stays (the run is not finished), saying what was read
                    failed = ctx.problems[before]
                    ctx.problems[before] = dataclasses.replace(failed, message=failed.message + "; read what comes before the cut")
            if doc is None:
                continue
            parsed = parse_metrics_document(doc)
        elif kind in ("jsonl", "csv"):
            source = _Lines(ctx, path)
            if kind == "jsonl":
                parsed = parse_metrics_jsonl(source)
            else:
                parsed = parse_metrics_csv(source, delimiter)
            if source.failed and source.count == 0:
                continue  # the reason is recorded; "empty file" would only repeat it
        else:
            ctx.problem(path, "not a recognised metrics file name; not read")
            continue
        if prefix:
            parsed = _namespaced(parsed, prefix)
        for message, line in parsed.messages:
            ctx.problem(path, message, line)
        for name, value in parsed.final.items():
            if name in merged.final:
                if not _same(merged.final[name], value):
                    earlier = merged.final[name]
                    ctx.problem(path, f"final '{name}' = {value!r} differs from an earlier file's {earlier!r}; kept the earlier")
                continue
            merged.final[name] = value
        for name, points in parsed.series.items():
            merged.series.setdefault(name, dict(points))
        for name, definition in parsed.definitions.items():
            merged.definitions.setdefault(name, definition)
        for key, value in parsed.extra.items():
            merged.extra.setdefault(key, value)
    default = merged.extra.get("threshold")
    default = _number(default) if not _is_mapping(default) else None
    definitions = resolve_thresholds(merged.definitions, chain(merged.final, merged.series), default)
    return Metrics(
        final=dict(merged.final),
        series=merged.sorted_series(),
        definitions=definitions,
        extra=dict(merged.extra),
    )


# -- internals -----------------------------------------------------------------------


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


def _parse_mapping(b: _Builder, doc: Mapping[Any, Any], depth: int) -> None:
    """Route each top-level key of a metrics mapping to final values, series, definitions or extras.

    Order matters for "first wins": final blocks, then wrappers, series,
    definitions, thresholds (which refine definitions), and last the plain keys.
    """
    groups: dict[str, list[tuple[str, Any]]] = {
        "final": [], "wrapper": [], "series": [], "definitions": [], "thresholds": [], "threshold": [], "plain": []
    }
    for raw_key, value in doc.items():
        key = str(raw_key)
        low = key.lower()
        if low in FINAL_KEYS and _is_mapping(value):
            groups["final"].append((key, value))
        elif low in WRAPPER_KEYS and _is_mapping(value) and depth < 2:
            groups["wrapper"].append((key, value))
        elif low in SERIES_KEYS and (_is_mapping(value) or isinstance(value, list)):
            groups["series"].append((key, value))
        elif low in DEFINITION_KEYS:
            groups["definitions"].append((key, value))
        elif low == "thresholds" or (low == "threshold" and _is_mapping(value)):
            groups["thresholds"].append((key, value))
        elif low == "threshold":
            groups["threshold"].append((key, value))
        else:
            groups["plain"].append((key, value))
    for _, value in groups["final"]:
        _flatten(b, value, "")
    for _, value in groups["wrapper"]:
        _parse_mapping(b, value, depth + 1)
    for key, value in groups["series"]:
        _parse_series_block(b, key, value)
    for key, value in groups["definitions"]:
        _parse_definitions(b, key, value)
    for key, value in groups["thresholds"]:
        _parse_thresholds(b, key, value)
    for key, value in groups["threshold"]:
        number = _number(value, loose=True)
        if number is None:
            b.note(f"threshold {value!r} is not a number")
            b.put_extra(key, _plain(value))
        else:
            b.put_extra("threshold", number)
    _flatten(b, dict(groups["plain"]), "")


def _flatten(b: _Builder, mapping: Mapping[Any, Any], prefix: str) -> None:
    """Numbers become final values under dotted names; everything else non-mapping goes to extras."""
    for raw_key, value in mapping.items():
        key = str(raw_key)
        name = f"{prefix}{key}"
        if _is_mapping(value):
            if value:
                _flatten(b, value, name + ".")
            else:
                b.put_extra(name, {})
            continue
        number = _number(value)
        if number is not None and key.lower() not in STEP_KEYS:
            b.put_final(name, number)
        else:
            b.put_extra(name, _plain(value))


def _parse_series_block(b: _Builder, key: str, block: Mapping[Any, Any] | list[Any]) -> None:
    """Read one series block (``per_epoch``, ``history`` ...) in any of its shapes into series."""
    prefer = _EPOCH_FIRST if "epoch" in key.lower() else STEP_KEYS
    where = f"'{key}'"
    if isinstance(block, list):
        if block and all(_number(item) is not None or item is None for item in block):
            b.note(f"{where} is a list of bare numbers without a metric name; kept as an extra")
            b.put_extra(key, _plain(block))
            return
        found = _series_from_rows(b, [(None, row) for row in block], prefer, "", where)
    else:
        found = {}
        _series_from_mapping(b, found, block, prefer, "", key)
    for name, points in found.items():
        b.add_series(name, points, where)


def _series_from_mapping(
    b: _Builder,
    found: dict[str, dict[float, float]],
    block: Mapping[Any, Any],
    prefer: tuple[str, ...],
    prefix: str,
    where: str,
) -> None:
    """Read ``name -> list | {step: value} | nested mapping`` or ``{step: row}`` into ``found``."""
    steps = [_step(k) for k in block]
    if block and all(s is not None for s in steps) and all(_is_mapping(v) for v in block.values()):
        rows = [(step, row) for step, row in zip(steps, block.values())]
        _merge_found(b, found, _series_from_rows(b, rows, prefer, prefix, f"'{where}'"), where)
        return
    for raw_key, value in block.items():
        name = f"{prefix}{raw_key}"
        if isinstance(value, list):
            if value and all(_is_mapping(v) and not any(k in v for k in VALUE_KEYS) for v in value if v is not None):
                rows = [(None, row) for row in value]
                _merge_found(b, found, _series_from_rows(b, rows, prefer, name + ".", f"'{where}.{raw_key}'"), where)
            else:
                _merge_found(b, found, {name: _points(b, value, f"{where}.{raw_key}")}, where)
        elif _is_mapping(value):
            keys = [_step(k) for k in value]
            if value and all(k is not None for k in keys) and all(not (_is_mapping(v) or isinstance(v, list)) for v in value.values()):
                pairs = [[k, v] for k, v in zip(keys, value.values())]
                _merge_found(b, found, {name: _points(b, pairs, f"{where}.{raw_key}")}, where)
            else:
                _series_from_mapping(b, found, value, prefer, name + ".", f"{where}.{raw_key}")
        else:
            b.put_extra(f"{where}.{raw_key}", _plain(value))


def _merge_found(b: _Builder, found: dict[str, dict[float, float]], new: Mapping[str, dict[float, float]], where: str) -> None:
    """Add series to ``found``; a name seen twice in one block keeps the first."""
    for name, points in new.items():
        if not points:
            continue
        if name in found:
            b.note(f"series '{name}' given twice in '{where}'; kept the first")
            continue
        found[name] = points


def _points(b: _Builder, items: list[Any], where: str) -> dict[float, float]:
    """Points of one series list: numbers (steps 1..n), ``[step, value]`` pairs or ``{"step":, "value":}`` mappings."""
    points: dict[float, float] = {}
    bad = _Tally()
    for index, item in enumerate(items, start=1):
        if item is None:
            continue
        number = _number(item)
        if number is not None:
            points[float(index)] = number
            continue
        step: float | None = None
        raw: Any = _MISSING
        if isinstance(item, (list, tuple)) and len(item) == 2:
            step, raw = _step(item[0]), item[1]
        elif _is_mapping(item):
            step_key = next((k for k in STEP_KEYS if k in item), None)
            value_key = next((k for k in VALUE_KEYS if k in item), None)
            step = _step(item[step_key]) if step_key else float(index)
            raw = item[value_key] if value_key else _MISSING
        if step is not None and raw is None:
            continue
        value = _number(raw) if raw is not _MISSING else None
        if step is None or value is None:
            bad.add(index, repr(item)[:40])
            continue
        points[step] = value
    if bad.count:
        b.note(f"{bad.count} unusable point(s) in '{where}' skipped (first: item {bad.first}, {bad.detail})")
    return points


def _series_from_rows(
    b: _Builder,
    rows: list[tuple[float | None, Any]],
    prefer: tuple[str, ...],
    prefix: str,
    where: str,
) -> dict[str, dict[float, float]]:
    """Series from per-step rows; the step key is chosen once per block, rows lacking it are skipped."""
    step_key = next((k for k in prefer if any(_is_mapping(r) and k in r for _, r in rows)), None)
    found: dict[str, dict[float, float]] = {}
    columns: _Columns = {}
    not_rows = _Tally()
    no_step = _Tally()
    skipped = _Tally()
    for index, (hint, row) in enumerate(rows, start=1):
        if not _is_mapping(row):
            if row is not None:
                not_rows.add(index, type(row).__name__)
            continue
        if hint is not None:
            step: float | None = hint
        elif step_key is None:
            step = float(index)
        else:
            step = _step(row.get(step_key))
        if step is None:
            no_step.add(index, "")
            continue
        _row_into(found, row, step, prefix, skipped, index, columns)
    if not_rows.count:
        b.note(
            f"{not_rows.count} item(s) of {where} are not mappings, skipped"
            f" (first: item {not_rows.first}, a {not_rows.detail})"
        )
    if no_step.count:
        b.note(f"{no_step.count} row(s) of {where} without a numeric '{step_key}', skipped (first: row {no_step.first})")
    if skipped.count:
        b.note(f"{skipped.count} non-numeric value(s) in {where} skipped (first: row {skipped.first}, '{skipped.detail}')")
    return found


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


def _parse_definitions(b: _Builder, key: str, block: Any) -> None:
    """Read a definitions block: name -> mapping or text, or a list of mappings with ``name``."""
    items: list[tuple[str, Any]] = []
    if _is_mapping(block):
        items = [(str(name), spec) for name, spec in block.items()]
    elif isinstance(block, list):
        for index, spec in enumerate(block, start=1):
            if _is_mapping(spec) and spec.get("name") is not None:
                items.append((str(spec["name"]), {k: v for k, v in spec.items() if k != "name"}))
            else:
                b.note(f"item {index} of '{key}' has no 'name'; kept as an extra")
                b.put_extra(f"{key}.{index}", _plain(spec))
    else:
        b.note(f"'{key}' is a {type(block).__name__}, not a mapping or list of definitions")
        b.put_extra(key, _plain(block))
        return
    for name, spec in items:
        if name in b.definitions:
            b.note(f"metric '{name}' defined twice; kept the first")
            continue
        b.definitions[name] = _definition(b, name, spec)


_GOAL_FLAGS: tuple[tuple[str, Goal, Goal], ...] = (
    ("higher_is_better", "max", "min"),
    ("greater_is_better", "max", "min"),
    ("lower_is_better", "min", "max"),
)
"""Boolean flags that give a definition's goal: (flag, goal when true, goal when false)."""


def _definition(b: _Builder, name: str, spec: Any) -> MetricDefinition:
    """One :class:`MetricDefinition` from a mapping or a text; unknown fields go to ``extra``."""
    if isinstance(spec, str):
        in_text = threshold_in_text(spec)
        return MetricDefinition(name=name, text=spec, threshold=in_text, extra={"threshold_from": "text"} if in_text is not None else {})
    if not _is_mapping(spec):
        b.note(f"definition of '{name}' is a {type(spec).__name__}, not a mapping or text")
        return MetricDefinition(name=name, extra={"value": _plain(spec)})
    rest = {str(k): v for k, v in spec.items()}
    extra: dict[str, Any] = {}
    version = _take(rest, _DEF_VERSION_KEYS)
    version_text = None if version is None else str(version)
    text = None
    for k in _DEF_TEXT_KEYS:
        if isinstance(rest.get(k), str):
            text = rest.pop(k)
            break
    threshold: float | None = None
    raw_threshold = _take(rest, _DEF_THRESHOLD_KEYS)
    if raw_threshold is not None:
        threshold = _number(raw_threshold, loose=True)
        if threshold is None:
            b.note(f"threshold of '{name}' is not a number: {raw_threshold!r}")
            extra["threshold"] = _plain(raw_threshold)
    if threshold is None and raw_threshold is None and text:
        threshold = threshold_in_text(text)
        if threshold is not None:
            extra["threshold_from"] = "text"
    goal: Goal | None = None
    raw_goal = _take(rest, _DEF_GOAL_KEYS)
    if raw_goal is not None:
        goal = normalise_goal(raw_goal)
        if goal is None:
            b.note(f"goal of '{name}' not understood: {raw_goal!r} (expected max or min)")
            extra["goal"] = _plain(raw_goal)
    for flag, when_true, when_false in _GOAL_FLAGS:
        if goal is None and isinstance(rest.get(flag), bool):
            goal = when_true if rest.pop(flag) else when_false
    for k, v in rest.items():
        extra[k] = _plain(v)
    return MetricDefinition(
        name=name, version=version_text, threshold=threshold, text=text, goal=goal, extra=extra
    )


def _parse_thresholds(b: _Builder, key: str, block: Any) -> None:
    """Apply a ``thresholds`` block (name -> number) to the definitions; disagreements are reported."""
    if not _is_mapping(block):
        b.note(f"'{key}' is a {type(block).__name__}, not a mapping of metric -> threshold")
        b.put_extra(key, _plain(block))
        return
    for raw_name, raw in block.items():
        name = str(raw_name)
        threshold = _number(raw, loose=True)
        if threshold is None:
            b.note(f"threshold of '{name}' in '{key}' is not a number: {raw!r}")
            b.put_extra(f"{key}.{name}", _plain(raw))
            continue
        current = b.definitions.get(name)
        if current is None:
            b.definitions[name] = MetricDefinition(name=name, threshold=threshold, extra={"threshold_from": "thresholds"})
        elif current.threshold is None or current.extra.get("threshold_from") == "text":
            if current.threshold is not None and not _same(current.threshold, threshold):
                b.note(
                    f"'{key}' gives '{name}' threshold {threshold}, its definition text says"
                    f" {current.threshold}; used {threshold}"
                )
            b.definitions[name] = dataclasses.replace(
                current, threshold=threshold, extra={**current.extra, "threshold_from": "thresholds"}
            )
        elif not _same(current.threshold, threshold):
            b.note(
                f"'{key}' gives '{name}' threshold {threshold}, its definition says"
                f" {current.threshold}; kept the definition's"
            )


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


def _prefixed_stem(name: str) -> str | None:
    """The ``<prefix>`` of ``<prefix>_metrics.json``, else None."""
    if name.endswith(PREFIXED_METRICS_SUFFIX) and len(name) > len(PREFIXED_METRICS_SUFFIX):
        return name[: -len(PREFIXED_METRICS_SUFFIX)]
    return None


def _file_kind(name: str) -> tuple[str, str, str]:
    """(kind, name prefix, CSV delimiter) of a metrics file: document, jsonl, csv or unknown."""
    lowered = name.lower()
    prefix = _prefixed_stem(name)
    if prefix is not None:
        return "document", "" if prefix.lower() == "final" else prefix, ","
    if lowered.endswith((".json", ".yaml", ".yml")):
        return "document", "", ","
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl", "", ","
    if lowered.endswith(".csv"):
        return "csv", "", ","
    if lowered.endswith(".tsv"):
        return "csv", "", "\t"
    return "unknown", "", ","


def _file_rank(path: Path) -> tuple[int, str]:
    """Merge order: known names in :data:`METRICS_FILE_NAMES` order, ``*_metrics.json`` after the documents."""
    name = path.name
    if name in METRICS_FILE_NAMES:
        index = METRICS_FILE_NAMES.index(name)
        return (index if index < 3 else index + 2, name)
    prefix = _prefixed_stem(name)
    if prefix is not None:
        return (3 if prefix.lower() == "final" else 4, name)
    return (len(METRICS_FILE_NAMES) + 2, name)


def _namespaced(parsed: ParsedMetrics, prefix: str) -> ParsedMetrics:
    """Names of a ``<prefix>_metrics.json`` under ``<prefix>.``, unless they already start with the prefix."""

    def rename(name: str) -> str:
        if name.lower().startswith(tuple(prefix.lower() + sep for sep in "._/-")):
            return name
        return f"{prefix}.{name}"

    return ParsedMetrics(
        {rename(k): v for k, v in parsed.final.items()},
        {rename(k): v for k, v in parsed.series.items()},
        {rename(k): dataclasses.replace(d, name=rename(k)) for k, d in parsed.definitions.items()},
        {rename(k): v for k, v in parsed.extra.items()},
        parsed.messages,
    )


def _debom(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """The lines with a UTF-8 byte-order mark dropped from the first one (editors on Windows add it)."""
    first = True
    for number, text in lines:
        if first:
            first = False
            text = text.removeprefix("\ufeff")
        yield number, text


class _Lines:
    """Streams a log's lines; an unreadable file becomes a problem and an early end, not an exception."""

    def __init__(self, ctx: ReadContext, path: Path) -> None:
        self.ctx, self.path = ctx, path
        self.count = 0
        self.failed = False

    def __iter__(self) -> Iterator[tuple[int, str]]:
        try:
            for item in self.ctx.iter_lines(self.path):
                self.count += 1
                yield item
        except Unreadable as exc:
            self.failed = True
            self.ctx.problem(self.path, exc.message, exc.line)
