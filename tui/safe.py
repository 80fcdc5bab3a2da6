"""Untrusted text stays text: show control characters visibly, never interpret markup.

Run folders can hold notes, configs and file names with ANSI escapes, bidi controls or
Rich/Textual markup. Everything from a run reaches the terminal through :func:`literal`
(a ``rich.text.Text``, which Rich never parses as markup) or, where Textual insists on a
markup string (notifications), :func:`markup_text`; both first apply
:func:`runsift.core.textsafe.visible`, the project's one escaping rule.
"""

from __future__ import annotations

from rich.markup import escape as _escape_markup
from rich.text import Text

from runsift.core.textsafe import visible

__all__ = ["literal", "markup_text", "visible"]


def literal(text: object, style: str = "", *, one_line: bool = True) -> Text:
    """A Rich Text showing ``text`` exactly, markup and escapes included, as characters."""
    return Text(visible(text, one_line=one_line), style=style)


def markup_text(text: object, *, one_line: bool = True) -> str:
    """``text`` as a markup string that shows as itself: controls escaped, ``[`` escaped for the markup parser."""
    return _escape_markup(visible(text, one_line=one_line))
