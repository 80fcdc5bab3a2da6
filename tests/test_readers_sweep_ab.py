"""Tests for the sweep and A/B repro kit readers (tutorial Examples 2 and 3)."""

from __future__ import annotations

import copy
import json
import os
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from runsift.core.readers.abtest import (
    count_rows,
    find_unit_column,
    find_variant_column,
    is_abtest_dir,
    iter_assignments,
    iter_events,
    parse_variants,
    read_abtest,
)
from runsift.core.readers.sweep import (
    effective_config,
    is_sweep_dir,
    parse_leaderboard,
    read_sweep,
)
from runsift.core.records import ABTest
from runsift.core.safeio import ReadContext, Unreadable


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path``, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- sweeps -----------------------------------------------------------------------
SWEEP_YAML = """\
method: bayes
metric:
  name: val_F1
  goal: maximize
budget: 30
parameters:
  optimizer.lr: {min: 0.0001, max: 0.1, distribution: log_uniform}
  batch_size: {values: [16, 32, 64]}
early_terminate: {type: hyperband, min_iter: 3}
"""

BASELINE_YAML = """\
model: distilbert-base
epochs: 5
batch_size: 32
optimizer: {name: adamw, lr: 0.001, betas: [0.9, 0.999]}
seed: 1234
"""

LEADERBOARD = """\
run_id,val_F1,train_time,params_signature
run-101,0.912,341.2,lr=0.001;bs=32
run-102,0.897,298.0,lr=0.01;bs=16
run-103,0.905,330.5,lr=0.003;bs=64
"""


def make_sweep(root: Path) -> Path:
    """A sweep folder as in tutorial Example 3."""
    sweep = root / "nlp-intent" / "2025-01-07_sweep-07"
    write(sweep / "sweep.yaml", SWEEP_YAML)
    write(sweep / "baseline_config.yaml", BASELINE_YAML)
    write(sweep / "leaderboard.csv", LEADERBOARD)
    write(sweep / "notes.md", "Sweep over lr and batch size.\n")
    for run in ("run-101", "run-102", "run-103"):
        write(sweep / "runs" / run / "config.yaml", "optimizer.lr: 0.01\n")
    return sweep


def test_read_sweep_with_baseline_and_leaderboard(tmp_path: Path) -> None:
    sweep_dir = make_sweep(tmp_path)
    ctx = ReadContext(tmp_path)
    started = datetime(2025, 1, 7)
    sweep = read_sweep(
        sweep_dir,
        ctx,
        id="nlp-intent/2025-01-07_sweep-07",
        project="nlp-intent",
        name="2025-01-07_sweep-07",
        run_ids=("a", "b", "c"),
        started=started,
    )
    assert sweep.problems == ()
    assert ctx.problems == []
    assert sweep.kind == "sweep"
    assert sweep.path == str(sweep_dir)
    assert sweep.started == started
    assert sweep.run_ids == ("a", "b", "c")
    assert sweep.metric == "val_F1"
    assert sweep.goal == "max"
    assert sweep.spec["method"] == "bayes"
    assert sweep.spec["budget"] == 30
    assert sweep.spec["early_terminate"] == {"type": "hyperband", "min_iter": 3}  # unknown extras kept
    assert sweep.baseline_config["optimizer"] == {"name": "adamw", "lr": 0.001, "betas": [0.9, 0.999]}
    assert sweep.leaderboard_columns == ("run_id", "val_F1", "train_time", "params_signature")
    assert [r.run_id for r in sweep.leaderboard] == ["run-101", "run-102", "run-103"]
    assert [r.line for r in sweep.leaderboard] == [2, 3, 4]
    assert sweep.leaderboard[1].values == {
        "run_id": "run-102",
        "val_F1": "0.897",
        "train_time": "298.0",
        "params_signature": "lr=0.01;bs=16",
    }
    assert sweep.notes == "Sweep over lr and batch size."


def test_sweep_json_spec_with_top_level_mode(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "s"
    write(sweep_dir / "sweep.json", json.dumps({"metric": "val_loss", "mode": "min", "space": {"lr": [0.1, 0.01]}}))
    sweep = read_sweep(sweep_dir, ReadContext(tmp_path), id="s", project="p", name="s", run_ids=(), started=None)
    assert (sweep.metric, sweep.goal) == ("val_loss", "min")
    assert sweep.spec["space"] == {"lr": [0.1, 0.01]}
    assert sweep.problems == ()


def test_sweep_unknown_goal_and_bad_budget_are_problems(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "s"
    write(sweep_dir / "sweep.yaml", "metric: acc\ndirection: sideways\nmax_runs: lots\n")
    sweep = read_sweep(sweep_dir, ReadContext(tmp_path), id="s", project="p", name="s", run_ids=(), started=None)
    assert sweep.metric == "acc"
    assert sweep.goal is None
    messages = [p.message for p in sweep.problems]
    assert any("sideways" in m for m in messages)
    assert any("max_runs" in m and "lots" in m for m in messages)
    assert all(p.file == "s/sweep.yaml" for p in sweep.problems)


def test_sweep_without_spec_is_reported(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "s"
    write(sweep_dir / "baseline_config.yaml", "lr: 0.1\n")
    sweep = read_sweep(sweep_dir, ReadContext(tmp_path), id="s", project="p", name="s", run_ids=(), started=None)
    assert sweep.baseline_config == {"lr": 0.1}
    assert [p.file for p in sweep.problems] == ["s/sweep.yaml"]
    assert "no sweep spec" in sweep.problems[0].message


@pytest.mark.parametrize(
    "names",
    [{"sweep.yaml"}, {"sweep.yml", "runs"}, {"sweep.json"}, {"baseline_config.yaml", "leaderboard.csv"}],
)
def test_is_sweep_dir(names: set[str]) -> None:
    assert is_sweep_dir(names)


def test_is_not_sweep_dir() -> None:
    assert not is_sweep_dir({"config.yaml", "metrics.json", "notes.md"})


def test_leaderboard_malformed_row_reported_with_its_line(tmp_path: Path) -> None:
    text = (
        "run_id,val_F1,train_time\n"  # line 1
        "run-101,0.91,341\n"  # line 2
        "\n"  # line 3: blank, skipped
        'run-102,0.89,"29\n8"\n'  # lines 4-5: one row with a quoted line break
        "run-103,0.90\n"  # line 6: one cell short
        "run-104,0.88,300,extra\n"  # line 7: one cell too many
        "run-105,0.87,310\n"  # line 8
    )
    sweep_dir = tmp_path / "s"
    write(sweep_dir / "sweep.yaml", "metric: val_F1\n")
    write(sweep_dir / "leaderboard.csv", text)
    sweep = read_sweep(sweep_dir, ReadContext(tmp_path), id="s", project="p", name="s", run_ids=(), started=None)
    assert [(r.run_id, r.line) for r in sweep.leaderboard] == [("run-101", 2), ("run-102", 4), ("run-105", 8)]
    assert sweep.leaderboard[1].values["train_time"] == "29\n8"
    assert [(p.file, p.line) for p in sweep.problems] == [("s/leaderboard.csv", 6), ("s/leaderboard.csv", 7)]
    assert "2 cells" in sweep.problems[0].message and "3" in sweep.problems[0].message


def test_leaderboard_run_id_column_choice() -> None:
    columns, rows, issues = parse_leaderboard("score,Run,extra\n0.5,r1,x\n")
    assert columns == ("score", "Run", "extra")
    assert rows[0].run_id == "r1"
    assert issues == []
    columns, rows, issues = parse_leaderboard("trial_name,score\nt-1,0.5\n")
    assert rows[0].run_id == "t-1"  # no known id column: the first column


def test_leaderboard_empty_and_blank_header_cells() -> None:
    assert parse_leaderboard("")[2] == [("no header row (empty leaderboard)", None)]
    columns, rows, _ = parse_leaderboard(",run_id,acc\n0,run-1,0.7\n")  # pandas index column
    assert columns == ("column_1", "run_id", "acc")
    assert rows[0].run_id == "run-1"


# -- effective config -----------------------------------------------------------------
def test_effective_config_nested_merge_and_lists_replaced() -> None:
    baseline = {"optimizer": {"name": "adamw", "lr": 0.001, "betas": [0.9, 0.999]}, "epochs": 5, "tags": ["a", "b"]}
    own = {"optimizer": {"lr": 0.01, "betas": [0.8]}, "tags": ["c"], "dropout": 0.1}
    before = (copy.deepcopy(baseline), copy.deepcopy(own))
    merged = effective_config(baseline, own)
    assert merged == {
        "optimizer": {"name": "adamw", "lr": 0.01, "betas": [0.8]},
        "epochs": 5,
        "tags": ["c"],
        "dropout": 0.1,
    }
    assert (baseline, own) == before  # inputs unchanged
    merged["optimizer"]["betas"].append(0.1)
    merged["tags"].append("d")
    assert (baseline, own) == before  # and not shared with the result


def test_effective_config_dotted_keys_override_nested() -> None:
    baseline = {"optimizer": {"name": "adamw", "lr": 0.001, "schedule": {"kind": "cosine", "warmup": 100}}}
    own = {"optimizer.lr": 0.01, "optimizer.schedule.warmup": 0, "optimizer.momentum": 0.9}
    before = (copy.deepcopy(baseline), copy.deepcopy(own))
    assert effective_config(baseline, own) == {
        "optimizer": {
            "name": "adamw",
            "lr": 0.01,
            "momentum": 0.9,
            "schedule": {"kind": "cosine", "warmup": 0},
        }
    }
    assert (baseline, own) == before


def test_effective_config_dotted_key_rules() -> None:
    # No mapping to descend into: the dotted key is kept as written.
    assert effective_config({}, {"scheduler.name": "cosine"}) == {"scheduler.name": "cosine"}
    assert effective_config({"scheduler": "linear"}, {"scheduler.name": "x"}) == {
        "scheduler": "linear",
        "scheduler.name": "x",
    }
    # A literal dotted key in the baseline is overridden literally.
    assert effective_config({"data.path": "a"}, {"data.path": "b"}) == {"data.path": "b"}
    # Dotted keys are applied after plain keys, so they win within one file.
    assert effective_config({}, {"opt.lr": 2, "opt": {"lr": 1, "wd": 0}}) == {"opt": {"lr": 2, "wd": 0}}
    # Dotted keys nested inside the run's own mappings follow the same rule.
    assert effective_config({"opt": {"s": {"k": 1}}}, {"opt": {"s.k": 2}}) == {"opt": {"s": {"k": 2}}}


def test_effective_config_none_and_type_changes() -> None:
    baseline = {"a": {"b": 1}, "c": 2}
    assert effective_config(baseline, {"a": None, "c": {"d": 3}}) == {"a": None, "c": {"d": 3}}
    assert effective_config(baseline, {}) == baseline
    assert effective_config({}, {"x": [1, {"y": 2}]}) == {"x": [1, {"y": 2}]}


def test_sweep_member_effective_config(tmp_path: Path) -> None:
    sweep_dir = make_sweep(tmp_path)
    sweep = read_sweep(sweep_dir, ReadContext(tmp_path), id="s", project="p", name="s", run_ids=(), started=None)
    own = ReadContext(tmp_path).load_structured(sweep_dir / "runs" / "run-102" / "config.yaml")
    merged = effective_config(sweep.baseline_config, own)
    assert merged["optimizer"] == {"name": "adamw", "lr": 0.01, "betas": [0.9, 0.999]}
    assert merged["batch_size"] == 32
    assert sweep.baseline_config["optimizer"]["lr"] == 0.001


# -- A/B repro kits ----------------------------------------------------------------------
EXPERIMENT_YAML = """\
experiment_id: checkout-address-validation-v2
description: New address validation UX in the checkout flow
variants:
  A: 0.5
  B: 0.5
exposure_unit: user_id
eligibility:
  countries: [US, CA]
  platforms: [web]
  exclude: [employees]
holdout: {share: 0.0, rule: "hash(user_id) % 100 < 5 kept out of all checkout tests"}
start: "2025-01-07T00:00:00+00:00"
end: 2025-01-21T00:00:00Z
"""

METRIC_DEFINITIONS = """\
conversion_v2:
  formula: purchases / eligible_users
  window_days: 7
  filters: [exclude_test_accounts]
  version: 2
guardrails:
  - checkout_latency_p95
"""

SCHEMAS = """\
page_view: v3
purchase: v5
"""

PLAN_MD = """\
# Analysis plan
Primary: conversion_v2. Guardrails: checkout latency p95.
Stop after 14 days; no peeking.
"""

QUERY_SQL = "SELECT variant, COUNT(*) FROM assignments GROUP BY variant;\n"

RESULT = {"metric": "conversion_v2", "lift": 0.012, "p_value": 0.03, "ci": [0.002, 0.022]}


def assignment_csv(rows: int) -> str:
    """An assignment log with ``rows`` data rows."""
    lines = ["user_id,assigned_at,variant,experiment_id"]
    for i in range(rows):
        lines.append(f"u{i:06d},2025-01-07T{i % 24:02d}:00:00Z,{'AB'[i % 2]},checkout-address-validation-v2")
    return "\n".join(lines) + "\n"


def make_kit(root: Path, experiment: str = EXPERIMENT_YAML, rows: int = 6) -> Path:
    """An A/B repro kit as in tutorial Example 2."""
    kit = root / "checkout" / "ab-address-validation"
    write(kit / "experiment.yaml", experiment)
    write(kit / "assignments.csv", assignment_csv(rows))
    events = [
        {"user_id": "u000000", "event": "page_view", "schema": "v3", "ts": "2025-01-07T00:01:00Z"},
        {"user_id": "u000001", "event": "purchase", "schema": "v5", "ts": "2025-01-07T00:05:00Z"},
        {"user_id": "u000002", "event": "page_view", "schema": "v3", "ts": "2025-01-07T00:09:00Z"},
    ]
    write(kit / "events.jsonl", "".join(json.dumps(e) + "\n" for e in events))
    write(kit / "metric_definitions.yaml", METRIC_DEFINITIONS)
    write(kit / "event_schemas.yaml", SCHEMAS)
    write(kit / "analysis_plan.md", PLAN_MD)
    write(kit / "query.sql", QUERY_SQL)
    write(kit / "result.json", json.dumps(RESULT))
    write(kit / "notes.md", "Launched after design review.\n")
    return kit


def read_kit(root: Path, kit: Path, now: datetime | None = None) -> ABTest:
    """Read ``kit`` with a fresh context rooted at ``root``."""
    return read_abtest(kit, ReadContext(root), id=kit.name, project="checkout", name=kit.name, now=now)


def test_read_full_kit(tmp_path: Path) -> None:
    kit = make_kit(tmp_path)
    ab = read_kit(tmp_path, kit)
    assert ab.problems == ()
    assert ab.kind == "abtest"
    assert ab.path == str(kit)
    assert ab.experiment_id == "checkout-address-validation-v2"
    assert ab.variants == {"A": 0.5, "B": 0.5}
    assert ab.unit == "user_id"
    assert ab.started == datetime(2025, 1, 7, tzinfo=UTC)
    assert ab.ended == datetime(2025, 1, 21, tzinfo=UTC)
    assert ab.definition["eligibility"]["countries"] == ["US", "CA"]
    assert ab.definition["holdout"]["share"] == 0.0
    assert ab.definition["description"].startswith("New address")
    assert ab.metric_definitions["conversion_v2"]["window_days"] == 7
    assert ab.metric_definitions["guardrails"] == ["checkout_latency_p95"]
    assert ab.event_schemas == {"page_view": "v3", "purchase": "v5"}
    assert ab.analysis_plan == {"text": PLAN_MD}
    assert ab.query == QUERY_SQL
    assert ab.saved_result == RESULT
    assert ab.assignment_log == "checkout/ab-address-validation/assignments.csv"
    assert ab.assignment_rows == 6
    assert ab.events_log == "checkout/ab-address-validation/events.jsonl"
    assert ab.events_rows == 3
    assert ab.notes == "Launched after design review."
    assert ab.status == "finished"


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("variants: {control: 0.5, treatment: 0.5}", {"control": 0.5, "treatment": 0.5}),
        ("variants: {control: 0.9, treatment: 0.1}", {"control": 0.9, "treatment": 0.1}),
        ("traffic_split: {A: 50, B: 50}", {"A": 0.5, "B": 0.5}),
        ("traffic_split: {A: 80, B: 10, C: 10}", {"A": 0.8, "B": 0.1, "C": 0.1}),
        ("variants: {A: '25%', B: '75%'}", {"A": 0.25, "B": 0.75}),
        ("variants:\n  - {name: A, traffic: 0.5}\n  - {name: B, traffic: 0.5}", {"A": 0.5, "B": 0.5}),
        ("variants:\n  - {name: A, weight: 70}\n  - {name: B, weight: 30}", {"A": 0.7, "B": 0.3}),
        ("variants:\n  - {name: A, share: 0.2}\n  - {name: B, share: 0.8}", {"A": 0.2, "B": 0.8}),
        ("variants:\n  - {name: A, allocation: 40}\n  - {name: B, allocation: 60}", {"A": 0.4, "B": 0.6}),
        ("variants: [A, B]\ntraffic_split: {A: 50, B: 50}", {"A": 0.5, "B": 0.5}),
        ("variants: [control, treatment]\ntraffic_split: 90/10", {"control": 0.9, "treatment": 0.1}),
        ("variants: {A: {traffic: 60, description: old}, B: {traffic: 40}}", {"A": 0.6, "B": 0.4}),
    ],
)
def test_variant_shapes(tmp_path: Path, block: str, expected: dict[str, float]) -> None:
    kit = make_kit(tmp_path, experiment=f"experiment_id: e1\nunit: user_id\n{block}\n")
    ab = read_kit(tmp_path, kit)
    assert ab.variants == pytest.approx(expected)
    assert list(ab.variants) == list(expected)
    assert sum(ab.variants.values()) == pytest.approx(1.0)
    assert ab.problems == ()


@pytest.mark.parametrize(
    "block",
    [
        "variants: {A: 0.6, B: 0.6}",
        "traffic_split: {A: 40, B: 40}",
        "variants:\n  - {name: A, weight: 1}\n  - {name: B, weight: 3}",
    ],
)
def test_variant_shares_not_summing_to_one_are_reported(tmp_path: Path, block: str) -> None:
    kit = make_kit(tmp_path, experiment=f"experiment_id: e1\n{block}\n")
    ab = read_kit(tmp_path, kit)
    assert sum(ab.variants.values()) == pytest.approx(1.0)
    problems = [p for p in ab.problems if "sum to" in p.message]
    assert len(problems) == 1
    assert problems[0].file == "checkout/ab-address-validation/experiment.yaml"


def test_holdout_explains_missing_share() -> None:
    shares, issues = parse_variants({"traffic_split": {"A": 45, "B": 45}, "holdout": 10})
    assert shares == pytest.approx({"A": 0.5, "B": 0.5})
    assert issues == []


def test_variants_without_shares_assume_equal_split_and_say_so() -> None:
    shares, issues = parse_variants({"variants": ["A", "B", "C"]})
    assert shares == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    assert len(issues) == 1 and "equal split" in issues[0]


def test_definition_with_python_tag_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    evil = "experiment_id: x\nvariants: !!python/object/apply:os.system ['echo pwned']\n"
    kit = make_kit(tmp_path, experiment=evil)
    ab = read_kit(tmp_path, kit)
    assert ab.definition == {}
    assert ab.variants == {}
    assert ab.experiment_id is None
    defn = [p for p in ab.problems if p.file.endswith("experiment.yaml")]
    assert len(defn) == 1
    assert "unsafe YAML tag" in defn[0].message
    assert defn[0].line == 2
    assert ab.assignment_rows == 6  # the rest of the kit is still read


def test_missing_assignment_columns_are_problems(tmp_path: Path) -> None:
    kit = make_kit(tmp_path)
    write(kit / "assignments.csv", "visitor,when,bucketed\nu1,2025-01-07,A\n")
    ab = read_kit(tmp_path, kit)
    problems = [p for p in ab.problems if p.file.endswith("assignments.csv")]
    assert len(problems) == 2
    assert any("no unit column" in p.message and "'user_id'" in p.message for p in problems)
    assert any("no variant column" in p.message for p in problems)
    assert all(p.line == 1 for p in problems)
    assert ab.assignment_rows == 1


def test_unit_column_follows_the_definition(tmp_path: Path) -> None:
    kit = make_kit(tmp_path, experiment="experiment_id: e\nunit: session\nvariants: {A: 0.5, B: 0.5}\n")
    write(kit / "assignments.csv", "session_id,arm\ns1,A\ns2,B\n")
    ab = read_kit(tmp_path, kit)
    assert ab.unit == "session"
    assert ab.problems == ()
    assert find_unit_column(["Session_ID", "arm"], "session") == "Session_ID"
    assert find_variant_column(["Session_ID", "arm"]) == "arm"


def test_jsonl_assignment_log_without_variant_key(tmp_path: Path) -> None:
    kit = make_kit(tmp_path)
    (kit / "assignments.csv").unlink()
    write(kit / "assignments.jsonl", '{"user_id": "u1", "ts": 1}\n\n{"user_id": "u2", "ts": 2}\n')
    ab = read_kit(tmp_path, kit)
    assert ab.assignment_log == "checkout/ab-address-validation/assignments.jsonl"
    assert ab.assignment_rows == 2
    assert [p.message.split(" (")[0] for p in ab.problems] == ["assignment log has no variant column"]


def test_row_count_of_a_20000_row_assignment_log(tmp_path: Path) -> None:
    kit = make_kit(tmp_path, rows=20_000)
    ab = read_kit(tmp_path, kit)
    assert ab.assignment_rows == 20_000
    assert ab.problems == ()
    rows = list(iter_assignments(tmp_path, ab))
    assert len(rows) == 20_000
    assert rows[0] == {
        "user_id": "u000000",
        "assigned_at": "2025-01-07T00:00:00Z",
        "variant": "A",
        "experiment_id": "checkout-address-validation-v2",
    }
    assert rows[-1]["user_id"] == "u019999"


def test_count_rows_reports_ragged_csv_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "assignments.csv", "user_id,variant\nu1,A\nu2\n\nu3,B,extra\nu4,B\n")
    ctx = ReadContext(tmp_path)
    assert count_rows(path, ctx) == 4
    assert [(p.line, "2 row(s)" in p.message) for p in ctx.problems] == [(3, True)]


def test_parquet_without_pyarrow_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes "import pyarrow.parquet" fail
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    kit = make_kit(tmp_path)
    (kit / "assignments.csv").unlink()
    (kit / "assignments.parquet").write_bytes(b"PAR1\x00\x00PAR1")
    ab = read_kit(tmp_path, kit)
    assert ab.assignment_log == "checkout/ab-address-validation/assignments.parquet"
    assert ab.assignment_rows is None
    assert [p.message for p in ab.problems] == ["Parquet needs the optional pyarrow extra"]
    with pytest.raises(Unreadable, match="pyarrow"):
        list(iter_assignments(tmp_path, ab))


def test_status_from_end_and_result(tmp_path: Path) -> None:
    kit = make_kit(tmp_path)
    (kit / "result.json").unlink()
    before_end = datetime(2025, 1, 14, tzinfo=UTC)
    after_end = datetime(2025, 2, 1, tzinfo=UTC)
    assert read_kit(tmp_path, kit, now=before_end).status == "unknown"
    assert read_kit(tmp_path, kit, now=after_end).status == "finished"
    write(kit / "result.json", json.dumps(RESULT))
    assert read_kit(tmp_path, kit, now=before_end).status == "finished"


def test_naive_and_offset_times(tmp_path: Path) -> None:
    future = (datetime.now() + timedelta(days=30)).replace(microsecond=0)
    text = (
        "experiment_id: e\nvariants: {A: 0.5, B: 0.5}\n"
        "start: 2025-01-07 09:30:00+02:00\n"  # unquoted: YAML makes an aware datetime
        f"end: '{future.isoformat()}'\n"  # quoted ISO string without offset: naive
    )
    kit = make_kit(tmp_path, experiment=text)
    (kit / "result.json").unlink()
    ab = read_kit(tmp_path, kit)
    assert ab.started == datetime(2025, 1, 7, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    assert ab.started.utcoffset() == timedelta(hours=2)
    assert ab.ended == future and ab.ended.tzinfo is None
    assert ab.status == "unknown"


def test_unparseable_time_is_a_problem(tmp_path: Path) -> None:
    kit = make_kit(tmp_path, experiment="experiment_id: e\nvariants: {A: 1}\nstart: next tuesday\n")
    ab = read_kit(tmp_path, kit)
    assert ab.started is None
    assert any("next tuesday" in p.message for p in ab.problems)


def test_structured_plan_and_list_metric_definitions(tmp_path: Path) -> None:
    kit = make_kit(tmp_path)
    (kit / "analysis_plan.md").unlink()
    (kit / "metric_definitions.yaml").unlink()
    write(kit / "analysis_plan.yaml", "primary: conversion_v2\nguardrails: [latency_p95]\nstopping: fixed 14 days\n")
    write(kit / "metrics.yaml", "- {name: conversion_v2, window_days: 7}\n- {name: aov, window_days: 7}\n")
    ab = read_kit(tmp_path, kit)
    assert ab.analysis_plan == {"primary": "conversion_v2", "guardrails": ["latency_p95"], "stopping": "fixed 14 days"}
    assert set(ab.metric_definitions) == {"conversion_v2", "aov"}
    assert ab.metric_definitions["aov"] == {"name": "aov", "window_days": 7}
    assert ab.problems == ()


def test_kit_without_assignment_log_or_definition(tmp_path: Path) -> None:
    kit = tmp_path / "k"
    write(kit / "query.sql", "select 1")
    ab = read_kit(tmp_path, kit)
    assert ab.assignment_log is None and ab.assignment_rows is None
    assert {p.message.split(" (")[0] for p in ab.problems} == {"no experiment definition", "no assignment log"}
    with pytest.raises(Unreadable, match="no assignment log"):
        list(iter_assignments(tmp_path, ab))


def test_is_abtest_dir() -> None:
    assert is_abtest_dir({"experiment.yaml", "assignments.csv", "query.sql"})
    assert is_abtest_dir({"experiment_definition.json", "assignment_log.csv"})
    assert is_abtest_dir({"Experiment.YAML", "assignments.parquet"})
    assert not is_abtest_dir({"experiment.yaml", "config.yaml", "metrics.json"})
    assert not is_abtest_dir({"assignments.csv"})


def test_iter_events_jsonl_skips_bad_lines(tmp_path: Path) -> None:
    kit = make_kit(tmp_path)
    with open(kit / "events.jsonl", "a", encoding="utf-8") as fh:
        fh.write("{not json\n[1, 2]\n")
    ab = read_kit(tmp_path, kit)
    assert ab.events_rows == 5
    ctx = ReadContext(tmp_path)
    rows = list(iter_events(tmp_path, ab, ctx))
    assert [r["event"] for r in rows] == ["page_view", "purchase", "page_view"]
    assert [p.line for p in ctx.problems] == [4, 5]


def test_iter_refuses_paths_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    kit = make_kit(root)
    outside = write(tmp_path / "secret.csv", "user_id,variant\nu1,A\n")
    ab = read_kit(root, kit)
    escaped = ABTest(id="x", path=str(kit), project="p", name="x", assignment_log="../secret.csv")
    with pytest.raises(Unreadable, match="outside the catalog root"):
        list(iter_assignments(root, escaped))
    absolute = ABTest(id="x", path=str(kit), project="p", name="x", assignment_log=str(outside))
    with pytest.raises(Unreadable, match="outside the catalog root"):
        list(iter_assignments(root, absolute))
    # a link inside the kit that points outside the root is refused too
    (kit / "assignments.csv").unlink()
    os.symlink(outside, kit / "assignments.csv")
    linked = read_kit(root, kit)
    assert linked.assignment_rows is None
    assert any("outside the root" in p.message for p in linked.problems)
    with pytest.raises(Unreadable, match="outside"):
        list(iter_assignments(root, ab))
