"""Pictures of the three screens at 80x24, compared with the saved SVG snapshots.

Regenerate after an intended change with ``pytest tests/test_snapshots.py --snapshot-update``
and look at the pictures before committing them.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS, workers_done

from runsift.tui.app import RunsiftApp

# A fixed location: the run screen shows the run's path, which must not vary between runs.
FIXED = Path(tempfile.gettempdir()) / "runsift-snapshots"


@pytest.fixture(scope="module")
def snapshot_root() -> Path:
    shutil.rmtree(FIXED, ignore_errors=True)
    root = FIXED / "exp"
    shutil.copytree(SAMPLE_RUNS / "fraud-model", root / "fraud-model")
    return root


def _app(root: Path, tmp_path: Path) -> RunsiftApp:
    return RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=tmp_path / "state")


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await workers_done(pilot.app)
        await pilot.pause()


def test_runs_screen(snap_compare, snapshot_root: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(snapshot_root, tmp_path), terminal_size=(80, 24), run_before=_settle)


def test_run_screen(snap_compare, snapshot_root: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def open_run(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("slash", *"run-026", "enter", "enter")
        await _settle(pilot)

    assert snap_compare(_app(snapshot_root, tmp_path), terminal_size=(80, 24), run_before=open_run)


def test_diff_screen(snap_compare, snapshot_root: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def diff(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("slash", *"run-017", "enter", "space", "escape")
        await pilot.press("slash")
        await pilot.press(*("backspace",) * 7, *"run-026", "enter", "space", "d")
        await _settle(pilot)

    assert snap_compare(_app(snapshot_root, tmp_path), terminal_size=(80, 24), run_before=diff)


def test_diff_chart_without_colour(snap_compare, snapshot_root: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """NO_COLOR: A solid and bold, B dotted, legends with their own glyphs (B was grey 237 on 233)."""
    monkeypatch.setenv("NO_COLOR", "1")

    async def chart(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("slash", *"run-017", "enter", "space", "escape")
        await pilot.press("slash")
        await pilot.press(*("backspace",) * 7, *"run-026", "enter", "space", "d")
        await _settle(pilot)
        await pilot.press("E")  # fold the explanation away
        await pilot.pause()
        pilot.app.screen.query_one("#diff-body").scroll_end(animate=False)
        await _settle(pilot)

    assert snap_compare(_app(snapshot_root, tmp_path), terminal_size=(80, 24), run_before=chart)
