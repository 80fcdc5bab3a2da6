"""Reader for per-example predictions: finding files, column variants, bad rows, alignment, speed."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_RUNS, write

from runsift.core import stats as S
from runsift.core.readers.predictions import (
    PREDICTION_PATTERNS,
    Predictions,
    align,
    find_predictions,
    parse_predictions,
    prediction_split,
    read_predictions,
)
from runsift.core.safeio import ReadContext


def read(path: Path, root: Path | None = None) -> tuple[Predictions | None, list[str]]:
    ctx = ReadContext(root or path.parent)
    return read_predictions(path, ctx), [str(p) for p in ctx.problems]


def lines(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


# -- finding ------------------------------------------------------------------------------------------


def test_find_predictions_where_and_order(tmp_path: Path) -> None:
    run = tmp_path / "run"
    for rel in (
        "predictions.csv",
        "test_preds.csv",
        "artifacts/val_predictions.csv",
        "artifacts/eval/preds.jsonl",
        "artifacts/predictions/train.csv",
        "artifacts/pred_val.parquet",
        "predictions/holdout.tsv",
    ):
        write(run / rel, "id,label,score\n")
    for rel in (
        "metrics.csv",  # not a predictions name
        "artifacts/model.pt",
        "artifacts/predictions.txt",  # unreadable kind
        "artifacts/a/b/val_predictions.csv",  # two levels down
        "artifacts/predator.csv",  # the word is not there
        "artifacts/.val_predictions.csv",
    ):
        write(run / rel, "x\n")
    found = [p.relative_to(run).as_posix() for p in find_predictions(run)]
    assert found == [
        "artifacts/pred_val.parquet",
        "artifacts/val_predictions.csv",
        "predictions/holdout.tsv",
        "test_preds.csv",
        "artifacts/eval/preds.jsonl",
        "predictions.csv",
        "artifacts/predictions/train.csv",
    ]
    assert find_predictions(tmp_path / "missing") == []


def test_find_predictions_does_not_follow_folder_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside / "val_predictions.csv", "id,label,score\n")
    run = tmp_path / "run"
    (run / "artifacts").mkdir(parents=True)
    os.symlink(outside, run / "artifacts" / "linked")
    assert find_predictions(run) == []


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("val_predictions.csv", "val"),
        ("predictions_validation.jsonl", "val"),
        ("dev-preds.csv", "val"),
        ("test_preds.csv", "test"),
        ("holdout_predictions.parquet", "test"),
        ("train_predictions.csv", "train"),
        ("predictions.csv", None),
        ("preds_v2.csv", None),
        ("predictions/val.csv", "val"),
        ("predictions/latest.csv", None),
    ],
)
def test_prediction_split(name: str, split: str | None) -> None:
    assert prediction_split(name) == split


def test_patterns_are_documented() -> None:
    assert "artifacts/*" in PREDICTION_PATTERNS["folders"]
    assert "*_id" in PREDICTION_PATTERNS["id_columns"]
    assert "is_*" in PREDICTION_PATTERNS["label_columns"]
    assert {"score", "prob", "proba", "y_score", "p", "prediction_score"} <= set(PREDICTION_PATTERNS["score_columns"])
    assert {"pred", "y_pred", "prediction"} <= set(PREDICTION_PATTERNS["predicted_columns"])
    json.dumps(PREDICTION_PATTERNS)  # plain data


# -- CSV / TSV / JSONL variants ----------------------------------------------------------------------------


def test_csv_basic(tmp_path: Path) -> None:
    f = write(tmp_path / "artifacts" / "val_predictions.csv", "id,label,score\na,1,0.9\nb,0,0.2\nc,1,0.4\n")
    p, problems = read(f, tmp_path)
    assert problems == []
    assert p is not None and len(p) == 3
    assert p.ids.tolist() == ["a", "b", "c"]
    assert p.labels.dtype == np.int8 and p.labels.tolist() == [1, 0, 1]
    assert p.scores is not None and p.scores.tolist() == [0.9, 0.2, 0.4]
    assert p.predicted is None and p.binary and p.classes is None
    assert (p.split, p.source) == ("val", "artifacts/val_predictions.csv")
    assert p.columns == {"id": "id", "label": "label", "score": "score"}
    assert not p.scores.flags.writeable


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        ("txn_id,is_fraud,prob", {"id": "txn_id", "label": "is_fraud", "score": "prob"}),
        ("example_id,y_true,y_score", {"id": "example_id", "label": "y_true", "score": "y_score"}),
        ("row_id,target,proba", {"id": "row_id", "label": "target", "score": "proba"}),
        ("ID,Label,P", {"id": "ID", "label": "Label", "score": "P"}),
        ("user_id,y,prediction_score,extra", {"id": "user_id", "label": "y", "score": "prediction_score"}),
        ("\ufeffid,label,score", {"id": "id", "label": "label", "score": "score"}),
    ],
)
def test_column_variants(header: str, columns: dict[str, str]) -> None:
    text = header + "\n" + "\n".join(f"e{i},{i % 2},0.{i}" + (",x" if "extra" in header else "") for i in range(1, 6))
    p = parse_predictions(lines(text), "preds.csv")
    assert p is not None and p.columns == columns
    assert p.labels.tolist() == [1, 0, 1, 0, 1]
    assert p.scores is not None and p.scores.tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["true", "false", "True"], [1, 0, 1]),
        (["yes", "no", "no"], [1, 0, 0]),
        (["1.0", "0.0", "1"], [1, 0, 1]),
        (["-1", "1", "+1"], [0, 1, 1]),
        (["pos", "neg", "neg"], [1, 0, 0]),
    ],
)
def test_binary_label_spellings(values: list[str], expected: list[int]) -> None:
    text = "id,label,score\n" + "\n".join(f"e{i},{v},0.5" for i, v in enumerate(values))
    p = parse_predictions(lines(text), "preds.csv")
    assert p is not None and p.binary and p.labels.tolist() == expected


def test_predicted_class_only_and_both(tmp_path: Path) -> None:
    p = parse_predictions(lines("id,y_true,y_pred\na,1,1\nb,0,1\nc,0,0\n"), "test_preds.csv")
    assert p is not None and p.scores is None and p.predicted is not None
    assert p.predicted.tolist() == [1, 1, 0] and p.split == "test"
    both = parse_predictions(lines("id,label,score,pred\na,1,0.8,1\nb,0,0.7,1\n"), "preds.csv")
    assert both is not None and both.scores is not None and both.predicted is not None
    assert both.columns == {"id": "id", "label": "label", "score": "score", "predicted": "pred"}


def test_prediction_column_of_probabilities_is_the_score() -> None:
    p = parse_predictions(lines("id,label,prediction\na,1,0.83\nb,0,0.12\nc,1,1\n"), "preds.csv")
    assert p is not None and p.predicted is None
    assert p.scores is not None and p.scores.tolist() == [0.83, 0.12, 1.0]
    assert p.columns["score"] == "prediction"
    # with a score column as well, a column of probabilities is not a predicted class: it is left out
    both = parse_predictions(lines("id,label,score,prediction\na,1,0.8,0.83\nb,0,0.1,0.12\n"), "preds.csv")
    assert both is not None and both.predicted is None and both.scores is not None
    assert both.scores.tolist() == [0.8, 0.1] and both.columns == {"id": "id", "label": "label", "score": "score"}


def test_multiclass_labels_become_classes() -> None:
    text = "id,label,score,predicted\nu1,track_order,0.9,track_order\nu2,check_balance,0.5,track_order\nu3,reset_password,0.8,reset_password\n"
    p = parse_predictions(lines(text), "val_predictions.csv")
    assert p is not None and not p.binary
    assert p.classes == ("check_balance", "reset_password", "track_order")
    assert p.labels.tolist() == [2, 0, 1] and p.predicted is not None and p.predicted.tolist() == [2, 2, 1]
    assert p.label_names().tolist() == ["track_order", "check_balance", "reset_password"]
    numeric = parse_predictions(lines("id,label,pred\na,10,2\nb,2,2\nc,1,10\n"), "preds.csv")
    assert numeric is not None and numeric.classes == ("1", "2", "10")  # sorted as numbers


def test_tsv() -> None:
    p = parse_predictions(lines("id\tlabel\tscore\na\t1\t0.7\nb\t0\t0.1\n"), "val_preds.tsv")
    assert p is not None and p.ids.tolist() == ["a", "b"] and p.scores is not None and p.scores.tolist() == [0.7, 0.1]


def test_jsonl_variants(tmp_path: Path) -> None:
    rows = [
        {"example_id": 17, "is_spam": True, "proba": 0.91, "note": {"x": 1}},
        {"example_id": 18, "is_spam": False, "proba": 0.05},
        {"example_id": "19", "is_spam": 1, "proba": "0.5"},
    ]
    f = write(tmp_path / "preds.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    p, problems = read(f)
    assert problems == []
    assert p is not None and p.ids.tolist() == ["17", "18", "19"]
    assert p.labels.tolist() == [1, 0, 1] and p.scores is not None and p.scores.tolist() == [0.91, 0.05, 0.5]
    assert p.columns == {"id": "example_id", "label": "is_spam", "score": "proba"}


def test_jsonl_bad_lines_are_skipped(tmp_path: Path) -> None:
    text = '{"id": "a", "label": 1, "score": 0.9}\n{"id": "b", "label": 0, "score": \n[1, 2]\n{"id": "c", "label": 0}\n{"id": "d", "label": 0, "score": null}\n{"id": "e", "label": 0, "score": 0.3}\n'
    f = write(tmp_path / "val_preds.jsonl", text)
    p, problems = read(f)
    assert p is not None and p.ids.tolist() == ["a", "e"] and p.skipped == 4
    assert problems == ["val_preds.jsonl:2: 4 rows could not be read and were skipped (first: line 2: invalid JSON)"]


def test_jsonl_not_objects_or_missing_keys() -> None:
    issues: list = []
    assert parse_predictions(lines("[1, 2]\n[3, 4]\n"), "preds.jsonl", issues=issues) is None
    assert issues == [("not read as predictions: lines are not JSON objects", 1)]
    issues = []
    assert parse_predictions(lines('{"id": 1, "score": 0.5}\n'), "preds.jsonl", issues=issues) is None
    assert "no a label column" in issues[0][0] and "first object's keys" in issues[0][0]


# -- bad input ----------------------------------------------------------------------------------------------


def test_bad_csv_rows_are_counted_once_with_the_first_line(tmp_path: Path) -> None:
    text = "id,label,score\na,1,0.9\nb,0\nc,1,high\n,0,0.2\nd,0,nan\ne,0,0.1,extra\nf,1,0.6\n"
    f = write(tmp_path / "val_predictions.csv", text)
    p, problems = read(f)
    assert p is not None and p.ids.tolist() == ["a", "f"] and p.skipped == 5
    assert problems == ["val_predictions.csv:3: 5 rows could not be read and were skipped (first: line 3: 2 fields, the header has 3)"]


def test_bad_score_reason_is_named() -> None:
    issues: list = []
    p = parse_predictions(lines("id,label,score\na,1,0.9\nc,1,high\n"), "p.csv", issues=issues)
    assert p is not None and len(p) == 1
    assert issues == [("1 row could not be read and was skipped (first: line 3: score is not a finite number)", 3)]


def test_predicted_not_binary_when_labels_are() -> None:
    issues: list = []
    p = parse_predictions(lines("id,label,pred\na,1,1\nb,0,maybe\nc,0,0\n"), "p.csv", issues=issues)
    assert p is not None and p.ids.tolist() == ["a", "c"]
    assert "line 3: predicted class is not 0/1 like the labels" in issues[0][0]


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("label,score", "no an id column"),
        ("id,score", "no a label column"),
        ("id,label,weight", "no a score"),
        ("name,value", "no an id column"),
    ],
)
def test_missing_columns(tmp_path: Path, header: str, missing: str) -> None:
    f = write(tmp_path / "val_predictions.csv", header + "\n1,2\n")
    p, problems = read(f)
    assert p is None and len(problems) == 1
    assert problems[0].startswith("val_predictions.csv:1: not read as predictions:")
    assert missing in problems[0]


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    f = write(tmp_path / "preds.csv", "")
    assert read(f) == (None, ["preds.csv: empty file (still being written?)"])
    f = write(tmp_path / "val_preds.csv", "id,label,score\n")
    assert read(f) == (None, ["val_preds.csv: no readable prediction rows"])


def test_duplicate_ids_are_reported(tmp_path: Path) -> None:
    f = write(tmp_path / "preds.csv", "id,label,score\na,1,0.9\nb,0,0.2\na,1,0.1\nb,0,0.3\n")
    p, problems = read(f)
    assert p is not None and len(p) == 4
    assert problems == ["preds.csv:4: 2 duplicate ids (first: 'a' again on line 4); the first row of each id is used when comparing runs"]


def test_unreadable_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = write(tmp_path / "elsewhere.csv", "id,label,score\na,1,0.5\n")
    (root / "run").mkdir(parents=True)
    link = root / "run" / "val_predictions.csv"
    os.symlink(outside, link)
    p, problems = read(link, root)
    assert p is None and problems == ["run/val_predictions.csv: symbolic link points outside the root; not read"]
    binary = root / "run" / "preds.csv"
    binary.write_bytes(b"id,label,score\n\x00\x01\x02")
    p, problems = read(binary, root)
    assert p is None and "binary data" in problems[0]


def test_invalid_utf8_is_replaced_not_fatal(tmp_path: Path) -> None:
    f = tmp_path / "preds.csv"
    f.write_bytes(b"id,label,score\nsp\xe9cial,1,0.9\nb,0,0.2\n")
    p, problems = read(f)
    assert p is not None and len(p) == 2 and problems == []


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "val_predictions.parquet"
    f.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import fails as if not installed
    p, problems = read(f)
    assert p is None
    assert problems == ["val_predictions.parquet: Parquet predictions need pyarrow: pip install 'runsift[parquet]'"]


def test_parquet_with_pyarrow(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    f = tmp_path / "artifacts" / "test_predictions.parquet"
    f.parent.mkdir()
    table = pa.table({"row_id": [1, 2, 3, 4], "target": [1, 0, 0, 1], "prob": [0.8, 0.3, None, 0.6], "other": ["x"] * 4})
    pq.write_table(table, f)
    p, problems = read(f, tmp_path)
    assert p is not None and p.ids.tolist() == ["1", "2", "4"] and p.labels.tolist() == [1, 0, 1]
    assert p.split == "test" and p.columns == {"id": "row_id", "label": "target", "score": "prob"}
    assert problems == ["artifacts/test_predictions.parquet: 1 row could not be read and was skipped (first: row 3: score is not a finite number)"]
    bad = tmp_path / "preds.parquet"
    bad.write_bytes(b"not parquet at all")
    p, problems = read(bad, tmp_path)
    assert p is None and problems[0].startswith("preds.parquet: cannot read Parquet:")


# -- align -----------------------------------------------------------------------------------------------------


def test_align_common_ids_and_disagreeing_labels() -> None:
    a = parse_predictions(lines("id,label,score\nx1,1,0.9\nx2,0,0.2\nx3,1,0.6\nx4,0,0.4\nx1,0,0.0\n"), "a_preds.csv")
    b = parse_predictions(lines("id,label,score\nx4,0,0.5\nx3,0,0.7\nx2,0,0.1\nx9,1,0.9\nx1,1,0.8\n"), "b_preds.csv")
    assert a is not None and b is not None
    al = align(a, b)
    ids, labels, sa, sb = al
    assert ids.tolist() == ["x1", "x2", "x4"]  # A's order; x3's label differs
    assert labels.tolist() == [1, 0, 0]
    assert sa is not None and sb is not None
    assert sa.tolist() == [0.9, 0.2, 0.4] and sb.tolist() == [0.8, 0.1, 0.5]  # first row of x1 in A
    assert (al.n_a, al.n_b, al.only_a, al.only_b) == (4, 5, 0, 1)
    assert (al.label_mismatches, al.mismatch_examples) == (1, ("x3",))
    assert al.classes is None and len(al) == 3


def test_align_multiclass_with_different_class_sets() -> None:
    a = parse_predictions(lines("id,label,pred\n1,cat,cat\n2,dog,cat\n3,cow,cow\n"), "a_preds.csv")
    b = parse_predictions(lines("id,label,pred\n1,cat,cat\n2,dog,dog\n3,cow,bird\n"), "b_preds.csv")
    assert a is not None and b is not None and a.classes != b.classes
    al = align(a, b)
    assert al.classes == ("bird", "cat", "cow", "dog")
    names = np.array(al.classes)
    assert names[al.labels].tolist() == ["cat", "dog", "cow"]
    assert al.predicted_a is not None and al.predicted_b is not None
    assert names[al.predicted_a].tolist() == ["cat", "cat", "cow"]
    assert names[al.predicted_b].tolist() == ["cat", "dog", "bird"]
    res = S.mcnemar_test(al.labels, al.predicted_a, al.predicted_b)
    assert (res.b01, res.b10) == (1, 1)


def test_align_binary_with_predicted_class() -> None:
    a = parse_predictions(lines("id,label,pred\na,1,1\nb,0,1\n"), "a.csv")
    b = parse_predictions(lines("id,label,pred\nb,0,0\na,1,0\n"), "b.csv")
    assert a is not None and b is not None
    al = align(a, b)
    assert al.scores_a is None and al.predicted_a is not None and al.predicted_b is not None
    assert al.predicted_a.tolist() == [1, 1] and al.predicted_b.tolist() == [0, 0]


# -- the sample runs and size -------------------------------------------------------------------------------------


def test_sample_runs_metrics_recomputed_from_predictions() -> None:
    """Every fraud-model run's recorded val metrics follow from its saved predictions and metric definitions."""
    ctx = ReadContext(SAMPLE_RUNS)
    checked = 0
    for run in sorted((SAMPLE_RUNS / "fraud-model").iterdir()):
        files = find_predictions(run)
        if not files:
            continue
        metrics = json.loads((run / "metrics.json").read_text())
        if "final" not in metrics:
            continue
        p = read_predictions(files[0], ctx)
        assert p is not None and p.split == "val" and p.scores is not None
        threshold = metrics.get("definitions", {}).get("val_f1", {}).get("threshold")
        for name, value in metrics["final"].items():
            got = S.compute_metric(name, p.labels, p.scores, threshold)
            if got is not None:
                assert got == pytest.approx(value, abs=5e-6), (run.name, name)
                checked += 1
    assert checked >= 20 and ctx.problems == []


def test_sample_metric_versioning_threshold_change() -> None:
    """run-022 is run-017 re-scored with F1 v2 (threshold 0.4): same predictions, different F1."""
    ctx = ReadContext(SAMPLE_RUNS)
    runs = {r.name[-3:]: r for r in (SAMPLE_RUNS / "fraud-model").iterdir()}
    a = read_predictions(find_predictions(runs["017"])[0], ctx)
    b = read_predictions(find_predictions(runs["022"])[0], ctx)
    assert a is not None and b is not None
    ids, y, sa, sb = align(a, b)
    assert len(ids) == len(a) and np.array_equal(sa, sb)
    assert S.delong_test(y, sa, sb).delta == 0.0
    assert S.f1_at(y, sb, 0.4) - S.f1_at(y, sa, 0.5) == pytest.approx(0.523077 - 0.47482, abs=1e-5)


def test_100k_rows_read_fast(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    y = (rng.random(n) < 0.1).astype(int)
    s = rng.random(n)
    f = tmp_path / "val_predictions.csv"
    with open(f, "w") as fh:
        fh.write("id,label,score\n")
        fh.writelines(f"ex_{i:07d},{y[i]},{s[i]:.6f}\n" for i in range(n))
    ctx = ReadContext(tmp_path)
    start = time.process_time()
    p = read_predictions(f, ctx)
    cpu = time.process_time() - start
    assert p is not None and len(p) == n and ctx.problems == []
    assert p.labels.sum() == y.sum() and np.allclose(p.scores, s, atol=5e-7)
    assert cpu < 1.0, f"100k rows took {cpu:.2f} s of CPU"
    assert not math.isnan(S.roc_auc(p.labels, p.scores))


# -- bounds: a hostile file is refused early and cheaply (issue 13 item 10) ---------------------------------


def _rows_file(path: Path, n: int, label: str = "{i2}", ident: str = "ex_{i:07d}") -> Path:
    with open(path, "w") as fh:
        fh.write("id,label,score\n")
        fh.writelines(f"{ident.format(i=i)},{label.format(i2=i % 2, i=i)},0.{i % 10}\n" for i in range(n))
    return path


def test_file_over_the_row_bound_is_refused_before_a_row_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runsift.core.readers import predictions

    monkeypatch.setattr(predictions, "MAX_ROWS", 100)
    parsed: list[int] = []
    monkeypatch.setattr(predictions, "csv_rows", lambda *a, **k: parsed.append(1))
    p, problems = read(_rows_file(tmp_path / "val_predictions.csv", 150))
    assert p is None and parsed == []
    assert problems == ["val_predictions.csv: more than 100 rows; predictions not read (the bound on rows held in memory)"]


def test_row_bound_is_checked_while_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    from runsift.core.readers import pred_rows, pred_sources

    monkeypatch.setattr(pred_rows, "MAX_ROWS", 100)
    monkeypatch.setattr(pred_sources, "BATCH", 16)
    text = "id,label,score\n" + "".join(f"e{i},{i % 2},0.5\n" for i in range(150))
    issues: list[tuple[str, int | None]] = []
    assert parse_predictions(lines(text), "val_predictions.csv", issues=issues) is None
    assert issues == [("more than 100 rows; predictions not read (the bound on rows held in memory)", None)]
    ok = "id,label,score\n" + "".join(f"e{i},{i % 2},0.5\n" for i in range(100))
    p = parse_predictions(lines(ok), "val_predictions.csv")
    assert p is not None and len(p) == 100


def test_too_many_distinct_labels_and_too_many_id_bytes_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runsift.core.readers import pred_rows

    monkeypatch.setattr(pred_rows, "MAX_CLASSES", 50)
    p, problems = read(_rows_file(tmp_path / "val_predictions.csv", 200, label="c{i}"))
    assert p is None and problems == ["val_predictions.csv: more than 50 distinct labels: not classes; predictions not read"]
    monkeypatch.setattr(pred_rows, "MAX_ID_BYTES", 100 * 200)
    (tmp_path / "b").mkdir()
    p, problems = read(_rows_file(tmp_path / "b" / "val_predictions.csv", 150, ident="x" * 200 + "{i}"))
    assert p is None and len(problems) == 1 and "would take over" in problems[0]


def test_memory_while_reading_grows_by_bytes_per_row_not_objects(tmp_path: Path) -> None:
    """Rows are kept as compact arrays: far less than one Python str (≥ 49 bytes) per row."""
    import tracemalloc

    from runsift.core.readers.pred_sources import csv_rows

    n = 100_000
    f = _rows_file(tmp_path / "val_predictions.csv", n)
    ctx = ReadContext(tmp_path)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        rows = csv_rows(ctx.iter_lines(f), ",", [])
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert rows is not None and rows.rows == n
    assert held / n < 40, f"{held / n:.0f} bytes a row"


def test_parquet_over_the_row_bound_is_refused_from_its_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from runsift.core.readers import pred_sources

    n = 3_000
    pq.write_table(pa.table({"id": [f"e{i}" for i in range(n)], "label": [i % 2 for i in range(n)], "score": [0.25] * n}), tmp_path / "val_predictions.parquet")
    p, problems = read(tmp_path / "val_predictions.parquet")
    assert p is not None and len(p) == n and p.labels.sum() == n // 2 and problems == []
    monkeypatch.setattr(pred_sources, "MAX_ROWS", 1_000)
    p, problems = read(tmp_path / "val_predictions.parquet")
    assert p is None and problems == ["val_predictions.parquet: more than 1,000 rows; predictions not read (the bound on rows held in memory)"]
