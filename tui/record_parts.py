"""A record's parts as renderables: the tables and trees the record, sweep and A/B screens show.

Kept apart from the screens so that no screen imports another (navigation belongs to the app).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from runsift.core.fmt import format_measured, format_value
from runsift.core.records import Problem, Record, Run
from runsift.core.remotepaths import shown_path

from .safe import literal
from .views import kv_table, provenance_rows, record_sections, splits_table

TREE_EXPAND_LIMIT = 60
"""Configs with at most this many leaves open fully expanded."""


def section_widgets(sections: list[tuple[str, Any]]) -> ComposeResult:
    """A heading and a body Static for each non-empty section of a record."""
    for heading, renderable in sections:
        if renderable is not None:
            yield Static(literal(heading, "bold underline"))
            yield Static(renderable, classes="section")


def overview_table(run: Run) -> Table:
    """Status, start, code, data, seeds and the final metrics at a glance."""
    metrics = ", ".join(f"{k} {format_measured(v)}" for k, v in list(run.metrics.final.items())[:8])
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
        ("path", shown_path(run.path)),
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
