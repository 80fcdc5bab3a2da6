"""Human output of the command line: Rich tables on stdout, errors and progress on stderr.

Every value that comes from a run is wrapped by :func:`runsift.tui.safe.literal`,
so markup or escape sequences in notes, configs or file names print as text.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runsift.core.contract import diff_json, record_json, summary_json
from runsift.core.diff import RunDiff
from runsift.core.query import FacetValue, is_facet
from runsift.core.records import Problem, Record, Run, Summary
from runsift.core.textsafe import csv_cell, json_text

from .safe import literal, visible
from .views import change_text, pair_cells, pair_texts, record_sections, run_status
from .widgets.run_table import table_key

__all__ = ["diff_json", "record_json", "summary_json"]

MAX_PROBLEMS_LISTED = 20


NO_WRAP_WIDTH = 100_000
"""Width of the error console when stderr is not a terminal: a message is one line per line, never cut at 80."""


def _console(stderr: bool = False) -> Console:
    if stderr and not sys.stderr.isatty():
        return Console(stderr=True, highlight=False, soft_wrap=False, width=NO_WRAP_WIDTH)
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def error(message: str) -> None:
    """Print an error on stderr."""
    _console(stderr=True).print(Text("runsift: ", style="bold red") + literal(message, one_line=False))


def note(message: str) -> None:
    """Print a note on stderr: not an error, something the user should know."""
    _console(stderr=True).print(literal(message, "yellow", one_line=False))


def print_json(doc: Any) -> None:
    """Strict JSON on stdout: indented for a person at a terminal, one line for a pipe or a file.

    Control, bidi and invisible characters in strings are written as ``\\uXXXX`` escapes (the same
    strings for a program, nothing a terminal acts on). (Indenting makes ``json`` fall back to its
    pure-Python encoder: 10k runs took over a second.)
    """
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json_text(doc, indent=indent) + "\n")


def print_json_stream(docs: Iterable[Any]) -> None:
    """:func:`print_json` of a list given one item at a time, written as they come (the same text, byte for byte)."""
    indent = 2 if sys.stdout.isatty() else None
    opened = False
    for doc in docs:
        text = json_text(doc, indent=indent)
        if indent is None:
            sys.stdout.write(("[" if not opened else ", ") + text)
        else:  # each line one level deeper, as json.dumps indents a list's items
            sys.stdout.write(("[\n" if not opened else ",\n") + "\n".join("  " + line for line in text.split("\n")))
        opened = True
    if not opened:
        sys.stdout.write("[]\n")
    else:
        sys.stdout.write("]\n" if indent is None else "\n]\n")


class ProgressPrinter:
    """Progress of indexing on stderr; silent unless stderr is a terminal and the work takes a while."""

    def __init__(self) -> None:
        self.console = _console(stderr=True)
        self.enabled = self.console.is_terminal
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total == 0:
            return
        now = time.monotonic()
        if now - self.started < 0.3 or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        self.shown = True
        self.console.file.write(f"\rindexing: {done:,}/{total:,} records read")
        self.console.file.flush()

    def close(self) -> None:
        if self.shown:
            self.console.file.write("\r\x1b[K")
            self.console.file.flush()


def progress_printer() -> ProgressPrinter:
    """A progress callback for Catalog.open."""
    return ProgressPrinter()


# -- problems ------------------------------------------------------------------------------


def print_problems(console: Console, problems: list[tuple[str, Problem]]) -> None:
    """Problems found (the first ones, then how many more), after a table."""
    if not problems:
        return
    console.print()
    console.print(Text(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}:", style="bold yellow"))
    for _, p in problems[:MAX_PROBLEMS_LISTED]:
        where = f"{p.file}:{p.line}" if p.line else p.file
        console.print(Text("  ") + literal(where, "yellow") + Text(": ") + literal(p.message))
    if len(problems) > MAX_PROBLEMS_LISTED:
        console.print(Text(f"  … and {len(problems) - MAX_PROBLEMS_LISTED} more (runsift show RUN lists a run's problems)", style="dim"))


def print_csv(
    pages: Iterable[tuple[Sequence[Summary], Mapping[str, Mapping[str, FacetValue]]]],
    metric_names: Sequence[str],
    columns: Sequence[str] | None = None,
) -> None:
    """Records as CSV, a page of rows (with their detail values) at a time: ``columns`` (the table's ``--columns``
    keys) when given, else the fixed fields and one column per metric.

    Cells hold values, not the table's display text: a metric's full ``repr``, a start time as
    recorded, a config value as written. Control, bidi and invisible characters are shown escaped.
    """
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if columns:
        writer.writerow([csv_cell(k) for k in columns])
        keys = [table_key(k) for k in columns]
        for rows, facets in pages:
            for r in rows:
                writer.writerow([_csv_value(r, k, facets) for k in keys])
        return
    head = ["id", "kind", "project", "name", "path", "status", "started", "sweep", "problems"]
    writer.writerow([csv_cell(h) for h in head + list(metric_names)])
    for rows, _ in pages:
        for r in rows:
            writer.writerow(
                [csv_cell(v) for v in (r.id, r.kind, r.project, r.name, r.path, r.status, r.started or "", r.sweep or "")]
                + [len(r.problems)]
                + [repr(r.metrics[m]) if m in r.metrics else "" for m in metric_names]
            )


def _csv_value(r: Summary, key: str, facets: Mapping[str, Mapping[str, FacetValue]]) -> str | int:
    """One CSV cell of column ``key`` (a table key): the value itself, empty when the record has none."""
    if key.startswith("metric:"):
        value = r.metrics.get(key[len("metric:") :])
        return "" if value is None else repr(value)
    if key == "problems":
        return len(r.problems)
    if is_facet(key):
        text, number = facets.get(key, {}).get(r.id, (None, None))
        if number is not None and text is None:
            return repr(number)
        return str(csv_cell(text or ""))
    value = getattr(r, key, None)
    if value is None:
        return ""
    return str(csv_cell(value if isinstance(value, str) else str(value)))


# -- show ------------------------------------------------------------------------------


def print_record(record: Record) -> None:
    """Everything about one record, section by section."""
    console = _console()
    for title, body in record_sections(record):
        if body is None:
            continue
        console.print(literal(title, "bold underline"))
        console.print(body)
        console.print()
    print_problems(console, [(record.id, p) for p in record.problems])


# -- diff ------------------------------------------------------------------------------

def print_diff(result: RunDiff, a: Run, b: Run) -> None:
    """Header naming both runs and the kinds of differences, then a table per section."""
    console = _console()
    header = Text.assemble(("A ", "bold"), literal(a.id), "  ", run_status(a), ("\nB ", "bold"), literal(b.id), "  ", run_status(b))
    console.print(Panel(Group(header, literal(result.summary(), "bold", one_line=False)), expand=False))
    for name, changes in result.sections.items():
        if not changes:
            continue
        table = Table(title=name, title_justify="left", title_style="bold underline", box=None, header_style="bold", pad_edge=False)
        table.add_column("path", overflow="fold")
        table.add_column("A", overflow="fold")
        table.add_column("B", overflow="fold")
        table.add_column("change", overflow="fold")
        for c in changes:
            table.add_row(literal(c.path), *pair_cells(c), change_text(c))
        console.print(table)
        console.print()
    if not result.has_differences:
        console.print(Text("No differences.", style="green"))


def print_audit(audits: Sequence[Any], projects: Sequence[Any]) -> None:
    """Per-run findings (worst first) and a per-project summary."""
    console = _console()
    table = Table(box=None, header_style="bold", pad_edge=False, collapse_padding=True)
    table.add_column("run", overflow="fold", max_width=40)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("missing or guessed", overflow="fold")
    for a in sorted(audits, key=lambda a: (a.score, a.id)):
        style = "green" if a.score >= 0.9 else "yellow" if a.score >= 0.7 else "red"
        table.add_row(literal(a.id), Text(f"{a.score:.0%}", style=style), literal("; ".join(f.message for f in a.findings) or "nothing"))
    console.print(table)
    console.print()
    summary = Table(box=None, header_style="bold", pad_edge=False, collapse_padding=True, title="by project", title_justify="left", title_style="bold")
    for col in ("project", "runs", "mean score", "most common gaps"):
        summary.add_column(col, justify="right" if col in ("runs", "mean score") else "left", overflow="fold")
    for p in projects:
        summary.add_row(literal(p.project), str(p.runs), f"{p.mean_score:.0%}", literal(", ".join(f"{item} ({n})" for item, n in p.common) or "—"))
    console.print(summary)


def print_renderable(renderable: Any) -> None:
    """Any Rich renderable on stdout."""
    _console().print(renderable)


def print_markdown(text: str) -> None:
    """Markdown for pasting into a pull request; any control character that slipped past the views shows escaped."""
    sys.stdout.write(visible(text))


def diff_markdown(result: RunDiff, a: Run, b: Run) -> str:
    """The diff as GitHub-flavoured Markdown tables."""
    from .markdown import cell, code

    lines = [f"### runsift diff: {code(a.id)} → {code(b.id)}", "", f"A: {cell(run_status(a).plain)} · B: {cell(run_status(b).plain)}", "",
             f"**{cell(result.summary())}**", ""]
    for name, changes in result.sections.items():
        if not changes:
            continue
        lines += [f"#### {name}", "", "| path | A | B | change |", "|---|---|---|---|"]
        for c in changes:
            ta, tb = pair_texts(c)
            lines.append(f"| {code(c.path)} | {cell(ta)} | {cell(tb)} | {cell(change_text(c).plain)} |")
        lines.append("")
    if not result.has_differences:
        lines.append("No differences.")
    return "\n".join(lines) + "\n"
