"""Issue 13 items 12 and 13: a run's own files are listed before thousands of artifacts; what cannot be listed is a problem."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import make_run

from runsift.core import discover
from runsift.core.catalog import Catalog
from runsift.core.records import Run


def _load(root: Path, run_id: str) -> Run:
    with Catalog.open(root) as cat:
        record = cat.get(run_id)
    assert isinstance(record, Run)
    return record


def test_thousands_of_artifacts_do_not_hide_the_config_and_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "MAX_LISTED", 50)
    run_dir = make_run(tmp_path / "exp" / "p" / "run-1")
    for i in range(120):  # "artifacts" sorts before "config.yaml" and "metrics.json"
        (run_dir / "artifacts" / f"a{i:04d}.png").write_bytes(b"x")
    run = _load(tmp_path / "exp", "p/run-1")
    assert run.config["batch_size"] == 64
    assert run.metrics.final["val_auc"] == 0.91
    assert run.status == "finished"
    assert [s.name for s in run.splits] == ["val"]
    capped = [p for p in run.problems if "more than 50 files" in p.message]
    assert capped and capped[0].file == "p/run-1"


def test_a_folder_whose_files_cannot_be_looked_at_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run folder of mode 444 (listable, not searchable): root reads anyway, so the refusal is simulated."""
    root = tmp_path / "exp"
    make_run(root / "p" / "run-1")
    locked = make_run(root / "p" / "run-2")
    real = discover._stat_entry

    def stat(entry: os.DirEntry[str]) -> os.stat_result:
        if os.path.dirname(entry.path) == str(locked):
            raise PermissionError(13, "Permission denied", entry.path)
        return real(entry)

    monkeypatch.setattr(discover, "_stat_entry", stat)
    assert _load(root, "p/run-1").config["batch_size"] == 64, "the rest of the root loads"
    run = _load(root, "p/run-2")
    messages = [p.message for p in run.problems if p.file == "p/run-2"]
    assert any("Permission denied" in m and "cannot look at" in m for m in messages), run.problems


def test_artifact_and_prediction_links_leaving_the_root_are_problems(tmp_path: Path) -> None:
    """Item 13 (and issue 12 item 9): such links were skipped without a word."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret_predictions.csv").write_text("id,label,score\na,1,0.9\n")
    root = tmp_path / "exp"
    run_dir = make_run(root / "p" / "run-1")
    (run_dir / "artifacts" / "val_predictions.csv").symlink_to(outside / "secret_predictions.csv")
    (run_dir / "artifacts" / "loop.png").symlink_to(run_dir / "artifacts" / "loop.png")
    (run_dir / "artifacts" / "inside.pt").symlink_to(run_dir / "artifacts" / "model.pt")
    run = _load(root, "p/run-1")
    said = {(p.file, p.message) for p in run.problems}
    assert ("p/run-1/artifacts/val_predictions.csv", "symbolic link points outside the root; not read") in said
    assert ("p/run-1/artifacts/loop.png", "broken or looping symbolic link; not read") in said
    assert not any(f.endswith("inside.pt") for f, _ in said), "a link inside the root is fine"
    sizes = {a.path: a.size for a in run.artifacts}
    assert sizes["artifacts/val_predictions.csv"] != (outside / "secret_predictions.csv").stat().st_size, "not even its size is read"
