"""A folder with no run records says what runsift saw there and what it reads: never a bare "0 records"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import workers_done, write

from runsift.core.survey import survey
from runsift.tui.app import RunsiftApp


def test_survey_counts_and_names_what_runsift_reads(tmp_path: Path) -> None:
    write(tmp_path / "notes" / "a.txt", "x")
    write(tmp_path / "b.csv", "y")
    s = survey(tmp_path)
    assert (s.folders, s.files, s.complete) == (1, 2, True)
    text = s.message()
    assert text.startswith("no run records here: saw 1 folder and 2 files")
    assert "run containers" in text and "sweeps" in text and "A/B repro kits" in text


def test_survey_is_bounded(tmp_path: Path) -> None:
    for i in range(30):
        write(tmp_path / f"d{i}" / "e" / "f" / "g" / "deep.txt", "x")
    s = survey(tmp_path)
    assert not s.complete and "first levels only" in s.message()


def test_ls_on_a_folder_without_runs_says_what_it_saw(tmp_path: Path) -> None:
    write(tmp_path / "root" / "readme.txt", "hello")
    done = subprocess.run([sys.executable, "-m", "runsift", "ls", str(tmp_path / "root"), "--no-cache"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "no run records here: saw 0 folders and 1 file" in " ".join(done.stderr.split())


@pytest.mark.asyncio
async def test_app_on_a_folder_without_runs_says_what_it_saw(tmp_path: Path) -> None:
    write(tmp_path / "root" / "readme.txt", "[b]hello[/b]")
    app = RunsiftApp(tmp_path / "root", cache_dir=tmp_path / "cache", state_dir=tmp_path / "state")
    async with app.run_test(size=(80, 24)) as pilot:
        await workers_done(app)
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("no run records here: saw 0 folders and 1 file") and "runsift reads" in m for m in messages)
        status = str(app.screen.query_one("#status-line").render())
        assert "no run records here" in status
