"""The one escaping rule (core/textsafe.py) and the Markdown escaping built on it, as properties."""

from __future__ import annotations

import json
import re
import sys
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from runsift.core.textsafe import csv_cell, has_unsafe, json_text, visible
from runsift.tui.markdown import cell, code

UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
"""What may never reach output raw: controls, format characters (bidi, invisible), surrogates, separators."""

ANY_TEXT = st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=sys.maxunicode), max_size=80)
"""Any code points, lone surrogates included (os.fsdecode makes them from non-UTF-8 file names)."""
HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(list("\x1b\x07\x9b\x7f\u202e\u2066\u061c\ufeff\u2060\u200b\u2028\udcff\n\t\r[]/@=|`*_<>&#+-\\ aé1")),
    max_size=60,
)
JSON_DOCS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


def raw_unsafe(text: str, *, keep: str = "") -> list[str]:
    return [c for c in text if unicodedata.category(c) in UNSAFE_CATEGORIES and c not in keep]


def test_the_class_covers_every_unsafe_character_of_this_python() -> None:
    """Checked against unicodedata, so a newer Unicode's new format characters cannot slip past."""
    missing = [f"U+{c:04X}" for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in UNSAFE_CATEGORIES and not has_unsafe(chr(c), one_line=True)]
    assert missing == []


@given(ANY_TEXT | HOSTILE_TEXT)
def test_visible_output_is_printable(text: str) -> None:
    assert raw_unsafe(visible(text, one_line=True)) == []
    assert raw_unsafe(visible(text), keep="\n\t") == []
    assert "\n" not in visible(text, one_line=True)


@given(ANY_TEXT | HOSTILE_TEXT)
def test_visible_is_stable_and_leaves_safe_text_alone(text: str) -> None:
    once = visible(text)
    assert visible(once) == once
    if not raw_unsafe(text, keep="\n\t"):
        assert once == text


def test_visible_names_each_character() -> None:
    assert visible("a\x1b]2;t\x1b\\") == "a\\x1b]2;t\\x1b\\"
    assert visible("\u202e\u2066\x9b\u061c\ufeff\u2060\u00ad") == "\\u202e\\u2066\\x9b\\u061c\\ufeff\\u2060\\xad"
    assert visible("\U000e0041") == "\\U000e0041"
    assert visible("bad\udcffname") == "bad\\xffname"  # a non-UTF-8 byte of a file name, as the byte
    assert visible("two\nlines\tx") == "two\nlines\tx"
    assert visible("two\nlines\tx", one_line=True) == "two⏎lines x"
    assert visible(3.5) == "3.5"


@settings(max_examples=300)
@given(JSON_DOCS)
@example("\x7f")  # DEL is ASCII: the all-ASCII shortcut let it through raw
def test_json_round_trips_and_is_printable(doc: object) -> None:
    for indent in (None, 2):
        text = json_text(doc, indent=indent)
        assert json.loads(text) == doc  # the same strings for a program
        assert raw_unsafe(text, keep="\n") == []  # newlines only from indenting


def test_json_spells_unsafe_characters_as_escapes() -> None:
    text = json_text({"k\u202e": "a\x9b\u2066\x7f\U000e0041é"})
    assert text == '{"k\\u202e": "a\\u009b\\u2066\\u007f\\udb40\\udc41é"}'


@given(ANY_TEXT | HOSTILE_TEXT)
def test_csv_cells_are_printable(text: str) -> None:
    shown = csv_cell(text)
    assert isinstance(shown, str) and raw_unsafe(shown, keep="\n\t") == []
    assert csv_cell(3) == 3


# -- Markdown -------------------------------------------------------------------------------------

_ESCAPED = re.compile(r"\\.")


@given(ANY_TEXT | HOSTILE_TEXT)
def test_markdown_cell_cannot_break_out(text: str) -> None:
    md = cell(text, limit=1000)
    assert raw_unsafe(md) == []
    bare = _ESCAPED.sub("", md)  # what is left once every backslash escape is taken out
    assert not set(bare) & set("|`[]<>*~&\\"), md
    assert not re.match(r"\s*(#{1,6}|[-+=]|\d+[.)])(\s|$)", md), md  # no heading or list marker


@given(ANY_TEXT | HOSTILE_TEXT)
def test_markdown_code_span_cannot_break_out(text: str) -> None:
    md = code(text)
    assert raw_unsafe(md) == []
    fence = re.match(r"`+", md)
    assert fence and md.endswith(fence.group())
    inner = md[len(fence.group()) : -len(fence.group())]
    assert fence.group() not in inner  # the value's backticks never close the span
    assert "|" not in inner.replace("\\|", "")


def test_markdown_is_not_over_escaped() -> None:
    """Issue 12 item 9: ``+0.0018 (+1.40%)`` printed as ``\\+0.0018 \\(\\+1.40%\\)``."""
    assert cell("+0.0018 (+1.40%)") == "+0.0018 (+1.40%)"
    assert cell("learning_rate 1e-3, batch_size=64 #3 !") == "learning_rate 1e-3, batch_size=64 #3 !"
    assert cell("- not a list") == "\\- not a list"
    assert cell("# not a heading") == "\\# not a heading"
    assert cell("1. not a list") == "1\\. not a list"
    assert cell("_emph_ *bold*") == "\\_emph\\_ \\*bold\\*"
    assert cell("[click](https://evil.example) <img src=x> &#x202e;") == "\\[click\\](https://evil.example) \\<img src=x\\> \\&#x202e;"
    assert cell("a|b") == "a\\|b"
