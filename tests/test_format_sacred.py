"""Sacred FileStorageObserver runs, checked against what Sacred wrote and reported (tests/fixtures/make_sacred.py)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
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
from runsift.core.formats import container, sacred
from runsift.core.records import Run

EXPECTED = expected("sacred")
RUNS = {r["path"]: r for r in EXPECTED["runs"]}
SCENARIO: dict[str, list[str]] = {}
for _run in EXPECTED["runs"]:
    SCENARIO.setdefault(_run["scenario"], []).append(_run["path"])
(KILLED,) = SCENARIO["killed"]
STATUS = {"finished": "finished", "replicate": "finished", "lr_change": "finished", "crashed": "failed", "interrupted": "failed"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixture("sacred", tmp_path)


def _local(utc: str) -> datetime:
    return datetime.fromisoformat(utc).replace(tzinfo=UTC).astimezone().replace(tzinfo=None, microsecond=0)


def _seconds(utc: str) -> float:
    return datetime.fromisoformat(utc).replace(tzinfo=UTC).timestamp()


def test_fixtures_were_written_by_sacred_0_8() -> None:
    assert EXPECTED["library"]["sacred"].startswith("0.8.")
    assert {r["run_json"]["status"] for r in EXPECTED["runs"]} == {"COMPLETED", "FAILED", "RUNNING", "INTERRUPTED"}
    assert len(SCENARIO["replicate"]) == 3


@pytest.mark.parametrize("path", sorted(RUNS))
def test_every_field_matches_what_sacred_reported(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    want = RUNS[path]
    started_event = want["reported"]["started"]
    info, host = started_event["ex_info"], started_event["host_info"]
    run_json = want["run_json"]
    monkeypatch.setattr(sacred, "_now", lambda: _seconds(run_json["heartbeat"]) + 5)  # read moments after the last beat
    run = read_run(FIXTURES / "sacred", path)

    assert run.source == sacred.Source("sacred", EXPECTED["library"]["sacred"], ())
    assert run.project == info["name"] == "toy_regression"
    assert run.name == f"{info['name']}-{want['id']}" and run.run_number == int(want["id"])
    assert run.config == started_event["config"] == want["config_json"]
    assert run.seeds == {"seed": want["config_json"]["seed"]}
    assert run.started == _local(run_json["start_time"])
    assert run.code.commit == info["repositories"][0]["commit"] and run.code.dirty is True
    assert run.env.python == host["python_version"]
    assert run.env.packages == {d.split("==")[0]: d.split("==")[1] for d in info["dependencies"]}
    assert run.host == host["hostname"]
    assert run.notes == (started_event["meta_info"].get("comment") or "")
    assert run.tags["sacred.command"] == "train"
    for name, got in want["reported"]["metrics"].items():
        assert run.metrics.series[name] == floats(zip(got["steps"], got["values"]))
    assert set(run.metrics.series) == set(want["metrics_json"])
    assert run.files == ("run.json", "config.json", "metrics.json")
    assert run.problems == ()

    if want["scenario"] == "killed":
        assert run_json["status"] == "RUNNING" and "completed" not in want["reported"] and "failed" not in want["reported"]
        assert run.status == "incomplete" and run.ended is None and run.duration is None and run.error is None
        return
    ended = next(want["reported"][k] for k in ("completed", "failed", "interrupted") if k in want["reported"])
    assert run.status == STATUS[want["scenario"]]
    assert run.ended == _local(ended["stop_time"]) == _local(run_json["stop_time"])
    assert run.duration == pytest.approx(_seconds(run_json["stop_time"]) - _seconds(run_json["start_time"]), abs=1e-3)
    if run.status == "finished":
        assert run.metrics.final["result"] == want["reported"]["completed"]["result"]
        assert {k: v for k, v in run.metrics.final.items() if k != "result"} == {n: m["values"][-1] for n, m in want["metrics_json"].items()}
        assert run.error is None
    else:
        assert run.metrics.final == {}
    if want["scenario"] == "crashed":
        trace = "".join(want["reported"]["failed"]["fail_trace"]).rstrip().splitlines()
        assert run.error == "\n".join(trace[-20:])
        assert run.error.endswith("RuntimeError: loss exploded at epoch 3")
    if want["scenario"] == "interrupted":
        assert want["reported"]["interrupted"]["status"] == "INTERRUPTED"
        assert run.error is not None and "interrupted" in run.error
    if want["scenario"] == "finished":
        assert [(a.path, a.kind) for a in run.artifacts] == [("weights.npy", "model")]
        assert run.tags.get("sacred.config_updates") is None
    if want["scenario"] == "lr_change":
        assert run.tags["sacred.config_updates"] == "optimizer.lr=0.01 seed=1"


def test_a_killed_run_is_taken_for_dead_once_its_heartbeat_is_stale(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    beat = _seconds(RUNS[KILLED]["run_json"]["heartbeat"])
    monkeypatch.setattr(sacred, "_now", lambda: beat + 60)
    assert read_run(root, KILLED).status == "incomplete"  # may still be running: Sacred beats every 10 s

    monkeypatch.setattr(sacred, "_now", lambda: beat + 11 * 60)  # no beat for 11 minutes
    run = read_run(root, KILLED)
    assert run.status == "failed" and run.source.guessed == ("status",)
    assert "RUNNING" in run.error and "killed" in run.error
    assert run.ended is None

    monkeypatch.setattr(sacred, "_now", lambda: beat + 60)  # files copied long after (a checkout) say nothing of the process
    later = beat + 3600
    os.utime(root / KILLED / "cout.txt", (later, later))
    assert read_run(root, KILLED).status == "incomplete"


def test_the_walk_finds_every_run_and_not_the_sources() -> None:
    found = found_runs(FIXTURES / "sacred")
    assert set(found) == set(RUNS)
    assert all(f.format == "sacred" for f in found.values())


def test_detection_claims_run_folders_only() -> None:
    fixture = FIXTURES / "sacred"
    for path in RUNS:
        names = {p.name for p in (fixture / path).iterdir()}
        assert sacred.detect(names) and formats.detect(names).name == "sacred"
    for folder in (fixture / "runs", fixture / "runs" / "_sources", fixture):
        names = {p.name for p in folder.iterdir()}
        assert formats.detect(names) is None, folder
        assert not container.detect(names)
    assert not sacred.detect({"run.json"}) and not sacred.detect({"config.json", "cout.txt"})


def test_the_catalog_lists_the_runs_and_explains_the_learning_rate(root: Path) -> None:
    (lr_run,) = SCENARIO["lr_change"]
    replicate = next(p for p in SCENARIO["replicate"] if RUNS[p]["config_json"]["seed"] == 2)
    later = _seconds(RUNS[KILLED]["run_json"]["heartbeat"]) + 3600
    os.utime(root / KILLED / "cout.txt", (later, later))  # a file touched an hour after the last beat
    with Catalog.open(root) as cat:
        rows = {r.id: r for r in cat.list()}
        assert len(rows) == len(RUNS) == 8
        statuses = {i: r.status for i, r in rows.items()}
        records = {i: cat.get(i) for i in rows}
        result = explain(cat, lr_run, replicate, "val_loss")
    assert {i: s for i, s in statuses.items() if i != KILLED} == {p: STATUS[RUNS[p]["scenario"]] for p in RUNS if p != KILLED}
    assert statuses[KILLED] == "failed"  # RUNNING, with no heartbeat for an hour before that file
    assert {r.project for r in records.values()} == {"toy_regression"}
    assert sorted(r.name for r in records.values()) == sorted(f"toy_regression-{RUNS[p]['id']}" for p in RUNS)
    causes = {(c.section, c.path): (c.a, c.b) for c in result.causes}
    assert causes[("config", "optimizer.lr")] == (0.01, 0.1)
    assert not any(section in ("config", "code", "env") and path != "optimizer.lr" for section, path in causes)


def test_reading_writes_nothing(root: Path) -> None:
    before = snapshot(root)
    with Catalog.open(root) as cat:
        for rid in cat.ids():
            cat.get(rid)
        explain(cat, SCENARIO["lr_change"][0], SCENARIO["replicate"][0], "val_loss")
    assert snapshot(root) == before
    assert not (root / "runs" / ".trash").exists()


@pytest.mark.parametrize("rel", ["run.json", "config.json", "metrics.json"])
def test_damaged_files_become_problems_never_exceptions(root: Path, rel: str) -> None:
    run_id = SCENARIO["crashed"][0]
    path = root / run_id / rel
    original = path.read_bytes()
    for what, data in damaged(original):
        path.write_bytes(data)
        run = read_run(root, run_id)
        assert isinstance(run, Run), what
        assert run.source.format == "sacred"
        if data != original and (not data.strip() or b"\x00" in data):
            assert any(p.file.endswith(rel) for p in run.problems), (what, run.problems)


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"loss": {"steps": [1, 2], "values": [0.5]}}, "2 steps for 1 values"),
        ({"loss": {"steps": [1, "x"], "values": [0.5, 0.4]}}, "non-numeric"),
        ({"loss": [0.5, 0.4]}, "no list of values"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_odd_metrics_are_reported(root: Path, doc: object, message: str) -> None:
    run_id = SCENARIO["replicate"][0]
    (root / run_id / "metrics.json").write_text(json.dumps(doc))
    run = read_run(root, run_id)
    assert any(message in p.message for p in run.problems), run.problems


def test_a_long_metrics_file_is_read_whole(root: Path) -> None:
    run_id = SCENARIO["replicate"][0]
    steps = list(range(80_000))
    doc = {name: {"steps": steps, "values": [float(s) for s in steps], "timestamps": ["2026-01-01T00:00:00"] * len(steps)} for name in ("a", "b")}
    (root / run_id / "metrics.json").write_text(json.dumps(doc))
    run = read_run(root, run_id)
    assert len(run.metrics.series["a"]) == 80_000 and run.problems == ()


def test_statuses_sacred_can_write(root: Path) -> None:
    run_id = SCENARIO["replicate"][0]
    path = root / run_id / "run.json"
    doc = json.loads(path.read_text())
    for said, status in (("TIMEOUT", "failed"), ("QUEUED", "incomplete"), ("SOME_INTERRUPT", "failed"), (None, "unknown")):
        doc["status"] = said
        path.write_text(json.dumps(doc))
        run = read_run(root, run_id)
        assert run.status == status, said


def test_is_live_watches_the_files_sacred_rewrites() -> None:
    assert all(sacred.is_live(n) for n in ("run.json", "metrics.json", "cout.txt", "info.json"))
    assert not sacred.is_live("config.json")


def test_a_run_json_that_is_not_a_file_is_a_problem(root: Path) -> None:
    run_id = SCENARIO["replicate"][0]
    (root / run_id / "run.json").unlink()
    (root / run_id / "run.json").mkdir()
    run = read_run(root, run_id)
    assert run.status == "unknown" and run.config == RUNS[run_id]["config_json"]
    assert any(p.file.endswith("run.json") and "not a file" in p.message for p in run.problems)
