"""A sweep's leaderboard recomputed from its member runs, checked against the saved ``leaderboard.csv``.

Tutorial Example 3 asks that anyone can "verify the leaderboard sorting by the same
metrics". :func:`build_leaderboard` ranks the sweep's runs by their own final metric
(the one ``sweep.yaml`` names) and groups seed replicates into configurations so the
top two can be judged against seed noise; :func:`verify` lists every way the saved
board disagrees with the runs; :func:`leaderboard_json` is the JSON document of both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from .factors import LABEL_KEYS, SEED_KEY, SEEDS, canonical, differing, run_factors
from .goals import Goal, metric_goal
from .mappings import flatten
from .readers.sweep import RUN_ID_COLUMNS
from .records import LeaderboardRow, Run, Sweep
from .serialize import json_document

if TYPE_CHECKING:
    from .catalog import Catalog

ALPHA = 0.05
"""Top two configurations whose difference has p >= ALPHA are flagged as not separable."""
NOT_SEPARABLE = "top two not separable"
"""The flag set when the top two configurations cannot be told apart from seed noise."""

GoalSource = Literal["sweep", "definition", "name", "board", "assumed"]
MismatchKind = Literal["value", "order", "missing_run", "missing_row", "metric", "duplicate_row"]


class LeaderboardError(ValueError):
    """The sweep gives no metric to rank by."""


# -- results --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One run on the recomputed board: its own final metric, the parameters that vary, its status."""

    run_id: str
    """Catalog id of the run."""
    name: str
    """Run folder name (what leaderboard.csv files usually write)."""
    value: float | None
    """The run's final value of the sweep metric; None when it has none (failed runs)."""
    params: Mapping[str, Any]
    """Dotted config path -> value, for the parameters that vary across the sweep (seeds excluded)."""
    status: str


@dataclass(frozen=True, slots=True)
class ConfigGroup:
    """Runs that are seed replicates of each other (identical factors but seeds): one configuration."""

    run_ids: tuple[str, ...]
    names: tuple[str, ...]
    params: Mapping[str, Any]
    values: tuple[float, ...]
    mean: float
    std: float | None
    """Sample standard deviation (ddof=1); None for a single run."""

    @property
    def n(self) -> int:
        """Number of runs in the configuration."""
        return len(self.values)


@dataclass(frozen=True, slots=True)
class Separability:
    """Whether the best configuration is really better than the second, or within seed noise."""

    method: Literal["welch", "prediction_interval", "none"]
    """welch: both have 2+ runs; prediction_interval: one run against 2+ seeds of the other; none: too few replicates."""
    gap: float
    """|mean of the best - mean of the second|."""
    p_value: float | None
    statistic: float | None
    """Welch's t, or |t| = gap / (s * sqrt(1 + 1/k)) of the prediction interval."""
    sigma: float | None
    """The replicated configuration's standard deviation s (prediction interval only)."""
    separable: bool | None
    """True when p < ALPHA; None when it cannot be judged."""
    message: str
    df: float | None = None
    """Degrees of freedom of the t distribution used (Welch-Satterthwaite, or k - 1)."""


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """A sweep's runs ranked by their own final metric, with configurations and a noise check of the top two."""

    sweep: str
    metric: str
    """The metric as sweep.yaml names it."""
    run_metric: str | None
    """The same metric as the runs spell it (matched case-insensitively); None when no run has it."""
    goal: Goal
    goal_source: GoalSource
    varying: tuple[str, ...]
    """Config paths that vary across the sweep's runs."""
    rows: tuple[BoardRow, ...]
    groups: tuple[ConfigGroup, ...]
    separable: Separability | None
    flags: tuple[str, ...]

    @property
    def winner(self) -> BoardRow | None:
        """The best run with a value, or None."""
        return self.rows[0] if self.rows and self.rows[0].value is not None else None


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement between the saved leaderboard.csv and the runs."""

    kind: MismatchKind
    run_id: str | None
    """Catalog id of the run when known, else the id as written on the board."""
    message: str
    line: int | None
    """Line of leaderboard.csv (None for a run with no row, or the header)."""


# -- building -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Member:
    """A loaded member run and its value of the sweep metric."""

    run: Run
    value: float | None


def build_leaderboard(catalog: Catalog, sweep: Sweep) -> Leaderboard:
    """Rank the sweep's runs by their own final metric and group seed replicates into configurations."""
    runs = _load_runs(catalog, sweep)
    return _build(sweep, runs)


def _build(sweep: Sweep, runs: Sequence[Run]) -> Leaderboard:
    """:func:`build_leaderboard` over already loaded runs."""
    metric = _sweep_metric(sweep, runs)
    run_metric = _run_metric_name(metric, runs)
    goal, source = _goal(sweep, metric, run_metric, runs)
    members = [_Member(r, _value(r, run_metric)) for r in runs]
    varying = _varying(runs)
    sign = -1.0 if goal == "max" else 1.0
    ordered = sorted(
        members,
        key=lambda m: (m.value is None, sign * m.value if m.value is not None else 0.0, m.run.name, m.run.id),
    )
    rows = tuple(BoardRow(m.run.id, m.run.name, m.value, _params(m.run, varying), m.run.status) for m in ordered)
    groups = _groups([m for m in ordered if m.value is not None], run_metric, varying, sign)
    separable = separability(groups)
    flags: list[str] = []
    if separable is not None and separable.separable is False:
        flags.append(NOT_SEPARABLE)
    return Leaderboard(
        sweep=sweep.id,
        metric=metric,
        run_metric=run_metric,
        goal=goal,
        goal_source=source,
        varying=varying,
        rows=rows,
        groups=groups,
        separable=separable,
        flags=tuple(flags),
    )


def _load_runs(catalog: Catalog, sweep: Sweep) -> list[Run]:
    """The sweep's member runs that the catalog can load, in id order."""
    from .catalog import CatalogError

    runs: list[Run] = []
    for rid in sweep.run_ids:
        try:
            record = catalog.get(rid)
        except CatalogError:
            continue
        if isinstance(record, Run):
            runs.append(record)
    return runs


def _sweep_metric(sweep: Sweep, runs: Sequence[Run]) -> str:
    """The metric to rank by: sweep.yaml's, else a board column that is a metric of the runs."""
    if sweep.metric:
        return sweep.metric
    names = {k.lower() for r in runs for k in r.metrics.final}
    for column in sweep.leaderboard_columns:
        if column.lower() in names and column.lower() not in RUN_ID_COLUMNS:
            return column
    raise LeaderboardError(f"sweep {sweep.id} names no metric (sweep.yaml metric:, or an objective its sweeper recorded) and no board column is a run metric")


def _run_metric_name(metric: str, runs: Sequence[Run]) -> str | None:
    """How the runs spell ``metric``: an exact match first, else a case-insensitive one."""
    if any(metric in r.metrics.final for r in runs):
        return metric
    lower = metric.lower()
    for r in runs:
        for key in r.metrics.final:
            if key.lower() == lower:
                return key
    return None


def _value(run: Run, run_metric: str | None) -> float | None:
    """A run's final value of the metric; None when missing or not finite."""
    if run_metric is None:
        return None
    raw = run.metrics.final.get(run_metric)
    if raw is None:
        lower = run_metric.lower()
        raw = next((v for k, v in run.metrics.final.items() if k.lower() == lower), None)
    try:
        value = float(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None
    return value if value is not None and math.isfinite(value) else None


def _goal(sweep: Sweep, metric: str, run_metric: str | None, runs: Sequence[Run]) -> tuple[Goal, GoalSource]:
    """Which way is better: sweep.yaml's goal, else the metric definition, else the name, else the board."""
    if sweep.goal is not None:
        return sweep.goal, "sweep"
    definition = None
    if run_metric is not None:
        definition = next((r.metrics.definitions[run_metric] for r in runs if run_metric in r.metrics.definitions), None)
    if definition is not None and definition.goal is not None:
        return definition.goal, "definition"
    named = metric_goal(run_metric or metric)
    if named is not None:
        return named, "name"
    column = _board_column(sweep, metric)
    if column is not None:
        values = [v for v in (_cell_number(r.values.get(column)) for r in sweep.leaderboard) if v is not None]
        steps = [b - a for a, b in pairwise(values) if b != a]
        if steps and all(s < 0 for s in steps):
            return "max", "board"
        if steps and all(s > 0 for s in steps):
            return "min", "board"
    return "max", "assumed"


def _config_paths(run: Run) -> dict[str, Any]:
    """Dotted config path -> value, without seeds and run labels."""
    return {p: v for p, v in flatten(run.config) if not SEED_KEY.search(p) and not LABEL_KEYS.search(p)}


def _varying(runs: Sequence[Run]) -> tuple[str, ...]:
    """Config paths whose value is not the same in every run (a path missing somewhere varies)."""
    configs = [_config_paths(r) for r in runs]
    paths = sorted({p for c in configs for p in c})
    out = []
    for path in paths:
        seen = {canonical(c[path]) if path in c else "\x00missing" for c in configs}
        if len(seen) > 1:
            out.append(path)
    return tuple(out)


def _params(run: Run, varying: Sequence[str]) -> dict[str, Any]:
    """The varying parameters' values in one run (None where the run does not set one)."""
    config = _config_paths(run)
    return {p: config.get(p) for p in varying}


def _groups(members: Sequence[_Member], run_metric: str | None, varying: Sequence[str], sign: float) -> tuple[ConfigGroup, ...]:
    """Seed-replicate groups of the runs with a value, best mean first."""
    clusters: list[tuple[dict[str, Any], list[_Member]]] = []
    for m in sorted(members, key=lambda m: (m.run.name, m.run.id)):
        factors = run_factors(m.run, run_metric)
        for head, group in clusters:
            if not differing(head, factors, ignore=frozenset({SEEDS})):
                group.append(m)
                break
        else:
            clusters.append((factors, [m]))
    groups = []
    for _, group in clusters:
        values = tuple(float(m.value) for m in group if m.value is not None)
        mean = math.fsum(values) / len(values)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else None
        groups.append(
            ConfigGroup(
                run_ids=tuple(m.run.id for m in group),
                names=tuple(m.run.name for m in group),
                params=_params(group[0].run, varying),
                values=values,
                mean=mean,
                std=std,
            )
        )
    groups.sort(key=lambda g: (sign * g.mean, g.names[0]))
    return tuple(groups)


def separability(groups: Sequence[ConfigGroup]) -> Separability | None:
    """Is the best configuration better than the second beyond seed noise, with the replicates there are?

    Both with 2+ runs: Welch's t-test (Welch-Satterthwaite degrees of freedom). One single
    run against k >= 2 replicates: the t prediction interval on k - 1 degrees of freedom
    (:func:`runsift.core.stats.prediction_interval_test`). Neither with 2+ runs, or replicates that agree exactly: too
    few replicates, no verdict. Replicates of other configurations are not borrowed: their
    noise may differ, and borrowing them with a normal tail called 18-28% of simulated pairs
    of equal configurations with 1-2 seeds "separable" (now about 5%, see the tests).
    """
    if len(groups) < 2:
        return None
    from .stats import prediction_interval_test, welch_test

    best, second = groups[0], groups[1]
    gap = abs(best.mean - second.mean)
    who = f"{_label(best)} vs {_label(second)}"
    if best.n < 2 and second.n < 2:
        message = (
            f"{who}: gap {gap:.3g}, too few replicates to judge it against seed noise: each has a single run "
            "(seed replicates of both would settle it)"
        )
        return Separability("none", gap, None, None, None, None, message)
    if not any(g.n >= 2 and g.std for g in (best, second)):
        message = f"{who}: gap {gap:.3g}, too few replicates to judge it: the replicates agree exactly, so they measure no seed noise"
        return Separability("none", gap, None, None, None, None, message)
    if best.n >= 2 and second.n >= 2:
        w = welch_test(second.values, best.values)
        separable = w.p_value < ALPHA
        verdict = "separable" if separable else NOT_SEPARABLE
        message = (
            f"{who}: Welch's t-test over {best.n} and {second.n} seeds, gap {gap:.3g}, "
            f"t = {w.t:.2f} on {w.df:.3g} df (Welch-Satterthwaite), p = {w.p_value:.3g}: {verdict}"
        )
        return Separability("welch", gap, w.p_value, w.t, None, separable, message, w.df)
    single, reps = (best, second) if best.n == 1 else (second, best)
    pt = prediction_interval_test(single.values[0], reps.values)
    separable = pt.p_value < ALPHA
    verdict = "separable" if separable else NOT_SEPARABLE
    message = (
        f"{who}: one run against {reps.n} seeds of the other, gap {gap:.3g} vs their std {reps.std:.3g}: "
        f"t = {abs(pt.t):.2f} on {pt.df:.0f} df (prediction interval), p = {pt.p_value:.3g}: {verdict}"
    )
    return Separability("prediction_interval", gap, pt.p_value, abs(pt.t), reps.std, separable, message, pt.df)


def _label(group: ConfigGroup) -> str:
    """A configuration's name for messages: its first run, plus how many more seeds."""
    return group.names[0] if group.n == 1 else f"{group.names[0]} (+{group.n - 1} seed{'s' if group.n > 2 else ''})"


# -- verifying the saved board --------------------------------------------------------------------


def verify(catalog: Catalog, sweep: Sweep) -> list[Mismatch]:
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


def _board_column(sweep: Sweep, metric: str) -> str | None:
    """The board column holding ``metric`` (exact name first, then case-insensitive)."""
    if metric in sweep.leaderboard_columns:
        return metric
    return next((c for c in sweep.leaderboard_columns if c.lower() == metric.lower()), None)


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


def _cell_number(cell: str | None) -> float | None:
    """A board cell as a finite number, or None (blank, nan, text)."""
    if cell is None:
        return None
    try:
        value = float(cell.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


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


# -- JSON ------------------------------------------------------------------------------------


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
