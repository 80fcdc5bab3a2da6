"""Issue 12's leftovers: recorded precision, CSV columns, stderr in a pipe, live marks, guessed starts."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS

from runsift.core.fmt import format_pair

FRAUD_017 = "fraud-model/2025-01-06_09-12-40_run-017"
FRAUD_023 = "fraud-model/2025-01-07_14-32-11_run-023"


def runsift(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command, output to pipes."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "runsift", *args], capture_output=True, text=True, env=full_env, timeout=120, check=False)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("polish") / "sample_runs"
    shutil.copytree(SAMPLE_RUNS, root)
    return root


# -- item 5: numbers keep their recorded precision -------------------------------------------------------


def test_a_pair_of_recorded_numbers_shares_the_more_precise_decimals() -> None:
    assert format_pair(0.926045, 0.9271) == ("0.926045", "0.927100")
    assert format_pair(0.9264, 0.926045) == ("0.926400", "0.926045")
    assert format_pair(12, 13) == ("12", "13")


def test_explain_and_diff_show_recorded_precision(samples: Path) -> None:
    a_value = json.loads((samples / FRAUD_017 / "metrics.json").read_text())["final"]["val_auc"]
    b_value = json.loads((samples / FRAUD_023 / "metrics.json").read_text())["final"]["val_auc"]
    shown_a, shown_b = format_pair(a_value, b_value)
    assert len(shown_b.split(".")[1]) == 6  # 0.926045 is recorded with six decimals
    explained = runsift("explain", "--root", str(samples), "--no-cache", FRAUD_017, FRAUD_023, "--metric", "val_auc")
    assert f"val_auc went from {shown_a} to {shown_b}" in " ".join(explained.stdout.split()), explained.stdout
    md = runsift("explain", "--root", str(samples), "--no-cache", FRAUD_017, FRAUD_023, "--metric", "val_auc", "--format", "markdown")
    assert f"| `val_auc` | {shown_a} | {shown_b} |" in md.stdout
    diffed = runsift("diff", "--root", str(samples), "--no-cache", FRAUD_017, FRAUD_023, "--section", "metrics")
    row = next(line for line in diffed.stdout.splitlines() if line.startswith("val_auc "))
    assert row.split()[1:3] == [shown_a, shown_b]


# -- item 2: ls --format csv follows --columns -------------------------------------------------------------


def test_csv_follows_columns_with_values_and_escaping(tmp_path: Path) -> None:
    from conftest import make_run

    make_run(tmp_path / "proj" / "run-1", config="optimizer:\n  name: \"ad\\e]2;owned\\aam\"\n  lr: 0.0015\n")
    make_run(tmp_path / "proj" / "run-2", metrics={"final": {"val_auc": 0.912345}})
    out = runsift("ls", str(tmp_path), "--no-cache", "--format", "csv", "--columns", "val_auc,config.optimizer.lr,config.optimizer.name,problems")
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
    table = list(csv.reader(io.StringIO(out.stdout)))
    assert table[0] == ["name", "val_auc", "config.optimizer.lr", "config.optimizer.name", "problems"]
    rows = {r[0]: r for r in table[1:]}
    assert rows["run-1"][1:3] == ["0.91", "0.0015"] and rows["run-1"][3].startswith("ad\\x1b]2;owned")
    assert rows["run-2"][1] == "0.912345" and rows["run-2"][4] == "0"
    unknown = runsift("ls", str(tmp_path), "--no-cache", "--format", "csv", "--columns", "val_acu")
    assert unknown.returncode != 0 and "val_auc" in unknown.stderr
    whole = runsift("ls", str(tmp_path), "--no-cache", "--format", "csv")
    assert next(csv.reader(io.StringIO(whole.stdout)))[:3] == ["id", "kind", "project"]


# -- item 8: errors on stderr do not wrap in a pipe ------------------------------------------------------------


def test_errors_in_a_pipe_are_one_line(samples: Path) -> None:
    name = "no-such-run-" + "x" * 120
    out = runsift("show", "--root", str(samples), "--no-cache", name)
    assert out.returncode != 0
    assert out.stderr.splitlines() == [f"runsift: no run matches {name!r}"]


# -- item 1: the runs table marks runs being written; --no-watch --------------------------------------------


def _write_steps(folder: Path, steps: int) -> None:
    rows = [{"epoch": i, "val_auc": 0.8 + i / 1000} for i in range(1, steps + 1)]
    (folder / "metrics.json").write_text(json.dumps({"per_epoch": rows}), encoding="utf-8")


@pytest.mark.asyncio
async def test_runs_table_marks_a_run_being_written_until_it_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from conftest import make_run, workers_done

    from runsift.tui.app import RunsiftApp
    from runsift.tui.screens import runs as runs_screen
    from runsift.tui.widgets.run_table import LIVE, RunTable

    monkeypatch.setattr(runs_screen, "LIVE_FOR", 2.0)
    root = tmp_path / "exp"
    make_run(root / "proj" / "2025-01-01_00-00-00_run-001")
    live = make_run(root / "proj" / "2025-01-02_00-00-00_run-002", config="epochs: 20\n")
    _write_steps(live, 3)
    app = RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=tmp_path / "state", watch_debounce_ms=50)

    async def wait_for(condition, seconds: float = 15.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, "the table did not follow the disk"
            await pilot.pause(0.05)
            await workers_done(app)

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: app.watcher is not None and app.watcher.mode == "watch")
        table = app.screen.query_one(RunTable)
        await wait_for(lambda: table.row_count == 2)
        assert table.live == frozenset()
        _write_steps(live, 5)
        await wait_for(lambda: table.live == {"proj/2025-01-02_00-00-00_run-002"})
        lines = [table.render_line(y).text for y in range(1, 3)]
        assert any("run-002" in line and LIVE in line for line in lines), lines
        assert not any("run-001" in line and LIVE in line for line in lines), lines
        await wait_for(lambda: table.live == frozenset(), seconds=10)  # it stopped writing: the mark goes


def test_no_watch_turns_watching_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from runsift.tui import app as app_module
    from runsift.tui import cli

    seen: list[object] = []
    monkeypatch.setattr(app_module.RunsiftApp, "run", lambda self: seen.append(self.watcher))
    assert cli.main(["app", str(tmp_path), "--no-watch", "--no-cache"]) == 0
    assert cli.main(["app", str(tmp_path), "--no-cache"]) == 0
    assert seen[0] is None and seen[1] is not None
    assert "--no-watch" in cli.build_parser().format_help() or "--no-watch" in runsift("app", "--help").stdout


# -- item 3: guessed starts sort with their sweep --------------------------------------------------------------


def test_guessed_starts_sort_at_their_sweeps_recorded_time_and_stay_marked(samples: Path) -> None:
    out = runsift("ls", str(samples), "--no-cache", "--sort", "started", "--format", "json")
    docs = json.loads(out.stdout)
    order = [d["id"] for d in docs]
    sweep = "nlp-intent/2025-01-07_sweep-07"
    members = [d for d in docs if d.get("sweep") == sweep]
    assert members and all(d["started_source"] == "guessed" for d in members)  # still a guess, and said so
    at = order.index(sweep)
    assert order[at + 1 : at + 1 + len(members)] == sorted(d["id"] for d in members)
    # between the recorded runs of the days around the sweep, not after everything recorded
    before = next(d for d in docs if d["id"].endswith("run-021"))
    after = next(d for d in docs if d["id"].endswith("run-022"))
    assert order.index(before["id"]) < at < order.index(after["id"])
    table = runsift("ls", str(samples), "--no-cache", "--sort", "started", "--columns", "started")
    assert all(line.split()[1].startswith("~") for line in table.stdout.splitlines() if "sweep-07/run-" in line)


# -- item 4: nothing clipped at 80×24 --------------------------------------------------------------------------


def _screen_lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The terminal as text, line by line (from the app's own screenshot)."""
    import html
    import re

    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text[^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), html.unescape(re.sub(r"<[^>]+>", "", m.group(3)))))
    return ["".join(t for _, t in sorted(parts)).replace("\xa0", " ").rstrip() for _, parts in sorted(rows.items())]


def _footer_shows_every_key(app, screen) -> None:  # type: ignore[no-untyped-def]
    footer = _screen_lines(app)[-1]
    for binding in screen.BINDINGS:
        if getattr(binding, "show", False) and binding.description:
            assert binding.description in footer, (binding.description, footer)


@pytest.mark.asyncio
async def test_every_screen_fits_80_by_24_and_ticks_read_without_colour(tmp_path: Path) -> None:
    from conftest import workers_done

    from runsift.tui.app import RunsiftApp
    from runsift.tui.screens.columns import TICKED, ColumnPicker, TickList
    from runsift.tui.screens.diff import DiffScreen
    from runsift.tui.screens.record import RecordScreen
    from runsift.tui.screens.runs import RunsScreen

    root = tmp_path / "exp"
    shutil.copytree(SAMPLE_RUNS / "fraud-model", root / "fraud-model")
    app = RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=tmp_path / "state", watch=False)

    async def settle() -> None:
        for _ in range(3):
            await workers_done(app)
            await pilot.pause()

    async with app.run_test(size=(80, 24)) as pilot:
        await settle()
        assert isinstance(app.screen, RunsScreen)
        _footer_shows_every_key(app, app.screen)

        await pilot.press("c")
        await settle()
        picker = app.screen
        assert isinstance(picker, ColumnPicker)
        _footer_shows_every_key(app, picker)
        ticks = picker.query_one(TickList)
        boxes = [ticks.render_line(y).text[:4] for y in range(min(ticks.option_count, 8))]
        ticked = [ticks.get_option_at_index(i).value in ticks.selected for i in range(len(boxes))]
        assert [TICKED in box for box in boxes] == ticked
        await pilot.press("space")  # tick or untick the first: its box follows, not only its colour
        await pilot.pause()
        assert (TICKED in ticks.render_line(0).text[:4]) == (ticks.get_option_at_index(0).value in ticks.selected)
        await pilot.press("escape")
        await settle()

        await pilot.press("slash", *"run-017", "enter", "space", "escape")
        await pilot.press("slash", *("backspace",) * 7, *"run-026", "enter", "space", "d")
        await settle()
        assert isinstance(app.screen, DiffScreen)
        _footer_shows_every_key(app, app.screen)
        await pilot.press("escape")
        await settle()
        await pilot.press("enter")
        await settle()
        assert isinstance(app.screen, RecordScreen)
        _footer_shows_every_key(app, app.screen)
