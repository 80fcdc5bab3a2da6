"""A status runsift inferred (DVCLive, Hydra and Sacred record none, or not always) is marked as a guess wherever a
list shows it: ``~`` in the app's table and in ``ls``, ``status_source`` in JSON, as a guessed start already was."""

from __future__ import annotations

import collections
import json
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS, workers_done
from test_cli import runsift
from textual.widgets import Static

from runsift.core.catalog import Catalog
from runsift.tui.app import RunsiftApp
from runsift.tui.widgets.run_table import RunTable

DVCLIVE = Path(__file__).parent / "fixtures" / "dvclive"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """DVCLive's runs (guessed statuses, and one DVC's marker says is running) beside run containers (most record
    theirs; two do not, and one's metrics file is cut)."""
    root = tmp_path / "runs"
    shutil.copytree(DVCLIVE, root / "dvclive")
    shutil.copytree(SAMPLE_RUNS / "fraud-model", root / "fraud-model")
    return root


def _expected(root: Path, tmp_path: Path) -> dict[str, tuple[str, str, str | None]]:
    """Each run's shown name, status, and status source as its record says (``source.guessed``)."""
    with Catalog.open(root, cache_dir=tmp_path / "reference") as catalog:
        runs = [catalog.get(s.id) for s in catalog.list(kind="run")]
    return {r.id: (r.name, r.status, _source(r.status, r.source.guessed)) for r in runs}


def _source(status: str, guessed: tuple[str, ...]) -> str | None:
    """What a list says of a status: guessed, recorded, or nothing for one runsift could not tell."""
    return None if status == "unknown" else "guessed" if "status" in guessed else "recorded"


def _shown(expected: dict[str, tuple[str, str, str | None]]) -> collections.Counter[str]:
    """The status cells a list should show: ``~`` before a guessed one."""
    return collections.Counter(("~" if source == "guessed" else "") + status for _, status, source in expected.values())


def test_ls_json_and_a_filter_say_which_statuses_were_guessed(root: Path, tmp_path: Path) -> None:
    expected = _expected(root, tmp_path)
    assert {source for *_, source in expected.values()} == {"guessed", "recorded"}, "the fixture must hold both"
    out = runsift("ls", str(root), "--format", "json", "--cache-dir", str(tmp_path / "c"))
    assert out.returncode == 0, out.stderr
    got = {r["id"]: r["status_source"] for r in json.loads(out.stdout) if r["kind"] == "run"}
    assert got == {run_id: source for run_id, (*_, source) in expected.items()}
    guessed = runsift("ls", str(root), "-f", "status_source=guessed", "--format", "json", "--cache-dir", str(tmp_path / "c"))
    assert sorted(r["id"] for r in json.loads(guessed.stdout)) == sorted(i for i, (*_, s) in expected.items() if s == "guessed")
    one = next(i for i, (*_, s) in expected.items() if s == "guessed")
    show = runsift("show", one, "--root", str(root), "--format", "json", "--cache-dir", str(tmp_path / "c"))
    assert json.loads(show.stdout)["status_source"] == "guessed"


def test_ls_table_marks_a_guessed_status_and_says_what_the_mark_means(root: Path, tmp_path: Path) -> None:
    expected = _expected(root, tmp_path)
    out = runsift("ls", str(root), "--columns", "name,status", "--cache-dir", str(tmp_path / "c"))
    assert out.returncode == 0, out.stderr
    rows = out.stdout.split("\n\n")[0].splitlines()[1:]  # the table, before the problems and the count
    assert collections.Counter(line.split()[-1] for line in rows) == _shown(expected)
    assert "~ guessed" in out.stderr + out.stdout and "not recorded" in out.stderr + out.stdout


@pytest.mark.asyncio
async def test_the_runs_table_marks_a_guessed_status(root: Path, tmp_path: Path) -> None:
    expected = _expected(root, tmp_path)
    app = RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=tmp_path / "state")
    async with app.run_test(size=(160, 40)):
        for _ in range(3):
            await workers_done(app)
        table = app.screen.query_one(RunTable)
        shown = "\n".join("".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height))
        for cell, count in _shown(expected).items():
            if cell.startswith("~"):
                assert shown.count(cell) == count, cell
        assert "~ guessed" in str(app.screen.query_one("#status-line", Static).render())


@pytest.mark.asyncio
async def test_a_record_screen_titles_a_guessed_status_as_a_guess(root: Path, tmp_path: Path) -> None:
    from conftest import plain_text

    from runsift.tui.screens.record import RecordScreen

    expected = _expected(root, tmp_path)
    app = RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=tmp_path / "state")
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(3):  # indexed first
            await workers_done(app)
        for source in ("guessed", "recorded"):
            run_id, (_, status, _) = next((i, e) for i, e in expected.items() if e[2] == source)
            app.open_record(run_id, "run")
            for _ in range(3):
                await pilot.pause()
                await workers_done(app)
            screen = app.screen
            assert isinstance(screen, RecordScreen)
            for _ in range(100):  # the record is read in a worker
                if screen.record is not None:
                    break
                await pilot.pause(0.05)
            await pilot.pause()
            title = plain_text(screen.query_one("#record-title", Static).content)
            assert (f"{status} (guessed)" in title) == (source == "guessed"), title
            app.pop_screen()
            await pilot.pause()


@pytest.mark.parametrize("few_ids", [5000, 0], ids=["looked-up", "scanned"])
def test_a_list_reads_the_sources_as_the_whole_facets_give_them_and_checks_each_row(
    root: Path, tmp_path: Path, few_ids: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list asks each row's start and status source: the same values whether its records' facets are decoded
    (a few) or the key is cut out of every record's by SQLite (many), and a damaged row is caught either way."""
    from runsift.core import facetcols
    from runsift.core.query import SOURCE_FACETS

    monkeypatch.setattr(facetcols, "FEW_IDS", few_ids)

    cache = tmp_path / "cache"
    with Catalog.open(root, cache_dir=cache) as cat:
        ids = [s.id for s in cat.list()][::2]
        cut = {key: cat.facet(key, ids) for key in SOURCE_FACETS}
        whole = {key: cat.facet(key) for key in SOURCE_FACETS}
        assert cut == {key: {i: v for i, v in values.items() if i in ids} for key, values in whole.items()}
        assert {key: cat.facet(key, ids) for key in SOURCE_FACETS} == cut  # now from the kept columns
        assert {v[0] for values in cut.values() for v in values.values()} == {"guessed", "recorded"}
        path = cat.cache_file
    assert path is not None
    data = path.read_bytes()
    at = data.index(b'"status_source":["guessed"') + len(b'"status_source":["g')
    path.write_bytes(data[:at] + b"a" + data[at + 1 :])  # "guessed" -> "gaessed", inside a row SQLite cannot check
    with Catalog.open(root, cache_dir=cache, refresh=False) as cat:
        every = [s.id for s in cat.list()]
        again = cat.facet("status_source", every)
        assert any("damaged" in p.message for p in cat.cache_problems)
    assert {i: v for i, v in again.items() if i in ids} == cut["status_source"]
    assert {v[0] for v in again.values()} == {"guessed", "recorded"}


def test_a_sweep_board_marks_its_guessed_statuses(tmp_path: Path) -> None:
    """Hydra's multirun jobs record no status: the leaderboard says so as the runs list does."""
    root = tmp_path / "hydra"
    shutil.copytree(Path(__file__).parent / "fixtures" / "hydra", root)
    sweep = "multirun/2026-12-07/05-26-42"
    out = runsift("sweep", sweep, "--root", str(root), "--format", "json", "--cache-dir", str(tmp_path / "c"))
    assert out.returncode in (0, 1), out.stderr
    board = json.loads(out.stdout)["leaderboard"]
    assert board and {row["status_source"] for row in board} == {"guessed"}
    markdown = runsift("sweep", sweep, "--root", str(root), "--format", "markdown", "--cache-dir", str(tmp_path / "c")).stdout
    assert markdown.count(f"| \\~{board[0]['status']} |") == sum(1 for row in board if row["status"] == board[0]["status"])
    assert "~ before a status: guessed" in markdown


def test_an_unknown_status_is_neither_recorded_nor_guessed() -> None:
    from runsift.core.rows import _facets

    for status, guessed, want in (("unknown", ["status"], None), ("finished", ["status"], "guessed"), ("failed", [], "recorded")):
        detail = {"kind": "run", "status": status, "source": {"format": "x", "guessed": guessed}}
        facets = {key: text for key, text, _ in _facets(detail)}
        assert facets.get("status_source") == want, status


def test_a_diff_names_each_runs_status_and_marks_a_guess(root: Path, tmp_path: Path) -> None:
    # An inferred status beside a recorded one is a reason to doubt a comparison: the diff's header says which is which.
    expected = _expected(root, tmp_path)
    guessed = next(i for i, (_, status, s) in expected.items() if s == "guessed" and status == "finished")
    recorded = next(i for i, (_, status, s) in expected.items() if s == "recorded" and status == "finished")
    for fmt, marked in (("text", "finished (guessed)"), ("markdown", "A: finished (guessed) · B: finished\n")):
        out = runsift("diff", guessed, recorded, "--root", str(root), "--format", fmt, "--cache-dir", str(tmp_path / "c"))
        assert out.returncode in (0, 1), out.stderr
        assert out.stdout.count(marked) == 1, out.stdout
        assert out.stdout.count("(guessed)") == 1, out.stdout  # B's recorded status is not marked


@pytest.mark.asyncio
async def test_the_diff_screen_names_each_runs_status_and_marks_a_guess(root: Path, tmp_path: Path) -> None:
    from conftest import plain_text

    from runsift.tui.screens.diff import DiffScreen

    expected = _expected(root, tmp_path)
    guessed = next(i for i, (_, status, s) in expected.items() if s == "guessed" and status == "finished")
    recorded = next(i for i, (_, status, s) in expected.items() if s == "recorded" and status == "failed")
    app = RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=tmp_path / "state")
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(3):  # indexed first
            await workers_done(app)
        screen = DiffScreen(guessed, recorded)
        await app.push_screen(screen)
        for _ in range(100):  # both runs are read and compared in a worker
            if screen.runs is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause()
        header = plain_text(screen.query_one("#diff-header", Static).content)
        assert "finished (guessed)" in header and "failed" in header, header
        assert header.count("(guessed)") == 1, header
