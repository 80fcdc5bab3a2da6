"""RunTable (virtual table) and the Braille chart, driven through Textual's pilot."""

from __future__ import annotations

import math

import pytest
from rich.cells import cell_len
from textual import on
from textual.app import App, ComposeResult

from runsift.core.records import Problem, Summary
from runsift.tui.widgets import chart as chart_module
from runsift.tui.widgets import run_table as run_table_module
from runsift.tui.widgets.chart import Chart, braille_chart
from runsift.tui.widgets.run_table import Column, RunTable

COLUMNS = (
    Column("project", "project", "left", 7, 20),
    Column("name", "name", "left", 8, 36),
    Column("started", "started", "left", 16, 16),
    Column("status", "status", "left", 8, 10),
    Column("metric:val_auc", "val_auc", "right", 7, 14),
    Column("problems", "!", "right", 2, 4),
)
STATUSES = ("finished", "failed", "incomplete", "unknown")
SIZE = (80, 24)


def summary(i: int, **changes: object) -> Summary:
    fields: dict[str, object] = {
        "id": f"fraud-model/2025-01-07_14-32-11_run-{i:06d}",
        "kind": "run",
        "project": "fraud-model",
        "name": f"2025-01-07_14-32-11_run-{i:06d}",
        "path": f"fraud-model/2025-01-07_14-32-11_run-{i:06d}",
        "status": STATUSES[i % 4],
        "started": "2025-01-07T14:32:11",
        "run_number": i,
        "sweep": None,
        "metrics": {"val_auc": 0.5 + i / 1e6},
        "problems": (),
    }
    fields.update(changes)
    return Summary(**fields)  # type: ignore[arg-type]


def many(n: int) -> list[Summary]:
    return [summary(i) for i in range(n)]


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[object] = []

    def compose(self) -> ComposeResult:
        yield RunTable()

    def on_mount(self) -> None:
        self.query_one(RunTable).focus()

    @on(RunTable.Highlighted)
    @on(RunTable.Selected)
    @on(RunTable.MarkToggled)
    @on(RunTable.SortRequested)
    def record(self, message: object) -> None:
        self.messages.append(message)

    def of(self, kind: type) -> list:
        return [m for m in self.messages if isinstance(m, kind)]


def page(table: RunTable) -> int:
    """Body rows on screen: the widget's height less the header (and a horizontal scrollbar, if any)."""
    return table.scrollable_content_region.height - 1


def body_text(table: RunTable) -> list[str]:
    return [table.render_line(y).text for y in range(1, page(table) + 1)]


def assert_cursor_visible(table: RunTable) -> None:
    top = table.scroll_offset.y
    assert top <= table.cursor_row < top + page(table)
    line = table.render_line(table.cursor_row - top + 1).text
    assert f"run-{table.cursor_row:06d}" in line


# -- RunTable -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_100k_rows_render_only_what_is_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    measured: set[int] = set()
    real_cell_text = run_table_module.cell_text

    def counting_cell_text(row: Summary, key: str, *rest: object) -> str:
        measured.add(row.run_number)  # type: ignore[arg-type]
        return real_cell_text(row, key, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(run_table_module, "cell_text", counting_cell_text)
    rendered: list[int] = []
    real_render_row = RunTable._render_row

    def counting_render_row(self: RunTable, index: int, cursor: bool, marked: bool):  # type: ignore[no-untyped-def]
        rendered.append(index)
        return real_render_row(self, index, cursor, marked)

    monkeypatch.setattr(RunTable, "_render_row", counting_render_row)
    rows = many(100_000)
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(RunTable)
        table.set_rows(rows, COLUMNS)
        await pilot.pause()
        VISIBLE_ROWS = page(table)
        assert VISIBLE_ROWS == 23  # 24 lines less the header; the columns fit, no horizontal scrollbar
        assert table.row_count == 100_000
        assert table.virtual_size.height == 100_001
        # Widths come from a sample (the first 500 rows and the window), never every row.
        assert max(measured) < 600
        # Only rows on screen were rendered, and they are the first ones.
        assert rendered and set(rendered) <= set(range(VISIBLE_ROWS + 1))
        assert len(table._row_cache) <= VISIBLE_ROWS + 1
        lines = body_text(table)
        assert "run-000000" in lines[0] and "run-000001" in lines[1]
        assert f"run-{VISIBLE_ROWS - 1:06d}" in lines[-1]
        header = table.render_line(0).text
        assert header.split()[:5] == ["project", "name", "started", "status", "val_auc"]

        # Jumping to the end renders the last screen only.
        rendered.clear()
        await pilot.press("end")
        await pilot.pause()
        assert rendered and min(rendered) >= 100_000 - VISIBLE_ROWS - 1
        assert len(table._row_cache) <= ROW_CACHE_LIMIT


ROW_CACHE_LIMIT = run_table_module.ROW_CACHE_SIZE


@pytest.mark.asyncio
async def test_keys_move_the_cursor_and_keep_it_visible() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(RunTable)
        table.set_rows(many(100_000), COLUMNS)
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_offset.y == 0
        VISIBLE_ROWS = page(table)

        await pilot.press("down", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1

        await pilot.press("pagedown")
        await pilot.pause()
        assert table.cursor_row == 1 + VISIBLE_ROWS
        assert table.scroll_offset.y > 0
        assert_cursor_visible(table)

        for _ in range(30):  # walking down past the bottom edge scrolls one line at a time
            await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == 31 + VISIBLE_ROWS
        assert_cursor_visible(table)

        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == 99_999
        assert table.scroll_offset.y == table.max_scroll_y
        assert_cursor_visible(table)
        assert "run-099999" in table.render_line(VISIBLE_ROWS).text

        await pilot.press("pageup")
        await pilot.pause()
        assert table.cursor_row == 99_999 - VISIBLE_ROWS
        assert_cursor_visible(table)

        await pilot.press("home")
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_offset.y == 0

        await pilot.press("G")
        await pilot.pause()
        assert table.cursor_row == 99_999
        await pilot.press("g")
        await pilot.pause()
        assert table.cursor_row == 0
        await pilot.press("up")  # at the top: stays
        assert table.cursor_row == 0

        highlighted = app.of(RunTable.Highlighted)
        assert highlighted[-1].summary.id == table.current.id  # type: ignore[union-attr]
        assert highlighted[-1].control is table


@pytest.mark.asyncio
async def test_enter_selects_and_space_asks_to_mark() -> None:
    rows = many(50)
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(RunTable)
        table.set_rows(rows, COLUMNS)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        selected = app.of(RunTable.Selected)
        assert [m.summary for m in selected] == [rows[2]]

        await pilot.press("space")
        await pilot.pause()
        toggled = app.of(RunTable.MarkToggled)
        assert [m.summary for m in toggled] == [rows[2]]
        # The table does not mark by itself: the parent owns the marks.
        assert table.render_line(3).text.startswith("  ")
        table.set_marks(frozenset({rows[2].id}))
        await pilot.pause()
        assert table.render_line(3).text.startswith("● ")
        assert table.render_line(2).text.startswith("  ")
        table.set_marks(frozenset())
        assert table.render_line(3).text.startswith("  ")


@pytest.mark.asyncio
async def test_set_rows_keeps_the_cursor_on_the_same_record() -> None:
    rows = many(1000)
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(RunTable)
        table.set_rows(rows, COLUMNS)
        table.move_cursor(40)
        await pilot.pause()
        target = rows[40]
        reordered = list(reversed(rows))
        table.set_rows(reordered, COLUMNS)
        await pilot.pause()
        assert table.current == target
        assert table.cursor_row == 959
        top = table.scroll_offset.y
        assert top <= 959 < top + page(table)
        # What is drawn is the new order, not strips cached for the old one.
        for y in range(1, page(table) + 1):
            assert f"run-{999 - (top + y - 1):06d}" in table.render_line(y).text

        # Gone from the new rows: the cursor stays at the same index, clamped.
        table.set_rows(reordered[:100], COLUMNS)
        assert table.cursor_row == 99
        table.set_rows([], COLUMNS)
        assert table.cursor_row == 0 and table.current is None
        table.set_rows(rows, COLUMNS, keep_cursor=False)
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_offset.y == 0
        assert "run-000001" in table.render_line(2).text
        table.set_rows(reordered, COLUMNS, keep_cursor=False)  # same window, new rows in it
        await pilot.pause()
        assert "run-000999" in table.render_line(1).text and "run-000998" in table.render_line(2).text
        table.set_rows(rows, COLUMNS, keep_cursor=False)
        assert table.move_to_id(rows[500].id) and table.cursor_row == 500
        assert not table.move_to_id("no/such/run")


@pytest.mark.asyncio
async def test_untrusted_text_renders_literally() -> None:
    nasty = "[bold]x[/bold]\x1b[31mred"
    rows = [summary(0), summary(1, status="unknown", name=nasty, project="[red]p[/red]")]
    app = TableApp()
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.query_one(RunTable)
        table.set_rows(rows, COLUMNS)
        await pilot.pause()
        strip = table.render_line(2)  # not the cursor row, which is bold
        assert "[red]p[/red]" in strip.text
        assert "[bold]x[/bold]\\x1b[31mred" in strip.text
        assert "\x1b" not in strip.text
        assert not any(segment.style and segment.style.bold for segment in strip)  # markup not applied


@pytest.mark.asyncio
async def test_cells_status_problems_metrics_and_truncation() -> None:
    rows = [
        summary(0, status="finished", problems=(Problem("a.json", "bad"), Problem("b.json", "bad"))),
        summary(1, status="failed", metrics={}),
        summary(2, kind="sweep", name="2025-01-07_sweep-07", status="finished", started=None),
        summary(3, kind="abtest", name="checkout-address-validation", status="unknown"),
        summary(4, name="x" * 80, sweep="fraud-model/2025-01-06_sweep-03"),
    ]
    app = TableApp()
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.query_one(RunTable)
        table.set_rows(rows, COLUMNS)
        table.move_cursor(4)
        await pilot.pause()
        lines = [table.render_line(y).text for y in range(1, 6)]
        assert lines[0].rstrip().endswith("!2")
        assert "2025-01-07 14:32" in lines[0] and "0.5" in lines[0]
        assert "failed" in lines[1] and "—" in lines[1]
        assert "sweep-07" in lines[2] and "sweep " in lines[2] and "—" in lines[2]
        assert "A/B test" in lines[3]
        assert "sweep-03/xxxx" in lines[4] and "x…" in lines[4]
        name_width = table.column_widths[1]
        assert name_width == 36

        def style_of(y: int, text: str):  # type: ignore[no-untyped-def]
            return next(s.style for s in table.render_line(y) if s.text.strip() == text)

        finished, failed = style_of(1, "finished"), style_of(2, "failed")
        assert finished.color != failed.color
        assert style_of(1, "!2").color != table.rich_style.color


@pytest.mark.asyncio
async def test_header_sort_indicator_and_clicks() -> None:
    rows = many(100)
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(RunTable)
        table.set_rows(rows, COLUMNS)
        table.set_sort("name", False)
        await pilot.pause()
        assert "name ▲" in table.render_line(0).text
        table.set_sort("name", True)
        assert "name ▼" in table.render_line(0).text
        table.set_sort(None, False)
        assert "▲" not in table.render_line(0).text and "▼" not in table.render_line(0).text

        # Clicking a header asks the parent to sort; clicking a row moves the cursor.
        start, _ = table._spans[3]
        await pilot.click(RunTable, offset=(start + 1, 0))
        await pilot.click(RunTable, offset=(5, 6))
        await pilot.pause()
        assert [m.column_key for m in app.of(RunTable.SortRequested)] == ["status"]
        assert table.cursor_row == 5
        await pilot.double_click(RunTable, offset=(5, 4))
        await pilot.pause()
        assert app.of(RunTable.Selected)[-1].summary == rows[3]


@pytest.mark.asyncio
async def test_header_is_sticky_and_scrolls_horizontally() -> None:
    app = TableApp()
    async with app.run_test(size=(50, 24)) as pilot:  # narrower than the columns
        table = app.query_one(RunTable)
        table.set_rows(many(1000), [Column(c.key, c.title, c.justify, c.max_width, c.max_width) for c in COLUMNS])
        table.move_cursor(500)
        await pilot.pause()
        assert table.scroll_offset.y > 0
        assert table.render_line(0).text.split()[:2] == ["project", "name"]
        table.scroll_to(x=4, animate=False)
        await pilot.pause()
        assert table.render_line(0).text.startswith("oject")
        assert table.render_line(1).text.startswith("aud-model")  # "  fraud-model", shifted by 4 cells


@pytest.mark.asyncio
async def test_name_and_project_shrink_to_fit_but_not_below_their_minimum() -> None:
    columns = (
        Column("project", "project", "left", 8, 20),
        Column("name", "name", "left", 12, 36),
        Column("started", "started", "left", 16, 16),
        Column("metric:val_auc", "val_auc", "right", 7, 14),
    )
    rows = [summary(0, project="a-very-long-project-name", name="a-run-name-that-is-quite-long")]
    app = TableApp()
    async with app.run_test(size=(60, 24)) as pilot:
        table = app.query_one(RunTable)
        table.set_rows(rows, columns)
        await pilot.pause()
        widths = table.column_widths
        assert widths[2] == 16 and widths[3] >= 7  # started and the metric keep their width
        assert widths[0] >= 8 and widths[1] >= 12
        assert "val_auc" in table.render_line(0).text  # the metric column is on screen
        await pilot.resize_terminal(30, 24)
        await pilot.pause()
        assert table.column_widths[:2] == (8, 12)  # squeezed to the minimum, then it scrolls


@pytest.mark.asyncio
async def test_cursor_stays_visible_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(RunTable)
        table.set_rows(many(10), COLUMNS)
        await pilot.pause()
        cursor_line = table.render_line(1)
        other_line = table.render_line(2)
        assert all(s.style is not None and s.style.reverse for s in cursor_line)
        assert not any(s.style is not None and s.style.reverse for s in other_line)


@pytest.mark.asyncio
async def test_footer_bindings() -> None:
    shown = {b.key: b.description for b in RunTable.BINDINGS if b.show}  # type: ignore[union-attr]
    assert shown == {"enter": "Open", "space": "Mark"}


# -- chart ------------------------------------------------------------------------------------


def plot_cells(lines: list, plot_rows: int) -> list[str]:
    """The plot area of each plot row: what follows the y-axis character."""
    out = []
    for line in lines[:plot_rows]:
        text = line.plain
        axis = max(text.find("┤"), text.find("│"))
        out.append(text[axis + 1 :])
    return out


def test_monotonic_series_runs_from_bottom_left_to_top_right() -> None:
    lines = braille_chart([("loss", [(step, float(step)) for step in range(11)])], 30, 8)
    assert len(lines) == 8
    plot = plot_cells(lines, 6)
    bottom_left, top_right = ord(plot[-1][0]) - 0x2800, ord(plot[0][-1]) - 0x2800
    assert bottom_left & 0x40  # lowest-left dot of the cell
    assert top_right & 0x08  # highest-right dot of the cell
    assert plot[0][0] == " " and plot[-1][-1] == " "  # the other two corners stay empty
    assert lines[0].plain.lstrip().startswith("10┤") and lines[5].plain.lstrip().startswith("0┤")
    axis = lines[6].plain
    assert "└0 " in axis and axis.rstrip().endswith(" 10")
    assert "loss" in lines[7].plain


def test_two_series_have_both_styles_and_overlaps_take_the_last() -> None:
    up = [(s, float(s)) for s in range(20)]
    down = [(s, float(-s)) for s in range(20)]
    lines = braille_chart([("a", up), ("b", down)], 40, 10, styles=("cyan", "magenta"))
    plot_styles = {str(span.style) for line in lines[:8] for span in line.spans} - {"dim"}
    assert plot_styles == {"cyan", "magenta"}

    same = braille_chart([("a", up), ("b", up)], 40, 10, styles=("cyan", "magenta"), patterns=("solid", "solid"))
    plot_styles = {str(span.style) for line in same[:8] for span in line.spans} - {"dim"}
    assert plot_styles == {"magenta"}


def test_nan_and_inf_points_are_skipped() -> None:
    with_gaps = [(0, 0.0), (1, math.nan), (2, 2.0), (3, math.inf), (math.nan, 1.0)]
    clean = [(0, 0.0), (2, 2.0)]
    got = braille_chart([("m", with_gaps)], 30, 6)
    assert [line.plain for line in got] == [line.plain for line in braille_chart([("m", clean)], 30, 6)]
    assert got[-2].plain.rstrip().endswith(" 2")  # the last finite step
    assert [t.plain for t in braille_chart([("m", [(0, math.nan)])], 30, 6)] == ["no per-step data"]


@pytest.mark.parametrize("width,height", [(60, 12), (30, 5), (12, 3), (8, 2), (5, 1), (200, 40)])
def test_width_and_height_are_respected(width: int, height: int) -> None:
    series = [("loss", [(s, 1 / (s + 1)) for s in range(500)]), ("val", [(s, 0.5) for s in range(0, 500, 50)])]
    lines = braille_chart(series, width, height)
    assert len(lines) == height
    assert all(line.cell_len == width for line in lines)
    assert all(cell_len(line.plain) == width for line in lines)


def test_single_point_flat_series_and_empty_input() -> None:
    for series in ([(5, 1.0)], [(s, 0.3) for s in range(10)]):
        lines = braille_chart([("x", series)], 30, 6)
        assert any(0x2800 < ord(c) <= 0x28FF for line in lines[:4] for c in line.plain)
    assert [t.plain for t in braille_chart([], 30, 6)] == ["no per-step data"]
    assert [t.plain for t in braille_chart([("x", [])], 30, 6)] == ["no per-step data"]


def test_legend_names_are_literal() -> None:
    lines = braille_chart([("[bold]x[/bold]\x1b[31m", [(0, 1.0), (1, 2.0)])], 50, 6)
    assert "[bold]x[/bold]\\x1b[31m" in lines[-1].plain
    assert not any("bold" in str(span.style) for span in lines[-1].spans)


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Chart([("loss", [(s, 1 / (s + 1)) for s in range(100)])])


@pytest.mark.asyncio
async def test_chart_widget_draws_at_its_size_and_redraws_on_resize(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    real = chart_module.braille_chart

    def counting(series, width, height, styles=chart_module.DEFAULT_STYLES, **options):  # type: ignore[no-untyped-def]
        calls.append((width, height))
        return real(series, width, height, styles, **options)

    monkeypatch.setattr(chart_module, "braille_chart", counting)
    app = ChartApp()
    async with app.run_test(size=(60, 20)) as pilot:
        chart = app.query_one(Chart)
        await pilot.pause()
        assert chart.size.height == 12
        lines = chart.lines()
        assert len(lines) == 12 and all(line.cell_len == 60 for line in lines)
        assert calls[-1] == (60, 12)
        await pilot.resize_terminal(40, 20)
        await pilot.pause()
        assert [line.cell_len for line in chart.lines()] == [40] * 12
        assert calls[-1] == (40, 12)
        chart.set_series([])
        await pilot.pause()
        assert [t.plain for t in chart.lines()] == ["no per-step data"]
