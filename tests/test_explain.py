"""Explain: synthetic catalogs where the true cause is known, and the sample runs' planted regression."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_RUNS, make_run, write

from runsift.core.catalog import Catalog
from runsift.core.explain import ExplainError, explain

BASE_CONFIG = {"optimizer": {"name": "adam", "lr": 0.01, "weight_decay": 0.0}, "epochs": 3, "batch_size": 64}


def _config(**changes: float) -> str:
    cfg = json.loads(json.dumps(BASE_CONFIG))
    for key, value in changes.items():
        cfg["optimizer"][key] = value
    import yaml

    return yaml.safe_dump(cfg)


def _run(root: Path, name: str, value: float, *, seed: int, metric: str = "val_auc", definition: dict | None = None, **changes: float) -> str:
    metrics: dict = {"final": {metric: value}, "per_epoch": [{"epoch": e, metric: value - 0.01 * (3 - e)} for e in (1, 2, 3)]}
    if definition:
        metrics["definitions"] = {metric: definition}
    make_run(root / "proj" / name, config=_config(**changes), seeds=f"global={seed}, data_split=42\n", metrics=metrics)
    return f"proj/{name}"


def _noise(rng: np.random.Generator) -> float:
    return float(rng.normal(0, 0.0005))


@pytest.fixture
def two_causes(tmp_path: Path) -> Path:
    """A: lr 0.01, wd 0; B: lr 0.02, wd 0.1. True effects: lr -0.010, weight decay -0.002."""
    rng = np.random.default_rng(7)
    root = tmp_path / "exp"
    for i, seed in enumerate((1, 2, 3)):
        _run(root, f"a-{i}", 0.900 + _noise(rng), seed=seed)
    for i, seed in enumerate((1, 2, 3)):
        _run(root, f"b-{i}", 0.888 + _noise(rng), seed=seed, lr=0.02, weight_decay=0.1)
    for i, seed in enumerate((1, 2)):
        _run(root, f"lr-only-{i}", 0.890 + _noise(rng), seed=seed, lr=0.02)
        _run(root, f"wd-only-{i}", 0.898 + _noise(rng), seed=seed, weight_decay=0.1)
    return root


def test_several_simultaneous_changes_each_isolated(two_causes: Path) -> None:
    with Catalog.open(two_causes) as cat:
        e = explain(cat, "proj/a-0", "proj/b-0")
    assert e.metric == "val_auc" and e.verdict == "real" and e.direction == "regression"
    assert e.noise.method == "welch" and e.noise.p_value is not None and e.noise.p_value < 0.05
    assert len(e.noise.replicates_a) == 3 and len(e.noise.replicates_b) == 3
    causes = {c.path: c for c in e.causes}
    assert list(causes)[:2] == ["optimizer.lr", "optimizer.weight_decay"]  # ranked by the evidence
    assert causes["optimizer.lr"].confidence == "high"
    assert causes["optimizer.lr"].estimated_effect == pytest.approx(-0.010, abs=0.0015)
    assert causes["optimizer.weight_decay"].estimated_effect == pytest.approx(-0.002, abs=0.0015)
    assert e.unexplained is not None and abs(e.unexplained) < 0.003
    assert "optimizer.lr" in e.summary


def test_difference_within_seed_noise(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    root = tmp_path / "exp"
    for i, seed in enumerate((1, 2, 3, 4)):
        _run(root, f"a-{i}", 0.900 + float(rng.normal(0, 0.002)), seed=seed)
        _run(root, f"b-{i}", 0.900 + float(rng.normal(0, 0.002)), seed=seed, lr=0.011)
    with Catalog.open(root) as cat:
        e = explain(cat, "proj/a-0", "proj/b-0")
    assert e.verdict == "noise"
    assert e.direction == "none"
    assert "noise" in e.summary


def test_seed_only_difference_is_noise(two_causes: Path) -> None:
    with Catalog.open(two_causes) as cat:
        e = explain(cat, "proj/a-0", "proj/a-1")
    assert e.verdict == "noise"
    assert [c.section for c in e.causes] == ["seeds"]
    assert e.causes[0].confidence == "low"


def test_changed_threshold_is_incomparable(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    _run(root, "a", 0.47, seed=1, metric="val_f1", definition={"version": "1", "threshold": 0.5})
    _run(root, "b", 0.52, seed=1, metric="val_f1", definition={"version": "2", "threshold": 0.4})
    with Catalog.open(root) as cat:
        e = explain(cat, "proj/a", "proj/b")
    assert e.verdict == "incomparable" and not e.comparable
    paths = {i.path for i in e.comparability_issues}
    assert paths == {"val_f1.version", "val_f1.threshold"}
    assert "not comparable" in e.summary and "threshold changed: 0.5 → 0.4" in e.summary


def _predictions(folder: Path, ids: list[str], labels: np.ndarray, scores: np.ndarray) -> None:
    lines = ["id,label,score"] + [f"{i},{int(y)},{s:.6f}" for i, y, s in zip(ids, labels, scores)]
    write(folder / "artifacts" / "val_predictions.csv", "\n".join(lines) + "\n")


def test_changed_eval_split_with_predictions_recomputes_on_common_ids(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    root = tmp_path / "exp"
    ids = [f"ex{i}" for i in range(600)]
    labels = rng.integers(0, 2, 600)
    scores = np.clip(labels * 0.3 + rng.normal(0.35, 0.2, 600), 0, 1)
    a = _run(root, "a", 0.80, seed=1)
    b = _run(root, "b", 0.83, seed=1)
    write(root / a / "splits" / "val_ids.txt", "\n".join(ids[:500]) + "\n")
    write(root / b / "splits" / "val_ids.txt", "\n".join(ids[100:]) + "\n")
    _predictions(root / a, ids[:500], labels[:500], scores[:500])
    _predictions(root / b, ids[100:], labels[100:], scores[100:])  # same model, different examples
    with Catalog.open(root) as cat:
        e = explain(cat, a, b)
    assert e.verdict == "incomparable"
    assert any(i.section == "splits" and i.path == "val" for i in e.comparability_issues)
    assert e.recomputed is not None and e.recomputed["common_ids"] == 400
    assert e.recomputed["only_a"] == 100 and e.recomputed["only_b"] == 100
    assert e.recomputed["by_threshold"][0]["delta"] == pytest.approx(0.0, abs=1e-12)  # same scores on common ids


def test_predictions_without_replicates_use_paired_tests(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    root = tmp_path / "exp"
    n = 4000
    ids = [f"ex{i}" for i in range(n)]
    labels = rng.integers(0, 2, n)
    base = labels * 1.0 + rng.normal(0, 1.0, n)
    worse = base + rng.normal(0, 1.2, n)  # B is a noisier model on the same examples
    from runsift.core.stats import roc_auc

    a = _run(root, "a", roc_auc(labels, base), seed=1)
    b = _run(root, "b", roc_auc(labels, worse), seed=1, lr=0.02)
    _predictions(root / a, ids, labels, base)
    _predictions(root / b, ids, labels, worse)
    with Catalog.open(root) as cat:
        e = explain(cat, a, b, resamples=2000)
    assert e.noise.method == "delong"
    assert e.noise.ci is not None and e.noise.ci[1] < 0  # the bootstrap CI excludes no change
    assert e.verdict == "real" and e.direction == "regression"
    assert e.flips is not None and e.flips["broken"] > e.flips["fixed"]


def test_lower_is_better_metric(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    root = tmp_path / "exp"
    for i, seed in enumerate((1, 2, 3)):
        _run(root, f"a-{i}", 0.30 + float(rng.normal(0, 0.001)), seed=seed, metric="val_loss")
        _run(root, f"b-{i}", 0.34 + float(rng.normal(0, 0.001)), seed=seed, metric="val_loss", lr=0.05)
    with Catalog.open(root) as cat:
        e = explain(cat, "proj/a-0", "proj/b-0")
    assert e.goal == "min"
    assert e.verdict == "real" and e.direction == "regression"  # the loss went up


def test_no_replicates_no_predictions_is_undetermined(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    _run(root, "a", 0.90, seed=1)
    _run(root, "b", 0.89, seed=1, lr=0.02)
    with Catalog.open(root) as cat:
        e = explain(cat, "proj/a", "proj/b")
    assert e.verdict == "undetermined"
    assert "noise cannot be ruled out" in e.summary
    assert any("more seeds of A" in s for s in e.suggestions)
    assert any("optimizer.lr" in s for s in e.suggestions)  # how to isolate the one difference


def test_unknown_metric_is_a_clear_error(two_causes: Path) -> None:
    with Catalog.open(two_causes) as cat, pytest.raises(ExplainError, match="shared metrics: val_auc"):
        explain(cat, "proj/a-0", "proj/b-0", "val_f1")


@pytest.fixture(scope="module")
def sample_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root = tmp_path_factory.mktemp("samples") / "sample_runs"
    shutil.copytree(SAMPLE_RUNS, root)
    return Catalog.open(root, use_cache=False)


def test_sample_runs_planted_regression_is_explained(sample_catalog: Catalog) -> None:
    e = explain(sample_catalog, sample_catalog.resolve("run-017"), sample_catalog.resolve("run-026"))
    assert e.metric == "val_auc"
    assert e.verdict == "real" and e.direction == "regression"
    assert e.relative_delta == pytest.approx(-0.0033, abs=0.0008)
    top = e.causes[0]
    assert (top.section, top.path, top.confidence) == ("config", "features", "high")
    assert "shipping_billing_mismatch" in str(top.b)
    assert top.estimated_effect == pytest.approx(e.delta, abs=0.001)


def test_sample_runs_seed_only_difference_is_noise(sample_catalog: Catalog) -> None:
    e = explain(sample_catalog, sample_catalog.resolve("run-017"), sample_catalog.resolve("run-018"))
    assert e.verdict == "noise"
    assert {c.section for c in e.causes} == {"seeds"}


def test_sample_runs_threshold_change_comes_from_the_definition(sample_catalog: Catalog) -> None:
    e = explain(sample_catalog, sample_catalog.resolve("run-017"), sample_catalog.resolve("run-022"), "val_f1")
    assert e.verdict == "incomparable"
    assert e.recomputed is not None
    assert all(abs(r["delta"]) < 1e-9 for r in e.recomputed["by_threshold"])
    assert "not from the model" in e.summary


def test_large_auc_comparisons_use_delong_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runsift.core.explain.noise as noise_module

    monkeypatch.setattr(noise_module, "BOOTSTRAP_AUC_MAX", 100)
    rng = np.random.default_rng(2)
    root = tmp_path / "exp"
    n = 1000
    ids = [f"ex{i}" for i in range(n)]
    labels = rng.integers(0, 2, n)
    base = labels * 1.0 + rng.normal(0, 1.0, n)
    a = _run(root, "a", 0.8, seed=1)
    b = _run(root, "b", 0.8, seed=1, lr=0.02)
    _predictions(root / a, ids, labels, base)
    _predictions(root / b, ids, labels, base + rng.normal(0, 0.01, n))
    with Catalog.open(root) as cat:
        e = explain(cat, a, b)
    assert e.noise.method == "delong" and e.noise.detail["bootstrap"] == "skipped (large n)"
    assert e.noise.kind == "evaluation_sample"
    assert e.noise.ci is not None and e.noise.ci[0] < 0 < e.noise.ci[1]
    assert e.verdict == "noise"
