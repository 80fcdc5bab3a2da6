"""The MLflow file store: runs written by MLflow itself (tests/fixtures/make_mlflow.py), read as MLflow reports them."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import age, rewrite_in_place
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tracker_fixtures import snapshot

from runsift.core import formats
from runsift.core.catalog import Catalog
from runsift.core.discover import Found, discover
from runsift.core.explain import explain
from runsift.core.formats import _mlflow_experiment, _mlflow_files, container, mlflow
from runsift.core.loader import load
from runsift.core.mappings import flatten
from runsift.core.records import Run, Source

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mlflow"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
RUNS: dict[str, dict[str, Any]] = EXPECTED["runs"]
STATUS = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "failed", "RUNNING": "incomplete"}


def run_id(name: str) -> str:
    """The catalog id of the fixture run MLflow calls ``name``."""
    e = RUNS[name]
    return f"mlruns/{e['experiment_id']}/{e['run_id']}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the fixtures (tests may break it)."""
    out = tmp_path / "tracking"
    shutil.copytree(FIXTURES, out)
    (out / "expected.json").unlink()
    return out


def found_runs(root: Path) -> dict[str, Found]:
    return {f.id: f for f in discover(root).found}


def read(root: Path, name: str) -> Run:
    record = load(found_runs(root)[run_id(name)], root)
    assert isinstance(record, Run)
    return record


# -- what MLflow reports -------------------------------------------------------------


def test_fixtures_were_written_by_mlflow_3() -> None:
    assert EXPECTED["versions"]["mlflow"].startswith("3.")
    assert set(RUNS) == {"baseline", "seed-1", "seed-2", "seed-3", "lr-0.002", "crashed", "interrupted", "killed", "discarded", "ranker-1"}
    assert sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file()) < 200_000


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_field_matches_what_mlflow_reports(root: Path, name: str) -> None:
    e = RUNS[name]
    run = read(root, name)
    assert run.problems == ()
    assert (run.project, run.name) == (e["experiment_name"], e["run_name"])
    assert run.status == STATUS[e["status"]]
    assert run.error == ("killed: MLflow recorded the run as KILLED" if e["status"] == "KILLED" else None)
    assert run.started == datetime.fromtimestamp(e["start_time"] / 1000)
    if e["end_time"] is None:
        assert (run.ended, run.duration) == (None, None)
    else:
        assert run.ended == datetime.fromtimestamp(e["end_time"] / 1000)
        assert run.duration == pytest.approx((e["end_time"] - e["start_time"]) / 1000)
    assert run.user == e["user_id"] == e["tags"]["mlflow.user"]

    # params: re-nested, numbers where the text reads as one, the text otherwise
    flat = dict(flatten(run.config))
    assert set(flat) == set(e["params"])
    for key, text in e["params"].items():
        assert flat[key] == mlflow.param_value(text)
        try:
            assert flat[key] == float(text)
        except ValueError:
            assert flat[key] == text
    assert run.config["optimizer"]["lr"] == float(e["params"]["optimizer.lr"])
    assert run.config["data/rows"] == 600 and run.config["optimizer"]["name"] == "sgd"
    assert run.seeds == {"seed": int(e["params"]["seed"])}

    assert dict(run.metrics.final) == e["metrics"]
    for key, history in e["history"].items():
        series = run.metrics.series[key]
        assert series[-1][1] == e["metrics"][key]
        if key == "val_auc":
            # logged with a dataset: 5-field lines, whose step MLflow 3's reader reports as 0 (its writer
            # wrote the real one); logging a model appended copies of them. Values in order, real steps.
            unique = list(dict.fromkeys((ts, value) for _step, value, ts in history))
            assert [v for _s, v in series] == [v for _ts, v in unique]
            assert [s for s, _v in series] == list(range(1, len(unique) + 1))
        else:
            by_step: dict[int, tuple[int, float]] = {}
            for step, value, ts in history:
                if step not in by_step or ts >= by_step[step][0]:
                    by_step[step] = (ts, value)
            assert list(series) == [(step, by_step[step][1]) for step in sorted(by_step)]

    tags = {k: v for k, v in e["tags"].items() if k != "mlflow.note.content"}
    if e["lifecycle_stage"] == "deleted":
        tags["mlflow.lifecycle_stage"] = "deleted"
    assert dict(run.tags) == tags
    assert run.notes == e["tags"].get("mlflow.note.content", "")
    assert run.code.commit == e["tags"]["mlflow.source.git.commit"]
    assert run.code.extra["branch"] == e["tags"]["mlflow.source.git.branch"] == "main"

    training = [d for d in e["inputs"] if d["tags"].get("mlflow.data.context") == "training"]
    assert run.data.name == training[0]["name"]
    assert dict(run.data.hashes) == {d["name"]: d["digest"] for d in e["inputs"]}
    assert run.data.rows == json.loads(training[0]["profile"])["features_shape"][0]

    if e["models"]:
        model = e["models"][0]
        assert run.env.python == model["python_version"] == EXPECTED["versions"]["python"]
        assert dict(run.env.packages) == dict(r.split("==") for r in model["requirements"])
        assert run.source == Source("mlflow", model["mlflow_version"], ())
        assert any(a.path == f"../models/{model['model_id']}/artifacts/MLmodel" for a in run.artifacts)
    else:
        assert (run.env.python, dict(run.env.packages)) == (None, {})
        assert run.source == Source("mlflow", None, ())
    if e["status"] == "FINISHED":
        assert ("artifacts/eval/summary.json", "table") in [(a.path, a.kind) for a in run.artifacts]
    assert "meta.yaml" in run.files and "../meta.yaml" in run.files and "params/optimizer.lr" in run.files


def test_status_and_steps_of_the_unfinished_runs(root: Path) -> None:
    killed = read(root, "killed")  # SIGKILL: MLflow never wrote an end
    assert (killed.status, killed.ended, killed.error) == ("incomplete", None, None)
    assert [s for s, _ in killed.metrics.series["train_loss"]] == [1, 2, 3]
    crashed = read(root, "crashed")
    assert crashed.status == "failed" and crashed.ended is not None
    ranker = read(root, "ranker-1")  # metrics logged without a step: all at step 0, final is the newest
    assert [s for s, _ in ranker.metrics.series["ndcg"]] == [0]
    assert ranker.metrics.final["ndcg"] == RUNS["ranker-1"]["history"]["ndcg"][-1][1]


# -- detection -----------------------------------------------------------------------


def _names(folder: Path) -> set[str]:
    return set(os.listdir(folder))


def test_detects_run_folders_and_nothing_else(root: Path) -> None:
    store = root / "mlruns"
    runs = {store / e["experiment_id"] / e["run_id"] for e in RUNS.values()}
    for folder in runs:
        assert mlflow.detect(_names(folder)), folder
        assert not container.detect(_names(folder)), folder
        assert formats.detect(_names(folder)).name == "mlflow"
    others = [p for p in store.rglob("*") if p.is_dir() and p not in runs and not any(r in p.parents for r in runs)]
    assert any(p.parent.name == "models" for p in others)  # MLflow 3's logged models look like runs ...
    assert any(p.parent.name == "datasets" for p in others)
    assert any(p.name == ".trash" for p in others)
    for folder in others:
        if folder.parent.name == "models" and (folder / "meta.yaml").exists():
            assert mlflow.detect(_names(folder))  # ... by their names alone
        elif ".trash" in folder.parts:
            continue  # a deleted experiment's runs: a dot folder, never walked (below)
        else:
            assert formats.detect(_names(folder)) is None, folder
    for folder in (store, store / "0", *(store / e["experiment_id"] for e in RUNS.values())):
        assert formats.detect(_names(folder)) is None, folder
    experiment = store / RUNS["baseline"]["experiment_id"]
    assert mlflow.skip(_names(experiment)) == {"models", "datasets"}  # so the walk never enters them
    assert mlflow.skip(_names(store)) == frozenset()
    assert mlflow.skip({"meta.yaml", "models", "notes.md"}) == frozenset()  # not an experiment folder


def test_the_walk_finds_the_runs_only(root: Path) -> None:
    walk = discover(root)
    assert {f.id for f in walk.found} == {run_id(n) for n in RUNS}
    assert all(f.format == "mlflow" and f.kind == "run" for f in walk.found)
    assert not any("/models/" in rel or "/datasets/" in rel or ".trash" in rel for rel in walk.folders)


def test_the_experiment_folder_as_root(root: Path) -> None:
    experiment = root / "mlruns" / RUNS["ranker-1"]["experiment_id"]
    with Catalog.open(experiment) as cat:
        (row,) = cat.list()
    assert (row.id, row.project, row.name) == (RUNS["ranker-1"]["run_id"], "ranker", "ranker-1")


# -- the catalog end to end ----------------------------------------------------------


def test_catalog_lists_and_explains(root: Path) -> None:
    with Catalog.open(root) as cat:
        assert {r.id for r in cat.list()} == {run_id(n) for n in RUNS} - {run_id("discarded")}  # deleted: not listed
        assert cat.deleted_count() == 1
    for show_deleted, shown in ((False, 9), (True, 10)):  # the first frame's count, on a fresh open as on the first
        with Catalog.open(root, show_deleted=show_deleted) as cat:
            assert cat.head(3)[1] == shown
    with Catalog.open(root, show_deleted=True) as cat:
        rows = {r.id: r for r in cat.list()}
        assert len(rows) == len(RUNS) == 10
        for name, e in RUNS.items():
            row = rows[run_id(name)]
            assert (row.project, row.name, row.status) == (e["experiment_name"], name, STATUS[e["status"]])
            assert row.metrics == e["metrics"]
        deleted = cat.get(run_id("discarded"))
        assert isinstance(deleted, Run) and deleted.tags["mlflow.lifecycle_stage"] == "deleted" and deleted.deleted
        x = explain(cat, run_id("seed-1"), run_id("lr-0.002"), resamples=200)
    assert x.metric == "val_auc"
    assert len(x.noise.replicates_a) == 4  # baseline, seed-1, seed-2 and seed-3 (which logged its rate as 2e-2)
    assert [(c.section, c.path, c.a, c.b) for c in x.causes if c.section == "config"] == [("config", "optimizer.lr", 0.02, 0.002)]
    with Catalog.open(root) as cat:  # a warm open reads nothing again
        assert (cat.last_refresh.added, cat.last_refresh.changed, cat.last_refresh.unchanged) == (0, 0, 10)


def test_a_run_deleted_in_the_mlflow_ui_long_after_it_finished_leaves_a_quick_open(root: Path) -> None:
    """MLflow deletes and restores a run by rewriting its meta.yaml in place: the quick walk keeps
    watching that file however long the run has been settled (run containers' live files it lets go)."""
    age(root, hours=48)
    with Catalog.open(root) as cat:
        assert run_id("baseline") in {r.id for r in cat.list()}
    meta = _run_dir(root, "baseline") / "meta.yaml"
    rewrite_in_place(meta, meta.read_text(encoding="utf-8").replace("lifecycle_stage: active", "lifecycle_stage: deleted"))
    with Catalog.open(root) as cat:
        assert cat.last_refresh.changed == 1
        assert run_id("baseline") not in {r.id for r in cat.list()}
        assert cat.deleted_count() == 2


def test_cli_explain_names_the_learning_rate(root: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "runsift", "explain", run_id("lr-0.002"), run_id("seed-2"), "--root", str(root), "--format", "json", "--no-cache"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert any(c["section"] == "config" and c["path"] == "optimizer.lr" for c in doc["causes"])


def test_ls_leaves_deleted_runs_out_and_says_so(root: Path) -> None:
    def ls(*extra: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "runsift", "ls", str(root), "--format", "json", "--no-cache", *extra]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    plain, everything = ls(), ls("--deleted")
    assert plain.returncode == everything.returncode == 0
    assert run_id("discarded") not in {r["id"] for r in json.loads(plain.stdout)}
    assert "1 run marked deleted by their tracker not listed (--deleted lists them)" in " ".join(plain.stderr.split())
    assert run_id("discarded") in {r["id"] for r in json.loads(everything.stdout)}


def test_reading_writes_nothing(root: Path) -> None:
    before = snapshot(root)
    with Catalog.open(root) as cat:
        for rid in cat.ids():
            cat.get(rid)
        explain(cat, run_id("baseline"), run_id("lr-0.002"), resamples=100)
    with Catalog.open(root, full=True) as cat:
        assert cat.count() + cat.deleted_count() == 10
    assert snapshot(root) == before
    assert not (root / "mlruns" / ".trash" / "meta.yaml").exists()


# -- values --------------------------------------------------------------------------


def test_param_values_keep_the_text_unless_a_number() -> None:
    value = mlflow.param_value
    assert value("0.01") == value("1e-2") == 0.01 and value("32") == 32 and value("-3") == -3
    assert value("3E+2") == 300.0 and value(".5") == 0.5 and value("0") == 0
    for text in ("True", "None", "nan", "inf", "1e999", "007", "1_000", "[1, 2]", "adam", "", " ", "0x10", "1.2.3", "9" * 5000):
        assert value(text) == text


def test_nesting_dotted_keys() -> None:
    assert mlflow.nest({"optimizer.lr": 0.1, "optimizer.name": "sgd", "epochs": 3}) == {"epochs": 3, "optimizer": {"lr": 0.1, "name": "sgd"}}
    # a key that is both a value and a scope keeps its dotted children flat; odd dots stay as written
    assert mlflow.nest({"a": 1, "a.b": 2, "c..d": 3, ".e": 4, "f.": 5}) == {"a": 1, "a.b": 2, "c..d": 3, ".e": 4, "f.": 5}
    assert mlflow.nest({"a.b": 1, "a.b.c": 2}) == {"a": {"b": 1}, "a.b.c": 2}


def test_thin_keeps_the_ends() -> None:
    points = [(i, float(i)) for i in range(1000)]
    thinned = _mlflow_files.thin(points, 10)
    assert len(thinned) == 10 and thinned[0] == points[0] and thinned[-1] == points[-1]


# -- bad input -----------------------------------------------------------------------


def _run_dir(root: Path, name: str) -> Path:
    return root / run_id(name)


def test_malformed_metric_lines_are_problems_with_lines(root: Path) -> None:
    folder = _run_dir(root, "crashed")
    (folder / "metrics" / "train_loss").write_text("1 0.5 1\nnot a line\n2 x 2\n3 0.25 3\n4 0.2 4.5\n5 0.1\n")
    run = read(root, "crashed")
    assert run.metrics.series["train_loss"] == ((0, 0.1), (1, 0.5), (3, 0.25))  # 2 fields: step 0, as MLflow reads it
    assert [(p.line, "malformed" in p.message) for p in run.problems] == [(2, True), (3, True), (5, True)]
    assert all(p.file == f"{run_id('crashed')}/metrics/train_loss" for p in run.problems)
    assert run.metrics.final["val_auc"] == RUNS["crashed"]["metrics"]["val_auc"]  # the other metric still loads


def test_broken_files_cost_only_themselves(root: Path) -> None:
    folder = _run_dir(root, "seed-1")
    (folder / "params" / "epochs").write_bytes(b"\x00\x01binary")
    (folder / "tags" / "team").write_bytes(b"caf\xe9")
    (folder / "metrics" / "val_auc").write_bytes(b"")
    experiment_meta = folder.parent / "meta.yaml"
    experiment_meta.write_text("name: [unclosed\n")
    run = read(root, "seed-1")
    messages = {p.file.rsplit("/", 1)[-1] if "/params/" in p.file or "/tags/" in p.file else p.file: p.message for p in run.problems}
    assert "binary" in messages["epochs"] and "UTF-8" in messages["team"] and "empty" in messages[f"{run_id('seed-1')}/metrics/val_auc"]
    assert "invalid YAML" in messages[f"mlruns/{RUNS['seed-1']['experiment_id']}/meta.yaml"]
    assert run.project == RUNS["seed-1"]["experiment_id"]  # the folder's name when the experiment's is unreadable
    assert "epochs" not in run.config and run.config["optimizer"]["lr"] == 0.02
    assert run.tags["team"] == "caf\ufffd"
    assert "val_auc" not in run.metrics.final and "train_loss" in run.metrics.final
    assert run.status == "finished"


def test_unreadable_meta_leaves_status_unknown_and_guesses_the_start(root: Path) -> None:
    (_run_dir(root, "baseline") / "meta.yaml").write_text("status: [3\n")
    run = read(root, "baseline")
    assert run.status == "unknown" and run.name == "baseline"  # from the mlflow.runName tag
    assert run.source.guessed == ("started",) and run.started is not None
    assert any("invalid YAML" in p.message for p in run.problems)
    meta = _run_dir(root, "seed-2") / "meta.yaml"
    meta.write_text(meta.read_text().replace("status: 3", "status: 9").replace("start_time: ", "start_time: -"))
    run = read(root, "seed-2")
    assert run.status == "unknown"
    assert {p.message.split(" ")[0] for p in run.problems} == {"status", "start_time"}


def test_links_out_of_the_root_are_not_followed(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("0.5")
    folder = _run_dir(root, "seed-2")
    (folder / "params" / "leak").symlink_to(secret)
    outside = tmp_path / "outside-metrics"
    outside.mkdir()
    (outside / "loss").write_text("1 0.5 1\n")
    shutil.rmtree(folder / "metrics")
    (folder / "metrics").symlink_to(outside, target_is_directory=True)
    run = read(root, "seed-2")
    assert "leak" not in run.config and run.metrics.final == {}
    assert any("outside the root" in p.message for p in run.problems)
    assert any("link in place of a folder" in p.message for p in run.problems)


def test_bounds(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _run_dir(root, "ranker-1")
    (folder / "metrics" / "long").write_text("".join(f"{1000 + i} {i / 10} {i}\n" for i in range(500)))
    for i in range(30):
        (folder / "params" / f"extra{i:02d}").write_text(str(i))
    monkeypatch.setattr(_mlflow_files, "MAX_METRIC_LINES", 100)
    monkeypatch.setattr(_mlflow_files, "MAX_SERIES_POINTS", 20)
    monkeypatch.setattr(_mlflow_files, "MAX_KEYS", 25)
    run = read(root, "ranker-1")
    assert len(run.metrics.series["long"]) == 20 and run.metrics.final["long"] == 9.9  # line 100 is the last read
    assert run.metrics.extra["series_thinned"] == {"long": 100}
    assert any("more than 100 lines" in p.message and p.line == 101 for p in run.problems)
    assert any("more than 25 entries" in p.message for p in run.problems)


def _mutations(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    """Truncations at many offsets and single flipped bytes."""
    cuts = sorted({0, 1, len(data) // 2, len(data) - 1, *(rng.randrange(len(data) + 1) for _ in range(count))})
    out = [data[:n] for n in cuts]
    for _ in range(count):
        i = rng.randrange(len(data))
        out.append(data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :])
    return out


@pytest.mark.parametrize("which", ["meta.yaml", "metrics/val_auc", "metrics/train_loss", "params/optimizer.lr", "tags/mlflow.runName", "../meta.yaml", "inputs"])
def test_truncated_and_flipped_files_never_raise(root: Path, which: str) -> None:
    folder = _run_dir(root, "baseline")
    if which == "inputs":
        path = next((folder / "inputs").glob("*/meta.yaml"))
    else:
        path = (folder / which).resolve()
    data = path.read_bytes()
    found = found_runs(root)[run_id("baseline")]
    rng = random.Random(which)
    for mutated in _mutations(data, rng, 40):
        path.write_bytes(mutated)
        _mlflow_experiment._experiment.cache_clear()
        run = load(found, root)
        assert isinstance(run, Run) and run.id == run_id("baseline")
        assert run.config["optimizer"]["name"] == "sgd" or which == "params/optimizer.lr"
    path.write_bytes(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(meta=st.binary(max_size=300), metric=st.binary(max_size=300), param=st.binary(max_size=50))
def test_random_bytes_never_raise(root: Path, meta: bytes, metric: bytes, param: bytes) -> None:
    folder = _run_dir(root, "interrupted")
    (folder / "meta.yaml").write_bytes(meta)
    (folder / "metrics" / "val_auc").write_bytes(metric)
    (folder / "params" / "seed").write_bytes(param)
    run = load(found_runs(root)[run_id("interrupted")], root)
    assert isinstance(run, Run) and run.status in ("failed", "incomplete", "finished", "unknown")
    assert run.config["optimizer"]["name"] == "sgd"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.tuples(st.integers(-5, 2**40), st.one_of(st.floats(allow_nan=True), st.text(max_size=4)), st.integers(-3, 10), st.sampled_from([2, 3, 4, 5])),
        max_size=30,
    )
)
def test_metric_lines_of_every_shape(root: Path, lines: list[tuple[int, Any, int, int]]) -> None:
    text = "".join(" ".join([str(ts), str(v), str(step), "ds", "d1"][:n]) + "\n" for ts, v, step, n in lines)
    folder = _run_dir(root, "interrupted")
    (folder / "metrics" / "odd").write_text(text)
    run = load(found_runs(root)[run_id("interrupted")], root)
    assert isinstance(run, Run)
    steps = [s for s, _ in run.metrics.series.get("odd", ())]
    assert steps == sorted(set(steps))


def test_a_model_in_the_run_folder_as_mlflow_2_logged_it(root: Path) -> None:
    folder = _run_dir(root, "seed-2")
    model_id = RUNS["seed-2"]["models"][0]["model_id"]
    shutil.move(folder.parent / "models" / model_id / "artifacts", folder / "artifacts" / "model")
    shutil.rmtree(folder / "outputs")
    run = read(root, "seed-2")
    assert run.env.python == EXPECTED["versions"]["python"] and run.env.packages["numpy"] == EXPECTED["versions"]["numpy"]
    assert run.source.version == EXPECTED["versions"]["mlflow"]
    assert "artifacts/model/requirements.txt" in run.files
    assert not any(a.path.startswith("../") for a in run.artifacts) and run.problems == ()
