"""``runsift ls`` as a table: the columns the shown rows need, fitted to a terminal, whole for a pipe.

Columns come from :mod:`runsift.core.columns` (each project's primary metric first) unless
``--columns`` names them. Cells are the runs table's (:func:`runsift.tui.widgets.run_table.cell_text`),
so the app and the command line show a value the same way: one precision per column, NaN as NaN,
``~`` before a guessed start or status, ``!N`` after the name of a record with problems.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from runsift.core.columns import BASE_KEYS, common_decimals, default_columns
from runsift.core.query import FacetValue
from runsift.core.records import Problem, Summary

from .safe import visible
from .views import STATUS_STYLE
from .widgets.run_table import (
    GUESSED,
    cell_number,
    cell_text,
    fit,
    problem_marker,
    table_key,
)

Facets = Mapping[str, Mapping[str, FacetValue]]
PIPE_WIDTH = 100_000
"""Console width when stdout is not a terminal: rows never wrap in a file or a pipe."""
GAP = 2
_GAP = " " * GAP
MAX_NAME = 36
MAX_CELL = 60
"""Widest any other cell gets (an error's last line, a long config value)."""
SAMPLE = 1000
"""Rows measured for column widths."""
SHRINK_TO = {"name": 16, "project": 8}
"""Narrowest the text columns get when metrics need the room."""


def choose_columns(rows: Sequence[Summary], width: int | None, sweep_metric: Callable[[str], str | None]) -> tuple[list[str], int]:
    """Default columns for ``rows``, as many metrics as ``width`` fits (None: all); and how many were left out.

    Name and project may shrink (cut with ``…``) down to :data:`SHRINK_TO` to make room for metrics:
    a project's primary metric matters more than the end of a long name.
    """
    keys = default_columns(rows, sweep_metric)
    if width is None:
        return keys, 0
    base = list(BASE_KEYS)
    used = sum(min(_natural(rows, k), SHRINK_TO.get(k, 1000)) for k in base) + GAP * (len(base) - 1)
    shown = list(base)
    for key in keys[len(base) :]:
        need = _natural(rows, key) + GAP
        if used + need > width:
            break
        shown.append(key)
        used += need
    return shown, len(keys) - len(shown)


def text_widths(rows: Sequence[Summary], keys: Sequence[str], width: int | None) -> dict[str, int]:
    """Widths of the name and project columns so that ``keys`` fit ``width``: the room left, shared."""
    natural = {k: _natural(rows, k) for k in keys}
    if width is None:
        return {k: natural[k] for k in SHRINK_TO if k in natural}
    spare = width - (sum(natural.values()) + GAP * (len(keys) - 1))
    out: dict[str, int] = {}
    for key in ("name", "project"):  # shrink the name first: its start tells runs apart, the project repeats
        if key not in natural:
            continue
        cut = min(max(-spare, 0), natural[key] - min(SHRINK_TO[key], natural[key]))
        out[key] = natural[key] - cut
        spare += cut
    return out


def _natural(rows: Sequence[Summary], key: str) -> int:
    """Width a column wants (header or widest cell of the first rows), name and project capped."""
    sample = rows[:200]
    tkey = table_key(key)
    decimals = common_decimals(cell_number(r, tkey) for r in sample)
    widest = max((len(cell_text(r, tkey, None, decimals)) + (len(problem_marker(r)) if key == "name" else 0) for r in sample), default=0)
    if key in ("started", "status"):
        widest += len(GUESSED)
    widest = max(widest, len(key))
    return min(widest, MAX_NAME) if key in ("name", "project") else widest


def _style(row: Summary, tkey: str, text: str) -> str:
    """Colour of a cell in a terminal: status, a guessed start or a missing value dimmed, problems in yellow."""
    if tkey == "status":
        return STATUS_STYLE.get(row.status, "") if row.kind == "run" else "cyan"
    if text == "—" or (tkey == "started" and text.startswith(GUESSED)):
        return "dim"
    if tkey == "name" and row.problems:
        return "yellow"
    return ""


def print_table(
    rows: Sequence[Summary],
    keys: Sequence[str],
    facets: Facets,
    walk_problems: Sequence[Problem],
    total: int,
    hidden: int,
    console: Console,
    print_problems: Callable[[Console, list[tuple[str, Problem]]], None],
    width: int | None = None,
) -> None:
    """The records with columns ``keys``, then the problems found and a count (with a legend when needed).

    Laid out here, not by a Rich ``Table``: widths come from the first rows (a longer cell further down
    is cut with ``…``, as in the app), so each row is written as soon as it is formatted. Rich measured
    and wrapped every cell of every row first: seconds at a few thousand runs.
    """
    tkeys = [table_key(k) for k in keys]
    sample = rows[:SAMPLE]
    decimals = [common_decimals(cell_number(r, k, facets) for r in sample) for k in tkeys]
    caps = text_widths(rows, keys, width)
    widths, right = [], []
    for key, tkey, places in zip(keys, tkeys, decimals):
        widest = max((cell_len(cell_text(r, tkey, facets, places)) + (len(problem_marker(r)) if tkey == "name" else 0) for r in sample), default=0)
        widths.append(min(max(widest, cell_len(visible(key, one_line=True))), caps.get(key, MAX_CELL)))
        right.append(tkey.startswith("metric:") or places is not None)
    color = console.is_terminal and not console.no_color
    out = console.file
    header = _GAP.join(fit(visible(k, one_line=True), w, "right" if r else "left") for k, w, r in zip(keys, widths, right))
    guessed = False
    if rows:
        if color:
            console.print(Text(header.rstrip(), style="bold"))
        else:
            out.write(header.rstrip() + "\n")
    for row in rows:
        plain: list[str] = []
        styled = Text() if color else None
        for i, (tkey, places, w, r) in enumerate(zip(tkeys, decimals, widths, right)):
            text = cell_text(row, tkey, facets, places)
            marker = problem_marker(row) if tkey == "name" else ""
            cell = fit(text, w - len(marker), "right" if r else "left")
            if marker:
                stripped = cell.rstrip(" ")
                cell = stripped + marker + " " * (cell_len(cell) - cell_len(stripped))
            if tkey in ("started", "status") and text.startswith(GUESSED):
                guessed = True
            if styled is not None:
                if i:
                    styled.append(_GAP)
                styled.append(cell, style=_style(row, tkey, text))
            else:
                plain.append(cell)
        if styled is not None:
            styled.rstrip()
            console.print(styled)
        else:
            out.write(_GAP.join(plain).rstrip() + "\n")
    print_problems(console, [(r.id, p) for r in rows for p in r.problems] + [("", p) for p in walk_problems])
    shown = f"{len(rows):,} of {total:,} records" if len(rows) != total else f"{total:,} records"
    if guessed:
        shown += f"; {GUESSED} guessed (a start from file times or logs, a status from how the run's files end), not recorded"
    if hidden > 0:
        shown += f"; {hidden} more column{'s' if hidden != 1 else ''}: --columns, --format json/csv or a wider terminal"
    console.print(Text(shown, style="dim"))
