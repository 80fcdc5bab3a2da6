"""One record in detail: a run in tabs (overview, config tree, environment, data, metrics with
curves, artifacts, notes, problems); a sweep or an A/B record as sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from runsift.core.fmt import format_number, format_value
from runsift.core.records import Problem, Record, Run, Sweep
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static, TabbedContent, TabPane, Tree
from textual.widgets.tree import TreeNode

from ..safe import literal, visible
from ..views import (
    STATUS_STYLE,
    kv_table,
    metrics_table,
    provenance_rows,
    rank_metrics,
    record_sections,
    splits_table,
)
from ..widgets.chart import Chart

if TYPE_CHECKING:
    from ..app import RunsiftApp

TREE_EXPAND_LIMIT = 60
"""Configs with at most this many leaves open fully expanded."""


def open_record(app: App[Any], record_id: str) -> None:
    """Push the screen that shows ``record_id``: a run's tabs, a sweep's leaderboard, an A/B replay."""
    kind = next((r.kind for r in app.catalog.summaries() if r.id == record_id), "run")  # type: ignore[attr-defined]
    if kind == "run":
        app.push_screen(RecordScreen(record_id))
        return
    from .experiments import ABScreen, SweepScreen

    def show(record: Any) -> None:
        app.push_screen(SweepScreen(record) if isinstance(record, Sweep) else ABScreen(record))

    def load() -> None:
        record = app.catalog.get(record_id)  # type: ignore[attr-defined]
        app.call_from_thread(show, record)

    app.run_worker(load, thread=True, exclusive=True, group="open")


class RecordScreen(Screen[None]):
    """Loads one record in a worker, then shows it."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
        Binding("right,l", "switch_tab(1)", "Tabs", key_display="←→", priority=True),
        Binding("left,h", "switch_tab(-1)", "Previous tab", show=False, priority=True),
        *(Binding(str(i), f"go_tab({i - 1})", show=False) for i in range(1, 10)),
        Binding("m", "mark", "Mark"),
        Binding("c", "next_curve", "Next curve"),
    ]

    app: RunsiftApp

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.record: Record | None = None
        self._curve = 0

    def compose(self) -> ComposeResult:
        yield Static(literal(self.record_id, "bold"), id="record-title")
        yield Static("loading…", id="record-loading")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        record = self.app.catalog.get(self.record_id)
        self.app.call_from_thread(self._show, record)

    def _show(self, record: Record) -> None:
        self.record = record
        title = Text.assemble(
            literal(record.id, "bold"),
            "  ",
            literal(record.kind if record.kind != "run" else record.status, STATUS_STYLE.get(record.status, "cyan")),
            (f"  {len(record.problems)} problem{'s' if len(record.problems) != 1 else ''}", "bold yellow") if record.problems else "",
        )
        self.query_one("#record-title", Static).update(title)
        self.query_one("#record-loading").remove()
        if isinstance(record, Run):
            self.mount(RunView(record), before=self.query_one(Footer))
        else:
            from .experiments import section_widgets

            self.mount(VerticalScroll(*section_widgets(sections_with_problems(record)), id="record-body"), before=self.query_one(Footer))

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-metrics":
            self._draw_curve()

    def _draw_curve(self) -> None:
        if not isinstance(self.record, Run):
            return
        series = self.record.metrics.series
        names = rank_metrics(sorted(series))
        chart = self.query_one("#run-chart", Chart)
        if not names:
            chart.set_series([])
            return
        name = names[self._curve % len(names)]
        chart.set_series([(name, series[name])])

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

    def action_next_curve(self) -> None:
        self._curve += 1
        self._draw_curve()

    def action_mark(self) -> None:
        if self.record is None or self.record.kind != "run":
            return
        marks = list(self.app.state.marks)
        if self.record.id not in marks:
            marks.append(self.record.id)
            marks = marks[-2:]
            self.notify(visible(f"Marked {self.record.name}. Mark another run and press d on the runs screen.", one_line=True), timeout=3, markup=False)
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
                yield VerticalScroll(Static(overview_table(run)))
            with TabPane("Config", id="tab-config"):
                yield config_tree(run.config)
            with TabPane("Env", id="tab-env"):
                yield VerticalScroll(Static(env_table(run)), Static(packages_table(run)))
            with TabPane("Data", id="tab-data"):
                yield VerticalScroll(Static(data_section(run)))
            with TabPane("Metrics", id="tab-metrics"):
                yield VerticalScroll(Static(metrics_table(run) or "no metrics recorded"), Chart(id="run-chart"))
            with TabPane("Artifacts", id="tab-artifacts"):
                yield VerticalScroll(Static(artifacts_table(run)))
            with TabPane("Notes", id="tab-notes"):
                yield VerticalScroll(Markdown(visible(run.notes, one_line=False) or "*no notes*", open_links=False))
            with TabPane(f"Problems ({len(run.problems)})", id="tab-problems"):
                yield VerticalScroll(Static(problems_table(run.problems)))
            with TabPane("Audit", id="tab-audit"):
                yield VerticalScroll(Static(audit_renderable(run)))


# -- section renderables ---------------------------------------------------------------


def overview_table(run: Run) -> Table:
    """Status, start, code, data, seeds and the final metrics at a glance."""
    metrics = ", ".join(f"{k} {format_number(v)}" for k, v in list(run.metrics.final.items())[:8])
    code = run.code.commit or "—"
    if run.code.dirty:
        code += f" (dirty: {len(run.code.changed_files)} files)" if run.code.changed_files else " (dirty)"
    data = " ".join(x for x in (run.data.name, run.data.version, run.data.format) if x) or None
    table = kv_table([
        *provenance_rows(run),
        ("project", run.project),
        ("sweep", run.sweep),
        ("commit", code),
        ("data", data),
        ("seeds", ", ".join(f"{k}={v}" for k, v in run.seeds.items())),
        ("metrics", metrics),
        ("python", run.env.python),
        ("problems", Text(str(len(run.problems)), style="bold yellow") if run.problems else None),
        ("path", run.path),
    ])
    return table or Table()


def env_table(run: Run) -> Table:
    """Interpreter, OS, hardware and extra facts."""
    return kv_table([
        ("python", run.env.python),
        ("os", run.env.os),
        ("hardware", "; ".join(run.env.hardware)),
        *run.env.extra.items(),
    ]) or Table()


def packages_table(run: Run) -> Table:
    """Every package with its version."""
    table = Table(box=None, header_style="bold", pad_edge=False, title=f"{len(run.env.packages)} packages", title_justify="left")
    table.add_column("package")
    table.add_column("version")
    for name, version in sorted(run.env.packages.items()):
        table.add_row(literal(name), literal(version))
    return table


def data_section(run: Run) -> Any:
    """Dataset facts and the splits."""
    from rich.console import Group

    data = kv_table([
        ("name", run.data.name),
        ("version", run.data.version),
        ("format", run.data.format),
        ("rows", run.data.rows),
        *run.data.hashes.items(),
        *run.data.extra.items(),
    ])
    parts: list[Any] = [data or Text("no data snapshot recorded", style="dim"), Text("")]
    parts.append(splits_table(run) or Text("no splits recorded", style="dim"))
    return Group(*parts)


def artifacts_table(run: Run) -> Any:
    """Artifacts with kind and size."""
    from runsift.core.fmt import format_size

    if not run.artifacts:
        return Text("no artifacts", style="dim")
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("path", "kind", "size"):
        table.add_column(col, justify="right" if col == "size" else "left")
    for a in run.artifacts:
        table.add_row(literal(a.path), a.kind, format_size(a.size))
    return table


def sections_with_problems(record: Record) -> list[tuple[str, Any]]:
    """A record's sections, then its problems when it has any."""
    sections = record_sections(record)
    if record.problems:
        sections.append(("Problems", problems_table(record.problems)))
    return sections


def problems_table(problems: tuple[Problem, ...]) -> Any:
    """Each problem with its file, line and message."""
    if not problems:
        return Text("No problems: every file was read.", style="green")
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("file", style="yellow")
    table.add_column("line", justify="right")
    table.add_column("problem")
    for p in problems:
        table.add_row(literal(p.file), str(p.line or ""), literal(p.message, one_line=False))
    return table


def audit_renderable(run: Run) -> Any:
    """What a teammate would have to guess to re-run this run (the Minimum Run Record)."""
    from rich.console import Group
    from runsift.core.audit import audit_run

    result = audit_run(run)
    head = Text(f"Minimum Run Record: {result.score:.0%} of {result.checks} items recorded", style="bold")
    if not result.findings:
        return Group(head, Text("Nothing would have to be guessed.", style="green"))
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("item", style="yellow", no_wrap=True)
    table.add_column("missing or guessed")
    for f in result.findings:
        table.add_row(f.item, literal(f.message, one_line=False))
    return Group(head, Text(""), table)


def config_tree(config: Mapping[str, Any]) -> Tree[None]:
    """The config as a collapsible tree; small configs open expanded."""
    tree: Tree[None] = Tree(Text("config", style="bold"), id="config-tree")
    tree.show_root = False
    leaves = _add_nodes(tree.root, config)
    tree.root.expand()
    if leaves <= TREE_EXPAND_LIMIT:
        tree.root.expand_all()
    return tree


def _add_nodes(node: TreeNode[None], value: Mapping[str, Any]) -> int:
    leaves = 0
    for key, child in value.items():
        if isinstance(child, Mapping) and child:
            branch = node.add(literal(key, "bold"))
            leaves += _add_nodes(branch, child)
        else:
            node.add_leaf(Text.assemble(literal(key, "bold"), ": ", literal(format_value(child))))
            leaves += 1
    if not value:
        node.add_leaf(Text("(empty)", style="dim"))
    return leaves
