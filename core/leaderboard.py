"""A sweep's leaderboard recomputed from its member runs, checked against the saved ``leaderboard.csv``.

Tutorial Example 3 asks that anyone can "verify the leaderboard sorting by the same
metrics". :func:`build_leaderboard` ranks the sweep's runs by their own final metric
(the one ``sweep.yaml`` names) and groups seed replicates into configurations so the
top two can be judged against seed noise; :func:`verify` lists every way the saved
board disagrees with the runs; :func:`leaderboard_json` is the JSON document of both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .goals import Goal
from .leaderboard_build import _build, _load_runs, build_leaderboard, separability
from .leaderboard_model import (
    ALPHA,
    NOT_SEPARABLE,
    BoardRow,
    ConfigGroup,
    GoalSource,
    Leaderboard,
    LeaderboardError,
    Mismatch,
    MismatchKind,
    Separability,
    _board_column,
    _cell_number,
)
from .readers.sweep import RUN_ID_COLUMNS
from .records import LeaderboardRow, Run, Sweep
from .serialize import json_document

if TYPE_CHECKING:
    from .backend import Backend

# The leaderboard API, defined here and in the modules above.
__all__ = [
    "ALPHA",
    "NOT_SEPARABLE",
    "BoardRow",
    "ConfigGroup",
    "GoalSource",
    "Leaderboard",
    "LeaderboardError",
    "Mismatch",
    "MismatchKind",
    "Separability",
    "build_leaderboard",
    "leaderboard_json",
    "separability",
    "verify",
]


def verify(catalog: Backend, sweep: Sweep) -> list[Mismatch]:
    """Every disagreement between the saved leaderboard.csv and the sweep's runs (empty when it checks out)."""
    runs = _load_runs(catalog, sweep)
    return _verify(sweep, runs, _build(sweep, runs))


def _verify(sweep: Sweep, runs: Sequence[Run], board: Leaderboard) -> list[Mismatch]:
    """:func:`verify` over already loaded runs and their recomputed board."""
    if not sweep.leaderboard_columns:
        return []  # no saved board: nothing to check
    out: list[Mismatch] = []
    column = _board_column(sweep, board.metric)
    if column is None:
        shown = _likely_metric_column(sweep, runs)
        ranked = f"; it looks ranked by {shown!r}" if shown else ""
        out.append(
            Mismatch(
                "metric",
                None,
                f"leaderboard.csv has no column for {board.metric!r}, the metric sweep.yaml names{ranked}; "
                f"columns: {', '.join(sweep.leaderboard_columns)}",
                None,
            )
        )
    by_id = {r.id: r for r in runs}
    values = {row.run_id: row.value for row in board.rows}
    resolve = _run_resolver(runs)
    matched: dict[str, int] = {}
    for row in sweep.leaderboard:
        run_id = resolve(row.run_id)
        if run_id is None:
            out.append(Mismatch("missing_run", row.run_id, f"row names {row.run_id!r}, which is no run of this sweep", row.line))
            continue
        if run_id in matched:
            out.append(
                Mismatch("duplicate_row", run_id, f"{row.run_id!r} has a row already (line {matched[run_id]})", row.line)
            )
            continue
        matched[run_id] = row.line
        if column is not None:
            problem = _value_problem(row, column, by_id[run_id], values.get(run_id), board)
            if problem is not None:
                out.append(Mismatch("value", run_id, problem, row.line))
    if column is not None:
        out.extend(_order_problems(sweep, column, board.goal, board.goal_source, resolve))
    for board_row in board.rows:
        if board_row.value is not None and board_row.run_id not in matched:
            out.append(
                Mismatch("missing_row", board_row.run_id, f"{board_row.name} has {board.run_metric} = {board_row.value!r} but no row", None)
            )
    return out


def _likely_metric_column(sweep: Sweep, runs: Sequence[Run]) -> str | None:
    """The column a board seems ranked by: the first that is a metric of the runs, else the first numeric one."""
    names = {k.lower() for r in runs for k in r.metrics.final}
    candidates = [c for c in sweep.leaderboard_columns if c.lower() not in RUN_ID_COLUMNS]
    for c in candidates:
        if c.lower() in names:
            return c
    for c in candidates:
        cells = [row.values.get(c) for row in sweep.leaderboard]
        if cells and all(_cell_number(x) is not None for x in cells):
            return c
    return None


def _run_resolver(runs: Sequence[Run]) -> Callable[[str], str | None]:
    """A function from a board's run id text to a catalog run id (id, folder name, metrics run_id; any case)."""
    exact: dict[str, str] = {}
    lower: dict[str, str] = {}
    for r in runs:
        keys = [r.id, r.name, r.id.rsplit("/", 1)[-1]]
        recorded = r.metrics.extra.get("run_id")
        if isinstance(recorded, (str, int)) and not isinstance(recorded, bool):
            keys.append(str(recorded))
        for k in keys:
            exact.setdefault(k, r.id)
            lower.setdefault(k.lower(), r.id)

    def resolve(text: str) -> str | None:
        """The catalog id a board's run id text names, or None."""
        t = text.strip().rstrip("/")
        for candidate in (t, t.rsplit("/", 1)[-1]):
            if candidate in exact:
                return exact[candidate]
            if candidate.lower() in lower:
                return lower[candidate.lower()]
        return None

    return resolve


def _decimals(cell: str) -> int:
    """How many decimals a number cell was written with (``0.9185`` -> 4, ``1.2e-05`` -> 6, ``100`` -> 0)."""
    try:
        exponent = Decimal(cell.strip()).as_tuple().exponent
    except InvalidOperation:
        return 0
    return -exponent if isinstance(exponent, int) else 0


def _agrees(saved: float, recomputed: float, decimals: int) -> bool:
    """True when ``recomputed`` rounds to ``saved`` at ``decimals`` (within half a unit of the last decimal)."""
    half = 0.5 * 10.0 ** (-decimals)
    return abs(recomputed - saved) <= half * (1 + 1e-9) + 1e-12 * max(1.0, abs(saved))


def _value_problem(row: LeaderboardRow, column: str, run: Run, value: float | None, board: Leaderboard) -> str | None:
    """Why the row's saved value disagrees with the run, or None."""
    cell = row.values.get(column, "")
    saved = _cell_number(cell)
    metric = board.run_metric or board.metric
    if value is None:
        if saved is None:
            return None
        return f"board says {cell} but {run.name} recorded no {metric}"
    if saved is None:
        return f"board has {cell.strip()!r} but {run.name}'s {metric} is {value!r}"
    decimals = _decimals(cell)
    if _agrees(saved, value, decimals):
        return None
    return (
        f"board says {cell.strip()} but {run.name}'s {metric} is {value!r} "
        f"({value:.{max(decimals, 0)}f} at the board's {decimals} decimals)"
    )


def _order_problems(
    sweep: Sweep, column: str, goal: Goal, source: GoalSource, resolve: Callable[[str], str | None]
) -> list[Mismatch]:
    """Rows whose saved value is better than the row above (by the goal), or valued rows below blank ones."""
    out: list[Mismatch] = []
    previous: float | None = None
    previous_line: int | None = None
    blank_line: int | None = None
    word = "higher" if goal == "max" else "lower"
    basis = "" if source in ("sweep", "definition", "name") else f" ({word} assumed better)"
    for row in sweep.leaderboard:
        value = _cell_number(row.values.get(column))
        who = resolve(row.run_id) or row.run_id
        if value is None:
            blank_line = blank_line or row.line
            continue
        if blank_line is not None:
            out.append(Mismatch("order", who, f"row with a value below a row without one (line {blank_line})", row.line))
        elif previous is not None and ((value > previous) if goal == "max" else (value < previous)):
            out.append(
                Mismatch(
                    "order",
                    who,
                    f"{column} {row.values.get(column, '').strip()} is {word} than {previous!r} on line {previous_line}: "
                    f"rows are not sorted by {goal}{basis}",
                    row.line,
                )
            )
        previous, previous_line = value, row.line
    return out


def leaderboard_json(lb: Leaderboard, mismatches: Sequence[Mismatch]) -> dict[str, Any]:
    """The leaderboard document: ranked rows, configurations, the top-two noise check and the board's mismatches."""
    winner = lb.winner
    sep = lb.separable
    return json_document(
        {
            "sweep": lb.sweep,
            "metric": lb.metric,
            "run_metric": lb.run_metric,
            "goal": lb.goal,
            "goal_source": lb.goal_source,
            "varying_params": list(lb.varying),
            "winner": winner.run_id if winner else None,
            "leaderboard": [
                {
                    "rank": i,
                    "run_id": r.run_id,
                    "name": r.name,
                    "value": r.value,
                    "params": dict(r.params),
                    "status": r.status,
                    "status_source": r.status_source,
                }
                for i, r in enumerate(lb.rows, start=1)
            ],
            "groups": [
                {
                    "rank": i,
                    "run_ids": list(g.run_ids),
                    "names": list(g.names),
                    "params": dict(g.params),
                    "n": g.n,
                    "mean": g.mean,
                    "std": g.std,
                    "values": list(g.values),
                }
                for i, g in enumerate(lb.groups, start=1)
            ],
            "separable": None
            if sep is None
            else {
                "method": sep.method,
                "gap": sep.gap,
                "p_value": sep.p_value,
                "statistic": sep.statistic,
                "sigma": sep.sigma,
                "df": sep.df,
                "separable": sep.separable,
                "message": sep.message,
            },
            "flags": list(lb.flags),
            "verified": not mismatches,
            "mismatches": [
                {"kind": m.kind, "run_id": m.run_id, "message": m.message, "line": m.line} for m in mismatches
            ],
        }
    )
