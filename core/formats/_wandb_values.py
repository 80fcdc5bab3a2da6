"""Values and names in W&B's records: JSON values, item keys, dotted metric names, paths in a config.

Config, summary and history items carry a key (``nested_key`` in 0.2x and later, ``key`` before)
and a value as JSON text (or, in newer wandb, a typed field). These helpers turn them into Python
values and dotted names, tell wandb's own names from the run's metrics, set or remove a path in a
nested config, and clean the strings of ``wandb-metadata.json``. Kept apart from
:mod:`._wandb_state`, which applies them record by record, so that the state machine reads as the
handling of records alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

from ..readers.metrics import STEP_KEYS
from ..safeio import Unreadable, parse_json
from ._wandb_records import LogProblems

MAX_NESTING = 16
"""Deepest nested mapping flattened into metric names."""


def _updates(rec: Any, at: int, problems: LogProblems, what: str) -> Iterator[tuple[list[str], Any]]:
    """The (path, value) pairs a config or summary record sets; a value that cannot be read is a problem."""
    for item in rec.update:
        path = _item_path(item)
        if not path:
            continue
        try:
            yield path, _bounded_json(item.value_json)
        except Unreadable as exc:
            problems.add(at, f"{what} key {'.'.join(path)!r}: {exc.message}")


def _item_path(item: Any) -> list[str]:
    """A config/summary/history item's key: ``nested_key`` (0.2x and later) or ``key``."""
    if len(item.nested_key):
        return [str(k) for k in item.nested_key]
    return [item.key] if item.key else []


_NUMBER_START = frozenset("-0123456789")
_decode = json.JSONDecoder().decode


def _plain_number(text: str) -> int | float | None:
    """``text`` as a number when it is a plain one (the hot path of a history row); None otherwise."""
    if text[0] in _NUMBER_START:
        try:
            return int(text) if text.isdigit() else float(text)
        except ValueError:
            pass
    return None


def _json(text: str) -> Any:
    """JSON text as a value; a plain number without the JSON parser's overhead. Raises ValueError."""
    number = _plain_number(text)
    if number is not None:
        return number
    try:
        return _decode(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _bounded_json(text: str) -> Any:
    """A config or summary value: a plain number directly, anything else through safeio's bounded JSON."""
    if not text:
        return None
    number = _plain_number(text)
    if number is not None:
        return number
    notes: list[tuple[str, int | None]] = []
    try:
        value = parse_json(text, notes)
    except ValueError as exc:  # what json lets through
        raise Unreadable(f"invalid JSON: {exc}") from None
    if notes:  # an integer too large to be a number: this value is dropped, with why
        raise Unreadable(notes[0][0])
    return value


def _item_value(item: Any) -> Any:
    """A history item's value: JSON, or (newer wandb) a typed field. Raises ValueError."""
    if item.value_json:
        return _json(item.value_json)
    kind = item.WhichOneof("value")
    if kind is None:
        return None
    value = getattr(item, kind)
    if kind == "json":
        return _json(value) if value else None
    return value


def _is_number(value: Any) -> TypeGuard[int | float]:
    return type(value) in (int, float)


def _is_metric_name(name: str) -> bool:
    """Not wandb's own (``_step``, ``_runtime``, ``_wandb.*``), nor an x-axis (``epoch``, ``step``)."""
    if name in STEP_KEYS:
        return False
    return not any(part.startswith("_") for part in name.split("."))


def _flatten(path: list[str], value: Any, depth: int = 0) -> list[tuple[str, Any]]:
    """(dotted name, leaf) of a value; a media object (``{"_type": ...}``) is one non-number leaf."""
    if isinstance(value, Mapping) and "_type" not in value and depth < MAX_NESTING:
        out: list[tuple[str, Any]] = []
        for key, sub in value.items():
            out.extend(_flatten([*path, str(key)], sub, depth + 1))
        return out
    return [(".".join(path), value)] if path else []


def _set_path(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


def _del_path(tree: dict[str, Any], path: list[str]) -> None:
    node: Any = tree
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and path:
        node.pop(path[-1], None)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


_PY_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?\S*")


def _python(value: str) -> str | None:
    """``CPython 3.11.7`` -> ``3.11.7``."""
    match = _PY_VERSION.search(value or "")
    return match.group(0) if match else None
