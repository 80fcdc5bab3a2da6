"""Pick the runs table's columns: metrics, config paths and fields, those that vary among the shown runs first."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widgets import Footer, SelectionList, Static
from textual.widgets.selection_list import Selection

from ..safe import literal

TICKED = "✓"
"""In the box of a ticked column; an unticked box is empty (readable without colour, under NO_COLOR)."""


class TickList(SelectionList[str]):
    """A selection list whose boxes show ``✓`` when ticked, not only a colour."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        segments = list(line)
        index = self.scroll_offset.y + y
        if len(segments) < 4 or index >= self.option_count:
            return line
        value = self.get_option_at_index(index).value
        box = segments[1]
        segments[1] = Segment(TICKED if value in self.selected else " ", box.style, box.control)
        return Strip(segments, line.cell_length)


class ColumnPicker(ModalScreen[list[str] | None]):
    """Space ticks a column, enter applies, ``a`` goes back to automatic columns, escape cancels.

    Dismissed with the chosen keys (in the order shown before, new ones after), ``[]`` for
    automatic, or None when cancelled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "apply", "Apply", priority=True),
        Binding("a", "automatic", "Automatic"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    ColumnPicker { align: center middle; }
    ColumnPicker > Vertical {
        width: 64; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; background: $surface;
    }
    ColumnPicker #column-help { color: $text-muted; padding: 0 1; }
    ColumnPicker SelectionList { height: auto; max-height: 18; border: none; }
    """

    def __init__(self, offered: list[str], current: list[str], varying: set[str], *, automatic: bool = True) -> None:
        super().__init__()
        self.offered = list(dict.fromkeys([*offered, *current]))
        self.current = current
        self.varying = varying
        self.automatic = automatic

    def compose(self) -> ComposeResult:
        chosen = set(self.current)
        selections = []
        for key in self.offered:
            label = literal(key)
            if key in self.varying:
                label.append("  varies", style="italic")
            selections.append(Selection(label, key, key in chosen))
        mode = "automatic (each project's primary metric first)" if self.automatic else "chosen"
        with Vertical():
            yield Static(Text(f"Columns, now {mode}. space: tick  enter: apply  a: automatic"), id="column-help")
            yield TickList(*selections, id="column-list")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def chosen(self) -> list[str]:
        """Ticked keys: those shown before in their order, then new ones in the list's order; ``name`` always."""
        ticked = set(self.query_one(SelectionList).selected)
        keys = [k for k in self.current if k in ticked] + [k for k in self.offered if k in ticked and k not in self.current]
        if "name" not in keys:
            keys.insert(0, "name")
        return keys

    def action_apply(self) -> None:
        self.dismiss(self.chosen())

    def action_automatic(self) -> None:
        self.dismiss([])

    def action_cancel(self) -> None:
        self.dismiss(None)
