"""Small helpers over nested mappings (configs, definitions)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted paths to the leaves of nested mappings; lists and empty mappings are leaves."""
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from flatten(value, path + ".")
        else:
            yield path, value
