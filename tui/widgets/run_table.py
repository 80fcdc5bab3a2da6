"""A virtual table of run summaries that stays quick with 100,000 rows.

Textual's ``DataTable`` measures every cell before its first frame (seconds for 10k
rows), so :class:`RunTable` is a ``ScrollView`` on the Line API instead: it renders
only the lines on screen, sizes its columns from the header and a sample of rows,
and caches the strips of recently shown rows.

Line 0 is a sticky header (it stays on top while the body scrolls vertically and
follows the body horizontally). Every string from a run goes through
:func:`runsift.tui.safe.visible` and is emitted as plain ``Segment`` text, so Rich
markup and ANSI escapes in names show as the characters they are.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from runsift.core.columns import common_decimals
from runsift.core.fmt import format_recorded as format_metric
from runsift.core.fmt import format_value
from runsift.core.naming import display_name
from runsift.core.query import FacetValue, is_facet, metric_of
from runsift.core.records import Summary

from ..safe import visible

MARK = "●"
MARK_WIDTH = 2
"""The mark column: ``●`` and a space."""
GAP = 2
"""Spaces between two columns."""
SAMPLE_HEAD = 200
"""Column widths look at this many rows from the top, plus the rows on screen (measured on every
new filter or sort, so it is kept small: a longer value further down is cut with an ellipsis)."""
ROW_CACHE_SIZE = 256
MISSING = "—"
LIVE = "↻"
"""After the name of a run being written (its files changed on disk in the last :data:`LIVE_FOR` seconds)."""
LIVE_FOR = 30.0
"""Seconds after its last change on disk that a run still counts as being written."""
GUESSED = "~"
"""Before a start time taken from file times (or another guess) rather than recorded."""
Facets = Mapping[str, Mapping[str, FacetValue]]
"""``{column key: {record id: (text, number)}}`` for detail columns, from ``Catalog.facet``."""
KIND_LABELS = {"sweep": "sweep", "abtest": "A/B test"}
_ID = operator.attrgetter("id")
STATUS_CLASSES = {
    "finished": "run-table--finished",
    "failed": "run-table--failed",
    "incomplete": "run-table--incomplete",
}
_SUMMARY_FIELDS = frozenset(f.name for f in fields(Summary))


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a :class:`RunTable`.

    ``key`` is a :class:`Summary` field (``project``, ``name``, ``started``, ``status``,
    ``problems`` ...) or ``metric:NAME`` for a final metric value.
    """

    key: str
    title: str
    justify: Literal["left", "right"] = "left"
    min_width: int = 3
    max_width: int = 40


def table_key(key: str) -> str:
    """The table's column key for a filter key: ``val_auc`` -> ``metric:val_auc``; fields and detail keys as they are."""
    if key in _SUMMARY_FIELDS or key == "problems" or is_facet(key) or key.startswith("metric:"):
        return key
    return "metric:" + str(metric_of(key))


def user_key(column_key: str) -> str:
    """The filter key of a table column: ``metric:val_auc`` -> ``val_auc``."""
    return column_key.removeprefix("metric:")


def format_started(started: str | None, guessed: bool = False) -> str:
    """``2025-01-07T14:32:11`` as ``2025-01-07 14:32`` (``~2025-01-07 14:32`` when guessed); unparsable text as it is."""
    if not started:
        return MISSING
    try:
        text = datetime.fromisoformat(started).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        text = visible(started, one_line=True)
    return GUESSED + text if guessed else text


def is_guessed(facets: Facets | None, source_key: str, record_id: str) -> bool:
    """True when ``facets[source_key]`` (``started_source``, ``status_source``) says the record's value was guessed."""
    return facets is not None and facets.get(source_key, {}).get(record_id, (None, None))[0] == "guessed"


def _facet_value(entry: FacetValue | None) -> object:
    if entry is None:
        return None
    text, number = entry
    return number if number is not None else text


def cell_text(summary: Summary, key: str, facets: Facets | None = None, decimals: int | None = None) -> str:
    """What a cell of column ``key`` shows for ``summary``: one line, control characters escaped.

    ``facets`` holds ``{key: {record id: (text, number)}}`` for detail columns (``config.lr``, ``error``)
    and ``started_source``/``status_source``; ``decimals`` is the column's common precision for numbers.
    """
    if key.startswith("metric:"):
        value = summary.metrics.get(key[len("metric:") :])
        return MISSING if value is None else visible(format_metric(value, decimals), one_line=True)
    if key == "name":
        return str(visible(display_name(summary.name, summary.sweep), one_line=True))
    if key == "started":
        return format_started(summary.started, is_guessed(facets, "started_source", summary.id))
    if key == "status":
        label = KIND_LABELS.get(summary.kind)
        if label:
            return label
        return (GUESSED if is_guessed(facets, "status_source", summary.id) else "") + str(visible(summary.status, one_line=True))
    if key == "problems":
        return f"!{len(summary.problems)}" if summary.problems else ""
    if key in _SUMMARY_FIELDS:
        return str(visible(format_value(getattr(summary, key)), one_line=True))
    if is_facet(key):
        detail = _facet_value((facets or {}).get(key, {}).get(summary.id))
        if detail is None:
            return MISSING
        if isinstance(detail, float):
            return str(visible(format_metric(detail, decimals), one_line=True))
        return str(visible(last_line(str(detail)) if key == "error" else str(detail), one_line=True))
    return ""


def last_line(text: str) -> str:
    """The last non-blank line of an error (a traceback's ``ValueError: ...``): what a cell has room for."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else text


def cell_number(summary: Summary, key: str, facets: Facets | None = None) -> object:
    """The number behind a cell (for the column's common precision), or None."""
    if key.startswith("metric:"):
        return summary.metrics.get(key[len("metric:") :])
    if is_facet(key):
        value = _facet_value((facets or {}).get(key, {}).get(summary.id))
        return value if isinstance(value, float) else None
    return None


def problem_marker(summary: Summary) -> str:
    """`` !N`` after a name with problems (N problems), so they show where the eye already is."""
    return f" !{len(summary.problems)}" if summary.problems else ""


def cell_class(summary: Summary, key: str, facets: Facets | None = None) -> str | None:
    """Component class that colours a cell (status, problems, missing values), if any."""
    if key == "status":
        if summary.kind in KIND_LABELS:
            return "run-table--kind"
        return STATUS_CLASSES.get(summary.status, "run-table--dim")
    if key == "problems":
        return "run-table--problems" if summary.problems else None
    if key.startswith("metric:"):
        return None if summary.metrics.get(key[len("metric:") :]) is not None else "run-table--dim"
    if key == "started":
        return "run-table--dim" if not summary.started or is_guessed(facets, "started_source", summary.id) else None
    if key == "error":
        return "run-table--failed" if (facets or {}).get(key, {}).get(summary.id) else "run-table--dim"
    if is_facet(key):
        return None if (facets or {}).get(key, {}).get(summary.id) is not None else "run-table--dim"
    return None


def fit(text: str, width: int, justify: str = "left") -> str:
    """``text`` padded or cut (with ``…``) to exactly ``width`` cells."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        text = set_cell_size(text, width - 1) + "…"
        length = width
    pad = " " * (width - length)
    return pad + text if justify == "right" else text + pad


class RunTable(ScrollView, can_focus=True):
    """Run summaries in rows: a sticky header, a cursor, marks, and only visible rows rendered."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open"),
        Binding("space", "toggle_mark", "Mark"),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home,g", "cursor_first", "First", show=False),
        Binding("end,G", "cursor_last", "Last", show=False),
        Binding("right,l", "column_right", "Next column", show=False),
        Binding("left,h", "column_left", "Previous column", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "run-table--header",
        "run-table--cursor",
        "run-table--marked",
        "run-table--finished",
        "run-table--failed",
        "run-table--incomplete",
        "run-table--kind",
        "run-table--problems",
        "run-table--live",
        "run-table--dim",
    }

    DEFAULT_CSS = """
    RunTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        & > .run-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        & > .run-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .run-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .run-table--marked {
            color: $text-accent;
            text-style: bold;
        }
        & > .run-table--finished { color: $text-success; }
        & > .run-table--failed { color: $text-error; }
        & > .run-table--incomplete { color: $text-warning; }
        & > .run-table--kind { color: $text-secondary; text-style: italic; }
        & > .run-table--problems { color: $text-warning; text-style: bold; }
        & > .run-table--live { color: $text-success; text-style: bold; }
        & > .run-table--dim { color: $text-muted; }
    }
    RunTable:nocolor > .run-table--cursor, RunTable:nocolor:focus > .run-table--cursor {
        text-style: reverse bold;
    }
    """

    # -- messages --------------------------------------------------------------------
    class _Message(Message):
        """A message about the table; ``control`` is the table, so ``@on(..., "#id")`` selectors work."""

        def __init__(self, run_table: RunTable | None = None) -> None:
            super().__init__()
            self.run_table = run_table

        @property
        def control(self) -> RunTable | None:
            return self.run_table

    class Highlighted(_Message):
        """The cursor moved to another record (``None`` when the table is empty)."""

        def __init__(self, summary: Summary | None, run_table: RunTable | None = None) -> None:
            super().__init__(run_table)
            self.summary = summary

    class Selected(_Message):
        """Enter (or a double click) on a record: open it."""

        def __init__(self, summary: Summary, run_table: RunTable | None = None) -> None:
            super().__init__(run_table)
            self.summary = summary

    class MarkToggled(_Message):
        """Space on a record; the parent owns the marks and answers with :meth:`RunTable.set_marks`."""

        def __init__(self, summary: Summary, run_table: RunTable | None = None) -> None:
            super().__init__(run_table)
            self.summary = summary

    class SortRequested(_Message):
        """A click on a column header; the parent decides the order and calls :meth:`RunTable.set_rows`."""

        def __init__(self, column_key: str, run_table: RunTable | None = None) -> None:
            super().__init__(run_table)
            self.column_key = column_key

    # -- construction ----------------------------------------------------------------
    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._rows: list[Summary] = []
        self._columns: tuple[Column, ...] = ()
        self._facets: Facets = {}
        self._decimals: list[int | None] = []
        self._marks: frozenset[str] = frozenset()
        self._live: frozenset[str] = frozenset()
        self._sort: tuple[str | None, bool] = (None, False)
        self._cursor = 0
        self._announced: str | bool | None = False
        """Id of the record last posted in ``Highlighted`` (``False``: nothing posted yet)."""
        self._sample_widths: list[int] = []
        self._widths: list[int] = []
        self._spans: list[tuple[int, int]] = []
        """(start, end) cell offset of every column in the full-width line, for clicks."""
        self._content_width = 0
        self._row_cache: LRUCache[tuple[int, int, bool, bool], tuple[Strip, Style]] = LRUCache(ROW_CACHE_SIZE)
        self._header_cache: tuple[Strip, Style] | None = None
        self._fg_cache: dict[str, Style] = {}
        self._style_cache: dict[str, Style] = {}

    # -- public API ------------------------------------------------------------------
    @property
    def cursor_row(self) -> int:
        """Index of the row under the cursor (0 when the table is empty)."""
        return self._cursor

    @cursor_row.setter
    def cursor_row(self, row: int) -> None:
        self.move_cursor(row)

    @property
    def current(self) -> Summary | None:
        """The record under the cursor, or ``None`` when the table is empty."""
        return self._rows[self._cursor] if self._rows else None

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def rows(self) -> Sequence[Summary]:
        """The rows as last given to :meth:`set_rows`, in display order (do not modify)."""
        return self._rows

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def column_widths(self) -> tuple[int, ...]:
        """Width in cells of every column, as laid out now."""
        return tuple(self._widths)

    def set_rows(self, rows: Sequence[Summary], columns: Sequence[Column], *, keep_cursor: bool = True, facets: Facets | None = None) -> None:
        """Replace the rows and columns (``facets``: values of detail columns, ``started_source`` and ``status_source``).

        With ``keep_cursor`` the cursor stays on the same record when it is still
        present (else it stays at the same index, clamped); without, it goes to the top.
        """
        previous = self.current
        old_index = self._cursor
        self._rows = list(rows)
        self._columns = tuple(columns)
        if facets is not None:
            self._facets = facets
        count = len(self._rows)
        cursor = 0
        if keep_cursor:
            cursor = old_index
            if previous is not None:
                found = self._index_of(previous.id, hint=old_index)
                if found is not None:
                    cursor = found
        self._cursor = max(0, min(cursor, count - 1))
        top = 0 if not keep_cursor else self._top_showing_cursor()
        self._row_cache.clear()  # keyed by row index: stale as soon as the rows change
        self._measure(top)
        self._layout()
        self._scroll_to_cursor(top=top)
        self.refresh()
        self._announce()

    def append_rows(self, rows: Sequence[Summary], facets: Facets | None = None) -> None:
        """Add rows after the last (the next page of a list read a page at a time), with their detail values;
        cursor and widths stay."""
        self._rows.extend(rows)
        if facets:
            self._facets = {key: {**self._facets.get(key, {}), **facets.get(key, {})} for key in {*self._facets, *facets}}
        self._layout()
        self.refresh()

    def set_marks(self, ids: frozenset[str]) -> None:
        """Records to show as marked (``●``); the parent owns the marks."""
        self._marks = frozenset(ids)
        self._row_cache.clear()
        self.refresh()

    def set_live(self, ids: frozenset[str]) -> None:
        """Records being written, marked ``↻`` after their name; the parent says which and for how long."""
        if ids == self._live:
            return
        self._live = frozenset(ids)
        self._row_cache.clear()
        self._measure(self._top_showing_cursor())
        self._layout()
        self.refresh()

    @property
    def live(self) -> frozenset[str]:
        """Records shown as being written."""
        return self._live

    def _name_markers(self, summary: Summary) -> tuple[str, str]:
        """What follows a name: `` ↻`` when the run is being written, `` !N`` when it has problems."""
        return (" " + LIVE if summary.id in self._live else "", problem_marker(summary))

    def set_sort(self, key: str | None, descending: bool) -> None:
        """Show ``▲``/``▼`` in the header of column ``key`` (``None``: no indicator)."""
        if self._sort == (key, descending):
            return
        self._sort = (key, descending)
        self._layout()
        self.refresh()

    def move_cursor(self, row: int) -> None:
        """Put the cursor on row ``row`` (clamped) and scroll it into view."""
        if not self._rows:
            return
        row = max(0, min(row, len(self._rows) - 1))
        old = self._cursor
        if row != old:
            self._cursor = row
            self.refresh_line(old + 1)
            self.refresh_line(row + 1)
        self._scroll_to_cursor()
        self._announce()

    def move_to_id(self, record_id: str) -> bool:
        """Put the cursor on the record with ``record_id``; False when it is not in the table."""
        index = self._index_of(record_id, hint=self._cursor)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    # -- actions ---------------------------------------------------------------------
    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_page_down(self) -> None:
        page = self._body_height()
        self.scroll_to(y=self.scroll_offset.y + page, animate=False, force=True)
        self.move_cursor(self._cursor + page)

    def action_cursor_page_up(self) -> None:
        page = self._body_height()
        self.scroll_to(y=max(0, self.scroll_offset.y - page), animate=False, force=True)
        self.move_cursor(self._cursor - page)

    def action_cursor_first(self) -> None:
        self.move_cursor(0)

    def action_cursor_last(self) -> None:
        self.move_cursor(len(self._rows) - 1)

    def action_column_right(self) -> None:
        """Scroll right by one whole column: the next column starts at the left edge."""
        x = self.scroll_offset.x
        starts = [start - MARK_WIDTH for start, _ in self._spans]
        later = [s for s in starts if s > x]
        if later and self.max_scroll_x > x:
            self.scroll_to(x=min(later[0], self.max_scroll_x), animate=False, force=True)

    def action_column_left(self) -> None:
        """Scroll left by one whole column."""
        x = self.scroll_offset.x
        earlier = [start - MARK_WIDTH for start, _ in self._spans if start - MARK_WIDTH < x]
        if earlier:
            self.scroll_to(x=earlier[-1], animate=False, force=True)

    def show_column(self, key: str) -> None:
        """Scroll sideways, by whole columns, until the column ``key`` is on screen (a sort by it, say)."""
        width = self.scrollable_content_region.width
        for column, (start, end) in zip(self._columns, self._spans):
            if column.key != key:
                continue
            x = self.scroll_offset.x
            if start - MARK_WIDTH < x:
                self.scroll_to(x=start - MARK_WIDTH, animate=False, force=True)
            elif end > x + width:
                target = [s - MARK_WIDTH for s, _ in self._spans if s - MARK_WIDTH >= end - width]
                self.scroll_to(x=min(target[0] if target else start - MARK_WIDTH, self.max_scroll_x), animate=False, force=True)
            return

    def action_select_cursor(self) -> None:
        current = self.current
        if current is not None:
            self.post_message(self.Selected(current, self))

    def action_toggle_mark(self) -> None:
        current = self.current
        if current is not None:
            self.post_message(self.MarkToggled(current, self))

    # -- events ----------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        scroll_x, scroll_y = self.scroll_offset
        if offset.y == 0:
            key = self.column_at(offset.x + scroll_x)
            if key is not None:
                self.post_message(self.SortRequested(key, self))
            return
        row = scroll_y + offset.y - 1
        if 0 <= row < len(self._rows):
            self.move_cursor(row)
            if event.chain >= 2:
                self.action_select_cursor()

    def on_resize(self, event: events.Resize) -> None:
        if self._columns:
            self._layout()
        self._row_cache.clear()
        self._header_cache = None
        self._scroll_to_cursor()

    def on_focus(self, event: events.Focus) -> None:
        self._clear_styles()

    def on_blur(self, event: events.Blur) -> None:
        self._clear_styles()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._clear_styles()

    # -- rendering -------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self._style("")
        if not self._columns:
            return Strip.blank(width, base)
        if y == 0:
            if self._header_cache is None:
                self._header_cache = self._render_header()
            strip, style = self._header_cache
        else:
            index = scroll_y + y - 1
            if index >= len(self._rows):
                if index == 0:
                    strip = Strip([Segment("  nothing to show", base + self._fg("run-table--dim"))])
                    return strip.crop_extend(scroll_x, scroll_x + width, base)
                return Strip.blank(width, base)
            cursor = index == self._cursor
            marked = self._rows[index].id in self._marks
            key = (index, self._content_width, cursor, marked)
            cached = self._row_cache.get(key)
            if cached is None:
                cached = self._render_row(index, cursor, marked)
                self._row_cache[key] = cached
            strip, style = cached
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def _render_header(self) -> tuple[Strip, Style]:
        style = self._style("run-table--header")
        sort_key, descending = self._sort
        segments = [Segment(" " * MARK_WIDTH, style)]
        for i, (column, width) in enumerate(zip(self._columns, self._widths)):
            if i:
                segments.append(Segment(" " * GAP, style))
            segments.append(Segment(self._header_text(column, width, sort_key, descending), style))
        segments.append(Segment(" ", style))
        return Strip(segments, self._content_width), style

    @staticmethod
    def _header_text(column: Column, width: int, sort_key: str | None, descending: bool) -> str:
        title = visible(column.title, one_line=True)
        if column.key != sort_key:
            return fit(title, width, column.justify)
        arrow = "▼" if descending else "▲"
        if width <= 2:
            return fit(arrow, width, column.justify)
        return fit(fit(title, width - 2).rstrip() + " " + arrow, width, column.justify)

    def _render_row(self, index: int, cursor: bool, marked: bool) -> tuple[Strip, Style]:
        summary = self._rows[index]
        row_style = self._style("run-table--cursor" if cursor else "run-table--marked" if marked else "")
        segments = [Segment(MARK + " " if marked else "  ", row_style)]
        gap = Segment(" " * GAP, row_style)
        for i, (column, width) in enumerate(zip(self._columns, self._widths)):
            if i:
                segments.append(gap)
            live, problems = self._name_markers(summary) if column.key == "name" else ("", "")
            marker = live + problems
            text = fit(cell_text(summary, column.key, self._facets, self._decimals[i] if i < len(self._decimals) else None), width - cell_len(marker), column.justify)
            pad = ""
            if marker:  # right after the name, the padding after the marker
                stripped = text.rstrip(" ")
                pad, text = " " * (cell_len(text) - cell_len(stripped)), stripped
            style = row_style
            if not cursor:
                component = cell_class(summary, column.key, self._facets)
                if component is not None:
                    style = row_style + self._fg(component)
            segments.append(Segment(text, style))
            if live:
                segments.append(Segment(live, row_style if cursor else row_style + self._fg("run-table--live")))
            if problems:
                segments.append(Segment(problems, row_style if cursor else row_style + self._fg("run-table--problems")))
            if marker:
                segments.append(Segment(pad, row_style))
        segments.append(Segment(" ", row_style))
        return Strip(segments, self._content_width), row_style

    def _style(self, component: str) -> Style:
        """Full style of a component class; ``""``: the widget's own style. Cached until styles change."""
        style = self._style_cache.get(component)
        if style is None:
            style = self.get_component_rich_style(component) if component else self.rich_style
            self._style_cache[component] = style
        return style

    def _fg(self, component: str) -> Style:
        """Foreground colour and text attributes of a component class (no background)."""
        style = self._fg_cache.get(component)
        if style is None:
            full = self._style(component)
            style = Style(
                color=full.color,
                bold=full.bold,
                italic=full.italic,
                dim=full.dim,
                underline=full.underline,
                reverse=full.reverse,
            )
            self._fg_cache[component] = style
        return style

    def _clear_styles(self) -> None:
        self._fg_cache.clear()
        self._style_cache.clear()
        self._row_cache.clear()
        self._header_cache = None
        self.refresh()

    # -- layout ----------------------------------------------------------------------
    def column_at(self, x: int) -> str | None:
        """Key of the column at cell offset ``x`` of the full-width line (not scrolled), if any."""
        for column, (start, end) in zip(self._columns, self._spans):
            if start <= x < end:
                return column.key
        return None

    def _measure(self, top: int) -> None:
        """Widest cell of each column over the first rows and the rows that will be on screen."""
        count = len(self._rows)
        body = max(self._body_height(), 0)
        sample = list(range(min(SAMPLE_HEAD, count)))
        sample.extend(range(max(top, SAMPLE_HEAD), min(top + body, count)))
        widths = []
        decimals: list[int | None] = []
        rows, facets = self._rows, self._facets
        for column in self._columns:
            key = column.key
            places = common_decimals(cell_number(rows[index], key, facets) for index in sample)
            decimals.append(places)
            widest = 0
            for index in sample:
                text = cell_text(rows[index], key, facets, places)
                widest = max(widest, cell_len(text) + (cell_len("".join(self._name_markers(rows[index]))) if key == "name" else 0))
            widths.append(widest)
        self._sample_widths = widths
        self._decimals = decimals

    def _layout(self) -> None:
        """Column widths from the header and the measured sample, capped; then the virtual size."""
        sort_key = self._sort[0]
        widths = []
        for column, widest in zip(self._columns, self._sample_widths):
            need = cell_len(visible(column.title, one_line=True)) + (2 if column.key == sort_key else 0)
            widths.append(max(1, column.min_width, min(column.max_width, max(need, widest))))
        self._fit(widths)
        spans = []
        x = MARK_WIDTH
        for i, width in enumerate(widths):
            if i:
                x += GAP
            spans.append((x, x + width))
            x += width
        content_width = x + 1 if widths else 0
        if widths != self._widths or content_width != self._content_width:
            self._row_cache.clear()
        self._widths, self._spans, self._content_width = widths, spans, content_width
        self._header_cache = None
        self.virtual_size = Size(content_width, len(self._rows) + 1)

    def _fit(self, widths: list[int]) -> None:
        """Shrink the widest left-aligned text columns (name, project), not below their min_width, so metrics stay on screen."""
        available = self.scrollable_content_region.width
        if available <= 0:
            return
        total = MARK_WIDTH + sum(widths) + GAP * max(len(widths) - 1, 0) + 1
        shrinkable = [i for i, c in enumerate(self._columns) if c.justify == "left" and c.key not in ("started", "status")]
        while total > available:
            candidates = [i for i in shrinkable if widths[i] > max(self._columns[i].min_width, 1)]
            if not candidates:
                return
            widest = max(candidates, key=lambda i: widths[i])
            widths[widest] -= 1
            total -= 1

    def _body_height(self) -> int:
        """Rows on screen below the header."""
        return self.scrollable_content_region.height - 1

    def _top_showing_cursor(self) -> int:
        """First body row to show so that the cursor is visible, moving as little as possible."""
        top = self.scroll_offset.y
        body = self._body_height()
        if body <= 0:
            return max(0, min(top, self._cursor))
        if self._cursor < top:
            top = self._cursor
        elif self._cursor >= top + body:
            top = self._cursor - body + 1
        return max(0, min(top, len(self._rows) - body))

    def _scroll_to_cursor(self, top: int | None = None) -> None:
        if self._body_height() <= 0:
            return  # not laid out yet: on_resize scrolls when there is a size
        if top is None:
            top = self._top_showing_cursor()
        if top != self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, force=True)

    def _index_of(self, record_id: str, hint: int = 0) -> int | None:
        rows = self._rows
        if 0 <= hint < len(rows) and rows[hint].id == record_id:
            return hint
        try:  # a C-level scan: at 100k rows a Python loop here was most of a re-sort on the UI thread
            return list(map(_ID, rows)).index(record_id)
        except ValueError:
            return None

    def _announce(self) -> None:
        current = self.current
        record_id = current.id if current is not None else None
        if record_id != self._announced:
            self._announced = record_id
            self.post_message(self.Highlighted(current, self))
