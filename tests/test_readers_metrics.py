"""Tests for the metrics reader: every accepted metrics.json shape, CSV/JSONL logs, thresholds and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from runsift.core.goals import normalise_goal
from runsift.core.readers.metrics import (
    METRICS_FILE_NAMES,
    is_metrics_file,
    is_thresholded,
    last_values,
    parse_metrics_csv,
    parse_metrics_document,
    parse_metrics_jsonl,
    parse_metrics_text,
    read_metrics,
    resolve_thresholds,
    threshold_in_text,
)
from runsift.core.records import MetricDefinition, Metrics
from runsift.core.safeio import ReadContext


def lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) pairs as ReadContext.iter_lines yields them."""
    return list(enumerate(text.splitlines(), start=1))


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (creating folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- metrics.json shapes ----------------------------------------------------------


def test_final_and_per_epoch() -> None:
    doc = {
        "final": {"val_auc": 0.91, "val_f1": 0.7},
        "per_epoch": [
            {"epoch": 1, "val_auc": 0.8, "loss": 0.5},
            {"epoch": 2, "val_auc": 0.85, "loss": 0.4},
        ],
    }
    final, series, definitions, extra, messages = parse_metrics_document(doc)
    assert final == {"val_auc": 0.91, "val_f1": 0.7}
    assert series == {
        "val_auc": ((1.0, 0.8), (2.0, 0.85)),
        "loss": ((1.0, 0.5), (2.0, 0.4)),
    }
    assert "epoch" not in series and "epoch" not in final
    assert definitions == {}
    assert extra == {}
    assert messages == []


@pytest.mark.parametrize("key", ["per_step", "history", "epochs", "steps", "curves", "log_history"])
def test_series_block_aliases(key: str) -> None:
    doc = {"final": {"acc": 0.9}, key: [{"step": 10, "acc": 0.5}, {"step": 20, "acc": 0.7}]}
    parsed = parse_metrics_document(doc)
    assert parsed.series == {"acc": ((10.0, 0.5), (20.0, 0.7))}
    assert parsed.final == {"acc": 0.9}


def test_rows_out_of_order_are_sorted_and_repeated_step_keeps_last() -> None:
    doc = {"per_step": [{"step": 3, "loss": 0.3}, {"step": 1, "loss": 0.9}, {"step": 3, "loss": 0.25}]}
    assert parse_metrics_document(doc).series == {"loss": ((1.0, 0.9), (3.0, 0.25))}


def test_row_with_epoch_and_step_uses_step_except_in_per_epoch() -> None:
    rows = [{"epoch": 0, "step": 100, "loss": 0.5}, {"epoch": 1, "step": 200, "loss": 0.4}]
    assert parse_metrics_document({"history": rows}).series == {"loss": ((100.0, 0.5), (200.0, 0.4))}
    assert parse_metrics_document({"per_epoch": rows}).series == {"loss": ((0.0, 0.5), (1.0, 0.4))}


def test_flat_scalars_are_final_values() -> None:
    parsed = parse_metrics_document({"val_auc": 0.91, "val_f1": 0.7, "epochs_trained": 12})
    assert parsed.final == {"val_auc": 0.91, "val_f1": 0.7, "epochs_trained": 12.0}
    assert parsed.series == {}
    assert parsed.messages == []


def test_history_of_number_lists_gets_steps_one_to_n() -> None:
    parsed = parse_metrics_document({"history": {"val_auc": [0.8, 0.85, 0.9], "loss": [0.5, None, 0.3]}})
    assert parsed.series["val_auc"] == ((1.0, 0.8), (2.0, 0.85), (3.0, 0.9))
    assert parsed.series["loss"] == ((1.0, 0.5), (3.0, 0.3))  # null skipped, positions kept
    assert parsed.final == {}


def test_history_of_pairs_and_step_value_mappings() -> None:
    doc = {
        "history": {
            "pairs": [[100, 0.5], [200, 0.4]],
            "dicts": [{"step": 5, "value": 1.5}, {"epoch": 6, "value": 2.5}],
            "by_step": {"1": 0.1, "2": 0.2},
        }
    }
    parsed = parse_metrics_document(doc)
    assert parsed.series == {
        "pairs": ((100.0, 0.5), (200.0, 0.4)),
        "dicts": ((5.0, 1.5), (6.0, 2.5)),
        "by_step": ((1.0, 0.1), (2.0, 0.2)),
    }
    assert parsed.messages == []


def test_history_with_unusable_points_reports_once_and_keeps_the_rest() -> None:
    parsed = parse_metrics_document({"history": {"loss": [0.5, "oops", [1, 2, 3], 0.2]}})
    assert parsed.series["loss"] == ((1.0, 0.5), (4.0, 0.2))
    assert len(parsed.messages) == 1
    assert "2 unusable point(s)" in parsed.messages[0][0]


def test_epoch_keyed_mapping_of_rows() -> None:
    doc = {"per_epoch": {"1": {"auc": 0.7}, "2": {"auc": 0.8}}}
    assert parse_metrics_document(doc).series == {"auc": ((1.0, 0.7), (2.0, 0.8))}


def test_top_level_list_final_is_last_step() -> None:
    doc = [
        {"epoch": 2, "val_auc": 0.85, "loss": 0.4},
        {"epoch": 1, "val_auc": 0.8, "loss": 0.5},
        {"epoch": 3, "val_auc": 0.9},
    ]
    parsed = parse_metrics_document(doc)
    assert parsed.series["val_auc"] == ((1.0, 0.8), (2.0, 0.85), (3.0, 0.9))
    assert parsed.final == {"val_auc": 0.9, "loss": 0.4}


def test_top_level_list_row_without_step_is_reported() -> None:
    parsed = parse_metrics_document([{"iteration": 1, "loss": 0.5}, {"loss": 0.4}])
    assert parsed.series == {"loss": ((1.0, 0.5),)}
    assert any("without a numeric 'iteration'" in m for m, _ in parsed.messages)


def test_nested_mappings_flatten_with_dots() -> None:
    doc = {"val": {"auc": 0.9, "pr": {"auc": 0.4}}, "final": {"test": {"f1": 0.6}}}
    parsed = parse_metrics_document(doc)
    assert parsed.final == {"test.f1": 0.6, "val.auc": 0.9, "val.pr.auc": 0.4}


def test_nested_rows_flatten_with_dots() -> None:
    parsed = parse_metrics_document({"per_epoch": [{"epoch": 1, "val": {"auc": 0.8}}]})
    assert parsed.series == {"val.auc": ((1.0, 0.8),)}


def test_metrics_wrapper_is_read_as_top_level() -> None:
    parsed = parse_metrics_document({"run_id": "r1", "metrics": {"auc": 0.9, "history": {"auc": [0.5]}}})
    assert parsed.final == {"auc": 0.9}
    assert parsed.series == {"auc": ((1.0, 0.5),)}
    assert parsed.extra == {"run_id": "r1"}


# -- extras -------------------------------------------------------------------------


def test_non_numeric_values_go_to_extra_and_status_is_kept() -> None:
    doc = {
        "status": "failed",
        "val_auc": 0.5,
        "timings": {"train": "1h 20m", "seconds": 4800},
        "notes": None,
        "per_class_f1": [0.8, 0.6],
        "converged": True,
        "epoch": 7,
    }
    parsed = parse_metrics_document(doc)
    assert parsed.extra["status"] == "failed"
    assert parsed.extra["timings.train"] == "1h 20m"
    assert parsed.extra["notes"] is None
    assert parsed.extra["per_class_f1"] == [0.8, 0.6]
    assert parsed.extra["converged"] is True
    assert parsed.extra["epoch"] == 7
    assert parsed.final == {"val_auc": 0.5, "timings.seconds": 4800.0}


def test_booleans_are_never_metrics() -> None:
    parsed = parse_metrics_document({"early_stopped": False, "history": {"flag": [True, False]}, "auc": 0.7})
    assert parsed.final == {"auc": 0.7}
    assert "flag" not in parsed.series
    assert parsed.extra["early_stopped"] is False


def test_yaml_exponent_strings_are_numbers() -> None:
    parsed = parse_metrics_text("val_loss: 1e-3\nlr_note: fast\n", "metrics.yaml")
    assert parsed.final == {"val_loss": 0.001}
    assert parsed.extra == {"lr_note": "fast"}


# -- definitions and thresholds -------------------------------------------------------


def test_definitions_block() -> None:
    doc = {
        "definitions": {
            "auc": {"version": 2, "goal": "maximize", "text": "ROC AUC on val", "window": "7d"},
            "loss": {"version": "v1.3", "mode": "lower", "formula": "mean BCE"},
            "f1": {"threshold": 0.35, "description": "F1 of class 1", "formula": "2PR/(P+R)"},
        },
        "auc": 0.9,
    }
    defs = parse_metrics_document(doc).definitions
    assert defs["auc"] == MetricDefinition(name="auc", version="2", text="ROC AUC on val", goal="max", extra={"window": "7d"})
    assert defs["loss"] == MetricDefinition(name="loss", version="v1.3", text="mean BCE", goal="min")
    assert defs["f1"].threshold == 0.35
    assert defs["f1"].text == "F1 of class 1"
    assert defs["f1"].extra == {"formula": "2PR/(P+R)"}


def test_metric_definitions_as_list_and_text() -> None:
    doc = {
        "metric_definitions": [
            {"name": "conversion_v2", "version": 2, "text": "purchases/eligible_users within 7 days", "higher_is_better": True},
            {"version": 1},
        ]
    }
    parsed = parse_metrics_document(doc)
    d = parsed.definitions["conversion_v2"]
    assert (d.version, d.goal, d.text) == ("2", "max", "purchases/eligible_users within 7 days")
    assert len(parsed.definitions) == 1
    assert any("no 'name'" in m for m, _ in parsed.messages)


@pytest.mark.parametrize(
    ("raw", "goal"),
    [("max", "max"), ("Maximize", "max"), ("maximise", "max"), ("higher", "max"), ("higher_is_better", "max"),
     ("min", "min"), ("MINIMIZE", "min"), ("lower", "min"), ("lower-is-better", "min"), ("sideways", None), (3, None)],
)
def test_goal_normalisation(raw: object, goal: str | None) -> None:
    assert normalise_goal(raw) == goal


def test_unknown_goal_is_reported_and_kept() -> None:
    parsed = parse_metrics_document({"definitions": {"auc": {"goal": "sideways"}}})
    assert parsed.definitions["auc"].goal is None
    assert parsed.definitions["auc"].extra == {"goal": "sideways"}
    assert len(parsed.messages) == 1


def test_thresholds_block() -> None:
    parsed = parse_metrics_document({"thresholds": {"f1": 0.5, "recall": "0.3"}, "f1": 0.7})
    assert parsed.definitions["f1"].threshold == 0.5
    assert parsed.definitions["recall"].threshold == 0.3


def test_thresholds_block_disagreeing_with_definition_is_reported() -> None:
    doc = {"definitions": {"f1": {"threshold": 0.4}}, "thresholds": {"f1": 0.5}}
    parsed = parse_metrics_document(doc)
    assert parsed.definitions["f1"].threshold == 0.4
    assert len(parsed.messages) == 1


def test_top_level_threshold_applies_to_thresholded_metrics_only() -> None:
    doc = {
        "threshold": 0.5,
        "final": {"val_f1": 0.7, "val_precision": 0.6, "val_recall": 0.8, "val_auc": 0.9, "pr_auc": 0.5,
                  "average_precision": 0.4, "recall@10": 0.3, "loss": 0.2},
        "thresholds": {"test_f1": 0.3},
        "test_f1": 0.65,
    }
    parsed = parse_metrics_document(doc)
    thresholds = {name: d.threshold for name, d in parsed.definitions.items()}
    assert thresholds == {"val_f1": 0.5, "val_precision": 0.5, "val_recall": 0.5, "test_f1": 0.3}
    assert parsed.definitions["val_f1"].extra == {"threshold_from": "threshold"}
    assert parsed.extra["threshold"] == 0.5
    assert "threshold" not in parsed.final


def test_threshold_from_definition_text_and_from_key() -> None:
    doc = {
        "definitions": {"f1": "F1 (threshold=0.5)", "recall": {"text": "recall at a 0.4 threshold"}},
        "final": {"f1@0.25": 0.6, "F1 (threshold=0.75)": 0.5},
    }
    defs = parse_metrics_document(doc).definitions
    assert defs["f1"].threshold == 0.5 and defs["f1"].text == "F1 (threshold=0.5)"
    assert defs["recall"].threshold == 0.4
    assert defs["f1@0.25"].threshold == 0.25
    assert defs["F1 (threshold=0.75)"].threshold == 0.75


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("F1 (threshold=0.5)", 0.5),
        ("f1@0.5", 0.5),
        ("precision at threshold 0.3", 0.3),
        ("cutoff: .25", 0.25),
        ("recall@10", None),
        ("threshold=0.5 on val, threshold=0.6 on test", None),
        ("F1 of the positive class", None),
    ],
)
def test_threshold_in_text(text: str, expected: float | None) -> None:
    assert threshold_in_text(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("val_f1", True), ("test.precision", True), ("recall", True), ("f1_score", True), ("val_auc", False),
     ("pr_auc", False), ("average_precision", False), ("precision@5", False), ("recall_at_10", False), ("loss", False)],
)
def test_is_thresholded(name: str, expected: bool) -> None:
    assert is_thresholded(name) is expected


def test_resolve_thresholds_keeps_explicit_ones() -> None:
    defs = {"f1": MetricDefinition(name="f1", threshold=0.2)}
    out = resolve_thresholds(defs, ["f1", "recall", "auc"], default=0.5)
    assert out["f1"].threshold == 0.2
    assert out["recall"].threshold == 0.5
    assert "auc" not in out


# -- NaN and Infinity ---------------------------------------------------------------------


def test_nan_and_infinity_round_trip_through_metrics_json(tmp_path: Path) -> None:
    path = write(tmp_path / "run" / "metrics.json",
                 '{"final": {"loss": NaN, "ratio": Infinity, "margin": -Infinity},'
                 ' "per_step": [{"step": 1, "loss": NaN}, {"step": 2, "loss": 1.5}]}')
    ctx = ReadContext(tmp_path)
    metrics = read_metrics([path], ctx)
    assert ctx.problems == []
    assert math.isnan(metrics.final["loss"])
    assert metrics.final["ratio"] == math.inf
    assert metrics.final["margin"] == -math.inf
    (s1, v1), (s2, v2) = metrics.series["loss"]
    assert (s1, s2, v2) == (1.0, 2.0, 1.5) and math.isnan(v1)


def test_nan_and_inf_strings_in_csv() -> None:
    parsed = parse_metrics_csv(lines("step,loss,ratio\n1,nan,inf\n2,NaN,-inf\n3,0.5,Infinity\n"))
    assert parsed.messages == []
    loss = parsed.series["loss"]
    assert math.isnan(loss[0][1]) and math.isnan(loss[1][1]) and loss[2] == (3.0, 0.5)
    assert parsed.series["ratio"] == ((1.0, math.inf), (2.0, -math.inf), (3.0, math.inf))


def test_nan_and_infinity_spelled_as_json_strings_are_floats() -> None:
    parsed = parse_metrics_document({"loss": "NaN", "ratio": "-Infinity", "history": {"gap": ["inf", 1]}})
    assert math.isnan(parsed.final["loss"])
    assert parsed.final["ratio"] == -math.inf
    assert parsed.series["gap"] == ((1.0, math.inf), (2.0, 1.0))
    assert parsed.extra == {}


def test_bare_number_list_in_a_series_block_is_kept_as_extra() -> None:
    parsed = parse_metrics_document({"history": [0.5, 0.4]})
    assert parsed.series == {}
    assert parsed.extra == {"history": [0.5, 0.4]}
    assert len(parsed.messages) == 1


def test_empty_text_is_a_problem() -> None:
    parsed = parse_metrics_text("  \n", "metrics.json")
    assert parsed.messages == [("empty file (still being written?)", None)]


# -- metrics.csv ----------------------------------------------------------------------------


def test_csv_with_epoch_column() -> None:
    parsed = parse_metrics_csv(lines("epoch,train_loss,val_auc\n1,0.5,0.8\n2,0.4,0.85\n"))
    assert parsed.series == {
        "train_loss": ((1.0, 0.5), (2.0, 0.4)),
        "val_auc": ((1.0, 0.8), (2.0, 0.85)),
    }
    assert parsed.final == {}
    assert parsed.messages == []


def test_csv_prefers_step_over_epoch_and_drops_bookkeeping_columns() -> None:
    parsed = parse_metrics_csv(lines("epoch,step,timestamp,loss\n0,10,1700000000,0.9\n0,20,1700000060,0.8\n"))
    assert parsed.series == {"loss": ((10.0, 0.9), (20.0, 0.8))}


def test_csv_without_step_header_uses_first_column() -> None:
    parsed = parse_metrics_csv(lines(",loss\n0,0.9\n1,0.7\n"))
    assert parsed.series == {"loss": ((0.0, 0.9), (1.0, 0.7))}


def test_csv_blank_and_garbage_cells_one_problem_with_first_line() -> None:
    text = "step,loss,acc\n1,0.5,0.6\n2,,0.7\n3,n/a,0.8\n4,0.2,oops\n"
    parsed = parse_metrics_csv(lines(text))
    assert parsed.series == {"loss": ((1.0, 0.5), (4.0, 0.2)), "acc": ((1.0, 0.6), (2.0, 0.7), (3.0, 0.8))}
    assert len(parsed.messages) == 1
    message, line = parsed.messages[0]
    assert line == 3
    assert message.startswith("3 blank or non-numeric cell(s)")


def test_csv_bad_step_rows_are_skipped_and_reported() -> None:
    parsed = parse_metrics_csv(lines("step,loss\n1,0.5\nabc,0.4\n3,0.3\n"))
    assert parsed.series == {"loss": ((1.0, 0.5), (3.0, 0.3))}
    assert parsed.messages == [(parsed.messages[0][0], 3)]


def test_csv_truncated_last_row_keeps_earlier_rows() -> None:
    parsed = parse_metrics_csv(lines("step,loss,acc\n1,0.5,0.6\n2,0.4"))
    assert parsed.series == {"loss": ((1.0, 0.5), (2.0, 0.4)), "acc": ((1.0, 0.6),)}
    assert [line for _, line in parsed.messages] == [3]


def test_csv_empty_and_header_only_are_problems() -> None:
    assert parse_metrics_csv([]).messages[0][0].startswith("empty file")
    header_only = parse_metrics_csv(lines("step,loss\n"))
    assert header_only.series == {} and "no data rows" in header_only.messages[0][0]


def test_csv_with_bom_header(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_bytes(b"\xef\xbb\xbfepoch,loss\n1,0.5\n")
    ctx = ReadContext(tmp_path)
    assert read_metrics([path], ctx).series == {"loss": ((1.0, 0.5),)}
    assert ctx.problems == []


# -- metrics.jsonl ------------------------------------------------------------------------


def test_jsonl_truncated_last_line_keeps_earlier_lines() -> None:
    text = '{"step": 1, "loss": 0.5}\n{"step": 2, "loss": 0.4, "acc": NaN}\n{"step": 3, "lo'
    parsed = parse_metrics_jsonl(lines(text))
    assert parsed.series["loss"] == ((1.0, 0.5), (2.0, 0.4))
    assert math.isnan(parsed.series["acc"][0][1])
    assert len(parsed.messages) == 1
    message, line = parsed.messages[0]
    assert line == 3 and "truncated" in message


def test_jsonl_invalid_middle_line_is_not_called_truncated() -> None:
    text = '{"step": 1, "loss": 0.5}\nnot json\n\n{"step": 3, "loss": 0.3}\n'
    parsed = parse_metrics_jsonl(lines(text))
    assert parsed.series["loss"] == ((1.0, 0.5), (3.0, 0.3))
    assert len(parsed.messages) == 1
    message, line = parsed.messages[0]
    assert line == 2 and "truncated" not in message


def test_jsonl_without_step_key_uses_position() -> None:
    parsed = parse_metrics_jsonl(lines('{"loss": 0.5}\n{"loss": 0.4, "phase": "val"}\n'))
    assert parsed.series == {"loss": ((1.0, 0.5), (2.0, 0.4))}
    assert [line for _, line in parsed.messages] == [2]  # the non-numeric "phase"


def test_jsonl_file_truncated_on_disk(tmp_path: Path) -> None:
    path = write(tmp_path / "r" / "metrics.jsonl", '{"epoch": 1, "auc": 0.7}\n{"epoch": 2, "auc": 0.8}\n{"epoch": 3, "au')
    ctx = ReadContext(tmp_path)
    metrics = read_metrics([path], ctx)
    assert metrics.series == {"auc": ((1.0, 0.7), (2.0, 0.8))}
    assert metrics.final == {}
    assert [(p.file, p.line) for p in ctx.problems] == [("r/metrics.jsonl", 3)]


# -- read_metrics over files ----------------------------------------------------------------


def test_truncated_metrics_json_is_a_problem_with_a_line(tmp_path: Path) -> None:
    path = write(tmp_path / "run" / "metrics.json", '{\n  "final": {\n    "val_auc": 0.9,\n')
    ctx = ReadContext(tmp_path)
    metrics = read_metrics([path], ctx)
    assert metrics == Metrics(final={"val_auc": 0.9})  # what was written before the cut is read
    assert len(ctx.problems) == 1
    problem = ctx.problems[0]
    assert problem.file == "run/metrics.json"
    assert problem.line == 4
    assert "truncated" in problem.message and "before the cut" in problem.message


def test_metrics_json_cut_mid_step_keeps_the_steps_written(tmp_path: Path) -> None:
    """A training loop rewriting metrics.json is read mid-write: the complete steps make a curve."""
    rows = ",".join(f'{{"epoch": {i}, "val_auc": {0.8 + i / 100}}}' for i in range(1, 6))
    path = write(tmp_path / "run" / "metrics.json", '{"per_epoch": [' + rows + ', {"epoch": 6, "val_au')
    ctx = ReadContext(tmp_path)
    metrics = read_metrics([path], ctx)
    assert [step for step, _ in metrics.series["val_auc"]] == [1, 2, 3, 4, 5]
    assert len(ctx.problems) == 1 and "truncated" in ctx.problems[0].message
    path.write_text('{"per_epoch": [{"epoch": 1, "val_auc": "a \\" ,]"', encoding="utf-8")  # brackets in a string
    ctx = ReadContext(tmp_path)
    assert read_metrics([path], ctx).series == {} and len(ctx.problems) == 1


def test_merge_json_final_with_csv_series_and_definitions(tmp_path: Path) -> None:
    run = tmp_path / "run"
    files = [
        write(run / "metrics.csv", "epoch,val_f1,loss\n1,0.5,0.9\n2,0.6,0.7\n"),
        write(run / "metrics.json", json.dumps({"final": {"val_f1": 0.62}, "threshold": 0.5, "status": "finished"})),
    ]
    ctx = ReadContext(tmp_path)
    metrics = read_metrics(files, ctx)
    assert ctx.problems == []
    assert metrics.final == {"val_f1": 0.62}
    assert metrics.series == {"val_f1": ((1.0, 0.5), (2.0, 0.6)), "loss": ((1.0, 0.9), (2.0, 0.7))}
    assert metrics.extra["status"] == "finished"
    assert metrics.definitions["val_f1"].threshold == 0.5
    assert "loss" not in metrics.definitions


def test_document_series_wins_over_log_series(tmp_path: Path) -> None:
    run = tmp_path / "run"
    files = [
        write(run / "metrics.jsonl", '{"step": 1, "loss": 9.0}\n{"step": 1, "acc": 0.1}\n'),
        write(run / "metrics.json", json.dumps({"history": {"loss": [0.5, 0.4]}})),
    ]
    metrics = read_metrics(files, ReadContext(tmp_path))
    assert metrics.series == {"loss": ((1.0, 0.5), (2.0, 0.4)), "acc": ((1.0, 0.1),)}


def test_only_per_step_logs_leave_final_empty(tmp_path: Path) -> None:
    path = write(tmp_path / "run" / "metrics.csv", "step,loss\n1,0.5\n2,0.25\n")
    metrics = read_metrics([path], ReadContext(tmp_path))
    assert metrics.final == {}
    assert last_values(metrics.series) == {"loss": 0.25}


def test_last_values_takes_highest_step() -> None:
    assert last_values({"a": ((1.0, 0.1), (5.0, 0.5)), "b": ((2.0, 2.0),), "c": ()}) == {"a": 0.5, "b": 2.0}


def test_conflicting_final_values_across_files_keep_the_first(tmp_path: Path) -> None:
    run = tmp_path / "run"
    files = [
        write(run / "metrics.yaml", "auc: 0.8\n"),
        write(run / "metrics.json", '{"auc": 0.9}'),
    ]
    ctx = ReadContext(tmp_path)
    metrics = read_metrics(files, ctx)
    assert metrics.final == {"auc": 0.9}
    assert [p.file for p in ctx.problems] == ["run/metrics.yaml"]


def test_prefixed_metrics_json_names_are_namespaced(tmp_path: Path) -> None:
    run = tmp_path / "run"
    files = [
        write(run / "test_metrics.json", '{"auc": 0.8, "test_f1": 0.5, "status": "ok"}'),
        write(run / "final_metrics.json", '{"auc": 0.9}'),
    ]
    metrics = read_metrics(files, ReadContext(tmp_path))
    assert metrics.final == {"auc": 0.9, "test.auc": 0.8, "test_f1": 0.5}
    assert metrics.extra == {"test.status": "ok"}


def test_unreadable_inputs_never_raise(tmp_path: Path) -> None:
    run = tmp_path / "run"
    outside = tmp_path.parent / f"{tmp_path.name}-outside.json"
    outside.write_text('{"auc": 1.0}')
    (run).mkdir()
    (run / "metrics.json").symlink_to(outside)
    (run / "metrics.csv").write_bytes(b"step,loss\x00\x01\x02")
    write(run / "metrics.yaml", "- [unclosed\n")
    write(run / "metrics.jsonl", "")
    ctx = ReadContext(tmp_path)
    metrics = read_metrics([run / n for n in ("metrics.json", "metrics.csv", "metrics.yaml", "metrics.jsonl", "missing.csv")], ctx)
    assert metrics == Metrics()
    files = sorted(p.file for p in ctx.problems)
    assert files == ["run/metrics.csv", "run/metrics.json", "run/metrics.jsonl", "run/metrics.yaml", "run/missing.csv"]
    assert any("outside the root" in p.message for p in ctx.problems)


def test_scalar_document_is_a_problem_but_kept() -> None:
    parsed = parse_metrics_document("done")
    assert parsed.extra == {"value": "done"}
    assert len(parsed.messages) == 1


# -- file names ------------------------------------------------------------------------------


def test_metrics_file_names() -> None:
    assert METRICS_FILE_NAMES[0] == "metrics.json"
    for name in ("metrics.json", "metrics.yaml", "metrics.csv", "metrics.jsonl", "history.csv",
                 "metrics_history.csv", "val_metrics.json"):
        assert is_metrics_file(name), name
    for name in ("_metrics.json", "metrics.txt", "config.yaml", "my_metrics.yaml"):
        assert not is_metrics_file(name), name
