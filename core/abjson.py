"""The A/B replay as a JSON document (``runsift ab --format json``, and what the text and Markdown views show)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .abcheck import FigureMismatch
from .abfigures import ABSOLUTE_METHOD, RELATIVE_METHOD, TEST_METHOD, Lift, Replay
from .serialize import json_document


def _lift_json(lift: Lift | None) -> dict[str, Any] | None:
    """One lift in the JSON document (``ci_low``/``ci_high`` bound the relative lift: the headline interval)."""
    if lift is None:
        return None
    out: dict[str, Any] = {
        "control": lift.control,
        "treatment": lift.treatment,
        "absolute": lift.absolute,
        "relative": lift.relative,
    }
    for key, ci in (
        ("ci", lift.relative_ci),
        ("absolute_ci", lift.absolute_ci),
        ("relative_ci_fixed_control", lift.relative_ci_fixed_control),
        ("absolute_ci_wald", lift.absolute_ci_wald),
        ("relative_ci_delta", lift.relative_ci_delta),
    ):
        out[f"{key}_low"] = ci[0] if ci else None
        out[f"{key}_high"] = ci[1] if ci else None
    out.update(
        {
            "z": lift.z,
            "p_value": lift.p_value,
            "ci_level": lift.level,
            "ci_method": RELATIVE_METHOD,
            "absolute_ci_method": ABSOLUTE_METHOD,
            "test": TEST_METHOD,
            "warnings": list(lift.warnings),
        }
    )
    return out


def _warnings(r: Replay) -> list[str]:
    """Every lift's warnings, naming the treatment when there are several."""
    if len(r.lifts) == 1:
        return list(r.lifts[0].warnings)
    return [f"{x.treatment} vs {x.control}: {w}" for x in r.lifts for w in x.warnings]


def replay_json(
    r: Replay, reproduced: bool | None, mismatches: Sequence[FigureMismatch], *, notes: Sequence[str] = ()
) -> dict[str, Any]:
    """The replay document: per-variant figures, lift with CIs, p-value, SRM, diagnostics and the saved comparison."""
    d = r.diagnostics
    lift = r.lift
    return json_document(
        {
            "experiment_id": r.experiment_id,
            "metric": r.metric.name,
            "definition": {
                "version": r.metric.version,
                "event": r.metric.event,
                "schema_version": r.metric.schema_version,
                "window_days": r.metric.window_days,
                "window": "[exposure, exposure + window), end exclusive" if r.metric.window_days is not None else None,
                "exposure_column": r.metric.exposure_column,
            },
            "control": r.control,
            "treatment": lift.treatment if lift else None,
            "variants": {
                v.name: {"units": v.units, "conversions": v.conversions, "rate": v.rate, "planned_share": v.planned_share}
                for v in r.variants
            },
            "lift": _lift_json(lift),
            "lifts": [_lift_json(x) for x in r.lifts],
            "z": lift.z if lift else None,
            "p_value": r.p_value,
            "alpha": r.alpha,
            "significant": (r.p_value < r.alpha) if r.p_value is not None else None,
            "warnings": _warnings(r),
            "srm": {
                "p_value": r.srm.p_value,
                "chi2": r.srm.chi2,
                "flagged": r.srm.flagged,
                "message": r.srm.message,
                "observed": dict(r.srm.observed),
                "expected": dict(r.srm.expected),
            },
            "diagnostics": {
                "assignment_rows": d.assignment_rows,
                "other_experiment_rows": d.other_experiment_rows,
                "unplanned_variant_rows": dict(d.unplanned_variant_rows),
                "duplicate_assignment_rows": d.duplicate_assignment_rows,
                "multi_variant_units": d.multi_variant_units,
                "multi_variant_examples": list(d.multi_variant_examples),
                "bad_assignment_rows": d.bad_assignment_rows,
                "event_rows": d.event_rows,
                "metric_events": d.metric_events,
                "qualifying_events": d.qualifying_events,
                "events_before_exposure": d.events_before_exposure,
                "events_outside_window": d.events_outside_window,
                "events_other_schema": d.events_other_schema,
                "other_schema_versions": dict(d.other_schema_versions),
                "events_unassigned": d.events_unassigned,
                "events_unplanned_variant": d.events_unplanned_variant,
                "events_multi_variant_units": d.events_multi_variant_units,
                "events_bad_exposure": d.events_bad_exposure,
                "bad_event_rows": d.bad_event_rows,
                "near_miss_event_rows": d.near_miss_event_rows,
                "near_miss_event_names": dict(d.near_miss_event_names),
                "near_miss_schema_versions": dict(d.near_miss_schema_versions),
                "messages": d.messages(r.metric),
            },
            "notes": list(r.notes) + list(notes),
            "reproduced": reproduced,
            "mismatches": [
                {"name": m.name, "saved": m.saved, "recomputed": m.recomputed, "message": m.message} for m in mismatches
            ],
        }
    )
