"""Audit: each Minimum Run Record check, and the false positives it must not raise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE_RUNS, make_run, write

from runsift.core.audit import (
    audit_all,
    audit_run,
    classification_task,
    needs_threshold,
)
from runsift.core.catalog import Catalog
from runsift.core.records import Run


def _audit(root: Path, name: str = "run-1"):  # type: ignore[no-untyped-def]
    with Catalog.open(root, use_cache=False) as cat:
        run = cat.get(f"proj/{name}")
    assert isinstance(run, Run)
    return run, audit_run(run)


def _metrics(final: dict, definitions: dict | None = None) -> dict:
    doc: dict = {"final": final, "per_epoch": [{"epoch": 1, **final}]}
    if definitions is not None:
        doc["definitions"] = definitions
    return doc


def _messages(audit) -> str:  # type: ignore[no-untyped-def]
    return "; ".join(f.message for f in audit.findings)


def test_a_threshold_is_not_a_metric_needing_one(tmp_path: Path) -> None:
    make_run(tmp_path / "proj" / "run-1", metrics=_metrics({"val_auc": 0.9, "f1_threshold": 0.5, "threshold": 0.5, "val_thresh": 0.4}, {"val_auc": {"version": "1"}}))
    _, audit = _audit(tmp_path)
    assert not any(f.item == "thresholds" for f in audit.findings), _messages(audit)


def test_a_recorded_f1_threshold_value_covers_val_f1(tmp_path: Path) -> None:
    make_run(tmp_path / "proj" / "run-1", metrics=_metrics({"val_f1": 0.7, "f1_threshold": 0.5}, {"val_f1": {"version": "1"}}))
    make_run(tmp_path / "proj" / "run-2", metrics=_metrics({"val_f1": 0.7, "val_recall": 0.6}, {"val_f1": {"version": "1"}}))
    _, covered = _audit(tmp_path, "run-1")
    assert not any(f.item == "thresholds" for f in covered.findings)
    _, missing = _audit(tmp_path, "run-2")  # no threshold anywhere: still flagged, both metrics named
    assert "no threshold recorded for val_f1, val_recall" in _messages(missing)


def test_a_decision_threshold_in_the_config_counts_but_a_schedulers_does_not(tmp_path: Path) -> None:
    final = _metrics({"val_f1": 0.7}, {"val_f1": {"version": "1"}})
    make_run(tmp_path / "proj" / "run-1", config="eval:\n  threshold: 0.4\n", metrics=final)
    make_run(tmp_path / "proj" / "run-2", config="scheduler:\n  name: plateau\n  threshold: 0.0001\n", metrics=final)
    assert not any(f.item == "thresholds" for f in _audit(tmp_path, "run-1")[1].findings)
    assert "no threshold recorded for val_f1" in _messages(_audit(tmp_path, "run-2")[1])


def test_multiclass_accuracy_needs_no_threshold(tmp_path: Path) -> None:
    config = "model:\n  num_classes: 10\noptimizer:\n  lr: 0.01\n"
    make_run(tmp_path / "proj" / "run-1", config=config, metrics=_metrics({"val_accuracy": 0.9, "val_f1": 0.88}, {"val_accuracy": {"version": "1"}}))
    run, audit = _audit(tmp_path)
    assert classification_task(run) == "multiclass"
    assert not any(f.item == "thresholds" for f in audit.findings), _messages(audit)


def test_accuracy_without_evidence_of_a_score_threshold_is_not_flagged(tmp_path: Path) -> None:
    make_run(tmp_path / "proj" / "run-1", metrics=_metrics({"val_acc": 0.9}, {"val_acc": {"version": "1"}}))
    run, audit = _audit(tmp_path)
    assert classification_task(run) is None
    assert not any(f.item == "thresholds" for f in audit.findings)


@pytest.mark.parametrize(
    ("config", "definition"),
    [
        ("task: binary_classification\n", {"version": "1"}),
        ("model:\n  n_classes: 2\n", {"version": "1"}),
        ("lr: 0.1\n", {"version": "1", "text": "share of examples with (score >= t) == label"}),
    ],
)
def test_binary_accuracy_at_a_score_threshold_needs_one(tmp_path: Path, config: str, definition: dict) -> None:
    make_run(tmp_path / "proj" / "run-1", config=config, metrics=_metrics({"val_accuracy": 0.9}, {"val_accuracy": definition}))
    run, audit = _audit(tmp_path)
    assert needs_threshold(run, "val_accuracy", classification_task(run))
    assert "no threshold recorded for val_accuracy" in _messages(audit)


def test_multilabel_f1_still_needs_a_threshold(tmp_path: Path) -> None:
    make_run(tmp_path / "proj" / "run-1", config="task: multi-label tagging\nnum_labels: 20\n", metrics=_metrics({"val_f1": 0.5}, {"val_f1": {"version": "1"}}))
    _, audit = _audit(tmp_path)
    assert "no threshold recorded for val_f1" in _messages(audit)


def test_unreadable_metrics_do_not_score_like_complete_ones(tmp_path: Path) -> None:
    complete = _metrics({"val_auc": 0.9}, {"val_auc": {"version": "1"}})
    make_run(tmp_path / "proj" / "run-1", metrics=complete)
    truncated = json.dumps(complete)[:12]  # a metrics file cut off while being written, before any value
    make_run(tmp_path / "proj" / "run-2", metrics=truncated)
    _, good = _audit(tmp_path, "run-1")
    _, bad = _audit(tmp_path, "run-2")
    assert bad.score < good.score
    items = {f.item: f.message for f in bad.findings}
    assert "metrics.json cannot be read in full" in items["final metrics"]
    assert "cannot be checked" in items["thresholds"] and "cannot be checked" in items["metric definitions"]
    assert "unreadable file" in items


def test_metrics_cut_after_some_values_are_not_checked_as_complete(tmp_path: Path) -> None:
    complete = _metrics({"val_auc": 0.9}, {"val_auc": {"version": "1"}})
    make_run(tmp_path / "proj" / "run-1", metrics=complete)
    make_run(tmp_path / "proj" / "run-2", metrics=json.dumps(complete)[:40])  # the final block, not the definitions
    _, good = _audit(tmp_path, "run-1")
    _, bad = _audit(tmp_path, "run-2")
    assert bad.score < good.score
    items = {f.item: f.message for f in bad.findings}
    assert "may be incomplete" in items["final metrics"] and "unreadable file" in items
    # what came after the cut is unknown: the checks on it are not passed
    assert items["metric definitions"] == "metric definitions cannot be checked in full: metrics.json was read only in part"
    assert items["thresholds"] == "thresholds cannot be checked in full: metrics.json was read only in part"
    assert items["per-step metrics"] == "per-step metrics cannot be checked in full: metrics.json was read only in part"


def test_a_failed_run_without_final_metrics_is_not_marked_complete(tmp_path: Path) -> None:
    folder = make_run(tmp_path / "proj" / "run-1", metrics={"per_epoch": [{"epoch": 1, "val_auc": 0.7}], "status": "failed"})
    write(folder / "error.log", "Traceback (most recent call last):\nRuntimeError: loss is NaN\n")
    run, audit = _audit(tmp_path)
    assert run.status == "failed"
    assert {f.item: f.message for f in audit.findings}["final metrics"] == "no final metrics (the run failed)"


def test_sample_runs_have_no_threshold_false_positives() -> None:
    with Catalog.open(SAMPLE_RUNS, use_cache=False) as cat:
        runs = [r for i in cat.ids(kind="run") if isinstance(r := cat.get(i), Run)]
    audits = {a.id.rsplit("/", 1)[-1]: a for a in audit_all(runs)[0]}
    flagged = {name: _messages(a) for name, a in audits.items() if "no threshold recorded" in _messages(a)}
    assert flagged == {}  # multiclass intent runs; fraud runs recording f1_threshold or a defined threshold
    # run-028's metrics.json ends mid-write: what it holds is read (curves, definitions), its final metrics are missing
    cut = audits["2025-01-13_08-55-02_run-028"]
    assert "metrics.json cannot be read in full, so the final metrics are missing" in _messages(cut)
    # a user sorting the audit by score must find the truncated record below every complete run of its project
    complete = [a for a in audits.values() if a.project == "fraud-model" and not any(f.item == "unreadable file" for f in a.findings)]
    assert complete and all(cut.score < a.score for a in complete if a is not cut and "no final metrics" not in _messages(a))
