"""The runs table's columns in the app: they follow the filter, the picker chooses them, the choice is remembered."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS, workers_done
from textual import events
from textual.widgets import Input, SelectionList, Static

from runsift.tui.app import RunsiftApp
from runsift.tui.screens.columns import ColumnPicker
from runsift.tui.widgets.run_table import RunTable

FIXED = Path(tempfile.gettempdir()) / "runsift-snapshots-columns"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "sample_runs"
    shutil.copytree(SAMPLE_RUNS, root)
    return root


def make_app(root: Path, tmp_path: Path) -> RunsiftApp:
    return RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=tmp_path / "state")


async def settle(pilot) -> RunTable:  # type: ignore[no-untyped-def]
    await wait(pilot)
    return pilot.app.screen.query_one(RunTable)


async def wait(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await workers_done(pilot.app)
        await pilot.pause()


def titles(table: RunTable) -> list[str]:
    return [c.title for c in table.columns]


def visible_titles(table: RunTable) -> list[str]:
    """Titles of the columns wholly on screen."""
    width = table.scrollable_content_region.width
    x = table.scroll_offset.x
    return [c.title for c, (start, end) in zip(table.columns, table._spans) if start >= x and end <= x + width]


@pytest.mark.asyncio
async def test_columns_follow_the_filter(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot)
        assert titles(table)[4:6] == ["val_auc", "val_f1"]  # each project's primary, in order of appearance
        assert {"val_auc", "val_f1"} <= set(visible_titles(table))  # both on screen at 80x24
        await pilot.press("slash", *"project=nlp-intent", "enter")
        table = await settle(pilot)
        assert titles(table)[4] == "val_f1"  # the sweep declares it
        assert "val_auc" not in titles(table)  # nobody shown records it
        assert "~ guessed" in str(app.screen.query_one("#status-line", Static).render())
        assert table._facets["started_source"]  # the ~ comes from the record's provenance
        line = "".join(seg.text for seg in table.render_line(2))
        assert "~20" in line  # sweep-07's runs took their start from file times


@pytest.mark.asyncio
async def test_partial_and_unknown_keys_keep_the_last_valid_rows(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"project=fraud-model val_acu>0.9")
        table = await settle(pilot)
        assert table.row_count == 14
        status = str(app.screen.query_one("#status-line", Static).render())
        assert "unknown key val_acu; did you mean val_auc" in status


@pytest.mark.asyncio
async def test_picker_chooses_config_columns_and_the_choice_is_remembered(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"project=nlp-intent", "enter")
        await settle(pilot)
        await pilot.press("c")
        await wait(pilot)
        picker = app.screen
        assert isinstance(picker, ColumnPicker)
        selection = picker.query_one(SelectionList)
        offered = [selection.get_option_at_index(i).value for i in range(selection.option_count)]
        assert offered[:3] == ["config.model.dropout", "config.model.embedding_dim", "config.optimizer.lr"]  # what varies first
        selection.deselect_all()
        for key in ("name", "val_f1", "config.optimizer.lr"):
            selection.select(key)
        await pilot.press("enter")
        table = await settle(pilot)
        assert titles(table) == ["name", "val_f1", "config.optimizer.lr"]
        line = "".join(seg.text for seg in table.render_line(2))
        assert "0.005" in line or "0.02" in line
    saved = json.loads(next((tmp_path / "state").glob("*.json")).read_text())
    assert saved["columns"] == ["name", "val_f1", "config.optimizer.lr"]
    assert not any(p.name.endswith(".json") for p in root.rglob("*") if "state" in p.name)  # nothing in the runs folder
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot)
        assert titles(table) == ["name", "val_f1", "config.optimizer.lr"]
        await pilot.press("c")
        await wait(pilot)
        await pilot.press("a")  # back to automatic
        table = await settle(pilot)
        assert titles(table)[:4] == ["project", "name", "started", "status"]


@pytest.mark.asyncio
async def test_keys_typed_in_a_burst_all_reach_the_filter(root: Path, tmp_path: Path) -> None:
    """Scripted "/", ctrl+u, "churn", enter: ctrl+u used to run after "churn" and delete it."""
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst = [("slash", "/"), ("ctrl+u", None), *((c, c) for c in "chx"), ("backspace", "\x08"), *((c, c) for c in "urn"), ("enter", "\r")]
        for key, char in burst:
            app.post_message(events.Key(key, char))
        await settle(pilot)
        assert app.screen.query_one("#filter", Input).value == "churn"
        assert app.state.filter == "churn"


@pytest.mark.asyncio
async def test_right_scrolls_by_whole_columns(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await settle(pilot)
        starts = {start - 2 for start, _ in table._spans}
        await pilot.press("right")
        await pilot.pause()
        assert table.scroll_offset.x in starts and table.scroll_offset.x > 0
        await pilot.press("left")
        await pilot.pause()
        assert table.scroll_offset.x == 0


@pytest.fixture(scope="module")
def snapshot_root() -> Path:
    shutil.rmtree(FIXED, ignore_errors=True)
    root = FIXED / "sample_runs"
    shutil.copytree(SAMPLE_RUNS, root)
    return root


def test_runs_screen_with_chosen_columns(snap_compare, snapshot_root: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(snapshot_root, tmp_path)
    app.state.columns = ["name", "status", "val_auc", "config.optimizer.lr", "error"]
    app.state.filter = "project=fraud-model"

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.asyncio
async def test_columns_gathered_after_a_record_was_opened_do_not_open_over_it(root: Path, tmp_path: Path) -> None:
    """`c` gathers the columns in a worker; a record opened meanwhile stays on top, no picker over it."""
    from runsift.tui.screens.record import RecordScreen

    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        runs = app.screen
        app.open_record(runs.query_one(RunTable).rows[1].id)
        await wait(pilot)
        assert isinstance(app.screen, RecordScreen)
        runs._open_picker(["name"], ["name"], [])  # what the gathering worker hands back, through call_from_thread
        await wait(pilot)
        assert isinstance(app.screen, RecordScreen)


@pytest.mark.asyncio
async def test_a_config_filter_on_a_key_runs_hold_does_not_list_every_key_first(root: Path, tmp_path: Path) -> None:
    """Listing every detail key of every record (2 s at 100k runs) is for a key no run holds: its "did you mean"."""
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        catalog = app.catalog
        listed: list[int] = []
        every_key = catalog.facet_keys
        catalog.facet_keys = lambda: listed.append(1) or every_key()  # type: ignore[method-assign]
        await pilot.press("slash", *"config.optimizer.lr>0.001")
        table = await settle(pilot)
        assert table.row_count > 0 and listed == []
        await pilot.press(*("backspace",) * len("optimizer.lr>0.001"), *"optimiser.lr>0.001")
        await settle(pilot)
        assert listed and "did you mean config.optimizer.lr" in str(app.screen.query_one("#status-line", Static).render())
