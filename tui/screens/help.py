"""Help for the screen in front: its own paragraph and keys (from its BINDINGS), then the app's keys.

Each screen declares a ``HELP`` paragraph next to its ``BINDINGS``, so help cannot forget a key
a screen has; this module only lays them out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

FOOTNOTE = """\
runsift never writes inside your runs folder. Its index lives in `~/.cache/runsift/` and the app's
marks, last filter and sort in `~/.local/state/runsift/` (XDG locations). While the app is open it
watches the folder: new runs appear and a run being written updates as it goes.

Press `escape` to close."""

APP_KEYS = (("?", "this help, for the screen in front"), ("ctrl+p", "jump to any run, sweep or A/B record by name"))

_NUMBERED = re.compile(r"^(.*?)\s*\d+$")


def _key_label(app: App[object], binding: Binding) -> str:
    """How the keys of ``binding`` are typed: ``esc``, ``→ l``, ``?`` ..."""
    if binding.key_display:
        return binding.key_display
    shown = []
    for key in binding.key.split(","):
        shown.append(app.get_key_display(Binding(key.strip(), binding.action)))
    return " ".join(shown)


def key_rows(app: App[object], bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, what they do) for each binding, ``Tab 1`` … ``Tab 9`` folded into one ``1–9`` row."""
    rows: list[tuple[str, str]] = []
    numbered: list[tuple[str, str]] = []

    def flush() -> None:
        if len(numbered) > 2:
            rows.append((f"{numbered[0][0]}–{numbered[-1][0]}", _NUMBERED.sub(r"\1 N", numbered[0][1]).lower()))
        else:
            rows.extend(numbered)
        numbered.clear()

    seen: set[str] = set()
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        label, what = _key_label(app, binding), binding.tooltip or binding.description  # the footer's label may be short
        if _NUMBERED.match(what) and label.isdigit():
            numbered.append((label, what))
            continue
        flush()
        if binding.action in seen:  # "q" and "escape" both go back: one row per action
            rows = [(keys + " " + label, text) if text == what else (keys, text) for keys, text in rows]
            continue
        seen.add(binding.action)
        rows.append((label, what[0].lower() + what[1:]))
    flush()
    return rows


def help_markdown(app: App[Any], screen: Screen[Any]) -> str:
    """The help text of ``screen``: title, its paragraph, its keys, the app's keys, where files live."""
    title = getattr(screen, "HELP_TITLE", None) or re.sub(r"Screen$", "", type(screen).__name__) + " screen"
    rows = key_rows(app, type(screen).BINDINGS) + list(APP_KEYS)
    table = "| keys | |\n| --- | --- |" + "".join(f"\n| `{keys}` | {what} |" for keys, what in rows)
    parts = [f"# {title}", getattr(screen, "HELP", "").strip(), table, FOOTNOTE]
    return "\n\n".join(p for p in parts if p)


class HelpScreen(ModalScreen[None]):
    """Keys and what the screen below shows."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(self.text, open_links=False)
