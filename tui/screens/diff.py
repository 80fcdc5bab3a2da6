"""Two runs side by side: why the metric moved (a panel that folds away), what differs section by
section, and their curves overlaid in a grid (A solid, B dotted, so they differ without colour)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Collapsible, Footer, Static

from runsift.core.diff import Change, RunDiff, diff_runs
from runsift.core.naming import display_name
from runsift.core.records import Run

from ..messages import RecordsChanged
from ..safe import literal
from ..trouble import catalog_work, while_open
from ..views import change_text, pair_cells, rank_metrics, run_status
from ..widgets.chart import ChartGrid

if TYPE_CHECKING:
    from ..app import RunsiftApp

SECTION_TITLES = {
    "config": "Config",
    "code": "Code",
    "env": "Environment",
    "data": "Data",
    "splits": "Splits",
    "seeds": "Seeds",
    "metrics": "Metrics",
    "notes": "Notes",
    "artifacts": "Artifacts",
}


class DiffScreen(Screen[None]):
    """Run A against run B; changes only by default, ``a`` shows everything."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
        # short labels so the footer fits 80 columns; ? shows the tooltips
        Binding("a", "toggle_all", "All", tooltip="Changes only, or everything"),
        Binding("x", "swap", "Swap", tooltip="Swap A and B"),
        Binding("c", "next_curve", "Curves", tooltip="More curves"),
        Binding("z", "zoom", "Zoom"),
        Binding("e", "explain_next", "Explain next"),
        Binding("E", "toggle_explain", "Fold", key_display="E"),
    ]
    HELP: ClassVar[str] = (
        "Run A against run B. On top, why the primary metric moved (verdict first, then the evidence); "
        "e explains the next metric both runs recorded and scrolls to it, E folds the panel away. Then "
        "every difference in what produced the runs, section by section, and the curves both recorded, "
        "A drawn solid and B dotted, as many as fit."
    )

    app: RunsiftApp

    def __init__(self, a_id: str, b_id: str) -> None:
        super().__init__()
        self.a_id, self.b_id = a_id, b_id
        self.show_all = False
        self.runs: tuple[Run, Run] | None = None
        self._diff: RunDiff | None = None
        self._explain_index = 0

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("A ", "bold"), literal(self.a_id), "\n", ("B ", "bold"), literal(self.b_id), "\ncomparing…"), id="diff-header")
        with VerticalScroll(id="diff-body"):
            with Collapsible(title="Explain", collapsed=False, id="explain"):
                yield Static(Text("Explaining the change… (runs in the background)", style="dim"), id="explain-panel")
            yield Static("", id="diff-sections")
            yield ChartGrid(id="diff-chart")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.compute()
        self.explain()

    @work(thread=True, exclusive=True, group="explain")
    def explain(self, metric: str | None = None) -> None:
        """Why the primary metric moved: verdict first, then the evidence (off the UI thread)."""
        from runsift.core.explain import explain

        try:
            result = explain(self.app.catalog, self.a_id, self.b_id, metric)
        except Exception as exc:
            self.app.call_from_thread(self._show_explanation, literal(f"No explanation: {exc}", "yellow", one_line=False))
            return
        from ..explain_view import explanation_renderable

        self.app.call_from_thread(self._show_explanation, explanation_renderable(result))

    @while_open
    def _show_explanation(self, renderable: RenderableType) -> None:
        from rich.panel import Panel

        self.query_one("#explain-panel", Static).update(Panel(renderable, border_style="cyan"))
        if self._explain_index:  # asked for with e: bring the new explanation into view
            self._reveal_explanation()

    def _reveal_explanation(self) -> None:
        panel = self.query_one("#explain", Collapsible)
        panel.collapsed = False
        self.query_one("#diff-body", VerticalScroll).scroll_to_widget(panel, top=True, animate=False)

    @work(thread=True, exclusive=True)
    @catalog_work
    def compute(self) -> None:
        """Load both runs and diff them off the UI thread (split overlaps read id files)."""
        catalog = self.app.catalog
        a, b = catalog.get(self.a_id), catalog.get(self.b_id)
        if not isinstance(a, Run) or not isinstance(b, Run):
            self.app.call_from_thread(self.notify, "Both marked records must be runs.", severity="error")
            return
        result = diff_runs(a, b, include_same=self.show_all, root=catalog.root)
        self.app.call_from_thread(self._show, (a, b), result)

    @while_open
    def _show(self, runs: tuple[Run, Run], result: RunDiff) -> None:
        self.runs, self._diff = runs, result
        a, b = runs
        mode = "everything" if self.show_all else "changes only (a: show everything)"
        header = Text.assemble(
            ("A ", "bold"), literal(a.id), "  ", run_status(a), "\n",
            ("B ", "bold"), literal(b.id), "  ", run_status(b), "\n",
            literal(result.summary(), "bold", one_line=False), ("  ·  " + mode, "dim"),
        )
        self.query_one("#diff-header", Static).update(header)
        self.query_one("#diff-sections", Static).update(sections_renderable(result, a, b))
        self._draw_curve()

    def _draw_curve(self) -> None:
        if self.runs is None:
            return
        a, b = self.runs
        shared = rank_metrics(sorted(set(a.metrics.series) & set(b.metrics.series)))
        self.query_one("#diff-chart", ChartGrid).set_panels(
            [(name, [("A", a.metrics.series[name]), ("B", b.metrics.series[name])]) for name in shared]
        )

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.compute()

    def action_swap(self) -> None:
        self.a_id, self.b_id = self.b_id, self.a_id
        self.compute()
        self.explain()

    def action_explain_next(self) -> None:
        """Explain the next metric both runs recorded."""
        if self.runs is None:
            return
        a, b = self.runs
        shared = rank_metrics([m for m in a.metrics.final if m in b.metrics.final])
        if not shared:
            return
        self._explain_index = (self._explain_index + 1) % len(shared)
        self.query_one("#explain-panel", Static).update(literal(f"Explaining {shared[self._explain_index]}…", "dim"))
        self._reveal_explanation()
        self.explain(shared[self._explain_index])

    def action_toggle_explain(self) -> None:
        panel = self.query_one("#explain", Collapsible)
        panel.collapsed = not panel.collapsed

    def action_next_curve(self) -> None:
        self.query_one("#diff-chart", ChartGrid).next_page()

    def action_zoom(self) -> None:
        fraction = self.query_one("#diff-chart", ChartGrid).cycle_zoom()
        self.notify("all steps" if fraction >= 1 else f"last {fraction:.0%} of the steps, value axis fitted to them", timeout=2)

    @on(RecordsChanged)
    def _records_changed(self, event: RecordsChanged) -> None:
        """A run being written moved on: diff it again (the explanation stays until asked for)."""
        if {self.a_id, self.b_id} & event.ids:
            self.compute()


def sections_renderable(result: RunDiff, a: Run, b: Run) -> Table:
    """One table for all sections: a title row per section, then path | A | B | change."""
    table = Table(box=None, header_style="bold", pad_edge=False, expand=True, show_edge=False)
    table.add_column("", ratio=3, overflow="fold")
    table.add_column(Text("A ") + literal(display_name(a.name, a.sweep)), ratio=3, overflow="fold")
    table.add_column(Text("B ") + literal(display_name(b.name, b.sweep)), ratio=3, overflow="fold")
    table.add_column("change", ratio=3, overflow="fold")
    any_rows = False
    for name, changes in result.sections.items():
        if not changes:
            continue
        any_rows = True
        table.add_row(Text(SECTION_TITLES.get(name, name), style="bold underline"), "", "", "")
        for c in changes:
            changed = c.change != "same"
            table.add_row(literal(c.path, "" if changed else "dim"), *_cells(c, changed), change_text(c))
        table.add_row("", "", "", "")
    if not any_rows:
        table.add_row(Text("No differences in what produced these runs.", style="green"), "", "", "")
    return table


def _cells(c: Change, changed: bool) -> tuple[Text, Text]:
    """A change's two values (a metric's at one precision), bold when they are part of a change."""
    cells = pair_cells(c, 80)
    if changed:
        for cell in cells:
            cell.stylize("bold")
    return cells
