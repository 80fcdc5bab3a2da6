"""Diff of two runs, section by section."""

from __future__ import annotations

from pathlib import Path

from runsift.core.catalog import Catalog
from runsift.core.diff import diff_config, diff_runs
from runsift.core.records import Run
from runsift.core.versions import compare_versions

A = "fraud-model/2025-01-07_14-32-11_run-023"
B = "fraud-model/2025-01-08_09-00-00_run-024"


def _pair(root: Path) -> tuple[Run, Run, Path]:
    with Catalog.open(root) as cat:
        a, b = cat.get(A), cat.get(B)
        assert isinstance(a, Run) and isinstance(b, Run)
        return a, b, cat.root


def test_config_changes_by_dotted_path() -> None:
    a = {"optimizer": {"lr": 0.001, "name": "adam"}, "epochs": 3, "features": ["x", "y"], "old": 1}
    b = {"optimizer": {"lr": 0.01, "name": "adam"}, "epochs": "3", "features": ["x"], "new": True}
    changes = {c.path: c for c in diff_config(a, b)}
    assert changes["optimizer.lr"].change == "changed" and (changes["optimizer.lr"].a, changes["optimizer.lr"].b) == (0.001, 0.01)
    assert changes["epochs"].change == "type_changed"
    assert changes["features[1]"].change == "removed" and changes["features[1]"].a == "y"
    assert changes["old"].change == "removed"
    assert changes["new"].change == "added" and changes["new"].b is True
    assert "optimizer.name" not in changes
    full = {c.path: c.change for c in diff_config(a, b, include_same=True)}
    assert full["optimizer.name"] == "same"


def test_every_section(experiments: Path) -> None:
    a, b, root = _pair(experiments)
    d = diff_runs(a, b, root=root)
    config = {c.path: c.change for c in d.changes("config")}
    assert config == {"optimizer.lr": "changed", "scheduler": "added"}
    env = {c.path: (c.change, c.detail.get("level")) for c in d.changes("env")}
    assert env == {"packages.numpy": ("upgraded", "major")}
    splits = d.changes("splits")
    assert len(splits) == 1 and splits[0].path == "val"
    assert (splits[0].detail["common"], splits[0].detail["only_a"], splits[0].detail["only_b"]) == (2, 1, 1)
    assert splits[0].detail["examples_only_a"] == ["c"]
    metrics = {c.path: c for c in d.changes("metrics")}
    auc = metrics["val_auc"]
    assert abs(auc.detail["delta"] - (0.905 - 0.91)) < 1e-12
    assert abs(auc.detail["relative"] - (0.905 - 0.91) / 0.91) < 1e-12
    assert auc.detail["better"] is False
    assert metrics["val_f1"].detail["better"] is True
    assert metrics["definitions.val_f1.threshold"].a == 0.5 and metrics["definitions.val_f1.threshold"].b == 0.4
    assert metrics["definitions.val_f1.version"].change == "changed"
    assert not d.changes("seeds") and not d.changes("code") and not d.changes("data")
    assert d.summary() == "2 config keys, 1 package, 1 split, 1 metric definition"


def test_same_run_has_no_differences(experiments: Path) -> None:
    a, _, root = _pair(experiments)
    d = diff_runs(a, a, root=root)
    assert not d.has_differences
    full = diff_runs(a, a, include_same=True, root=root)
    assert {c.change for s in full.sections.values() for c in s} == {"same"}
    assert any(c.path == "optimizer.lr" for c in full.sections["config"])


def test_version_comparison_levels() -> None:
    up = compare_versions("1.26.4", "2.0.1")
    assert (up.direction, up.level) == ("upgraded", "major")
    assert (compare_versions("2.1.0", "2.0.9").direction, compare_versions("2.1.0", "2.0.9").level) == ("downgraded", "minor")
    assert compare_versions("1.2.3", "1.2.4").level == "patch"
    assert compare_versions("2.1.0+cu118", "2.1.0+cu121").level == "local"
    assert compare_versions("1.0", "1.0.0").direction == "changed"
    assert compare_versions("1.0rc1", "1.0").direction == "upgraded"
    assert compare_versions("file:///x", "1.0").direction == "changed"
