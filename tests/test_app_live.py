"""Issue 12 in the app: navigation owned by the app, "where am I", curves worth looking at, live runs."""

from __future__ import annotations

import ast
import json
import math
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_RUNS, make_run, plain_text, workers_done
from rich.text import Text
from textual.widgets import Collapsible, Markdown, Static

from runsift.tui.app import RunsiftApp
from runsift.tui.screens.diff import DiffScreen
from runsift.tui.screens.help import HelpScreen
from runsift.tui.screens.record import RecordScreen
from runsift.tui.widgets.chart import (
    PATTERNS,
    ChartGrid,
    braille_chart,
    pattern_sample,
    safe_chart,
)
from runsift.tui.widgets.run_table import RunTable

SCREENS = REPO / "tui" / "screens"


def test_no_screen_imports_another_screen() -> None:
    """Navigation belongs to the app: a screen asks for another with a message, never by importing it."""
    screens = {p.stem for p in SCREENS.glob("*.py") if p.stem != "__init__"}
    offenders = []
    for path in SCREENS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                targets = [module.rsplit(".", 1)[-1]] if module else [a.name for a in node.names]
                if node.level == 1 or module.startswith(("runsift.tui.screens", "tui.screens")):
                    if node.level == 1 and module == "":
                        targets = [a.name for a in node.names]
                    offenders += [f"{path.name} imports {t}" for t in targets if t in screens and t != path.stem]
            elif isinstance(node, ast.Import):
                offenders += [f"{path.name} imports {a.name}" for a in node.names if a.name.startswith("runsift.tui.screens.")]
    assert screens >= {"runs", "record", "diff", "experiments"}
    assert offenders == []


# -- charts -----------------------------------------------------------------------------------


def test_huge_and_non_finite_values_never_crash_the_chart() -> None:
    """±1e308 made the span overflow to inf and the pixel NaN ("cannot convert float NaN to integer")."""
    wild = [(0, 1e308), (1, -1e308), (2, math.nan), (3, math.inf), (4, 1.7e308), (5, -math.inf), (6, 5e-324)]
    for series in ([("m", wild)], [("a", wild), ("b", [(s, 1e308) for s in range(5)])], [("x", [(1e308, 1.0), (-1e308, 2.0)])]):
        lines = braille_chart(series, 40, 8)
        assert len(lines) == 8 and all(line.cell_len == 40 for line in lines)
        assert any(0x2800 < ord(c) <= 0x28FF for line in lines for c in line.plain)
    top = braille_chart([("m", [(0, 1e308), (1, -1e308)])], 40, 8)
    assert top[0].plain.strip().startswith("1.000e+308") and top[5].plain.startswith("-1.000e+308")
    flat = braille_chart([("m", [(s, 1.7e308) for s in range(4)])], 40, 8)  # padding a flat series must not overflow
    assert "inf" not in flat[0].plain


def test_a_drawing_error_becomes_a_line_in_the_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    from runsift.tui.widgets import chart

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("cannot convert float NaN to integer")

    monkeypatch.setattr(chart, "braille_chart", broken)
    lines = safe_chart([("m", [(0, 1.0)])], 90, 8, ("cyan",))
    assert "cannot draw this chart" in lines[0].plain and "NaN" in lines[0].plain


def test_a_and_b_differ_without_colour() -> None:
    """B is dotted, A solid, and each legend shows its own pattern (NO_COLOR drew both alike)."""
    assert len({pattern_sample(p) for p in PATTERNS}) == len(PATTERNS)
    a = [(s, 0.9 + s * 1e-4) for s in range(40)]
    b = [(s, 0.9 + s * 1e-4 - 0.003) for s in range(40)]
    lines = braille_chart([("A", a), ("B", b)], 50, 12, styles=("", ""))
    legend = lines[-1].plain
    assert pattern_sample("solid") + " A" in legend and pattern_sample("dotted") + " B" in legend
    dotted_alone = braille_chart([("B", b)], 50, 12, patterns=("dotted",))
    solid_alone = braille_chart([("A", b)], 50, 12)
    def dots(ls: list[Text]) -> int:
        return sum((ord(c) - 0x2800).bit_count() for line in ls[:-2] for c in line.plain if 0x2800 <= ord(c) <= 0x28FF)
    assert dots(dotted_alone) < dots(solid_alone) * 0.6  # fewer dots: a line that can be told apart


def test_zoom_fits_the_value_axis_to_the_last_steps() -> None:
    """All steps: 0.5…0.93; the last tenth: the labels close in on the 0.003 gap that matters."""
    a = [(s, 0.93 - 0.43 * math.exp(-s / 10)) for s in range(100)]
    b = [(s, 0.927 - 0.43 * math.exp(-s / 10)) for s in range(100)]
    from runsift.tui.widgets.chart import zoom_window

    whole = braille_chart([("A", a), ("B", b)], 50, 10)
    start = zoom_window([("A", a), ("B", b)], 0.1)
    assert start is not None and 89 <= start <= 90
    zoomed = braille_chart([("A", a), ("B", b)], 50, 10, x_from=start)
    def low(ls: list[Text]) -> float:
        return float(ls[-3].plain.split("┤")[0])

    def high(ls: list[Text]) -> float:
        return float(ls[0].plain.split("┤")[0])

    assert high(whole) - low(whole) > 0.4
    assert high(zoomed) - low(zoomed) < 0.01
    assert zoomed[-2].plain.rstrip().endswith("99") and "└90 " in zoomed[-2].plain


# -- the app --------------------------------------------------------------------------------------

def make_app(root: Path, tmp_path: Path, **kw: object) -> RunsiftApp:
    return RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=tmp_path / "state", **kw)  # type: ignore[arg-type]


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await workers_done(pilot.app)
        await pilot.pause()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "exp"
    shutil.copytree(SAMPLE_RUNS / "fraud-model", root / "fraud-model")
    return root


@pytest.mark.asyncio
async def test_header_shows_the_root_and_the_example_filter_is_a_placeholder(root: Path, tmp_path: Path) -> None:
    from textual.widgets import Header, Input

    app = make_app(root, tmp_path, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert str(root.resolve()) in app.sub_title and app.screen.query(Header)
        filter_input = app.screen.query_one("#filter", Input)
        assert filter_input.value == "" and "press / to filter" in filter_input.placeholder


@pytest.mark.asyncio
async def test_a_folder_with_no_runs_says_what_runsift_looks_for_in_the_table_area(tmp_path: Path) -> None:
    empty = tmp_path / "nothing"
    (empty / "mlruns").mkdir(parents=True)
    (empty / "readme.txt").write_text("hello\n")
    app = make_app(empty, tmp_path, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        note = app.screen.query_one("#empty-note", Static)
        text = plain_text(note.content)
        assert note.display and not app.screen.query_one(RunTable).display
        assert "no run records here" in text and "runsift reads" in text and "mlruns" in text


@pytest.mark.asyncio
async def test_help_is_per_screen_and_lists_every_key(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path, watch=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        runs_help = app.screen.text
        assert "Filters" in runs_help and "`/`" in runs_help and "`p`" in runs_help and "ctrl+p" in runs_help
        await pilot.press("escape")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        record_help = app.screen.text  # type: ignore[attr-defined]
        assert "Audit" in record_help and "`1–9`" in record_help and "`z`" in record_help and "Filters" not in record_help
        assert app.screen.query_one(Markdown)


@pytest.fixture
def pair_root(tmp_path: Path) -> Path:
    root = tmp_path / "exp"
    shutil.copytree(SAMPLE_RUNS / "fraud-model", root / "fraud-model")
    return root


async def open_diff(pilot, app: RunsiftApp) -> DiffScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("slash", *"run-017", "enter", "space", "escape")
    await pilot.press("slash", *("backspace",) * 7, *"run-026", "enter", "space", "d")
    await settle(pilot)
    assert isinstance(app.screen, DiffScreen)
    return app.screen


@pytest.mark.asyncio
async def test_diff_explanation_folds_and_e_brings_the_new_one_into_view(pair_root: Path, tmp_path: Path) -> None:
    app = make_app(pair_root, tmp_path, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_diff(pilot, app)
        panel = screen.query_one("#explain", Collapsible)
        assert not panel.collapsed
        await pilot.press("E")
        await pilot.pause()
        assert panel.collapsed
        body = screen.query_one("#diff-body")
        body.scroll_end(animate=False)
        await pilot.pause()
        assert body.scroll_y > 0
        await pilot.press("e")
        await settle(pilot)
        assert not panel.collapsed and body.scroll_y == 0
        grid = screen.query_one("#diff-chart", ChartGrid)
        assert len(grid.panels) >= 2 and all([n for n, _ in s] == ["A", "B"] for _, s in grid.panels)
        assert grid.grid_shape()[0] == 2  # two charts side by side at 80 columns


@pytest.mark.asyncio
async def test_record_curves_grid_pages_and_zooms(pair_root: Path, tmp_path: Path) -> None:
    app = make_app(pair_root, tmp_path, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"run-026", "enter", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RecordScreen)
        await pilot.press("z")
        await pilot.pause()
        grid = screen.query_one("#run-charts", ChartGrid)
        assert grid.zoom == 1 and grid.size.height >= 8
        first = [t for t, _ in grid.shown()]
        assert len(first) >= 2  # several metrics at once
        await pilot.press("c")
        await pilot.pause()
        assert [t for t, _ in grid.shown()] != first
        assert "last 50% of steps" in "\n".join(line.plain for line in grid.lines())


@pytest.mark.asyncio
async def test_truncated_metrics_show_a_curve(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    shutil.copytree(SAMPLE_RUNS / "fraud-model", root / "fraud-model")
    app = make_app(root, tmp_path, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_record(next(r.id for r in app.catalog.summaries() if r.id.endswith("run-028")))
        await settle(pilot)
        grid = app.screen.query_one("#run-charts", ChartGrid)
        assert grid.panels and all(len(series[0][1]) >= 10 for _, series in grid.panels)


# -- live ----------------------------------------------------------------------------------------


def write_steps(folder: Path, steps: int, epochs: int = 20) -> None:
    rows = [{"epoch": i, "val_auc": 0.8 + i / 1000, "loss": 1 / i} for i in range(1, steps + 1)]
    (folder / "metrics.json").write_text(json.dumps({"per_epoch": rows}), encoding="utf-8")


async def wait_for(pilot, condition, seconds: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the app did not follow the disk"
        await pilot.pause(0.05)
        await workers_done(pilot.app)


@pytest.mark.asyncio
async def test_a_watched_root_follows_new_steps_and_new_runs(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    make_run(root / "proj" / "2025-01-01_00-00-00_run-001")
    live = make_run(root / "proj" / "2025-01-02_00-00-00_run-002", config="epochs: 20\n")
    write_steps(live, 3)
    app = make_app(root, tmp_path, watch_debounce_ms=50)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.mode == "watch")
        table = app.screen.query_one(RunTable)
        assert table.row_count == 2
        await pilot.press("down", "space", "up")  # a mark and a cursor that must survive
        cursor = table.current.id  # type: ignore[union-attr]
        app.open_record("proj/2025-01-02_00-00-00_run-002")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RecordScreen) and screen.record is not None
        assert len(screen.record.metrics.series["val_auc"]) == 3  # type: ignore[union-attr]

        write_steps(live, 7)
        await wait_for(pilot, lambda: len(screen.record.metrics.series["val_auc"]) == 7)  # type: ignore[union-attr]
        grid = screen.query_one("#run-charts", ChartGrid)
        assert len(dict(grid.panels)["val_auc"][0][1]) == 7
        assert "being written" in plain_text(screen.query_one("#record-title", Static).content)
        assert screen.record.status == "incomplete"  # type: ignore[union-attr]
        (live / "error.log").write_text("Traceback (most recent call last):\nRuntimeError: CUDA out of memory\n")
        await wait_for(pilot, lambda: screen.record.status == "failed")  # type: ignore[union-attr]

        make_run(root / "proj" / "2025-01-03_00-00-00_run-003")
        await wait_for(pilot, lambda: len(app.catalog.summaries()) == 3)
        await pilot.press("escape")
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        assert table.current is not None and table.current.id == cursor
        assert app.state.marks == ["proj/2025-01-02_00-00-00_run-002"]


@pytest.mark.asyncio
async def test_polling_follows_the_root_where_watching_is_impossible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import watchfiles

    def no_watches(*args: object, **kwargs: object) -> None:
        raise OSError("OS file watch limit reached")

    monkeypatch.setattr(watchfiles, "watch", no_watches)
    root = tmp_path / "exp"
    make_run(root / "proj" / "2025-01-01_00-00-00_run-001")
    app = make_app(root, tmp_path)
    app.watcher.poll_min = 0.2  # type: ignore[union-attr]
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: app.watcher.mode == "poll")  # type: ignore[union-attr]
        assert "watch limit" in app.watcher.why  # type: ignore[union-attr]
        make_run(root / "proj" / "2025-01-03_00-00-00_run-003")
        table = app.screen.query_one(RunTable)
        await wait_for(pilot, lambda: table.row_count == 2)


@pytest.mark.asyncio
async def test_the_first_run_of_an_empty_watched_root_replaces_the_no_runs_note(tmp_path: Path) -> None:
    """Started before training: when the first run appears, its table shows and takes the keys, not the note."""
    root = tmp_path / "exp"
    (root / "proj").mkdir(parents=True)
    app = make_app(root, tmp_path, watch_debounce_ms=50)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.mode == "watch")
        table = app.screen.query_one(RunTable)
        assert not table.display and app._notifications  # the note and its notification say what was seen
        make_run(root / "proj" / "2025-01-01_00-00-00_run-001")
        await wait_for(pilot, lambda: table.display and table.row_count == 1)
        await settle(pilot)
        assert not app._notifications and "no run records here" not in str(app.screen.query_one("#status-line", Static).content)
        assert app.focused is table
        await pilot.press("enter")  # opens the run, not typed into the filter
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)


@pytest.mark.asyncio
async def test_a_record_read_after_its_screen_was_closed_is_dropped(tmp_path: Path) -> None:
    """A live run's reload (or a slow first read) that comes back after escape closed its screen is let go: the app
    goes on, where it ended with "No nodes match '#record-title'" before."""
    root = tmp_path / "exp"
    make_run(root / "proj" / "2025-01-01_00-00-00_run-001")
    app = make_app(root, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_record("proj/2025-01-01_00-00-00_run-001")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RecordScreen) and screen.record is not None
        record = screen.record
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not screen
        screen._show(record)  # what the reading worker hands back, through call_from_thread
        screen._cannot_show("gone")
        await settle(pilot)
        assert app.screen.query_one(RunTable).row_count == 1


@pytest.mark.asyncio
async def test_a_diff_or_explanation_that_comes_back_after_escape_is_dropped(pair_root: Path, tmp_path: Path) -> None:
    app = make_app(pair_root, tmp_path, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_diff(pilot, app)
        assert screen.runs is not None and screen._diff is not None
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not screen
        screen._show(screen.runs, screen._diff)
        screen._show_explanation(Text("late"))
        await settle(pilot)
        assert app.screen.query_one(RunTable).row_count > 0


def test_the_app_indexes_in_worker_processes_under_textual(tmp_path: Path) -> None:
    """A cold index of many runs reads them in a spawn pool. Textual replaces sys.stderr with a capture whose fileno()
    is -1, from which multiprocessing cannot start its resource tracker: the app said "indexing failed: bad value(s) in
    fds_to_keep" on any new folder of 400 runs or more. A fresh interpreter, as a user's, with no tracker running yet."""
    root = tmp_path / "exp"
    for i in range(1, 4):
        make_run(root / "proj" / f"2025-01-0{i}_00-00-00_run-00{i}")
    script = f"""
import asyncio, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
import runsift.core.rows as rows
rows.PARALLEL_MIN = 1
rows.Reader.TASK = 1
from pathlib import Path
from textual.widgets import Static
from conftest import workers_done
from runsift.tui.app import RunsiftApp
from runsift.tui.widgets.run_table import RunTable

async def main():
    app = RunsiftApp(Path({str(root)!r}), cache_dir=Path({str(tmp_path / "cache")!r}), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await workers_done(app)
            await pilot.pause(0.05)
            if app.screen.query_one(RunTable).row_count == 3:
                break
        print("rows", app.screen.query_one(RunTable).row_count)
        print("status", " ".join(str(s.content) for s in app.screen.query(Static)))
asyncio.run(main())
"""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "rows 3" in done.stdout, done.stdout[-2000:]
    assert "indexing failed" not in done.stdout
