"""Lightning CSVLogger runs: every mapped field against what Lightning itself reported about its output
(tests/fixtures/lightning/expected.json, made by tests/fixtures/make_lightning.py), detection, the
catalog end to end, read-only, and broken or hostile files."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tracker_fixtures import snapshot

from runsift.core.catalog import Catalog
from runsift.core.discover import discover
from runsift.core.explain import explain
from runsift.core.formats import container, lightning, tensorboard
from runsift.core.loader import load
from runsift.core.records import Run

FIXTURES = Path(__file__).parent / "fixtures" / "lightning"
EXPECTED = __import__("json").loads((FIXTURES / "expected.json").read_text())
PROJECT = EXPECTED["project"]
RUNS = sorted(EXPECTED["runs"])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    dest = tmp_path / "pl"
    shutil.copytree(FIXTURES, dest)
    return dest


def _read(root: Path, run_id: str) -> Run:
    found = {f.id: f for f in discover(root).found}[run_id]
    assert found.format == "lightning"
    run = load(found, root)
    assert isinstance(run, Run)
    return run


def _series(rows: list[dict[str, str]]) -> dict[str, tuple[tuple[float, float], ...]]:
    """Each metric column over the global step, blank cells skipped, as Lightning's rows hold them."""
    out: dict[str, dict[float, float]] = {}
    for row in rows:
        for key, cell in row.items():
            if key not in ("epoch", "step") and cell != "":
                out.setdefault(key, {})[float(row["step"])] = float(cell)
    return {k: tuple(sorted(v.items())) for k, v in out.items()}


# -- every mapped field -------------------------------------------------------------------


@pytest.mark.parametrize("name", RUNS)
def test_fields_match_what_lightning_reports(root: Path, name: str) -> None:
    run = _read(root, f"{PROJECT}/{name}")
    entry = EXPECTED["runs"][name]
    happened = entry["what_happened"]

    assert (run.project, run.name, run.run_number) == (PROJECT, name, int(name.split("_")[1]))
    assert run.source.format == "lightning" and run.source.version is None
    assert run.problems == ()  # blank cells of the sparse rows are normal
    assert run.config == entry["hparams"]
    assert run.seeds == {"seed": entry["hparams"]["seed"]}
    series = _series(entry["metrics_rows"])
    assert run.metrics.series == series
    assert [a.path for a in run.artifacts] == [f"checkpoints/{c}" for c in entry["checkpoints"]]
    assert all(a.kind == "model" for a in run.artifacts)
    assert run.files == ("hparams.yaml", "metrics.csv")
    assert "status" in run.source.guessed and "started" in run.source.guessed and run.started is not None
    assert run.error is None and run.exit_code is None  # CSVLogger records neither

    trainer = entry["trainer"]
    if happened == "finished":
        assert run.status == "finished"
        assert run.metrics.final == {k: v[-1][1] for k, v in series.items()}
        assert run.metrics.final == pytest.approx(trainer["callback_metrics"])
        assert max(s for s, _v in series["train_loss"]) == trainer["global_step"] - 1
        assert run.ended is not None and {"ended", "duration"} <= set(run.source.guessed)
    else:
        # A crash and a SIGKILL leave the same files: epochs short of max_epochs, no end recorded.
        assert run.status == "incomplete"
        assert run.metrics.final == {} and run.ended is None
        if happened == "crashed":
            assert trainer["trainer_status"] == "interrupted" and "FloatingPointError" in trainer["error"]
        else:
            assert happened == "killed" and trainer is None


# -- detection ----------------------------------------------------------------------------


def test_claims_version_folders_only(root: Path) -> None:
    walk = discover(root)
    assert sorted(f.id for f in walk.found) == [f"{PROJECT}/{name}" for name in RUNS]
    assert {f.format for f in walk.found} == {"lightning"}
    for name in RUNS:
        names = set(os.listdir(root / PROJECT / name))
        assert lightning.detect(names)
        assert not container.detect(names) and not tensorboard.detect(names)
        assert not lightning.detect(set(os.listdir(root / PROJECT / name / "checkpoints")))
    assert not lightning.detect(set(os.listdir(root / PROJECT)))
    assert not lightning.detect(set(os.listdir(root)))
    assert not lightning.detect({"hparams.yaml"})  # too little to call it a run
    assert not lightning.detect({"config.yaml", "metrics.csv"})


# -- the catalog end to end ---------------------------------------------------------------


def test_catalog_lists_and_explains(root: Path) -> None:
    with Catalog.open(root) as cat:
        rows = {r.name: r for r in cat.list()}
        assert cat.count() == len(RUNS)
        assert {r.project for r in rows.values()} == {PROJECT}
        assert set(rows) == set(RUNS)
        statuses = {name: r.status for name, r in rows.items()}
        assert statuses == {name: ("finished" if e["what_happened"] == "finished" else "incomplete") for name, e in EXPECTED["runs"].items()}
        e = explain(cat, f"{PROJECT}/version_3", f"{PROJECT}/version_6", "val_loss")
    lr = next(c for c in e.causes if (c.section, c.path) == ("config", "optimizer.lr"))
    assert (lr.a, lr.b) == (0.02, 0.05)


def test_reading_writes_nothing_under_the_root(root: Path) -> None:
    before = snapshot(root)
    with Catalog.open(root) as cat:
        for run_id in cat.ids():
            cat.get(run_id)
        explain(cat, f"{PROJECT}/version_3", f"{PROJECT}/version_6", "val_loss")
    with Catalog.open(root, full=True) as cat:
        assert cat.count() == len(RUNS)
    assert snapshot(root) == before


# -- checkpoints are names only -------------------------------------------------------------


def test_a_checkpoint_is_never_opened(root: Path, tmp_path: Path) -> None:
    ckpts = root / PROJECT / "version_0" / "checkpoints"
    os.mkfifo(ckpts / "epoch=9-step=99.ckpt")  # opening it would block the test for ever
    marker = tmp_path / "unpickled"
    (ckpts / "last.ckpt").write_bytes(pickle.dumps(_Trap(str(marker))))
    run = _read(root, f"{PROJECT}/version_0")
    assert {a.path for a in run.artifacts} >= {"checkpoints/last.ckpt", "checkpoints/epoch=9-step=99.ckpt"}
    assert not marker.exists()


class _Trap:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (os.mkdir, (self.path,))


def test_checkpoint_epochs_count_as_finished_epochs(root: Path) -> None:
    run_dir = root / PROJECT / "version_2"
    (run_dir / "checkpoints" / "epoch=39-step=200.ckpt").write_bytes(b"")
    assert _read(root, f"{PROJECT}/version_2").status == "finished"


# -- broken and hostile files ---------------------------------------------------------------


def test_a_last_line_cut_mid_write_is_not_read(root: Path) -> None:
    path = root / PROJECT / "version_0" / "metrics.csv"
    data = path.read_bytes()
    path.write_bytes(data + b"3,20,0.12")  # a row the logger had not finished writing
    run = _read(root, f"{PROJECT}/version_0")
    assert run.problems == ()
    assert run.metrics.series["train_loss"][-1][0] == 19.0


def test_truncation_at_every_byte(root: Path) -> None:
    path = root / PROJECT / "version_1" / "metrics.csv"
    data = path.read_bytes()
    whole = _read(root, f"{PROJECT}/version_1").metrics.series
    found = {f.id: f for f in discover(root).found}[f"{PROJECT}/version_1"]
    for cut in range(len(data) + 1):
        path.write_bytes(data[:cut])
        run = lightning.read(found, root)
        assert [p.message for p in run.problems] == (["empty file (still being written?)"] if cut == 0 else []), cut
        for name, points in run.metrics.series.items():
            assert points == whole[name][: len(points)], cut
        assert run.status == "incomplete"


def test_non_numeric_cells_are_one_problem_with_a_line(root: Path) -> None:
    path = root / PROJECT / "version_0" / "metrics.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(lines[3].split(",")[2], "oops")
    lines[5] = "0,x,1.0,,\r\n"
    path.write_text("".join(lines))
    run = _read(root, f"{PROJECT}/version_0")
    messages = {p.message: p.line for p in run.problems}
    assert any("non-numeric" in m and "oops" in m and line == 4 for m, line in messages.items())
    assert any("without a numeric step" in m for m in messages)
    assert len(run.metrics.series["train_loss"]) == 18


def test_bad_hparams_is_a_problem_and_the_metrics_still_load(root: Path) -> None:
    (root / PROJECT / "version_0" / "hparams.yaml").write_text("!!python/object/apply:os.system ['echo pwned']\n")
    run = _read(root, f"{PROJECT}/version_0")
    assert any("unsafe YAML tag" in p.message for p in run.problems)
    assert run.config == {} and run.status == "unknown"  # max_epochs unknown now
    assert run.metrics.final["val_loss"] == run.metrics.series["val_loss"][-1][1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(csv_bytes=st.binary(max_size=600), yaml_bytes=st.binary(max_size=200))
def test_random_bytes_never_raise(root: Path, csv_bytes: bytes, yaml_bytes: bytes) -> None:
    run_dir = root / PROJECT / "version_0"
    (run_dir / "metrics.csv").write_bytes(csv_bytes)
    (run_dir / "hparams.yaml").write_bytes(yaml_bytes)
    found = {f.id: f for f in discover(root).found}[f"{PROJECT}/version_0"]
    run = lightning.read(found, root)
    assert isinstance(run, Run)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_flipped_bytes_never_raise(root: Path, data: st.DataObject) -> None:
    path = root / PROJECT / "version_0" / "metrics.csv"
    original = (FIXTURES / PROJECT / "version_0" / "metrics.csv").read_bytes()
    bad = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        bad[data.draw(st.integers(0, len(bad) - 1))] = data.draw(st.integers(0, 255))
    path.write_bytes(bytes(bad))
    found = {f.id: f for f in discover(root).found}[f"{PROJECT}/version_0"]
    run = lightning.read(found, root)
    assert isinstance(run, Run)
