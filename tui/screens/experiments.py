"""Sweep and A/B screens: a trustworthy leaderboard, and an A/B analysis replayed from its logs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from runsift.core.fmt import common_decimals, format_recorded
from runsift.core.records import ABTest, Sweep

from ..experiments_view import board_status
from ..messages import OpenDiff, OpenRecord
from ..record_parts import section_widgets, sections_with_problems
from ..safe import literal
from ..trouble import catalog_work, while_open

if TYPE_CHECKING:
    from ..app import RunsiftApp


class SweepScreen(Screen[None]):
    """Leaderboard recomputed from the runs and verified; d/e compare the winner with the highlighted run."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("d,e", "diff_winner", "Diff + explain winner vs row"),
        Binding("enter", "open_row", "Open run", show=False),
    ]
    HELP: ClassVar[str] = (
        "A sweep's leaderboard, recomputed from its runs and checked against the one the sweep saved "
        "(mismatches are listed above the table). Move to a run and press d (or e) to diff it with the "
        "winner, with the explanation of the change; enter opens the run."
    )
    AUTO_FOCUS = "#board"
    app: RunsiftApp

    def __init__(self, sweep: Sweep) -> None:
        super().__init__()
        self.sweep = sweep
        self.doc: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static(literal(self.sweep.id, "bold"), id="record-title")
        with VerticalScroll(id="record-body"):
            yield Static(Text("Recomputing the leaderboard from the runs…", style="dim"), id="sweep-summary")
            yield DataTable(id="board", cursor_type="row", zebra_stripes=True)
            yield from section_widgets(sections_with_problems(self.sweep)[1:])
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True)
    @catalog_work
    def load(self) -> None:
        from runsift.core.leaderboard import build_leaderboard, leaderboard_json, verify

        catalog = self.app.catalog
        doc = leaderboard_json(build_leaderboard(catalog, self.sweep), verify(catalog, self.sweep))
        self.app.call_from_thread(self._show, doc)

    @while_open
    def _show(self, doc: dict[str, Any]) -> None:
        from ..experiments_view import sweep_lines

        self.doc = doc
        summary = Text()
        for i, line in enumerate(sweep_lines(doc)):
            summary.append_text(literal(("\n" if i else "") + line, "bold yellow" if "NOT" in line else "", one_line=False))
        for m in doc["mismatches"]:
            summary.append_text(literal(f"\n  • [{m['kind']}] {m['message']}", "yellow", one_line=False))
        self.query_one("#sweep-summary", Static).update(summary)
        table = self.query_one("#board", DataTable)
        table.clear(columns=True)
        # status before the parameters: at 80 columns the parameters scroll, the status stays in view
        table.add_columns("#", "run", literal(doc["metric"]), "status", *(literal(p) for p in doc.get("varying_params", [])))  # str labels are markup
        places = common_decimals(row["value"] for row in doc["leaderboard"])  # one precision, as recorded
        for row in doc["leaderboard"]:
            params = [literal(str(row["params"].get(p, "—"))) for p in doc.get("varying_params", [])]
            value = format_recorded(row["value"], places) if row["value"] is not None else "—"
            table.add_row(str(row["rank"]), literal(row["name"]), literal(value), literal(board_status(row)), *params, key=row["run_id"])

    def _pair(self) -> tuple[str, str] | None:
        if self.doc is None or not self.doc.get("winner"):
            return None
        table = self.query_one("#board", DataTable)
        if table.row_count == 0:
            return None
        other = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if other is None or other == self.doc["winner"]:
            self.notify("Move the cursor to another run to compare it with the winner.", severity="warning")
            return None
        return self.doc["winner"], other

    def action_diff_winner(self) -> None:
        """Diff the winner with the highlighted run; the diff screen opens with its Explain panel."""
        if (pair := self._pair()) is not None:
            self.post_message(OpenDiff(*pair))

    @on(DataTable.RowSelected)
    def action_open_row(self, event: DataTable.RowSelected | None = None) -> None:
        table = self.query_one("#board", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key:
                self.post_message(OpenRecord(key, kind="run"))  # a leaderboard lists the sweep's runs


class ABScreen(Screen[None]):
    """The repro kit, and its analysis replayed from the logs next to the saved result."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "app.pop_screen", "Back")]
    HELP: ClassVar[str] = (
        "An A/B test's repro kit: its plan, assignments and events, and its analysis replayed from the "
        "logs next to the result it saved, with whether the saved result was reproduced."
    )
    app: RunsiftApp

    def __init__(self, ab: ABTest) -> None:
        super().__init__()
        self.ab = ab

    def compose(self) -> ComposeResult:
        yield Static(literal(self.ab.id, "bold"), id="record-title")
        with VerticalScroll(id="record-body"):
            yield Static(Text("Replaying the analysis from the logs…", style="dim"), id="ab-replay", classes="section")
            yield from section_widgets(sections_with_problems(self.ab))
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        from runsift.core.abreplay import check_saved, replay, replay_json, saved_notes

        from ..experiments_view import ab_renderable

        try:
            result = replay(self.app.catalog.root, self.ab)
            check = check_saved(result, self.ab.saved_result) if self.ab.saved_result else None
            doc = replay_json(result, check.reproduced if check else None, check.mismatches if check else (), notes=saved_notes(check))
            renderable: Any = ab_renderable(doc)
        except Exception as exc:
            renderable = literal(f"Cannot replay this analysis: {exc}", "yellow", one_line=False)
        self.app.call_from_thread(self._show_replay, renderable)

    @while_open
    def _show_replay(self, renderable: Any) -> None:
        self.query_one("#ab-replay", Static).update(renderable)
