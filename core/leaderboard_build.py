"""A sweep's leaderboard recomputed from its member runs, replicates grouped into configurations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from .factors import LABEL_KEYS, SEED_KEY, SEEDS, canonical, differing, run_factors
from .goals import Goal, metric_goal
from .leaderboard_model import (
    ALPHA,
    NOT_SEPARABLE,
    BoardRow,
    ConfigGroup,
    GoalSource,
    Leaderboard,
    LeaderboardError,
    Separability,
    _board_column,
    _cell_number,
)
from .mappings import flatten
from .readers.sweep import RUN_ID_COLUMNS
from .records import Run, Sweep, status_source

if TYPE_CHECKING:
    from .backend import Backend


@dataclass(frozen=True, slots=True)
class _Member:
    """A loaded member run and its value of the sweep metric."""

    run: Run
    value: float | None


def build_leaderboard(catalog: Backend, sweep: Sweep) -> Leaderboard:
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
    rows = tuple(BoardRow(m.run.id, m.run.name, m.value, _params(m.run, varying), m.run.status, status_source(m.run.status, m.run.source.guessed)) for m in ordered)
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


def _load_runs(catalog: Backend, sweep: Sweep) -> list[Run]:
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
