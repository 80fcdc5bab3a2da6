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

import dataclasses
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from ..records import Metrics
from ..safeio import MAX_STRUCTURED_BYTES, ReadContext, Unreadable, parse_json, parse_yaml
from ._metric_common import (
    DEFINITION_KEYS,
    FINAL_KEYS,
    NON_METRIC_ROW_KEYS,
    SERIES_KEYS,
    STEP_KEYS,
    VALUE_KEYS,
    WRAPPER_KEYS,
    ParsedMetrics,
    _Builder,
    _is_mapping,
    _number,
    _same,
    last_values,
)
from ._metric_document import parse_metrics_document
from ._metric_logs import parse_metrics_csv, parse_metrics_jsonl
from .metric_definitions import THRESHOLDED_METRIC_WORDS, is_thresholded, resolve_thresholds, threshold_in_text

# The readers metrics API, defined here and in the modules above (one job each).
__all__ = [
    "DEFINITION_KEYS",
    "FINAL_KEYS",
    "METRICS_FILE_NAMES",
    "NON_METRIC_ROW_KEYS",
    "PREFIXED_METRICS_SUFFIX",
    "SERIES_KEYS",
    "STEP_KEYS",
    "THRESHOLDED_METRIC_WORDS",
    "VALUE_KEYS",
    "WRAPPER_KEYS",
    "ParsedMetrics",
    "is_metrics_file",
    "is_thresholded",
    "last_values",
    "parse_metrics_csv",
    "parse_metrics_document",
    "parse_metrics_jsonl",
    "parse_metrics_text",
    "read_metrics",
    "resolve_thresholds",
    "threshold_in_text",
]

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


def is_metrics_file(name: str) -> bool:
    """True for a file name :func:`read_metrics` reads, so the run loader can pick the files."""
    return name in METRICS_FILE_NAMES or _prefixed_stem(name) is not None


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
