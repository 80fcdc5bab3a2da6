"""Tests for the A/B replay: recomputing a conversion lift from the logs and comparing it with the saved result."""

from __future__ import annotations

import copy
import json
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from scipy import stats as st
from statsmodels.stats.proportion import confint_proportions_2indep

from runsift.core.abreplay import (
    ReplayError,
    VariantFigures,
    check_saved,
    compare_saved,
    metric_spec,
    replay,
    replay_json,
    two_proportions,
)
from runsift.core.catalog import Catalog
from runsift.core.readers.abtest import read_abtest
from runsift.core.records import ABTest
from runsift.core.safeio import ReadContext
from runsift.core.stats import proportions as pr
from runsift.tui.experiments_view import ab_lines, ab_markdown, ab_renderable

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RUNS = REPO / "sample_runs"
SAMPLE_KIT = "checkout-address-validation"
T0 = datetime(2025, 2, 3, 12, 0, 0, tzinfo=UTC)
Z = 1.959963984540054  # the 97.5% normal quantile


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


EXPERIMENT = """\
experiment_id: exp-1
unit: user_id
variants:
  control: 0.5
  treatment: 0.5
start: '2025-02-03T00:00:00+00:00'
end: '2025-02-17T00:00:00+00:00'
"""
METRICS = """\
conversion_v2:
  version: 2
  exposure: assigned_at
  window_days: 7
  filters:
    - "event == 'purchase'"
    - "schema_version == 5"
"""
SCHEMAS = "page_view: 3\npurchase: 5\n"
PLAN = "primary_metric: conversion_v2\nalpha: 0.05\n"


def make_kit(
    root: Path,
    assignments: list[tuple[str, str, datetime]],
    events: list[tuple[str, str, datetime, int]],
    *,
    experiment: str = EXPERIMENT,
    result: dict[str, Any] | None = None,
    experiment_ids: dict[str, str] | None = None,
) -> ABTest:
    """A kit folder under ``root`` with the given assignment rows (unit, variant, time) and events."""
    kit = root / "kit"
    write(kit / "experiment.yaml", experiment)
    write(kit / "metric_definitions.yaml", METRICS)
    write(kit / "event_schemas.yaml", SCHEMAS)
    write(kit / "analysis_plan.yaml", PLAN)
    ids = experiment_ids or {}
    write(
        kit / "assignments.csv",
        "user_id,experiment_id,variant,assigned_at\n"
        + "".join(f"{u},{ids.get(u, 'exp-1')},{v},{iso(t)}\n" for u, v, t in assignments),
    )
    write(
        kit / "events.csv",
        "user_id,event,event_time,schema_version,value\n"
        + "".join(f"{u},{e},{iso(t)},{s},{'10.00' if e == 'purchase' else ''}\n" for u, e, t, s in events),
    )
    if result is not None:
        write(kit / "result.json", json.dumps(result))
    return read_abtest(kit, ReadContext(root), id="kit", project="test", name="kit")


def tiny_kit(root: Path, result: dict[str, Any] | None = None) -> ABTest:
    """Ten users, five per variant, with one event of every kind a replay must exclude."""
    assign = [(f"u{i}", "control" if i <= 5 else "treatment", T0 + timedelta(hours=i)) for i in range(1, 11)]
    at = {u: t for u, _, t in assign}
    events = [
        ("u1", "page_view", at["u1"], 3),
        ("u1", "purchase", at["u1"] + timedelta(days=1), 5),  # converts
        ("u2", "purchase", at["u2"] + timedelta(hours=2), 5),  # converts ...
        ("u2", "purchase", at["u2"] + timedelta(days=3), 5),  # ... once
        ("u3", "purchase", at["u3"] - timedelta(hours=5), 5),  # before exposure
        ("u4", "purchase", at["u4"] + timedelta(days=8), 5),  # after the 7-day window
        ("u6", "purchase", at["u6"], 5),  # at exposure: counts
        ("u7", "purchase", at["u7"] + timedelta(days=7) - timedelta(seconds=1), 5),  # last second of the window
        ("u8", "purchase", at["u8"] + timedelta(days=2), 5),
        ("u9", "purchase", at["u9"] + timedelta(days=2), 4),  # old schema version
        ("u10", "page_view", at["u10"] + timedelta(hours=1), 3),
        ("x99", "purchase", T0, 5),  # not in the assignment log
    ]
    return make_kit(root, assign, events, result=result)


# -- the sample kit ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> tuple[Path, ABTest]:
    cat = Catalog.open(SAMPLE_RUNS, use_cache=False)
    ab = cat.get(SAMPLE_KIT)
    assert isinstance(ab, ABTest)
    return cat.root, ab


def test_sample_kit_reproduces_saved_result(sample: tuple[Path, ABTest]) -> None:
    root, ab = sample
    r = replay(root, ab)
    saved = ab.saved_result
    assert r.metric.name == "conversion_v2" and r.metric.event == "purchase"
    assert r.metric.schema_version == "5" and r.metric.window_days == 7
    for name in ("control", "treatment"):
        v = r.variant(name)
        assert v is not None
        assert (v.units, v.conversions) == (saved["variants"][name]["units"], saved["variants"][name]["conversions"])
    reproduced, mismatches = compare_saved(r, saved)
    assert reproduced is True and mismatches == []
    check = check_saved(r, saved)
    assert {"variants.control.conversions", "p_value", "ci95_absolute[0]", "ci95_relative[1]"} <= set(check.checked)
    # the saved relative CI is the absolute CI over the control rate, not the delta method: said, not hidden
    assert any("ci95_relative" in n and "control rate" in n for n in check.notes)
    assert not r.srm.flagged and r.srm.p_value is not None and r.srm.p_value > 0.5
    d = r.diagnostics
    planted = saved["excluded_events"]
    assert d.events_before_exposure == planted["purchase_before_exposure"] == 40
    assert d.events_outside_window == planted["purchase_outside_window"] == 38
    assert d.events_other_schema == 12 and dict(d.other_schema_versions) == {"4": 12}
    assert d.events_unassigned > 0  # holdout users' purchases
    assert d.multi_variant_units == 0


def test_sample_replay_json(sample: tuple[Path, ABTest]) -> None:
    root, ab = sample
    r = replay(root, ab)
    check = check_saved(r, ab.saved_result)
    doc = replay_json(r, check.reproduced, check.mismatches, notes=check.notes)
    for key in ("experiment_id", "metric", "variants", "lift", "p_value", "srm", "diagnostics", "reproduced", "mismatches"):
        assert key in doc
    assert doc["experiment_id"] == "checkout-addr-validation-2025q1"
    assert doc["variants"]["control"] == {"units": 10243, "conversions": 804, "rate": 804 / 10243, "planned_share": 0.5}
    lift = doc["lift"]
    assert set(lift) >= {"absolute", "relative", "ci_low", "ci_high", "absolute_ci_low", "absolute_ci_high"}
    # the kit's saved interval is Wald's: kept under its own key, while the replay reports Newcombe's
    assert round(lift["absolute_ci_wald_low"], 6) == ab.saved_result["ci95_absolute"][0]
    assert lift["absolute_ci_low"] == pytest.approx(confint_proportions_2indep(893, 10284, 804, 10243, method="newcomb")[0])
    assert lift["ci_level"] == 0.95 and lift["warnings"] == [] and doc["warnings"] == []
    assert any("ci95_absolute is a Wald interval" in n for n in check.notes)
    assert doc["srm"]["flagged"] is False and doc["reproduced"] is True
    json.dumps(doc, allow_nan=False)


def test_sample_with_two_workers_gives_the_same_figures(sample: tuple[Path, ABTest]) -> None:
    root, ab = sample
    one = replay(root, ab, workers=1)
    two = replay(root, ab, workers=2)
    assert two.variants == one.variants
    assert two.diagnostics == one.diagnostics
    assert two.tallies == one.tallies


def test_tampered_saved_result_is_not_reproduced(sample: tuple[Path, ABTest]) -> None:
    root, ab = sample
    tampered = copy.deepcopy(dict(ab.saved_result))
    tampered["variants"]["control"]["conversions"] = 810
    reproduced, mismatches = compare_saved(replay(root, ab), tampered)
    assert reproduced is False
    assert [m.name for m in mismatches] == ["variants.control.conversions"]
    m = mismatches[0]
    assert (m.saved, m.recomputed) == (810, 804)
    assert "810" in m.message and "804" in m.message


def test_p_value_matches_statsmodels(sample: tuple[Path, ABTest], tmp_path: Path) -> None:
    sm = pytest.importorskip("statsmodels.stats.proportion")
    root, ab = sample
    for r in (replay(root, ab), replay(tmp_path, tiny_kit(tmp_path))):
        c, t = r.variant("control"), r.variant("treatment")
        assert c is not None and t is not None and r.lift is not None
        z, p = sm.proportions_ztest([t.conversions, c.conversions], [t.units, c.units])
        assert r.lift.z == pytest.approx(z, rel=1e-9)
        assert r.p_value == pytest.approx(p, rel=1e-9)


# -- a kit computed by hand ------------------------------------------------------------------------------------


def test_tiny_kit_figures_by_hand(tmp_path: Path) -> None:
    r = replay(tmp_path, tiny_kit(tmp_path))
    c, t = r.variant("control"), r.variant("treatment")
    assert c is not None and t is not None
    # control: u1, u2 convert (u2 once); u3 (before exposure) and u4 (day 8) do not
    assert (c.units, c.conversions, c.rate) == (5, 2, 0.4)
    # treatment: u6 (at exposure), u7 (last second), u8; u9 bought with schema v4
    assert (t.units, t.conversions, t.rate) == (5, 3, 0.6)
    lift = r.lift
    assert lift is not None and r.control == "control"
    assert lift.absolute == pytest.approx(0.2)
    assert lift.relative == pytest.approx(0.5)
    # the reported intervals: Newcombe for the difference, the score interval of the ratio for the relative lift
    assert lift.absolute_ci == pytest.approx(confint_proportions_2indep(3, 5, 2, 5, method="newcomb"))
    ratio = confint_proportions_2indep(3, 5, 2, 5, method="score", compare="ratio", correction=False)
    assert lift.relative_ci == pytest.approx((ratio[0] - 1, ratio[1] - 1))
    assert lift.level == 0.95 and lift.relative_ci[0] < 0 < lift.relative_ci[1] and r.p_value > 0.05
    # kept to recognise saved results: Wald, unpooled: se = sqrt(.4*.6/5 + .6*.4/5) = sqrt(0.096)
    se = math.sqrt(0.096)
    assert lift.absolute_ci_wald == pytest.approx((0.2 - Z * se, 0.2 + Z * se))
    # delta method: var = var_t / p_c^2 + p_t^2 var_c / p_c^4 = 0.048/0.16 + 0.36*0.048/0.0256 = 0.975
    assert lift.relative_ci_delta == pytest.approx((0.5 - Z * math.sqrt(0.975), 0.5 + Z * math.sqrt(0.975)))
    assert lift.relative_ci_fixed_control == pytest.approx(((0.2 - Z * se) / 0.4, (0.2 + Z * se) / 0.4))
    # five units a variant: said, with the counts
    assert any("small counts" in w and "control 2 of 5" in w and "treatment 3 of 5" in w for w in lift.warnings)
    # pooled z-test: p = 0.5, se = sqrt(.25 * (1/5 + 1/5)) = sqrt(0.1)
    assert lift.z == pytest.approx(0.2 / math.sqrt(0.1))
    assert r.p_value == pytest.approx(2 * st.norm.sf(0.2 / math.sqrt(0.1)))
    d = r.diagnostics
    assert d.assignment_rows == 10 and d.event_rows == 12
    assert d.metric_events == 10  # purchases
    assert d.qualifying_events == 6
    assert d.events_before_exposure == 1
    assert d.events_outside_window == 1
    assert d.events_other_schema == 1 and dict(d.other_schema_versions) == {"4": 1}
    assert d.events_unassigned == 1
    assert not r.srm.flagged


def test_window_is_end_exclusive_and_later_purchases_are_counted_out(tmp_path: Path) -> None:
    assign = [("a", "control", T0), ("b", "control", T0), ("c", "treatment", T0), ("d", "treatment", T0)]
    events = [
        ("a", "purchase", T0 + timedelta(days=9), 5),  # day 9 of a 7-day window
        ("b", "purchase", T0 + timedelta(days=7), 5),  # exactly at the end: excluded
        ("c", "purchase", T0 + timedelta(days=7) - timedelta(seconds=1), 5),
        ("d", "purchase", T0 + timedelta(days=9, hours=3), 5),
    ]
    r = replay(tmp_path, make_kit(tmp_path, assign, events))
    assert r.metric.window_days == 7
    assert [(v.name, v.conversions) for v in r.variants] == [("control", 0), ("treatment", 1)]
    assert r.diagnostics.events_outside_window == 3
    assert any("outside" in m or "end of the 7-day window" in m for m in r.diagnostics.messages(r.metric))


def test_units_in_two_variants_are_excluded_and_reported(tmp_path: Path) -> None:
    assign = [
        ("u1", "control", T0),
        ("u2", "control", T0),
        ("u2", "control", T0 + timedelta(hours=1)),  # repeated row: one unit, earliest exposure
        ("u3", "treatment", T0),
        ("u1", "treatment", T0 + timedelta(hours=2)),  # u1 now in both variants
        ("u4", "treatment", T0),
    ]
    events = [
        ("u1", "purchase", T0 + timedelta(hours=3), 5),
        ("u2", "purchase", T0 + timedelta(minutes=30), 5),  # before the repeated row's time, after the first
        ("u3", "purchase", T0 + timedelta(days=1), 5),
    ]
    r = replay(tmp_path, make_kit(tmp_path, assign, events))
    d = r.diagnostics
    assert d.multi_variant_units == 1 and d.multi_variant_examples == ("u1",)
    assert d.duplicate_assignment_rows == 1
    assert d.events_multi_variant_units == 1
    assert [(v.name, v.units, v.conversions) for v in r.variants] == [("control", 1, 1), ("treatment", 2, 1)]
    assert any("more than one variant" in n and "u1" in n for n in r.notes)
    assert any("excluded from every variant" in m for m in d.messages(r.metric))


def test_holdout_rows_other_experiments_and_unassigned_events_are_excluded(tmp_path: Path) -> None:
    assign = [
        ("u1", "control", T0),
        ("u2", "treatment", T0),
        ("h1", "holdout", T0),
        ("o1", "control", T0),
    ]
    events = [
        ("u1", "purchase", T0 + timedelta(hours=1), 5),
        ("h1", "purchase", T0 + timedelta(hours=1), 5),
        ("o1", "purchase", T0 + timedelta(hours=1), 5),
    ]
    ab = make_kit(tmp_path, assign, events, experiment_ids={"o1": "another-exp"})
    r = replay(tmp_path, ab)
    assert [(v.name, v.units, v.conversions) for v in r.variants] == [("control", 1, 1), ("treatment", 1, 0)]
    d = r.diagnostics
    assert dict(d.unplanned_variant_rows) == {"holdout": 1}
    assert d.other_experiment_rows == 1
    assert d.events_unplanned_variant == 1 and d.events_unassigned == 1


# -- sample ratio mismatch -----------------------------------------------------------------------------------


def test_srm_flagged_on_a_60_40_log_planned_50_50(tmp_path: Path) -> None:
    assign = [(f"u{i}", "control" if i < 6000 else "treatment", T0 + timedelta(seconds=i)) for i in range(10_000)]
    events = [(f"u{i}", "purchase", T0 + timedelta(hours=1, seconds=i), 5) for i in range(0, 10_000, 10)]
    r = replay(tmp_path, make_kit(tmp_path, assign, events))
    assert [v.units for v in r.variants] == [6000, 4000]
    expected = st.chisquare([6000, 4000], [5000, 5000])
    assert r.srm.p_value == pytest.approx(expected.pvalue)
    assert r.srm.flagged is True
    assert "must not be trusted" in r.srm.message
    assert replay_json(r, None, [])["srm"]["flagged"] is True


def test_only_the_srm_line_is_red_when_srm_is_flagged(tmp_path: Path) -> None:
    assign = [(f"u{i}", "control" if i < 600 else "treatment", T0) for i in range(1000)]
    r = replay(tmp_path, make_kit(tmp_path, assign, []))
    assert r.srm.flagged
    note = "saved ci95_relative is a delta-method interval; the replay reports the score interval of the ratio: 0 to 1"
    group = ab_renderable(replay_json(r, None, [], notes=[note]))
    red = {t.plain[2:] for t in group.renderables if isinstance(t, Text) and any(s.style == "bold red" for s in t.spans)}
    assert red == {r.srm.message}


def test_srm_not_flagged_on_the_sample(sample: tuple[Path, ABTest]) -> None:
    root, ab = sample
    r = replay(root, ab)
    assert r.srm.flagged is False and "fit the planned" in r.srm.message


def test_srm_with_shares_that_are_not_numbers_is_not_tested_rather_than_nan(tmp_path: Path) -> None:
    experiment = EXPERIMENT.replace("control: 0.5", "control: .inf").replace("treatment: 0.5", "treatment: .inf")
    ab = make_kit(tmp_path, [("a", "control", T0), ("b", "treatment", T0)], [], experiment=experiment)
    r = replay(tmp_path, ab)
    assert r.srm.p_value is None and r.srm.flagged is False
    assert "not tested" in r.srm.message and "not a finite number" in r.srm.message


# -- explaining a saved result that does not reproduce ----------------------------------------------------------------


def test_saved_result_counting_events_before_exposure_is_explained(tmp_path: Path) -> None:
    saved = {
        "metric": "conversion_v2",
        "variants": {
            "control": {"units": 5, "conversions": 3, "rate": 0.6},  # u3's purchase before exposure counted
            "treatment": {"units": 5, "conversions": 3, "rate": 0.6},
        },
    }
    ab = tiny_kit(tmp_path, result=saved)
    check = check_saved(replay(tmp_path, ab), ab.saved_result)
    assert check.reproduced is False
    assert sorted(m.name for m in check.mismatches) == ["variants.control.conversions", "variants.control.rate"]
    assert check.explanation is not None and "1 purchase event before exposure" in check.explanation
    assert all("before exposure" in m.message for m in check.mismatches)


def test_saved_result_counting_old_schema_is_explained(tmp_path: Path) -> None:
    saved = {
        "variants": {
            "control": {"units": 5, "conversions": 2},
            "treatment": {"units": 5, "conversions": 4},  # u9's v4 purchase counted
        },
    }
    ab = tiny_kit(tmp_path, result=saved)
    reproduced, mismatches = compare_saved(replay(tmp_path, ab), ab.saved_result)
    assert reproduced is False and [m.name for m in mismatches] == ["variants.treatment.conversions"]
    assert "schema version v4" in mismatches[0].message


def test_saved_result_keeping_units_of_two_variants_is_explained(tmp_path: Path) -> None:
    assign = [
        ("u1", "control", T0),
        ("u2", "control", T0),
        ("u3", "treatment", T0),
        ("u1", "treatment", T0 + timedelta(hours=1)),
        ("u4", "treatment", T0),
    ]
    events = [("u1", "purchase", T0 + timedelta(hours=2), 5), ("u3", "purchase", T0 + timedelta(hours=2), 5)]
    # a join without deduplication keeps u1 in both variants
    saved = {"variants": {"control": {"units": 2, "conversions": 1}, "treatment": {"units": 3, "conversions": 2}}}
    ab = make_kit(tmp_path, assign, events, result=saved)
    r = replay(tmp_path, ab)
    assert [(v.units, v.conversions) for v in r.variants] == [(1, 0), (2, 1)]
    check = check_saved(r, ab.saved_result)
    assert check.reproduced is False and len(check.mismatches) == 4
    assert check.explanation is not None and "1 unit assigned to more than one variant" in check.explanation


def test_saved_result_counting_events_not_units_is_explained(tmp_path: Path) -> None:
    assign = [(u, "control", T0) for u in ("a", "b", "c")] + [(u, "treatment", T0) for u in ("d", "e", "f")]
    events = [
        ("a", "purchase", T0 + timedelta(hours=1), 5),
        ("a", "purchase", T0 + timedelta(hours=2), 5),
        ("b", "purchase", T0 + timedelta(hours=1), 5),
        ("d", "purchase", T0 + timedelta(hours=1), 5),
        ("f", "purchase", T0 + timedelta(hours=1), 5),
        ("f", "purchase", T0 + timedelta(hours=2), 5),
        ("f", "purchase", T0 + timedelta(hours=3), 5),
    ]
    saved = {"variants": {"control": {"units": 3, "conversions": 3}, "treatment": {"units": 3, "conversions": 4}}}
    ab = make_kit(tmp_path, assign, events, result=saved)
    r = replay(tmp_path, ab)
    assert [v.conversions for v in r.variants] == [2, 2]
    check = check_saved(r, ab.saved_result)
    assert [m.name for m in check.mismatches] == ["variants.control.conversions", "variants.treatment.conversions"]
    assert check.explanation == "saved conversions count 7 purchase events, not distinct converting units"


def test_ambiguous_explanations_are_all_named(tmp_path: Path) -> None:
    saved = {
        "variants": {
            "control": {"units": 5, "conversions": 3},  # u3's purchase before exposure, or u2's second purchase
            "treatment": {"units": 5, "conversions": 3},
        },
    }
    ab = tiny_kit(tmp_path, result=saved)
    check = check_saved(replay(tmp_path, ab), ab.saved_result)
    assert check.explanation is not None
    assert check.explanation.startswith("saved conversions include 1 purchase event before exposure")
    assert "also reproduced if" in check.explanation and "not distinct converting units" in check.explanation


def test_saved_result_of_another_metric_is_not_compared(tmp_path: Path) -> None:
    ab = tiny_kit(tmp_path, result={"metric": "revenue_per_user", "variants": {"control": {"units": 5}}})
    reproduced, mismatches = compare_saved(replay(tmp_path, ab), ab.saved_result)
    assert reproduced is False and mismatches[0].name == "metric"


def test_saved_result_from_an_earlier_replay_with_wald_and_delta_intervals_still_reproduces(tmp_path: Path) -> None:
    """Earlier versions wrote Wald and delta-method bounds under the same keys: compared like with like, and said."""
    wald = pr.wald_difference_interval(2, 5, 3, 5)
    delta = pr.delta_relative_interval(2, 5, 3, 5)
    assert delta is not None
    lift = {"absolute": 0.2, "relative": 0.5, "ci_low": round(delta[0], 6), "ci_high": round(delta[1], 6)}
    lift |= {"absolute_ci_low": round(wald[0], 6), "absolute_ci_high": round(wald[1], 6)}
    ab = tiny_kit(tmp_path, result={"metric": "conversion_v2", "lift": lift})
    check = check_saved(replay(tmp_path, ab), ab.saved_result)
    assert check.reproduced is True and {"lift.ci_low", "lift.absolute_ci_high"} <= set(check.checked)
    assert any(n.startswith("saved lift.ci is a delta-method interval") and "score interval" in n for n in check.notes)
    assert any(n.startswith("saved lift.absolute_ci is a Wald interval") and "Newcombe" in n for n in check.notes)
    # a bound that no method gives is still a mismatch
    ab = tiny_kit(tmp_path, result={"metric": "conversion_v2", "lift": {**lift, "ci_low": -0.9}})
    check = check_saved(replay(tmp_path, ab), ab.saved_result)
    assert check.reproduced is False and [m.name for m in check.mismatches] == ["lift.ci_low"]


# -- small counts --------------------------------------------------------------------------------------------------


def test_no_control_conversions_give_an_open_interval_and_say_so(tmp_path: Path) -> None:
    assign = [(f"c{i}", "control", T0) for i in range(12)] + [(f"t{i}", "treatment", T0) for i in range(12)]
    events = [(f"t{i}", "purchase", T0 + timedelta(hours=1), 5) for i in range(4)]
    r = replay(tmp_path, make_kit(tmp_path, assign, events))
    lift = r.lift
    assert lift is not None and lift.relative is None and lift.relative_ci is not None
    assert lift.relative_ci[0] > -1 and lift.relative_ci[1] == math.inf
    assert lift.absolute_ci is not None and not any(math.isnan(b) for b in lift.absolute_ci)
    doc = replay_json(r, None, [])
    json.dumps(doc, allow_nan=False)
    assert doc["lift"]["ci_high"] == "Infinity"
    assert any("control has no conversions" in w for w in doc["warnings"])
    assert any("small counts (control 0 of 12, treatment 4 of 12 converted" in w for w in doc["warnings"])
    text = "\n".join(ab_lines(doc))
    assert "to +inf)" in text and "control has no conversions" in text
    assert "small counts" in ab_markdown(doc)


def test_no_conversions_at_all_do_not_crash(tmp_path: Path) -> None:
    assign = [("a", "control", T0), ("b", "treatment", T0)]
    r = replay(tmp_path, make_kit(tmp_path, assign, [("a", "page_view", T0, 3)]))
    assert r.lift is not None and r.lift.relative_ci == (-1.0, math.inf) and r.p_value == 1.0
    assert any("no conversions in either variant" in w for w in r.lift.warnings)


def test_intervals_follow_the_plans_alpha_so_they_agree_with_significance() -> None:
    control, treatment = VariantFigures("control", 10243, 804, None, None), VariantFigures("treatment", 10284, 893, None, None)
    at_5, at_1 = two_proportions(control, treatment, 0.05), two_proportions(control, treatment, 0.01)
    assert at_5.p_value == at_1.p_value and 0.01 < at_5.p_value < 0.05  # type: ignore[operator]
    assert at_5.level == 0.95 and at_5.relative_ci is not None and at_5.relative_ci[0] > 0  # excludes 0: significant
    assert at_1.level == 0.99 and at_1.relative_ci is not None and at_1.relative_ci[0] < 0  # includes 0: not at 0.01


def test_newcombe_interval_disagreeing_with_the_test_is_said() -> None:
    # treatment 0/2 against control 4/5: Newcombe's interval excludes 0, yet the z-test's p = 0.053
    lift = two_proportions(VariantFigures("control", 5, 4, None, None), VariantFigures("treatment", 2, 0, None, None))
    assert lift.absolute_ci is not None and lift.absolute_ci[1] < 0 and lift.p_value is not None and lift.p_value > 0.05
    assert any("the methods disagree" in w for w in lift.warnings)
    agreeing = two_proportions(VariantFigures("control", 5, 4, None, None), VariantFigures("treatment", 5, 1, None, None))
    assert not any("the methods disagree" in w for w in agreeing.warnings)


# -- definitions, formats, errors ---------------------------------------------------------------------------------


def test_metric_spec_from_the_sample(sample: tuple[Path, ABTest]) -> None:
    _, ab = sample
    spec = metric_spec(ab)
    assert (spec.name, spec.version, spec.event, spec.schema_version, spec.window_days, spec.exposure_column) == (
        "conversion_v2",
        "2",
        "purchase",
        "5",
        7.0,
        "assigned_at",
    )


def test_event_names_match_the_definition_exactly_and_near_misses_are_said(tmp_path: Path) -> None:
    assign = [(f"u{i}", "control" if i < 4 else "treatment", T0) for i in range(8)]
    later = T0 + timedelta(hours=1)
    events = [
        ("u0", "purchase", later, 5),  # the recorded name: counts
        ("u1", "Purchase", later, 5),  # another case
        ("u2", " purchase", later, 5),  # leading space
        ("u4", "PURCHASE", later, 5),
        ("u5", "Purchase", later, 5),
        ("u6", "purchased", later, 5),  # another event, not a near miss
    ]
    r = replay(tmp_path, make_kit(tmp_path, assign, events))
    assert [(v.name, v.conversions) for v in r.variants] == [("control", 1), ("treatment", 0)]
    d = r.diagnostics
    assert d.metric_events == 1
    assert d.near_miss_event_rows == 4
    assert dict(d.near_miss_event_names) == {"Purchase": 2, " purchase": 1, "PURCHASE": 1}
    message = next(m for m in d.messages(r.metric) if "not exactly" in m)
    assert message.startswith("4 event row(s) named like the definition's event 'purchase' but not exactly")
    assert "'Purchase': 2" in message and "must match the definition exactly" in message
    doc = replay_json(r, None, [])
    assert doc["diagnostics"]["near_miss_event_rows"] == 4 and message in doc["diagnostics"]["messages"]
    assert replay(tmp_path, make_kit(tmp_path, assign, events), workers=2).diagnostics == d  # summed across workers


def test_schema_versions_match_exactly_except_v5_is_5(tmp_path: Path) -> None:
    assign = [(f"u{i}", "control" if i < 4 else "treatment", T0) for i in range(8)]
    later = T0 + timedelta(hours=1)
    events: list[tuple[str, str, datetime, Any]] = [
        ("u0", "purchase", later, "5"),
        ("u1", "purchase", later, "v5"),  # the one documented equivalence
        ("u2", "purchase", later, "5.0"),  # written differently: excluded and said
        ("u4", "purchase", later, "V5"),
        ("u5", "purchase", later, " 5"),
        ("u6", "purchase", later, "4"),  # another version
    ]
    r = replay(tmp_path, make_kit(tmp_path, assign, events))
    assert [(v.name, v.conversions) for v in r.variants] == [("control", 2), ("treatment", 0)]
    d = r.diagnostics
    assert d.events_other_schema == 4
    assert dict(d.other_schema_versions) == {" 5": 1, "4": 1, "5.0": 1, "V5": 1}
    assert dict(d.near_miss_schema_versions) == {" 5": 1, "5.0": 1, "V5": 1}
    messages = d.messages(r.metric)
    assert "4 purchase events of another schema version excluded (' 5': 1, v4: 1, '5.0': 1, 'V5': 1) (only v5 counts)" in messages
    assert any(m.startswith("3 of them have schema version ' 5', '5.0', 'V5': the recorded v5 written differently") for m in messages)


def test_a_schema_entry_spelled_unlike_the_event_is_not_used_and_said(tmp_path: Path) -> None:
    ab = tiny_kit(tmp_path)
    write(tmp_path / "kit" / "event_schemas.yaml", "Purchase: 4\n")  # not the definition's 'purchase'
    ab = read_abtest(tmp_path / "kit", ReadContext(tmp_path), id="kit", project="test", name="kit")
    spec = metric_spec(ab)
    assert spec.event == "purchase" and spec.schema_version == "5"  # from the filter, not from 'Purchase: 4'
    assert any("'Purchase'" in n and "must match exactly" in n for n in spec.notes)
    assert any("'Purchase'" in n for n in replay(tmp_path, ab).notes)


def test_timestamps_with_offsets_and_naive_times(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    write(kit / "experiment.yaml", EXPERIMENT)
    write(kit / "metric_definitions.yaml", METRICS)
    write(kit / "event_schemas.yaml", SCHEMAS)
    write(
        kit / "assignments.csv",
        "user_id,experiment_id,variant,assigned_at\n"
        "a,exp-1,control,2025-02-03T12:00:00+01:00\n"  # 11:00 UTC
        "b,exp-1,treatment,2025-02-03 12:00:00\n",  # naive: UTC
    )
    write(
        kit / "events.csv",
        "user_id,event,event_time,schema_version,value\n"
        "a,purchase,2025-02-03T11:30:00Z,5,1\n"  # after a's exposure
        "b,purchase,2025-02-03T11:30:00Z,5,1\n",  # before b's exposure
    )
    ab = read_abtest(kit, ReadContext(tmp_path), id="kit", project="test", name="kit")
    r = replay(tmp_path, ab)
    assert [(v.name, v.conversions) for v in r.variants] == [("control", 1), ("treatment", 0)]
    assert r.diagnostics.events_before_exposure == 1


def test_parquet_logs_give_the_same_figures(tmp_path: Path) -> None:
    pcsv = pytest.importorskip("pyarrow.csv")
    pq = pytest.importorskip("pyarrow.parquet")
    ab = tiny_kit(tmp_path)
    csv_replay = replay(tmp_path, ab)
    kit = tmp_path / "kit"
    for name in ("assignments", "events"):
        table = pcsv.read_csv(kit / f"{name}.csv")  # typed columns: timestamps, integer schema versions
        pq.write_table(table, kit / f"{name}.parquet")
        (kit / f"{name}.csv").unlink()
    ab_pq = read_abtest(kit, ReadContext(tmp_path), id="kit", project="test", name="kit")
    assert ab_pq.assignment_log is not None and ab_pq.assignment_log.endswith(".parquet")
    r = replay(tmp_path, ab_pq)
    assert r.variants == csv_replay.variants
    assert r.diagnostics == csv_replay.diagnostics


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ab = tiny_kit(tmp_path)
    kit = tmp_path / "kit"
    (kit / "assignments.parquet").write_bytes(b"PAR1 not really")
    (kit / "assignments.csv").unlink()
    ab = read_abtest(kit, ReadContext(tmp_path), id="kit", project="test", name="kit")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ReplayError, match=r"runsift\[parquet\]"):
        replay(tmp_path, ab)


def test_missing_columns_are_a_clear_error(tmp_path: Path) -> None:
    ab = tiny_kit(tmp_path)
    write(tmp_path / "kit" / "assignments.csv", "user_id,experiment_id,variant\nu1,exp-1,control\n")
    with pytest.raises(ReplayError, match="exposure time"):
        replay(tmp_path, ab)
