"""Small helpers over nested mappings (configs, definitions)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_NEVER_MAPPINGS = frozenset({str, int, float, bool, type(None), list, tuple})
"""Exact types a parsed document is made of that are certainly not mappings."""


def is_mapping(value: Any) -> bool:
    """``isinstance(value, Mapping)``, answered without the slow ABC check for plain parsed values."""
    kind = type(value)
    if kind is dict:
        return True
    if kind in _NEVER_MAPPINGS:
        return False
    return isinstance(value, Mapping)


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted paths to the leaves of nested mappings; lists and empty mappings are leaves."""
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from flatten(value, path + ".")
        else:
            yield path, value
