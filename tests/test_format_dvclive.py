"""DVCLive runs, checked against what DVC and DVCLive themselves report (tests/fixtures/make_dvclive.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tracker_fixtures import (
    FIXTURES,
    copy_fixture,
    damaged,
    expected,
    floats,
    found_runs,
    read_run,
    snapshot,
)

from runsift.core import formats
from runsift.core.catalog import Catalog
from runsift.core.explain import explain
from runsift.core.formats import container, dvclive
from runsift.core.records import Run

EXPECTED = expected("dvclive")
RUNS = {r["path"]: r for r in EXPECTED["runs"]}
STATUS = {"finished": "finished", "replicate": "finished", "lr_change": "finished", "crashed": "incomplete", "killed": "incomplete"}
"""Nothing records a status: a crashed run ends DVCLive's ``with`` block like any other, short of the planned epochs."""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixture("dvclive", tmp_path)


def _flat(doc: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif key != "step":
            out[f"{prefix}{key}"] = value
    return out


def test_fixtures_were_written_by_dvclive_3() -> None:
    assert EXPECTED["library"]["dvclive"].startswith("3.")
    assert {r["scenario"] for r in EXPECTED["runs"]} == set(STATUS)
    assert RUNS["killed"]["process"]["signal"] == "SIGKILL" and RUNS["crashed"]["process"]["returncode"] == 1


@pytest.mark.parametrize("path", sorted(RUNS))
def test_every_field_matches_what_dvc_reported(path: str) -> None:
    want = RUNS[path]
    run = read_run(FIXTURES / "dvclive", path)
    assert run.source.format == "dvclive" and run.source.version is None  # DVCLive does not write its version
    assert run.project == "dvclive" and run.name == path
    assert run.config == want["params_show"]
    assert run.seeds == {"seed": want["params_show"]["seed"]}
    assert run.metrics.final == _flat(want["metrics_show"])
    assert run.metrics.extra["step"] == want["metrics_show"]["step"]
    assert {name.replace("/", "."): floats(points) for name, points in want["series"].items()} == dict(run.metrics.series)
    assert run.status == STATUS[want["scenario"]]
    assert "started" in run.source.guessed and run.started is not None
    assert {"dvclive/params.yaml", "dvclive/metrics.json", "dvclive/plots/metrics/train/loss.tsv", "dvc.yaml"} <= set(run.files)
    assert run.problems == ()
    if want["scenario"] == "killed":
        # DVCLive never ended it: DVC's marker of a running experiment is still there
        assert "status" not in run.source.guessed and "dvc.experiment" in run.tags
        assert run.code.commit is None  # the only experiment record on disk would be an earlier run's
        assert run.ended is None
    else:
        assert "status" in run.source.guessed
        assert run.code.commit == want["git_head"] and run.code.dirty is None
        assert run.tags["dvc.experiment"]
    if run.status == "finished":
        assert [(a.path, a.kind) for a in run.artifacts] == [("weights.npy", "model")]
        assert run.ended is not None and {"ended", "duration"} <= set(run.source.guessed)
    else:
        assert run.artifacts == () and run.ended is None


def test_the_walk_finds_every_run_and_nothing_inside_them() -> None:
    found = found_runs(FIXTURES / "dvclive")
    assert set(found) == set(RUNS)
    assert all(f.format == "dvclive" for f in found.values())


def test_detection_claims_the_folder_holding_dvclive() -> None:
    fixture = FIXTURES / "dvclive"
    for path in RUNS:
        names = {p.name for p in (fixture / path).iterdir()}
        assert dvclive.detect(names) and formats.detect(names).name == "dvclive"
    base = fixture / "baseline"
    for folder in (base / "dvclive" / "plots", base / "dvclive" / "plots" / "metrics", base / ".dvc", base / ".dvc" / "tmp", fixture):
        names = {p.name for p in folder.iterdir()}
        assert formats.detect(names) is None, folder
        assert not container.detect(names)
    # the Python package in site-packages is not a run
    assert not dvclive.detect({"dvclive", "dvclive-3.49.1.dist-info", "numpy", "numpy-2.4.6.dist-info"})
    assert not dvclive.detect({"dvclive", "__init__.py"})


def test_the_catalog_lists_the_runs_and_explains_the_learning_rate(root: Path) -> None:
    with Catalog.open(root) as cat:
        rows = {r.id: r for r in cat.list()}
        assert len(rows) == len(RUNS) == 7
        assert {i: r.status for i, r in rows.items()} == {p: STATUS[RUNS[p]["scenario"]] for p in RUNS}
        records = {i: cat.get(i) for i in rows}
        result = explain(cat, "lr-0.01", "seed-2", "val.loss")
    assert {r.project for r in records.values()} == {"dvclive"}
    assert {r.name for r in records.values()} == set(RUNS)
    causes = {(c.section, c.path): (c.a, c.b) for c in result.causes}
    assert causes[("config", "optimizer.lr")] == (0.01, 0.1)
    assert not any(section in ("config", "code") and path != "optimizer.lr" for section, path in causes)


def test_reading_writes_nothing(root: Path) -> None:
    before = snapshot(root)
    with Catalog.open(root) as cat:
        for rid in cat.ids():
            cat.get(rid)
        explain(cat, "lr-0.01", "seed-1", "val.loss")
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "rel",
    [
        "dvclive/metrics.json",
        "dvclive/params.yaml",
        "dvclive/plots/metrics/train/loss.tsv",
        "dvc.yaml",
    ],
)
def test_damaged_files_become_problems_never_exceptions(root: Path, rel: str) -> None:
    path = root / "seed-1" / rel
    original = path.read_bytes()
    for what, data in damaged(original):
        path.write_bytes(data)
        run = read_run(root, "seed-1")
        assert isinstance(run, Run), what
        assert run.source.format == "dvclive"
        if data != original and (not data.strip() or b"\x00" in data):
            assert any(p.file.endswith(rel) for p in run.problems), (what, run.problems)


def test_damaged_dvc_bookkeeping_is_a_problem(root: Path) -> None:
    marker = root / "killed" / ".dvc" / "tmp" / "exps" / "run" / "DVCLIVE_ONLY"
    for what, data in damaged(marker.read_bytes()):
        marker.write_bytes(data)
        run = read_run(root, "killed")
        assert run.status == "incomplete", what  # the marker is there, whatever it says
    (record,) = (root / "baseline" / ".dvc" / "tmp" / "exps" / "run").glob("*/*.run")
    record.write_bytes(b'{"baseline_rev": ')
    run = read_run(root, "baseline")
    assert run.code.commit is None and any(p.file.endswith(".run") for p in run.problems)


def test_without_planned_epochs_the_status_is_unknown(root: Path) -> None:
    (root / "seed-1" / "dvclive" / "params.yaml").write_text("seed: 1\n")
    run = read_run(root, "seed-1")
    assert run.status == "unknown" and "status" not in run.source.guessed


def test_logged_timestamps_give_the_times(root: Path) -> None:
    tsv = root / "seed-1" / "dvclive" / "plots" / "metrics" / "train" / "loss.tsv"
    rows = tsv.read_text().splitlines()
    stamped = ["timestamp\t" + rows[0]] + [f"{1_765_000_000_000 + 60_000 * i}\t{row}" for i, row in enumerate(rows[1:])]
    tsv.write_text("\n".join(stamped) + "\n")
    run = read_run(root, "seed-1")
    assert run.duration == 4 * 60 and {"started", "ended", "duration"} <= set(run.source.guessed)
    assert run.metrics.series["train.loss"] == floats(RUNS["seed-1"]["series"]["train/loss"])


def test_an_output_folder_met_on_its_own_is_a_run(tmp_path: Path) -> None:
    # Live(dir="results/exp-7"): DVCLive's files with no dvclive/ folder around them
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "dvclive" / "seed-2" / "dvclive", root / "results" / "exp-7")
    (run,) = found_runs(root).values()
    assert run.id == "results/exp-7" and run.format == "dvclive"
    record = read_run(root, "results/exp-7")
    assert record.name == "exp-7" and record.status == "finished" and record.config == RUNS["seed-2"]["params_show"]
    # the walk started inside the project: its dvclive/ folder is the run, named after the project
    project = tmp_path / "seed-2"
    shutil.copytree(FIXTURES / "dvclive" / "seed-2", project)
    record = read_run(project, "dvclive")
    assert record.name == "seed-2" and record.metrics.final == _flat(RUNS["seed-2"]["metrics_show"])


def test_is_live_watches_what_dvclive_rewrites_at_the_top() -> None:
    assert dvclive.is_live("dvc.yaml") and not dvclive.is_live("train.py")


def test_links_out_of_the_root_are_not_followed(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    plots = root / "seed-1" / "dvclive" / "plots" / "metrics"
    shutil.move(plots, outside)
    plots.symlink_to(outside, target_is_directory=True)
    run = read_run(root, "seed-1")
    assert run.metrics.series == {} and run.metrics.final  # the summary is inside, the plots are not read
    assert any("outside the root" in p.message for p in run.problems)
