"""One record in detail: a run in tabs (overview, config tree, environment, data, metrics with
curves, artifacts, notes, problems, audit); a sweep or an A/B record as sections.

A run being written is followed: when the app reports it changed on disk, the record is read
again and its overview, metrics, curves and problems are updated in place (tab, page and zoom stay).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static, TabbedContent, TabPane

from runsift.core.catalog import CatalogError
from runsift.core.records import Record, Run

from ..messages import RecordsChanged
from ..record_parts import (
    artifacts_table,
    audit_renderable,
    config_tree,
    data_section,
    env_table,
    overview_table,
    packages_table,
    problems_table,
    section_widgets,
    sections_with_problems,
)
from ..safe import literal, visible
from ..trouble import while_open
from ..views import STATUS_STYLE, guessed, metrics_table, rank_metrics
from ..widgets.chart import ChartGrid
from ..widgets.run_table import LIVE_FOR

if TYPE_CHECKING:
    from ..app import RunsiftApp



class RecordScreen(Screen[None]):
    """Loads one record in a worker, then shows it; follows it while it is being written."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
        Binding("right,l", "switch_tab(1)", "Tabs", key_display="←→", priority=True),
        Binding("left,h", "switch_tab(-1)", "Previous tab", show=False, priority=True),
        *(Binding(str(i), f"go_tab({i - 1})", f"Tab {i}", show=False) for i in range(1, 10)),
        Binding("m", "mark", "Mark"),
        Binding("c", "next_curve", "More curves"),
        Binding("z", "zoom", "Zoom"),
    ]
    HELP: ClassVar[str] = (
        "One run in tabs: Overview, Config (a tree), Env, Data, Metrics (final values and the per-step "
        "curves, as many as fit), Artifacts, Notes, Problems and Audit (what a teammate would have to guess "
        "to re-run it). A sweep or an A/B record shows as sections. While a run is being written, its "
        "metrics and curves follow the files on disk."
    )

    app: RunsiftApp

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.record: Record | None = None
        self.last_change: float | None = None
        """When the app last reported this record changed on disk (monotonic seconds)."""

    def compose(self) -> ComposeResult:
        yield Static(literal(self.record_id, "bold"), id="record-title")
        yield Static("loading…", id="record-loading")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="record")
    def load(self) -> None:
        try:
            record = self.app.catalog.get(self.record_id)
        except CatalogError as exc:  # removed meanwhile, a connection lost: said where it would show
            self.app.call_from_thread(self._cannot_show, str(exc))
            return
        self.app.call_from_thread(self._show, record)

    @while_open
    def _cannot_show(self, reason: str) -> None:
        if self.record is None:
            self.query_one("#record-loading", Static).update(literal(f"Cannot show this record: {reason}", "yellow", one_line=False))
        else:  # shown already (a reload after a change): it stays, the trouble told
            self.notify(visible(f"Cannot reload this record: {reason}", one_line=True), severity="error", markup=False)

    @while_open
    def _show(self, record: Record) -> None:
        first = self.record is None
        self.record = record
        self._update_title()
        if not first:
            self._update_in_place(record)
            return
        self.query_one("#record-loading").remove()
        if isinstance(record, Run):
            self.mount(RunView(record), before=self.query_one(Footer))
            self.call_after_refresh(self._draw_curves)
        else:
            self.mount(VerticalScroll(*section_widgets(sections_with_problems(record)), id="record-body"), before=self.query_one(Footer))

    @while_open
    def _update_title(self) -> None:
        record = self.record
        if record is None:
            return
        live = self.last_change is not None and time.monotonic() - self.last_change < LIVE_FOR
        title = Text.assemble(
            literal(record.id, "bold"),
            "  ",
            literal(guessed(record, "status", record.status) or record.status if isinstance(record, Run) else record.kind,
                    STATUS_STYLE.get(record.status, "cyan")),
            ("  ● being written", "bold green") if live else "",
            (f"  {len(record.problems)} problem{'s' if len(record.problems) != 1 else ''}", "bold yellow") if record.problems else "",
        )
        self.query_one("#record-title", Static).update(title)

    def _update_in_place(self, record: Record) -> None:
        """New content for the parts a running run changes, without rebuilding the tabs (no flicker)."""
        if not isinstance(record, Run) or not self.query(RunView):
            return
        self.query_one(RunView).run = record
        self.query_one("#overview", Static).update(overview_table(record))
        self.query_one("#metrics-table", Static).update(metrics_table(record) or "no metrics recorded")
        self.query_one("#artifacts", Static).update(artifacts_table(record))
        self.query_one("#problems", Static).update(problems_table(record.problems))
        self.query_one("#record-tabs", TabbedContent).get_tab("tab-problems").label = f"Problems ({len(record.problems)})"
        self._draw_curves()

    @on(RecordsChanged)
    def _records_changed(self, event: RecordsChanged) -> None:
        if self.record_id in event.ids:
            self.last_change = time.monotonic()
            self.load()
            self.set_timer(LIVE_FOR + 0.5, self._update_title)  # "being written" goes once it stops
        elif event.added and self.record is not None:  # a polled walk changed records without naming them
            self.load()  # get() lists the run again: a read only when its files changed

    def _draw_curves(self) -> None:
        if not isinstance(self.record, Run) or not self.query("#run-charts"):
            return
        series = self.record.metrics.series
        self.query_one("#run-charts", ChartGrid).set_panels([(name, [(name, series[name])]) for name in rank_metrics(sorted(series))])

    def action_switch_tab(self, step: int) -> None:
        """Move to the next (1) or previous (-1) tab, wrapping around."""
        tabs = self.query(TabbedContent)
        if not tabs:
            return
        content = tabs.first()
        panes = [pane.id for pane in content.query(TabPane)]
        if content.active in panes:
            content.active = panes[(panes.index(content.active) + step) % len(panes)]  # type: ignore[assignment]

    def action_go_tab(self, index: int) -> None:
        """Jump to tab number ``index`` (0-based)."""
        tabs = self.query(TabbedContent)
        if tabs:
            panes = [pane.id for pane in tabs.first().query(TabPane)]
            if 0 <= index < len(panes):
                tabs.first().active = panes[index]  # type: ignore[assignment]

    def _show_metrics(self) -> ChartGrid | None:
        """The chart grid, with the Metrics tab brought to the front."""
        if not self.query("#run-charts"):
            return None
        self.query_one("#record-tabs", TabbedContent).active = "tab-metrics"
        return self.query_one("#run-charts", ChartGrid)

    def action_next_curve(self) -> None:
        if (grid := self._show_metrics()) is not None:
            grid.next_page()

    def action_zoom(self) -> None:
        if (grid := self._show_metrics()) is not None:
            fraction = grid.cycle_zoom()
            self.notify("all steps" if fraction >= 1 else f"last {fraction:.0%} of the steps, value axis fitted to them", timeout=2)

    def action_mark(self) -> None:
        if self.record is None or self.record.kind != "run":
            return
        marks = list(self.app.state.marks)
        if self.record.id not in marks:
            marks.append(self.record.id)
            marks = marks[-2:]
            name = visible(self.record.name, one_line=True)
            self.notify(f"Marked {name}. Mark another run and press d on the runs screen.", timeout=3, markup=False)
        self.app.state.marks = marks
        self.app.save_state()

    @on(Markdown.LinkClicked)
    def _no_links(self, event: Markdown.LinkClicked) -> None:
        event.prevent_default()
        self.notify(f"Link (not opened): {visible(event.href, one_line=True)}", timeout=4, markup=False)


class RunView(Vertical):
    """A run in tabs; opens on Problems when a run that did not finish has problems."""

    def __init__(self, run: Run) -> None:
        super().__init__(id="record-body")
        self.run = run

    def compose(self) -> ComposeResult:
        run = self.run
        start = "tab-problems" if run.problems and run.status != "finished" else "tab-overview"
        with TabbedContent(initial=start, id="record-tabs"):
            with TabPane("Overview", id="tab-overview"):
                yield VerticalScroll(Static(overview_table(run), id="overview"))
            with TabPane("Config", id="tab-config"):
                yield config_tree(run.config)
            with TabPane("Env", id="tab-env"):
                yield VerticalScroll(Static(env_table(run)), Static(packages_table(run)))
            with TabPane("Data", id="tab-data"):
                yield VerticalScroll(Static(data_section(run)))
            with TabPane("Metrics", id="tab-metrics"):
                yield ChartGrid(id="run-charts")
                yield VerticalScroll(Static(metrics_table(run) or "no metrics recorded", id="metrics-table"), id="metrics-scroll")
            with TabPane("Artifacts", id="tab-artifacts"):
                yield VerticalScroll(Static(artifacts_table(run), id="artifacts"))
            with TabPane("Notes", id="tab-notes"):
                yield VerticalScroll(Markdown(visible(run.notes, one_line=False) or "*no notes*", open_links=False))
            with TabPane(f"Problems ({len(run.problems)})", id="tab-problems"):
                yield VerticalScroll(Static(problems_table(run.problems), id="problems"))
            with TabPane("Audit", id="tab-audit"):
                yield VerticalScroll(Static(audit_renderable(run)))
