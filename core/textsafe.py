"""Untrusted text made safe to print: the one escaping rule for terminal, Markdown, CSV and JSON output.

Everything a run says (folder and file names, notes, config keys and values, metric
names) may hold bytes a terminal acts on: ESC sequences that retitle the window or
write the clipboard (OSC 2, OSC 52), C1 controls (U+009B is a one-character CSI),
bidi overrides that reorder what is shown (U+202E, U+2066), invisible characters
that make two names look alike (U+200B, U+2060, U+FEFF). :func:`visible` replaces
every such character by a readable escape (``\\x1b``, ``\\u202e``), so what prints
is what the file says, character for character, and the terminal interprets nothing.

Escaped (decided once, here): Unicode categories Cc (C0, DEL, C1), Cf (every format
character: bidi controls, zero-width space/joiners, word joiner, BOM, soft hyphen,
Arabic and Syriac marks, tag characters), Cs (lone surrogates: undecodable bytes
of a file name, shown as the byte ``\\xff``), Zl and Zp (line and paragraph
separators). A newline is kept in multi-line text and a tab is kept there too (a
terminal moves the cursor for both and nothing else). Zero-width joiners are
escaped too, so an emoji built with one shows as its parts: being able to tell
two names apart matters more. A backslash is not doubled, so ``\\x1b`` typed in a
name and a real ESC print alike; the text never acts on the terminal either way.

:func:`json_text` writes JSON that a program reads back as the same strings but
in which the same characters appear only as ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Categories Cc, Cf, Cs, Zl and Zp as of Unicode 14 (Python 3.11), plus the format controls
# Unicode 15 added to Egyptian hieroglyphs (U+13439-1343F). tests/test_textsafe.py checks this
# class against the running Python's unicodedata, so a newer Unicode cannot slip past unnoticed.
_ABOVE_C0 = (
    "\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
UNSAFE_CLASS = "\x00-\x1f" + _ABOVE_C0
"""Regex class body of every character escaped in one-line text."""
_UNSAFE = re.compile(f"[{UNSAFE_CLASS}]")
_MULTI_LINE = re.compile(f"[\x00-\x08\x0b-\x1f{_ABOVE_C0}]")
"""The same class less newline and tab, for text shown over several lines."""
_JSON_UNSAFE = re.compile(f"[{_ABOVE_C0}]")
"""What ``json.dumps(ensure_ascii=False)`` leaves raw (it escapes C0 itself; indenting adds raw newlines)."""

ONE_LINE_NEWLINE = "⏎"
"""What a newline becomes in one-line text (a table cell, a notification title)."""


def escape_char(char: str) -> str:
    """The readable escape of one character: ``\\x1b``, ``\\u202e``, ``\\U000e0041``; undecodable byte ``\\xff``."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by os.fsdecode as a surrogate escape
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _escape_one_line(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n":
        return ONE_LINE_NEWLINE
    if char == "\t":
        return " "
    return escape_char(char)


def _escape(match: re.Match[str]) -> str:
    return escape_char(match.group())


def visible(text: object, *, one_line: bool = False) -> str:
    """``text`` with every control, bidi, invisible format or separator character shown as an escape.

    Multi-line text keeps newlines and tabs; with ``one_line`` (table cells, titles) a newline
    becomes ``⏎`` and a tab a space. Markup is not touched: callers that print through a markup
    parser pass the result as literal text (``rich.text.Text``) or escape the markup as well.
    """
    s = text if type(text) is str else str(text)
    if s.isprintable():  # the common case, decided in C: no category C*, Z* but space
        return s
    if one_line:
        return _UNSAFE.sub(_escape_one_line, s)
    return _MULTI_LINE.sub(_escape, s)


def has_unsafe(text: str, *, one_line: bool = False) -> bool:
    """True when ``text`` holds a character :func:`visible` would escape (for tests and checks)."""
    return (_UNSAFE if one_line else _MULTI_LINE).search(text) is not None


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP: a UTF-16 surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(doc: Any, *, indent: int | None = None) -> str:
    """Strict JSON of ``doc`` with non-ASCII text kept readable but every unsafe character as ``\\uXXXX``.

    ``json.dumps`` escapes C0 controls itself; DEL, C1, bidi and format characters and lone
    surrogates pass through raw with ``ensure_ascii=False``. Outside strings JSON output holds
    only ASCII punctuation, digits, letters and whitespace, so any such character found in the
    text is inside a string, where its ``\\uXXXX`` escape decodes to the very same character.
    """
    text = json.dumps(doc, indent=indent, ensure_ascii=False, allow_nan=False)
    return text if text.isascii() and "\x7f" not in text else _JSON_UNSAFE.sub(_json_escape, text)  # DEL is ASCII


def csv_cell(value: object) -> object:
    """A CSV field: strings get :func:`visible` (newlines kept, the csv module quotes them); numbers pass."""
    return visible(value) if isinstance(value, str) else value
