"""Issue 13 items 1-5: nothing a run says acts on the terminal, the markup parser or the state folder.

A root of hostile records (terminal escapes, OSC 52 clipboard writes, bidi controls, Rich and
Textual markup in folder, file and metric names) goes through every command of the real CLI and
through the app's screens; no raw control, bidi or invisible character may reach the output, no
markup may be interpreted and nothing may crash. Item 5: no state is written inside the root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS, make_run, workers_done, write

from runsift.core.catalog import Catalog, CatalogError
from runsift.core.places import is_inside
from runsift.core.textsafe import has_unsafe, visible
from runsift.tui import cli

OSC_TITLE = "\x1b]2;pwned\x1b\\"
OSC_CLIPBOARD = "\x1b]52;c;ZXZpbA==\x07"
CLEAR = "\x1b[2J"
INVISIBLE = "\u202e\u2066\x9b\u061c\ufeff\u2060\u200b"
EVIL = OSC_TITLE + OSC_CLIPBOARD + CLEAR + INVISIBLE
MARKUP = "[@click=app.quit][link=https:evil.example]x[/x]"
RUN_MARKUP = "[@click=app.quit][link=https:evil.example]x[red]"
"""Markup a folder name can hold (no ``/``): an action, a link, an unclosed style."""
EVIL_RUN = "run-002" + RUN_MARKUP + OSC_TITLE + INVISIBLE
LINK_METRIC = "[link=https://evil.example]val_auc"
CLOSING_METRIC = "[/x]m" + OSC_TITLE


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """Two runs (one named, noted and listing changed files with escapes and markup), a sweep and an A/B record."""
    root = tmp_path / "hostile"
    make_run(root / "proj" / "run-001", metrics={"final": {"val_auc": 0.91, LINK_METRIC: 0.4, CLOSING_METRIC: 1.5}})
    make_run(
        root / "proj" / EVIL_RUN,
        commit=f"1a2b3c4 dirty\nchanged files:\n- src/{EVIL}.py\n- [/x]bad.py\n- [link=https://evil.example]y.py\n",
        config=f"optimizer:\n  name: \"adam{OSC_CLIPBOARD}\"\n  lr: 0.002\nbatch_size: 64\n\"{MARKUP}\": 1\n",
        metrics={"final": {"val_auc": 0.92, LINK_METRIC: 0.5, CLOSING_METRIC: 2.5}},
        notes=f"note {EVIL} {MARKUP}\n",
    )
    sweep = root / "nlp-intent" / "2025-01-07_sweep-07"
    shutil.copytree(SAMPLE_RUNS / "nlp-intent" / "2025-01-07_sweep-07", sweep)
    spec = (sweep / "sweep.yaml").read_text(encoding="utf-8")
    spec = spec.replace("name: val_f1", 'name: "[/x]f1\\e]2;pwned\\e\\\\"')  # YAML escapes: YAML refuses a raw ESC
    (sweep / "sweep.yaml").write_text(spec, encoding="utf-8")
    board = (sweep / "leaderboard.csv").read_text(encoding="utf-8").splitlines()
    board[0] += f",[/x]{OSC_TITLE}"
    (sweep / "leaderboard.csv").write_text("\n".join(line + ("," if i else "") for i, line in enumerate(board)) + "\n", encoding="utf-8")
    ab = root / "checkout" / "ab-evil"
    shutil.copytree(SAMPLE_RUNS / "checkout-address-validation", ab)
    write(ab / "notes.md", f"notes {EVIL}\n")
    return root


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The real command line in-process: exit status, stdout, stderr."""
    status = cli.main([*args])
    out, err = capsys.readouterr()
    return status, out, err


SGR = re.compile(r"\x1b\[[0-9;]*m")
"""Rich's own colour codes: the only escapes allowed when output is forced to a terminal."""


def assert_inert(text: str, *, terminal: bool = False) -> None:
    """No character that a terminal would act on, except newlines, tabs and (on a terminal) Rich's colours."""
    if terminal:
        text = SGR.sub("", text)
    bad = sorted({f"U+{ord(c):04X}" for c in text if has_unsafe(c)})
    assert not bad, f"raw control/bidi/format characters reached the output: {bad}"


COMMANDS: dict[str, list[list[str]]] = {
    "ls": [["ls", "{root}"], ["ls", "{root}", "--format", "json"], ["ls", "{root}", "--format", "csv"]],
    "show": [["show", "--root", "{root}", "proj/" + EVIL_RUN, "--format", fmt] for fmt in ("text", "json")]
    + [["show", "--root", "{root}", "sweep-07"], ["show", "--root", "{root}", "sweep-07", "--format", "json"], ["show", "--root", "{root}", "ab-evil"]],
    "diff": [["diff", "--root", "{root}", "run-001", "proj/" + EVIL_RUN, "--format", fmt] for fmt in ("text", "json", "markdown")],
    "explain": [["explain", "--root", "{root}", "run-001", "proj/" + EVIL_RUN, "--metric", m, "--format", fmt] for m in ("val_auc", LINK_METRIC) for fmt in ("text", "json", "markdown")],
    "regress": [["regress", "--root", "{root}", "run-001", "proj/" + EVIL_RUN, "--metric", LINK_METRIC, "--format", fmt] for fmt in ("markdown", "json")],
    "audit": [["audit", "{root}"], ["audit", "{root}", "--format", "json"]],
    "sweep": [["sweep", "--root", "{root}", "sweep-07", "--format", fmt] for fmt in ("text", "json", "markdown")],
    "index": [["index", "{root}"]],
    "ab": [["ab", "--root", "{root}", "ab-evil", "--format", fmt] for fmt in ("text", "json", "markdown")],
    "error": [["show", "--root", "{root}", "no-such" + EVIL], ["diff", "--root", "{root}", "run-001", "sweep-07"]],
}


def test_every_command_is_covered() -> None:
    """A new command must join COMMANDS below, so its output is checked for raw escapes too."""
    assert set(COMMANDS) - {"error"} == set(cli.HANDLERS) - {"app"}


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_command_prints_a_raw_escape(
    hostile: Path, command: str, terminal: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")
    for args in COMMANDS[command]:
        status, out, err = run_cli(capsys, *[a.replace("{root}", str(hostile)) for a in args], "-q", "--no-cache")
        assert status in (0, 1, 2, 3), args
        assert_inert(out, terminal=terminal)
        assert_inert(err, terminal=terminal)
        assert "Traceback" not in err and "MarkupError" not in err
        if terminal:
            assert "\x1b]8;" not in out, "a name became a hyperlink"


# -- item 1: changed-file names from code_commit.txt -------------------------------------------


def test_item1_diff_shows_changed_file_names_escaped(hostile: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    status, out, _ = run_cli(capsys, "diff", "--root", str(hostile), "run-001", "proj/" + EVIL_RUN, "--section", "code", "--no-cache")
    assert status == 1
    assert_inert(out)
    assert "\\x1b]2;pwned" in out and "\\x1b]52;c;ZXZpbA==\\x07" in out and "\\u202e" in out  # shown, not acted on
    status, md, _ = run_cli(capsys, "diff", "--root", str(hostile), "run-001", "proj/" + EVIL_RUN, "--section", "code", "--format", "markdown", "--no-cache")
    assert_inert(md)
    assert "\\x1b]52" in md


# -- item 3: metric names are text, never markup -----------------------------------------------


def test_item3_ls_header_shows_markup_as_text(hostile: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("FORCE_COLOR", "1")
    status, out, err = run_cli(capsys, "ls", str(hostile / "proj"), "--no-cache")  # room for every metric column
    assert status == 0, err
    plain = SGR.sub("", out)
    assert LINK_METRIC in plain and "[/x]m\\x1b]2;pwned" in plain
    assert "\x1b]8;" not in out


def test_item3_sweep_with_markup_metric_and_leaderboard_header(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "show", "--root", str(hostile), "sweep-07", "--no-cache")
    assert status == 0, err
    assert "[/x]f1\\x1b]2;pwned" in out and "[/x]\\x1b]2;pwned" in out


# -- item 4: CSV and JSON -------------------------------------------------------------------------


def test_item4_csv_and_json_escape_and_json_round_trips(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, csv_out, _ = run_cli(capsys, "ls", str(hostile), "--format", "csv", "--no-cache")
    assert_inert(csv_out)
    assert "\\u202e" in csv_out and "\\x9b" in csv_out
    _, json_out, _ = run_cli(capsys, "ls", str(hostile), "--format", "json", "--no-cache")
    assert_inert(json_out)
    assert "\\u202e" in json_out and "\\u009b" in json_out and "\\u2066" in json_out
    ids = {row["id"] for row in json.loads(json_out)}
    assert "proj/" + EVIL_RUN in ids  # the same string for a program
    _, shown, _ = run_cli(capsys, "show", "--root", str(hostile), "proj/" + EVIL_RUN, "--format", "json", "--no-cache")
    assert_inert(shown)
    assert json.loads(shown)["notes"] == f"note {EVIL} {MARKUP}\n"


# -- items 2 and the app's screens ---------------------------------------------------------------

def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """Every character of the app's current screen, notifications included, as rendered."""
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(seg.text for seg in strip) for strip in update.strips)


def make_app(root: Path, tmp_path: Path, state: Path | None = None):  # type: ignore[no-untyped-def]
    from runsift.tui.app import RunsiftApp

    return RunsiftApp(root, cache_dir=tmp_path / "cache", state_dir=state or tmp_path / "state")


async def settle(app, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await workers_done(app)
        await pilot.pause()


@pytest.mark.asyncio
async def test_item2_notifications_show_names_as_text(hostile: Path, tmp_path: Path) -> None:
    from runsift.tui.widgets.run_table import RunTable

    app = make_app(hostile, tmp_path)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(RunTable)
        order = [r.id for r in table.rows]
        runs = [i for i, r in enumerate(table.rows) if r.kind == "run"]
        evil = order.index("proj/" + EVIL_RUN)
        picks = [evil, *[i for i in runs if i != evil][:2]]  # the third mark drops the evil one: "Unmarked ..."
        at = 0
        for index in picks:
            key = "down" if index > at else "up"
            await pilot.press(*[key] * abs(index - at), "space")
            at = index
        await pilot.pause()
        app.open_record("proj/" + EVIL_RUN)
        await settle(app, pilot)
        app.screen.action_mark()  # "Marked ..." with the folder name
        await pilot.pause()
        messages = list(app._notifications)
        said = [n.message for n in messages]
        assert any(m.startswith("Unmarked run-002") for m in said), said
        assert any(m.startswith("Marked run-002") for m in said), said
        for n in messages:
            assert not has_unsafe(n.message, one_line=True) and not has_unsafe(n.title, one_line=True)
            assert not n.markup or "[" not in n.message, "untrusted text passed to the markup parser"
        assert_inert(screen_text(app).replace("\n", " "))
        assert app.is_running  # [@click=app.quit] stayed text


@pytest.mark.asyncio
async def test_app_screens_show_no_raw_escape(hostile: Path, tmp_path: Path) -> None:
    from runsift.tui.screens.diff import DiffScreen
    from runsift.tui.screens.experiments import ABScreen, SweepScreen

    app = make_app(hostile, tmp_path)
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await settle(app, pilot)
        assert_inert(screen_text(app).replace("\n", " "))
        app.open_record("proj/" + EVIL_RUN)
        await settle(app, pilot)
        from textual.widgets import TabbedContent, TabPane

        tabs = app.screen.query_one("#record-tabs", TabbedContent)
        for pane in tabs.query(TabPane):
            tabs.active = pane.id or ""
            await settle(app, pilot)
            assert_inert(screen_text(app).replace("\n", " "))
        app.pop_screen()
        app.push_screen(DiffScreen("proj/run-001", "proj/" + EVIL_RUN))
        await settle(app, pilot)
        assert isinstance(app.screen, DiffScreen)
        text = screen_text(app)
        assert "\\x1b]2;pwned" in text  # the changed file's name, shown escaped
        assert_inert(text.replace("\n", " "))
        app.pop_screen()
        app.open_record("nlp-intent/2025-01-07_sweep-07")
        await settle(app, pilot)
        assert isinstance(app.screen, SweepScreen)  # the [/x] metric did not crash the DataTable
        assert "[/x]f1" in screen_text(app)
        assert_inert(screen_text(app).replace("\n", " "))
        app.pop_screen()
        app.open_record("checkout/ab-evil")
        await settle(app, pilot)
        assert isinstance(app.screen, ABScreen)
        assert_inert(screen_text(app).replace("\n", " "))
        assert app.is_running


# -- item 5: the state folder ---------------------------------------------------------------------


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.asyncio
async def test_item5_no_state_written_inside_the_root(hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(hostile / ".state"))
    before = listing(hostile)
    from runsift.tui.app import RunsiftApp

    app = RunsiftApp(hostile, cache_dir=tmp_path / "cache")
    assert app.state_path is None and app.state_warning and "inside the runs folder" in app.state_warning
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await settle(app, pilot)
        await pilot.press("space")
        await pilot.press("slash", *"proj", "enter")
        await settle(app, pilot)
        assert any("not saved" in n.message for n in app._notifications)
    assert listing(hostile) == before


def test_item5_root_of_slash_contains_everything(tmp_path: Path) -> None:
    from runsift.tui.state import state_location

    assert is_inside(tmp_path / "cache", "/") and is_inside("/", "/")
    assert not is_inside("/runs-old/x", "/runs") and is_inside("/runs/x/..", "/runs")
    assert state_location(Path("/"), tmp_path / "state").path is None
    with pytest.raises(CatalogError, match="inside the runs folder"):
        Catalog.open(Path("/"), cache_dir=tmp_path / "cache", refresh=False)


def test_item5_home_state_dir_under_the_root_saves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runsift.tui.state import AppState, state_location

    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    where = state_location(tmp_path)  # ~/.local/state lies under the root
    assert where.path is None and where.warning
    AppState(marks=["a"]).save(where.path)  # no place, no error
    assert not (tmp_path / ".local").exists()
    outside = state_location(tmp_path / "runs", tmp_path / "state")
    assert outside.path is not None and outside.warning is None


def test_visible_is_the_one_rule_for_the_tui(hostile: Path) -> None:
    from runsift.tui import safe

    assert safe.visible is visible
    assert safe.literal("a\u061cb\ufeffc\u2060").plain == "a\\u061cb\\ufeffc\\u2060"
    assert safe.markup_text("[link=x]y\x1b") == "\\[link=x]y\\x1b"
    assert os.sep == "/"  # the tests above name POSIX paths


# -- a new output path cannot bypass the rule unnoticed ---------------------------------------------

TUI = Path(__file__).resolve().parents[1] / "tui"
MARKUP_SINKS = {"notify", "add_column", "add_columns", "add_row", "update"}
"""Calls that parse a plain string as Rich or Textual markup."""


def _untrusted_string(node: object) -> bool:
    """An f-string with a value not formatted as a number, or a value looked up in a document: may come from a run."""
    import ast

    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) and v.format_spec is None for v in node.values)
    return isinstance(node, ast.Subscript)


def test_no_markup_sink_gets_a_built_string() -> None:
    """notify(f"...{name}") and add_column(doc["metric"]) parsed run text as markup (issue 13 items 2, 3).

    A string built from values must reach these calls as ``literal(...)`` Text, or with ``markup=False``.
    """
    import ast

    offenders = []
    for path in sorted(TUI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MARKUP_SINKS):
                continue
            if any(k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False for k in node.keywords):
                continue
            args = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
            if any(_untrusted_string(a) for a in args):
                offenders.append(f"{path.relative_to(TUI)}:{node.lineno} {node.func.attr}")
    assert not offenders, "\n".join(offenders)
