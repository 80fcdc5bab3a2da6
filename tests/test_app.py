"""The terminal app, driven with Textual's pilot as a user would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS, age, make_run, plain_text, rewrite_in_place, workers_done, write
from textual.widgets import Static

from runsift.tui.app import RunsiftApp
from runsift.tui.messages import OpenRecord
from runsift.tui.screens.diff import DiffScreen
from runsift.tui.screens.record import RecordScreen
from runsift.tui.screens.runs import RunsScreen
from runsift.tui.widgets.run_table import RunTable

pytestmark = pytest.mark.asyncio

HOSTILE = "\x1b[31mred alert\x1b[0m [bold red]boom[/] [link=http://evil.example]click[/link]\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the fraud-model sample runs plus a run with hostile notes and one with problems."""
    root = tmp_path / "exp"
    shutil.copytree(SAMPLE_RUNS / "fraud-model", root / "fraud-model")
    make_run(root / "odd" / "2025-02-01_10-00-00_run-900", notes=HOSTILE)
    broken = make_run(root / "odd" / "2025-02-02_10-00-00_run-901", config="a: [1, 2\n")
    write(broken / "seeds.txt", "global=abc\n")
    return root


def make_app(root: Path, tmp_path: Path) -> RunsiftApp:
    return RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=tmp_path / "state")


async def wait_rows(pilot, app: RunsiftApp, count: int | None = None) -> RunTable:  # type: ignore[no-untyped-def]
    """Wait until indexing finished and the table shows rows."""
    await workers_done(app)
    await pilot.pause()
    await workers_done(app)
    await pilot.pause()
    table = app.screen.query_one(RunTable)
    if count is not None:
        assert table.row_count == count
    return table


async def test_list_loads_runs_and_counts(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table = await wait_rows(pilot, app, 16)
        ids = {row.id for row in table.rows}
        assert "fraud-model/2025-01-07_14-32-11_run-023" in ids
        count = str(app.screen.query_one("#match-count").render())
        assert "16/16" in count


async def test_filter_as_you_type_with_live_count(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_rows(pilot, app)
        await pilot.press("slash")
        await pilot.press(*"status=failed")
        await wait_rows(pilot, app)
        table = app.screen.query_one(RunTable)
        assert [r.name for r in table.rows] == ["2025-01-06_17-44-09_run-021"]
        assert "1/16" in str(app.screen.query_one("#match-count").render())
        await pilot.press("escape")  # leave the input
        await pilot.press("escape")  # clear the filter
        await wait_rows(pilot, app, 16)


async def test_bad_filter_is_shown_not_applied(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_rows(pilot, app)
        await pilot.press("slash", *"status=failed val_auc>")
        await wait_rows(pilot, app, 1)  # a filter being typed keeps the last valid result, not all rows
        await pilot.press(*"high")
        await wait_rows(pilot, app, 1)
        assert "compare it with a number" in str(app.screen.query_one("#status-line").render())


async def test_sorting_by_metric(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table = await wait_rows(pilot, app)
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        screen._set_sort(__import__("runsift.core.query", fromlist=["Sort"]).Sort("metrics.val_auc", True))
        table = await wait_rows(pilot, app)
        aucs = [r.metrics["val_auc"] for r in table.rows if "val_auc" in r.metrics]
        assert aucs == sorted(aucs, reverse=True) and len(aucs) >= 10
        assert "val_auc" not in table.rows[-1].metrics  # missing values last
        await pilot.press("S")
        table = await wait_rows(pilot, app)
        aucs = [r.metrics["val_auc"] for r in table.rows if "val_auc" in r.metrics]
        assert aucs == sorted(aucs)


async def test_open_a_run_and_come_back(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table = await wait_rows(pilot, app)
        target = next(i for i, r in enumerate(table.rows) if r.name.endswith("run-023"))
        for _ in range(target):
            await pilot.press("down")
        await pilot.press("enter")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, RecordScreen)
        assert app.screen.record is not None and app.screen.record.id.endswith("run-023")
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_a_run_removed_after_it_was_listed_says_so_when_opened(root: Path, tmp_path: Path) -> None:
    """Opened from a list read before another process removed it: the screen says why it cannot show the run
    (the app used to end with a traceback)."""
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table = await wait_rows(pilot, app)
        listed = table.rows[0].id
        shutil.rmtree(root / listed)
        app.catalog.refresh()
        app.screen.post_message(OpenRecord(listed, "run"))
        await workers_done(app)
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, RecordScreen)
        said = str(app.screen.query_one("#record-loading", Static).render())
        assert said.startswith(f"Cannot show this record: no run matches {listed!r}"), said


async def test_mark_two_runs_and_diff_then_toggle_all(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table = await wait_rows(pilot, app)
        first = next(i for i, r in enumerate(table.rows) if r.name.endswith("run-017"))
        second = next(i for i, r in enumerate(table.rows) if r.name.endswith("run-026"))
        for _ in range(first):
            await pilot.press("down")
        await pilot.press("space")
        for _ in range(second - first):
            await pilot.press("down")
        await pilot.press("space")
        assert len(app.state.marks) == 2
        await pilot.press("d")
        await workers_done(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        header = str(screen.query_one("#diff-header").render())
        assert "config key" in header
        sections = screen._diff
        assert sections is not None
        assert [c.path for c in sections.changes("config")][:1] == ["features[15]"]
        assert all(c.change != "same" for s in sections.sections.values() for c in s)
        await pilot.press("a")
        await workers_done(app)
        await pilot.pause()
        assert screen.show_all and any(c.change == "same" for s in screen._diff.sections.values() for c in s)  # type: ignore[union-attr]


async def test_marks_and_filter_survive_a_restart_outside_the_root(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_rows(pilot, app)
        await pilot.press("space")
        await pilot.press("slash", *"fraud")
        await wait_rows(pilot, app)
    assert not any(p.name.endswith(".json") for p in root.rglob("*") if "state" in p.name)
    again = make_app(root, tmp_path)
    assert again.state.filter == "fraud"
    assert len(again.state.marks) == 1


async def test_hostile_notes_render_literally(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_rows(pilot, app)

        app.open_record("odd/2025-02-01_10-00-00_run-900")
        await workers_done(app)
        await pilot.pause()
        tabs = app.screen.query_one("#record-tabs")
        tabs.active = "tab-notes"  # type: ignore[attr-defined]
        await pilot.pause()
        from textual.widgets import Markdown

        md = app.screen.query_one(Markdown)
        source = md.source
        assert "\x1b" not in source and "\\x1b[31mred alert" in source
        assert "[bold red]boom[/]" in source


async def test_run_with_problems_opens_on_problems(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_rows(pilot, app)

        app.open_record("odd/2025-02-02_10-00-00_run-901")
        await workers_done(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RecordScreen)
        assert len(screen.record.problems) >= 2  # type: ignore[union-attr]
        pane = screen.query_one("#tab-problems")
        shown = plain_text(pane.query_one(Static).content)
        assert "config.yaml" in shown and "invalid YAML" in shown and "seeds.txt" in shown


async def test_rescan_picks_up_new_runs_keeping_cursor_and_marks(root: Path, tmp_path: Path) -> None:
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        table = await wait_rows(pilot, app, 16)
        await pilot.press("down", "down", "space", "down")
        cursor_id = table.current.id  # type: ignore[union-attr]
        marks = list(app.state.marks)
        make_run(root / "fraud-model" / "2025-01-01_00-00-00_run-001")
        await pilot.press("r")
        table = await wait_rows(pilot, app, 17)
        assert table.current is not None and table.current.id == cursor_id
        assert app.state.marks == marks


async def test_r_checks_every_file_and_says_what_it_found(root: Path, tmp_path: Path) -> None:
    """Start-up trusts folder times; r lists every file, so an edit in place in a finished run shows."""
    from runsift.core.query import parse_filters

    age(root)
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_rows(pilot, app)
    config = next(root.glob("fraud-model/*run-017/config.yaml"))
    rewrite_in_place(config, config.read_text(encoding="utf-8") + "label_smoothing: 0.25\n")
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_rows(pilot, app)
        await pilot.press("r")
        await wait_rows(pilot, app)
        assert [r.name for r in app.catalog.list(filters=parse_filters("config.label_smoothing=0.25"))] == [config.parent.name]
        assert "1 changed" in str(app.screen.query_one("#status-line", Static).render())
        await pilot.press("r")
        await wait_rows(pilot, app)
        assert "nothing changed" in str(app.screen.query_one("#status-line", Static).render())


async def test_slash_and_a_filter_typed_in_one_burst_all_reach_the_filter(root: Path, tmp_path: Path) -> None:
    """Over a slow link "/f/ra" arrives at once: all but the first "/" are typed into the filter; r must not rescan."""
    from textual import events
    from textual.widgets import Input

    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_rows(pilot, app)
        for key, char in (("slash", "/"), ("f", "f"), ("slash", "/"), ("r", "r"), ("a", "a")):
            app.post_message(events.Key(key, char))
        await pilot.pause()
        await workers_done(app)
        await pilot.pause()
        assert app.screen.query_one("#filter", Input).value == "f/ra"
        assert "rescanned" not in str(app.screen.query_one("#status-line", Static).render())
        await pilot.press("slash", "x")  # in the filter, "/" is a character: ids are paths
        assert app.screen.query_one("#filter", Input).value == "f/ra/x"


async def test_space_then_d_at_once_diffs_both_marks(root: Path, tmp_path: Path) -> None:
    """Keys typed faster than messages are handled: the second mark must count for the diff."""
    app = make_app(root, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await wait_rows(pilot, app)
        from textual import events

        for key, char in (("space", " "), ("down", None), ("space", " "), ("d", "d")):
            app.post_message(events.Key(key, char))  # a burst, as over a slow SSH link
        await pilot.pause()
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    root = tmp_path / "samples"
    shutil.copytree(SAMPLE_RUNS, root)
    return root


async def test_sweep_screen_verifies_and_diffs_the_winner(sample_root: Path, tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from runsift.tui.screens.experiments import SweepScreen

    app = make_app(sample_root, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_rows(pilot, app)
        app.open_record("nlp-intent/2025-01-07_sweep-07")
        for _ in range(3):
            await workers_done(app)
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SweepScreen) and screen.doc is not None
        assert screen.doc["mismatches"] == [] and "verified" in plain_text(screen.query_one("#sweep-summary", Static).content)
        board = screen.query_one("#board", DataTable)
        assert board.row_count == 10
        app.open_record("nlp-intent/2025-01-07_sweep-07")  # a second one, closed before its board comes back
        await pilot.pause()
        late = app.screen
        assert isinstance(late, SweepScreen) and late is not screen
        await pilot.press("escape")
        await workers_done(app)
        await pilot.pause()
        late._show(screen.doc)
        assert app.screen is screen
        await pilot.press("down", "d")
        await workers_done(app)
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        assert app.screen.a_id == screen.doc["winner"] and app.screen.b_id != screen.doc["winner"]


async def test_ab_screen_replays_and_reports_reproduction(sample_root: Path, tmp_path: Path) -> None:
    from runsift.tui.screens.experiments import ABScreen

    app = make_app(sample_root, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_rows(pilot, app)
        app.open_record("checkout-address-validation")
        for _ in range(3):
            await workers_done(app)
            await pilot.pause()
        assert isinstance(app.screen, ABScreen)
        shown = plain_text(app.screen.query_one("#ab-replay", Static).content)
        assert "10,243" in shown and "reproduced" in shown and "fit the planned" in shown
        ab = app.screen
        await pilot.press("escape")
        await pilot.pause()
        ab._show_replay("a replay that came back after escape")  # dropped, not "No nodes match"
        await pilot.pause()
        assert app.screen is not ab
