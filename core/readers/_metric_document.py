"""One metrics document (``metrics.json``/``.yaml``) as final values, series, definitions and extras."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any

from ._metric_common import (
    _EPOCH_FIRST,
    _MISSING,
    DEFINITION_KEYS,
    FINAL_KEYS,
    SERIES_KEYS,
    STEP_KEYS,
    VALUE_KEYS,
    WRAPPER_KEYS,
    ParsedMetrics,
    _Builder,
    _Columns,
    _is_mapping,
    _number,
    _plain,
    _row_into,
    _step,
    _Tally,
    last_values,
)
from .metric_definitions import _parse_definitions, _parse_thresholds, resolve_thresholds


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
