"""Replay an A/B repro kit: recompute the primary metric from the logs and compare it with the saved result.

The tutorial's "Mini A/B Replay" project: from the assignment log and the event log,
recompute a conversion lift analysis following the recorded metric definition (an
exposure-anchored, end-exclusive window; one conversion per unit; only events whose name and
schema version match the recorded ones exactly; only units assigned in this experiment), test
it (two-proportion z-test with intervals that agree with it, small-count warnings, sample
ratio mismatch) and compare every figure of the saved result at the precision it was written
with. When the saved result does not reproduce, each filter is relaxed in turn to name the
input that most likely explains it.

This module is the orchestrator and the public entry point; the work is done by
:mod:`.abspec` (the metric definition), :mod:`.ablogs` and :mod:`.abscan` (reading and
scanning the logs), :mod:`.abfigures` (counts, lifts and the SRM check, with the statistics
of :mod:`runsift.core.stats.proportions`), :mod:`.abcheck` (the saved-result comparison) and
:mod:`.abjson` (the JSON document).

Logs are streamed once each with the :mod:`csv` module (JSON lines and Parquet through
:func:`runsift.core.readers.abtest.iter_log`); large logs are split between worker
processes by unit, so a unit's assignments and events are always read by the same worker.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from .abcheck import FigureMismatch, SavedCheck, check_saved, compare_saved, saved_notes
from .abfigures import (
    ALPHA,
    SRM,
    STRICT,
    Diagnostics,
    Lift,
    Replay,
    Tally,
    VariantFigures,
    compute_figures,
    count_units,
    srm_check,
    two_proportions,
)
from .abjson import replay_json
from .ablogs import (
    EVENT_NAME_COLUMNS,
    EVENT_TIME_COLUMNS,
    EXPERIMENT_COLUMNS,
    EXPOSURE_COLUMNS,
    SCHEMA_COLUMNS,
    checked_path,
    find_column,
    log_columns,
)
from .abscan import MASKS, MAX_EXAMPLES, ScanJob, scan_all, worker_count
from .abspec import MetricSpec, ReplayError, loose_version, metric_spec, version_label
from .readers.abtest import find_unit_column, find_variant_column
from .records import ABTest
from .safeio import Unreadable

CONTROL_NAMES: tuple[str, ...] = ("control", "a", "baseline", "ctrl")
"""Variant names (any case) taken as the control; otherwise the first planned variant is."""

__all__ = [
    "SRM",
    "FigureMismatch",
    "Lift",
    "MetricSpec",
    "Replay",
    "ReplayError",
    "SavedCheck",
    "VariantFigures",
    "check_saved",
    "compare_saved",
    "metric_spec",
    "replay",
    "replay_json",
    "saved_notes",
    "two_proportions",
]


def replay(root: Path, ab: ABTest, metric: str | None = None, *, workers: int | None = None) -> Replay:
    """Recompute the kit's primary metric (or ``metric``) from its logs, following the recorded definition.

    ``root`` is the catalog root the kit's log paths are relative to. ``workers``
    (default: automatic) splits the units between processes for large logs.
    """
    root = Path(root)
    spec = metric_spec(ab, metric)
    a_path = checked_path(root, ab.assignment_log, "assignment log")
    e_path = checked_path(root, ab.events_log, "event log")
    notes: list[str] = list(spec.notes)

    a_names = log_columns(root, ab.assignment_log or "", a_path)
    iu = find_column(a_names, (), find_unit_column(a_names, ab.unit))
    iv = find_column(a_names, (), find_variant_column(a_names))
    it = find_column(a_names, EXPOSURE_COLUMNS, spec.exposure_column)
    ix = find_column(a_names, EXPERIMENT_COLUMNS)
    missing = [w for w, i in (("unit", iu), ("variant", iv), ("exposure time", it)) if i < 0]
    if missing:
        raise ReplayError(f"assignment log has no {' or '.join(missing)} column (found: {', '.join(a_names) or 'none'})")
    if ix >= 0 and not ab.experiment_id:
        notes.append("the definition gives no experiment id: every assignment row was used")

    e_names = log_columns(root, ab.events_log or "", e_path)
    ju = find_column(e_names, (), find_unit_column(e_names, ab.unit) or (a_names[iu] if a_names[iu] in e_names else None))
    je = find_column(e_names, EVENT_NAME_COLUMNS)
    jt = find_column(e_names, EVENT_TIME_COLUMNS)
    js = find_column(e_names, SCHEMA_COLUMNS)
    missing = [w for w, i in (("unit", ju), ("event time", jt)) if i < 0]
    if missing:
        raise ReplayError(f"event log has no {' or '.join(missing)} column (found: {', '.join(e_names) or 'none'})")
    if je < 0:
        notes.append(f"the event log has no event column: every row counts as a {spec.event or 'conversion'} event")
    if spec.schema_version is not None and js < 0:
        notes.append(
            f"the event log has no schema version column: the {version_label(spec.schema_version)} filter was not applied"
        )
    if spec.schema_version is None:
        notes.append("no schema version is recorded for the event: events of every version count")
    if spec.window_days is None:
        notes.append("the definition gives no window: every event at or after exposure counts")

    planned = tuple(str(v) for v in ab.variants)
    job = ScanJob(
        root=str(root),
        a_rel=ab.assignment_log or "",
        a_path=str(a_path),
        a_names=tuple(a_names),
        a_cols=(iu, iv, it, ix),
        experiment_id=ab.experiment_id,
        planned=planned,
        e_rel=ab.events_log or "",
        e_path=str(e_path),
        e_names=tuple(e_names),
        e_cols=(ju, je, jt, js),
        event=spec.event,
        schema=spec.schema_version if js >= 0 else None,
        window_seconds=spec.window_days * 86400.0 if spec.window_days is not None else None,
    )
    n = worker_count(workers, [a_path, e_path])
    try:
        total = scan_all(job, n)
    except Unreadable as exc:
        raise ReplayError(exc.message) from None
    except (OSError, csv.Error) as exc:
        raise ReplayError(f"cannot read the logs: {exc}") from None

    names = list(planned) if planned else list(total.variants_seen)
    tallies = {
        v: Tally(tuple(total.hist.get(v, [0] * MASKS)), tuple(total.multi_hist.get(v, [0] * MASKS)), total.qualifying.get(v, 0))
        for v in names
    }
    counts = total.counts
    if sum(sum(t.hist) for t in tallies.values()) == 0 and counts.get("other_experiment_rows"):
        raise ReplayError(
            f"no assignment rows for experiment {ab.experiment_id!r} "
            f"({counts['other_experiment_rows']:,} rows of other experiments)"
        )
    diagnostics = Diagnostics(
        assignment_rows=counts.get("assignment_rows", 0),
        other_experiment_rows=counts.get("other_experiment_rows", 0),
        unplanned_variant_rows=dict(sorted(total.unplanned_rows.items())),
        duplicate_assignment_rows=counts.get("duplicate_assignment_rows", 0),
        multi_variant_units=total.multi_units,
        multi_variant_examples=tuple(total.multi_examples),
        bad_assignment_rows=counts.get("bad_assignment_rows", 0),
        event_rows=counts.get("event_rows", 0),
        metric_events=counts.get("metric_events", 0),
        qualifying_events=counts.get("qualifying_events", 0),
        events_before_exposure=counts.get("events_before_exposure", 0),
        events_outside_window=counts.get("events_outside_window", 0),
        events_other_schema=counts.get("events_other_schema", 0),
        other_schema_versions=dict(sorted(total.other_schema.items())),
        events_unassigned=counts.get("events_unassigned", 0),
        events_unplanned_variant=counts.get("events_unplanned_variant", 0),
        events_multi_variant_units=counts.get("events_multi_variant_units", 0),
        events_bad_exposure=counts.get("events_bad_exposure", 0),
        bad_event_rows=counts.get("bad_event_rows", 0),
        near_miss_event_rows=sum(total.near_names.values()),
        near_miss_event_names=dict(sorted(total.near_names.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_EXAMPLES]),
        near_miss_schema_versions={
            k: n
            for k, n in sorted(total.other_schema.items())
            if spec.schema_version is not None and loose_version(k) == loose_version(spec.schema_version)
        },
    )
    if diagnostics.multi_variant_units:
        notes.append(
            f"{diagnostics.multi_variant_units:,} unit(s) were assigned to more than one variant "
            f"(e.g. {', '.join(diagnostics.multi_variant_examples)}); they are excluded from every variant"
        )
    shares = {str(k): float(v) for k, v in ab.variants.items()}
    control = _control(names)
    alpha = _alpha(ab)
    variants, lifts = compute_figures(count_units(tallies, STRICT), shares, control, alpha)
    srm = srm_check(variants, shares)
    return Replay(
        experiment_id=ab.experiment_id,
        metric=spec,
        variants=variants,
        control=control,
        lifts=lifts,
        srm=srm,
        diagnostics=diagnostics,
        alpha=alpha,
        notes=tuple(notes),
        tallies=tallies,
    )


def _alpha(ab: ABTest) -> float:
    """Significance level from the analysis plan, else the saved result, else ALPHA."""
    for source in (ab.analysis_plan, ab.saved_result):
        value = source.get("alpha")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1:
            return float(value)
    return ALPHA


def _control(names: Sequence[str]) -> str | None:
    """The variant named control/A/baseline (any case), else the first one."""
    for name in names:
        if name.strip().lower() in CONTROL_NAMES:
            return name
    return names[0] if names else None
