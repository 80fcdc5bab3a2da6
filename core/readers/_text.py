"""Small text helpers shared by the line-oriented readers."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from ..fmt import clip as clip  # re-exported: readers quote text in problems through it

Issue = tuple[str, int | None]
"""A problem found while parsing: (message, line or None)."""

T = TypeVar("T")


def remembered(
    parse: Callable[[str, str], tuple[T, list[Issue]]], *, entries: int, longest: int
) -> Callable[[str, str], tuple[T, tuple[Issue, ...]]]:
    """``parse(text, file_name)``, remembered per process for texts up to ``longest`` characters.

    Runs share many files word for word (the pip freeze of one machine, a seed pair, a data
    snapshot, a commit), so a cold index parses each once per worker. What ``parse`` returns is
    shared by every run that had the same file: records are frozen, and nothing changes it.
    """

    @lru_cache(maxsize=entries)
    def shared(text: str, name: str) -> tuple[T, tuple[Issue, ...]]:
        value, issues = parse(text, name)
        return value, tuple(issues)

    def parse_remembered(text: str, name: str) -> tuple[T, tuple[Issue, ...]]:
        if len(text) > longest:
            value, issues = parse(text, name)
            return value, tuple(issues)
        return shared(text, name)

    return parse_remembered


def as_path(path: Path | str) -> Path:
    """``Path(path)``, without parsing again a path that already is one."""
    return path if isinstance(path, Path) else Path(path)


@lru_cache(maxsize=256)
def name_suffix(name: str) -> str:
    """``PurePosixPath(name).suffix.lower()``, which picks a reader's format; cached, as file names repeat."""
    return PurePosixPath(name).suffix.lower()


def unquote(value: str) -> str:
    """Strip one pair of matching quotes around a value (as git does around paths with spaces)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def literal_scalar(value: Any, key: Any, text: str) -> str:
    """A parsed scalar as written in the file: YAML ``0x9af2`` or ``3.10`` must not become 39666 or ``3.1``."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        m = re.search(rf"(?<![\w.-])[\"']?{re.escape(str(key))}[\"']?[ \t]*[:=][ \t]*([0-9][0-9a-fA-FxX._]*)", text)
        if m:
            return m.group(1)
    return str(value)
