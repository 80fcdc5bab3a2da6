"""MLflow's SQLite store: runs written by MLflow itself (tests/fixtures/make_mlflow_sqlite.py), read as MLflow reports them."""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tracker_fixtures import snapshot

from runsift.core import formats
from runsift.core.catalog import Catalog
from runsift.core.discover import Found, Memo, discover
from runsift.core.explain import explain
from runsift.core.formats import mlflow_sqlite
from runsift.core.loader import load
from runsift.core.mappings import flatten
from runsift.core.records import Run

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mlflow_sqlite"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
RUNS: dict[str, dict[str, Any]] = EXPECTED["runs"]
STATUS = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "failed", "RUNNING": "incomplete"}


def run_id(name: str) -> str:
    """The catalog id of the fixture run MLflow calls ``name`` (the store is in ``team/``)."""
    e = RUNS[name]
    return f"team/{e['experiment']}/{e['run_id']}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the store (tests may change it) in ``team/`` below the root."""
    out = tmp_path / "tracking"
    (out / "team").mkdir(parents=True)
    shutil.copy2(FIXTURES / "mlflow.db", out / "team" / "mlflow.db")
    return out


def found_runs(root: Path) -> dict[str, Found]:
    return {f.id: f for f in discover(root).found}


def read(root: Path, name: str) -> Run:
    record = load(found_runs(root)[run_id(name)], root)
    assert isinstance(record, Run)
    return record


def test_fixture_was_written_by_mlflow_3() -> None:
    assert EXPECTED["mlflow"].startswith("3.")
    assert set(RUNS) == {"baseline", "seed-1", "seed-2", "lr-0.002", "crashed", "discarded", "ranker"}
    assert (FIXTURES / "mlflow.db").stat().st_size < 400_000


def test_the_walk_lists_one_record_per_run(root: Path) -> None:
    walk = discover(root)
    assert walk.problems == []
    assert sorted(f.id for f in walk.found) == sorted(run_id(n) for n in RUNS)
    for f in walk.found:
        assert f.format == "mlflow-sqlite" and f.dir == root / "team" and [s.rel for s in f.files] == ["mlflow.db"]
    assert formats.get("mlflow-sqlite").describe == "MLflow SQLite stores (mlflow.db)"
    assert formats.detect({"mlflow.db"}) is None  # no folder is a store's run


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_field_matches_what_mlflow_reports(root: Path, name: str) -> None:
    e = RUNS[name]
    run = read(root, name)
    assert run.problems == ()
    assert (run.project, run.name) == (e["experiment"], e["run_name"])
    assert run.status == STATUS[e["status"]]
    assert run.started == datetime.fromtimestamp(e["start_time"] / 1000)
    assert run.ended == datetime.fromtimestamp(e["end_time"] / 1000)
    assert run.duration == pytest.approx((e["end_time"] - e["start_time"]) / 1000)
    assert run.user == e["tags"].get("mlflow.user", e["user_id"])
    assert run.deleted == (e["lifecycle_stage"] == "deleted")
    assert run.notes == e["tags"].get("mlflow.note.content", "")
    assert run.code.commit == e["tags"]["mlflow.source.git.commit"]
    assert {k: v for k, v in run.tags.items() if k != "mlflow.lifecycle_stage"} == {k: v for k, v in e["tags"].items() if k != "mlflow.note.content"}
    flat = dict(flatten(run.config))
    assert set(flat) == set(e["params"])
    for key, text in e["params"].items():
        assert flat[key] == mlflow_sqlite.param_value(text)
    assert run.seeds == {"seed": int(e["params"]["seed"])}
    assert run.metrics.final == e["metrics"]
    for key, history in e["history"].items():
        by_step: dict[int, tuple[int, float]] = {}
        for step, value, ts in history:
            if step not in by_step or ts >= by_step[step][0]:
                by_step[step] = (ts, value)
        assert run.metrics.series[key] == tuple((s, v) for s, (_, v) in sorted(by_step.items()))
    assert run.source.format == "mlflow-sqlite"


def test_status_and_nested_params(root: Path) -> None:
    crashed, baseline = read(root, "crashed"), read(root, "baseline")
    assert crashed.status == "failed" and baseline.status == "finished"
    assert baseline.config["optimizer"]["lr"] == 0.02 and baseline.notes == "the reference run"
    assert len(baseline.metrics.series["val_auc"]) == 4  # the repeated last step is one point, the newer value


def test_catalog_end_to_end(root: Path) -> None:
    with Catalog.open(root) as cat:
        rows = {r.id: r for r in cat.list()}
        assert set(rows) == {run_id(n) for n in RUNS if n != "discarded"}
        assert {r.project for r in rows.values()} == {"fraud-sql", "ranker-sql"}
        assert cat.deleted_count() == 1
        assert cat.problems == []
        got = cat.get(run_id("baseline"))
        assert isinstance(got, Run) and got.name == "baseline"
        deleted = cat.get(run_id("discarded"))
        assert isinstance(deleted, Run) and deleted.deleted
        x = explain(cat, run_id("seed-1"), run_id("lr-0.002"), resamples=200)
    assert x.metric in ("val_auc", "train_loss")
    assert [(c.path, c.a, c.b) for c in x.causes if c.section == "config"] == [("optimizer.lr", 0.02, 0.002)]
    with Catalog.open(root, show_deleted=True) as cat:
        assert run_id("discarded") in cat.ids()
        assert len(cat.ids()) == len(RUNS)
    with Catalog.open(root) as cat:  # a warm open reads nothing again
        assert (cat.last_refresh.added, cat.last_refresh.changed, cat.last_refresh.removed) == (0, 0, 0)
        assert len(cat.ids()) == len(RUNS) - 1


def _add_run(db: Path, name: str) -> str:
    """A new finished run written with plain sqlite3, as another MLflow process would."""
    run_uuid = uuid.uuid4().hex
    con = sqlite3.connect(db)
    with con:
        exp = con.execute("SELECT experiment_id FROM experiments WHERE name = 'fraud-sql'").fetchone()[0]
        con.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, "
            "source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'me', 'FINISHED', ?, ?, '', 'active', '', ?)",
            (run_uuid, name, 1_700_000_000_000, 1_700_000_060_000, exp),
        )
        con.execute("INSERT INTO params (key, value, run_uuid) VALUES ('optimizer.lr', '0.5', ?)", (run_uuid,))
        con.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES ('val_auc', 0.9, 1, ?, 1, 0)", (run_uuid,))
        con.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES ('val_auc', 0, 2, ?, 2, 1)", (run_uuid,))
    con.close()
    return run_uuid


def test_a_new_run_appears_on_the_next_open(root: Path) -> None:
    with Catalog.open(root) as cat:
        assert len(cat.ids()) == len(RUNS) - 1
    new = _add_run(root / "team" / "mlflow.db", "late")
    with Catalog.open(root) as cat:
        assert f"team/fraud-sql/{new}" in cat.ids()
        assert cat.last_refresh.added == 1
        run = cat.get(f"team/fraud-sql/{new}")
    assert isinstance(run, Run) and run.name == "late" and run.config == {"optimizer": {"lr": 0.5}}
    assert math.isnan(run.metrics.final["val_auc"]) and run.metrics.series["val_auc"][0] == (1, 0.9)


def test_reading_writes_nothing(root: Path) -> None:
    before = snapshot(root)
    with Catalog.open(root) as cat:
        for rid in cat.ids():
            cat.get(rid)
    with Catalog.open(root, full=True) as cat:
        assert cat.count() + cat.deleted_count() == len(RUNS)
    assert snapshot(root) == before


def test_a_wal_store_is_read_without_creating_files(root: Path) -> None:
    db = root / "team" / "mlflow.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    assert sorted(p.name for p in db.parent.iterdir()) == ["mlflow.db"]
    before = snapshot(root)
    run = read(root, "baseline")
    assert run.problems == () and run.metrics.final == RUNS["baseline"]["metrics"]
    assert snapshot(root) == before


class _Writer:
    """Another process's MLflow writer: a thread holding ``BEGIN EXCLUSIVE`` on the store until released."""

    def __init__(self, db: Path) -> None:
        self.db, self.locked, self.release = db, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        con = sqlite3.connect(self.db, isolation_level=None)
        try:
            con.execute("BEGIN EXCLUSIVE")
            self.locked.set()
            self.release.wait(30)
            con.execute("ROLLBACK")
        finally:
            con.close()

    def __enter__(self) -> _Writer:
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


def test_a_live_writer_is_reported_not_waited_for(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mlflow_sqlite, "TIMEOUT_S", 0.2)
    db = root / "team" / "mlflow.db"
    found = found_runs(root)[run_id("baseline")]
    with _Writer(db):
        run = load(found, root)
        walk = discover(root)
    assert isinstance(run, Run) and run.problems and "cannot read the run" in run.problems[0].message
    assert walk.found == [] and "cannot read the MLflow store now" in walk.problems[0].message
    assert [(h.folder, h.rel) for h in walk.held] == [(str(db.parent), "team")]


def test_a_locked_store_keeps_its_runs_as_last_read(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mlflow_sqlite, "TIMEOUT_S", 0.2)
    (root / "other").mkdir()  # a run beside the store's folder: gone runs elsewhere still go
    (root / "other" / "config.yaml").write_text("lr: 1\n", encoding="utf-8")
    (root / "other" / "metrics.json").write_text('{"auc": 0.5}', encoding="utf-8")
    cache = tmp_path / "cache"
    with Catalog.open(root, cache_dir=cache) as cat:
        before = {r.id: r for r in cat.list()}
    assert run_id("baseline") in before and "other" in before and not any(r.problems for r in before.values())
    shutil.rmtree(root / "other")
    with _Writer(root / "team" / "mlflow.db"):
        for _ in range(2):  # a second walk under the lock neither drops them nor marks them twice
            with Catalog.open(root, cache_dir=cache) as cat:
                during = {r.id: r for r in cat.list()}
                held = cat.get(run_id("baseline"))
                assert any("shown as of the last successful read" in p.message for p in cat.problems)
                assert cat.cache_problems == []  # the held rows were rewritten with their checksums, not "damaged"
            assert set(during) == set(before) - {"other"}
            for rid, row in during.items():
                assert [p.message for p in row.problems].count(row.problems[0].message) == 1
                assert "busy" in row.problems[0].message and "last successful read" in row.problems[0].message
                assert (row.status, row.metrics, row.name) == (before[rid].status, before[rid].metrics, before[rid].name)
            assert isinstance(held, Run) and held.metrics.final == RUNS["baseline"]["metrics"]
            assert "last successful read" in held.problems[0].message
    with Catalog.open(root, cache_dir=cache) as cat:  # the lock is gone, the store unchanged: read again, unmarked
        after = {r.id: r for r in cat.list()}
        assert cat.problems == [] and cat.last_refresh.changed == len(RUNS)  # the deleted run too
        fresh = cat.get(run_id("baseline"))
    assert set(after) == set(during) and not any(r.problems for r in after.values())
    assert isinstance(fresh, Run) and fresh.problems == () and fresh.metrics.final == RUNS["baseline"]["metrics"]


def test_a_locked_store_never_listed_lists_nothing(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mlflow_sqlite, "TIMEOUT_S", 0.2)
    with _Writer(root / "team" / "mlflow.db"), Catalog.open(root, use_cache=False) as cat:
        assert cat.ids() == [] and "cannot read the MLflow store now" in cat.problems[0].message


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "other-db"])
def test_a_broken_store_is_a_problem_not_a_crash(root: Path, damage: str) -> None:
    db = root / "team" / "mlflow.db"
    data = db.read_bytes()
    if damage == "truncated":
        db.write_bytes(data[: len(data) // 3])
    elif damage == "garbage":
        db.write_bytes(b"not a database at all\n" * 100)
    elif damage == "empty":
        db.write_bytes(b"")
    else:
        db.unlink()
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE runs (x)")
        con.close()
    before = snapshot(root)
    with Catalog.open(root) as cat:
        runs = [cat.get(rid) for rid in cat.ids()]
        problems = cat.problems + [p for r in runs for p in r.problems]
    assert problems, damage
    assert snapshot(root) == before


def test_a_run_gone_from_the_store_is_a_problem(root: Path) -> None:
    found = found_runs(root)[run_id("baseline")]
    con = sqlite3.connect(root / "team" / "mlflow.db")
    with con:
        con.execute("DELETE FROM runs WHERE run_uuid = ?", (RUNS["baseline"]["run_id"],))
    con.close()
    run = load(found, root)
    assert isinstance(run, Run) and run.problems and "not in the store" in run.problems[0].message


def test_stores_are_named_by_name_only() -> None:
    assert mlflow_sqlite.stores({"mlflow.db", "other.db", "x"}) == ("mlflow.db",)
    assert mlflow_sqlite.stores({"runs.db"}) == ()


def test_a_quick_walk_still_lists_a_settled_store(root: Path) -> None:
    old = 1_600_000_000
    for path in (root / "team" / "mlflow.db", root / "team", root):
        os.utime(path, (old, old))  # nothing changed for long: the walk's memo would trust the folder
    with Catalog.open(root) as cat:
        assert len(cat.ids()) == len(RUNS) - 1
    with Catalog.open(root) as cat:
        assert (cat.last_refresh.removed, cat.last_refresh.changed, cat.last_refresh.added) == (0, 0, 0)
        assert len(cat.ids()) == len(RUNS) - 1
    walk = discover(root)
    assert walk.folders["team"].mtime_ns == -1 and walk.folders[""].mtime_ns == old * 10**9  # the store's folder is listed every time
    assert len(discover(root, Memo(folders=walk.folders)).found) == len(RUNS)
