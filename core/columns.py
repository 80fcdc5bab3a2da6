"""Which columns a list of runs shows: each project's primary metric first, then what the rows record.

Shared by ``runsift ls`` and the app's runs table, so both pick the same columns for the same
rows. Column keys are the keys filters and sorts take: a record field (``status``), a metric
(``val_auc``), a tracker field (``error``, ``source``, ``started_source``) or a detail path
(``config.optimizer.lr``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from .fmt import MAX_DECIMALS as MAX_DECIMALS  # the rule for numbers lives in fmt; re-exported for the table code
from .fmt import common_decimals as common_decimals
from .fmt import recorded_decimals as recorded_decimals
from .goals import metric_goal
from .query import (
    FACET_FIELDS,
    FIELDS,
    FacetValue,
    QueryError,
    did_you_mean,
    is_facet,
    metric_of,
)
from .records import Summary

BASE_KEYS: tuple[str, ...] = ("project", "name", "started", "status")
"""Columns every list starts with."""
MAX_SWEEPS_ASKED = 8
"""Sweep specs read per project when looking for its declared metric (each is a record read)."""

SweepMetric = Callable[[str], str | None]
"""``sweep_metric(sweep id) -> the metric its sweep.yaml declares``, or None."""


def metric_rank(name: str) -> int:
    """0 for validation/test metrics with a direction, 1 for other metrics, 2 for losses, timings and settings."""
    lowered = name.lower()
    if "loss" in lowered or "time" in lowered or metric_goal(name) is None:
        return 2
    if lowered.startswith(("val", "test", "eval")):
        return 0
    return 1


def primary_metrics(rows: Sequence[Summary], sweep_metric: SweepMetric | None = None) -> dict[str, str]:
    """``{project: primary metric}`` for the projects among ``rows``, in the order they first appear.

    A project's sweeps declare it (``metric: {name: val_f1}``) when they do; else it is the metric most
    of its runs record, validation metrics with a direction before others, in recorded order.
    """
    counts: dict[str, Counter[str]] = {}
    sweeps: dict[str, list[str]] = {}
    for row in rows:
        if row.kind == "run":
            counts.setdefault(row.project, Counter()).update(row.metrics.keys())
            if row.sweep is not None:
                sweeps.setdefault(row.project, [])
                if row.sweep not in sweeps[row.project]:
                    sweeps[row.project].append(row.sweep)
        elif row.kind == "sweep":
            sweeps.setdefault(row.project, [])
            if row.id not in sweeps[row.project]:
                sweeps[row.project].append(row.id)
    out: dict[str, str] = {}
    for project, seen in counts.items():
        declared = Counter[str]()
        if sweep_metric is not None:
            for sweep_id in sweeps.get(project, [])[:MAX_SWEEPS_ASKED]:
                name = sweep_metric(sweep_id)
                if name and name in seen:
                    declared[name] += 1
        if declared:
            out[project] = declared.most_common(1)[0][0]
            continue
        if not seen:
            continue
        order = {name: i for i, name in enumerate(seen)}  # Counter keeps first-seen order
        most = max(seen.values())
        common = [name for name in seen if seen[name] * 2 >= most]  # recorded by at least half as many runs
        out[project] = min(common, key=lambda n: (metric_rank(n), -seen[n], order[n]))
    return out


def default_columns(rows: Sequence[Summary], sweep_metric: SweepMetric | None = None, metrics: int = 6) -> list[str]:
    """Columns for ``rows``: the base fields, every shown project's primary metric, then the most recorded metrics."""
    primaries = list(dict.fromkeys(primary_metrics(rows, sweep_metric).values()))
    counts: Counter[str] = Counter()
    for row in rows:
        if row.kind == "run":
            counts.update(row.metrics.keys())
    order = {name: i for i, name in enumerate(counts)}
    rest = sorted((m for m in counts if m not in primaries), key=lambda n: (metric_rank(n), -counts[n], order[n]))
    chosen = (primaries + rest)[: max(metrics, len(primaries))]
    return [*BASE_KEYS, *chosen]


def varying_config(keys: Iterable[str], values_of: Callable[[str], Mapping[str, FacetValue]], ids: Iterable[str]) -> list[str]:
    """The ``config.`` keys among ``keys`` whose values differ among the records ``ids`` (a sweep's parameters)."""
    shown = set(ids)
    out = []
    for key in keys:
        if not key.startswith("config."):
            continue
        values = values_of(key)
        distinct = {values.get(i, (None, None)) for i in shown}
        if len(distinct) > 1:
            out.append(key)
    return out


def offered_columns(metrics: Iterable[str], facet_keys: Iterable[str], varying: Iterable[str]) -> list[str]:
    """Every key a column may show, for a picker: varying config first, then metrics, fields, other detail keys."""
    varying = list(varying)
    seen = set(varying)
    out = list(varying)
    for key in (*metrics, *BASE_KEYS, *(f for f in FIELDS if f not in BASE_KEYS), *sorted(FACET_FIELDS), *facet_keys):
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def parse_columns(text: str, known: Iterable[str]) -> list[str]:
    """``"val_auc,config.optimizer.lr"`` as keys; an unknown key is a :class:`QueryError` with close matches.

    ``metrics.NAME`` is taken as ``NAME``; the name column is always kept (a row must say which run it is).
    """
    known_list = list(known)
    known_set = set(known_list)
    keys: list[str] = []
    for word in text.split(","):
        word = word.strip()
        if not word:
            continue
        key = word if word in FIELDS or is_facet(word) else metric_of(word)
        if key not in known_set and key not in FIELDS and key not in FACET_FIELDS:
            raise QueryError(f"unknown column {word}{did_you_mean(key, known_list)}")
        if key not in keys:
            keys.append(key)
    if not keys:
        raise QueryError("no columns named: write --columns KEY,KEY, e.g. --columns val_auc,config.optimizer.lr")
    if "name" not in keys:
        keys.insert(0, "name")
    return keys


