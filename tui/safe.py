"""Untrusted text stays text: show control characters visibly, never interpret markup.

Run folders can hold notes, configs and file names with ANSI escapes or Rich
markup. Everything from a run reaches the terminal through :func:`literal` (a
``rich.text.Text``, which Rich never parses as markup) after :func:`visible`
has replaced control characters by readable escapes.
"""

from __future__ import annotations

import re

from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n":
        return "⏎"
    if char == "\t":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, *, one_line: bool = False) -> str:
    """``text`` with control characters (ESC, CR, bidi overrides ...) shown as ``\\x1b``-style escapes.

    With ``one_line``, newlines become ``⏎`` and tabs spaces, for table cells.
    """
    s = str(text)
    return (_CONTROL_ONE_LINE if one_line else _CONTROL).sub(_escape, s)


def literal(text: object, style: str = "", *, one_line: bool = True) -> Text:
    """A Rich Text showing ``text`` exactly, markup and escapes included, as characters."""
    return Text(visible(text, one_line=one_line), style=style)
