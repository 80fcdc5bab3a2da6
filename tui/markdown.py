"""Make untrusted values safe inside Markdown (tables, list items, inline code) for pull-request comments.

Only what Markdown would act on is escaped, so ``+0.0018 (+1.40%)`` stays as written:
``\\`` (so a value cannot cancel our escapes), ``|`` (a table cell), `````, ``*``, ``~``, ``_``
where it could start or end emphasis, ``[`` ``]`` (links and images), ``<`` ``>`` (HTML and
autolinks), ``&`` (an entity such as ``&#x202e;`` would render a bidi control), and a leading
``#``, ``-``, ``+``, ``=`` or ``1.`` followed by a space (a heading or list inside a list item).
Control, bidi and invisible characters are shown escaped first, by the project's one rule
(:func:`runsift.core.textsafe.visible`). A bare ``https://`` address is still linked by
GitHub, but it shows as itself: no text can hide where a link goes.
"""

from __future__ import annotations

import re

from runsift.core.fmt import clip

from .safe import visible

_ALWAYS = re.compile(r"[\\`*\[\]<>|~&]")
_LONE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
"""An underscore not between two letters or digits: only those can open or close emphasis."""
_LEADING_MARKER = re.compile(r"^(\s*)(#{1,6}|[-+=]|\d{1,9}[.)])(?=\s|$)")


def text(value: object) -> str:
    """One line of inline Markdown showing ``value`` as itself."""
    s = visible(value, one_line=True)
    s = _ALWAYS.sub(lambda m: "\\" + m.group(), s)
    s = _LONE_UNDERSCORE.sub(r"\\_", s)
    return _LEADING_MARKER.sub(_escape_marker, s)


def _escape_marker(match: re.Match[str]) -> str:
    marker = match.group(2)
    return match.group(1) + (marker[:-1] + "\\" + marker[-1] if marker[-1] in ".)" else "\\" + marker)


def cell(value: object, limit: int = 120) -> str:
    """A table cell or list item: one line, what Markdown would act on escaped, long values shortened."""
    return text(clip(visible(value, one_line=True), limit))


def code(value: object) -> str:
    """Inline code that cannot be broken out of by backticks in the value."""
    shown = visible(value, one_line=True).replace("|", "\\|")
    longest = 0
    current = 0
    for ch in shown:
        current = current + 1 if ch == "`" else 0
        longest = max(longest, current)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"
