"""Hydra job folders, checked against what Hydra itself wrote and reported (tests/fixtures/make_hydra.py)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from runsift.core import formats
from runsift.core.catalog import Catalog
from runsift.core.explain import explain
from runsift.core.formats import container, hydra
from runsift.core.records import Run
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

EXPECTED = expected("hydra")
RUNS = {r["path"]: r for r in EXPECTED["runs"]}
SCENARIO = {r["scenario"]: r["path"] for r in EXPECTED["runs"]}
(SWEEP,) = EXPECTED["sweeps"]
REPLICATES = [r["path"] for r in EXPECTED["runs"] if r["scenario"] == "replicates"]
STATUS = {"finished": "finished", "lr_change": "finished", "replicates": "finished", "crashed": "incomplete", "killed": "incomplete"}
"""Hydra writes nothing about a crash or a kill: both end without final metrics, short of the planned epochs."""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixture("hydra", tmp_path)


def test_fixtures_were_written_by_hydra_1_3() -> None:
    assert EXPECTED["library"]["hydra-core"].startswith("1.3.")
    assert {r["scenario"] for r in EXPECTED["runs"]} == set(STATUS)
    assert len(REPLICATES) == 3


@pytest.mark.parametrize("path", sorted(RUNS))
def test_every_field_matches_what_hydra_reported(path: str) -> None:
    want = RUNS[path]
    run = read_run(FIXTURES / "hydra", path)
    assert run.source.format == "hydra" and run.source.version == want["hydra_version"]
    assert run.project == want["job_name"]
    assert run.config == want["config"]
    assert run.seeds == {"seed": want["config"]["seed"]}
    assert run.status == STATUS[want["scenario"]]
    assert "status" in run.source.guessed
    assert run.tags["hydra.mode"] == want["mode"]
    assert run.tags["hydra.choices.model"] == want["choices"]["model"]
    assert not any(k.startswith("hydra.choices.hydra/") for k in run.tags)
    for name, points in want["series"].items():
        assert run.metrics.series[name] == floats(points)
    if want["final"] is not None:
        assert run.metrics.final == want["final"]
        assert [a.path for a in run.artifacts] == ["weights.npy"] and run.artifacts[0].kind == "model"
    else:
        assert run.metrics.final == {} and run.ended is None and run.duration is None
    assert {".hydra/config.yaml", ".hydra/overrides.yaml", ".hydra/hydra.yaml", "train.log", "metrics.jsonl"} <= set(run.files)
    assert run.problems == ()
    if want["mode"] == "RUN":
        date, time = path.split("/")[1:]
        assert run.started == datetime.strptime(f"{date} {time}", "%Y-%m-%d %H-%M-%S")
        assert "started" not in run.source.guessed  # the path is Hydra's record of the start
        assert run.name == (" ".join(want["overrides"]) or f"{date}_{time}")
    else:
        assert run.name == " ".join(want["overrides"])  # a sweep's job is named by its overrides
        assert run.run_number == want["job_num"] and run.tags["hydra.job.num"] == str(want["job_num"])
        assert run.tags["hydra.sweep"] == SWEEP
        assert run.tags["hydra.sweep.overrides"] == " ".join(EXPECTED["sweeps"][SWEEP]["overrides"])
        assert "started" in run.source.guessed and run.started is not None
    if run.status == "finished":
        assert run.ended is not None and run.started <= run.ended and {"ended", "duration"} <= set(run.source.guessed)


def test_the_walk_finds_every_job_and_nothing_else() -> None:
    assert set(found_runs(FIXTURES / "hydra")) == set(RUNS)
    assert all(f.format == "hydra" for f in found_runs(FIXTURES / "hydra").values())


def test_detection_claims_job_folders_only() -> None:
    fixture = FIXTURES / "hydra"
    for path in RUNS:
        names = {p.name for p in (fixture / path).iterdir()}
        assert hydra.detect(names)
        assert formats.detect(names).name == "hydra"
    not_runs = [
        fixture / SWEEP,  # multirun.yaml and the job folders: the sweep, not a run
        fixture / SWEEP / "..",
        fixture / "outputs",
        fixture / "outputs" / next(iter(RUNS)).split("/")[1],
        fixture / SCENARIO["finished"] / ".hydra",
    ]
    for folder in not_runs:
        names = {p.name for p in folder.iterdir()}
        assert formats.detect(names) is None, folder
        assert not container.detect(names)


def test_the_catalog_lists_the_jobs_and_explains_the_learning_rate(root: Path) -> None:
    lr_run = SCENARIO["lr_change"]
    replicate = next(p for p in REPLICATES if RUNS[p]["overrides"] == ["seed=2"])
    with Catalog.open(root) as cat:
        rows = {r.id: r for r in cat.list()}
        assert len(rows) == len(RUNS) == 7
        assert {i: r.status for i, r in rows.items()} == {p: STATUS[RUNS[p]["scenario"]] for p in RUNS}
        records = {i: cat.get(i) for i in rows}
        result = explain(cat, lr_run, replicate, "val_loss")
    assert {r.project for r in records.values()} == {"train"}
    assert sorted(records[p].name for p in REPLICATES) == ["seed=1", "seed=2", "seed=3"]
    assert records[lr_run].name == "optimizer.lr=0.01 seed=1"
    causes = {(c.section, c.path): (c.a, c.b) for c in result.causes}
    assert causes[("config", "optimizer.lr")] == (0.01, 0.1)
    assert not any(section == "config" and path != "optimizer.lr" for section, path in causes)


def test_reading_writes_nothing(root: Path) -> None:
    before = snapshot(root)
    with Catalog.open(root) as cat:
        for rid in cat.ids():
            cat.get(rid)
        explain(cat, SCENARIO["lr_change"], REPLICATES[0], "val_loss")
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "rel",
    [".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml", "metrics.json", "metrics.jsonl", "train.log"],
)
def test_damaged_files_become_problems_never_exceptions(root: Path, rel: str) -> None:
    run_id = REPLICATES[0]
    path = root / run_id / rel
    original = path.read_bytes()
    for what, data in damaged(original):
        path.write_bytes(data)
        run = read_run(root, run_id)
        assert isinstance(run, Run), what
        assert run.source.format == "hydra"
        if data != original and rel != "train.log" and not data.strip():
            assert any(p.file.endswith(rel) for p in run.problems), (what, run.problems)


def test_damaged_sweep_file_is_a_problem_on_its_jobs(root: Path) -> None:
    (root / SWEEP / "multirun.yaml").write_bytes(b"hydra: {overrides: [\x00")
    run = read_run(root, REPLICATES[1])
    assert run.status == "finished" and "hydra.sweep.overrides" not in run.tags
    assert any(p.file.endswith("multirun.yaml") for p in run.problems)


def test_missing_record_files_are_problems(root: Path) -> None:
    job = root / REPLICATES[0]
    (job / ".hydra" / "config.yaml").unlink()
    (job / ".hydra" / "hydra.yaml").write_text("- not\n- a mapping\n")
    run = read_run(root, REPLICATES[0])
    assert run.config == {} and run.project == job.parent.name  # no job name recorded: the enclosing folder's
    messages = " ".join(p.message for p in run.problems)
    assert "no config.yaml" in messages and "expected a mapping" in messages


def test_a_log_ending_in_a_traceback_is_a_failure(root: Path) -> None:
    job = root / SCENARIO["crashed"]
    with open(job / "train.log", "a", encoding="utf-8") as log:
        log.write(
            "[2026-12-07 03:54:29,001][__main__][ERROR] - training failed\n"
            "Traceback (most recent call last):\n"
            '  File "train.py", line 30, in main\n'
            "RuntimeError: loss exploded at epoch 3\n"
        )
    run = read_run(root, SCENARIO["crashed"])
    assert run.status == "failed" and "status" in run.source.guessed
    assert run.error is not None and run.error.endswith("RuntimeError: loss exploded at epoch 3")
    assert run.ended == datetime(2026, 12, 7, 3, 54, 29)


def test_a_traceback_the_job_got_past_is_not_a_failure(root: Path) -> None:
    job = root / SCENARIO["finished"]
    text = (job / "train.log").read_text()
    lines = text.splitlines(keepends=True)
    (job / "train.log").write_text("".join(lines[:1]) + "Traceback (most recent call last):\nValueError: retried\n" + "".join(lines[1:]))
    run = read_run(root, SCENARIO["finished"])
    assert run.status == "finished" and run.error is None


def test_dvclive_output_inside_a_job_is_its_metrics(root: Path) -> None:
    job = root / SCENARIO["killed"]
    shutil.copytree(FIXTURES / "dvclive" / "baseline" / "dvclive", job / "dvclive")
    run = read_run(root, SCENARIO["killed"])
    assert run.source.format == "hydra"
    assert "train.loss" in run.metrics.final and len(run.metrics.series["train.loss"]) == 5
    assert run.metrics.series["loss"] == floats(RUNS[SCENARIO["killed"]]["series"]["loss"])  # the job's own file still wins
    assert "dvclive/metrics.json" in run.files
    assert run.status == "finished"  # final metrics now recorded


def test_is_live_watches_metrics_and_the_log() -> None:
    assert hydra.is_live("metrics.jsonl") and hydra.is_live("train.log")
    assert not hydra.is_live("weights.npy")
