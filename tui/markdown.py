"""Make untrusted values safe inside Markdown (tables, inline code) for pull-request comments."""

from __future__ import annotations

from runsift.core.fmt import clip

from .safe import visible

_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+!|~"})


def cell(value: object, limit: int = 120) -> str:
    """A table cell: one line, Markdown and HTML characters escaped, long values shortened."""
    return clip(visible(value, one_line=True), limit).translate(_SPECIAL)


def code(value: object) -> str:
    """Inline code that cannot be broken out of by backticks in the value."""
    text = visible(value, one_line=True).replace("|", "\\|")
    longest = 0
    current = 0
    for ch in text:
        current = current + 1 if ch == "`" else 0
        longest = max(longest, current)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
