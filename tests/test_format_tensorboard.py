"""TensorBoard event files: every mapped field against what TensorBoard itself read from tensorboardX's
output (tests/fixtures/tensorboard/expected.json, made by tests/fixtures/make_tensorboard.py), detection,
the catalog end to end, read-only, and broken or hostile event files."""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tracker_fixtures import snapshot

from runsift.core.catalog import Catalog
from runsift.core.discover import discover
from runsift.core.explain import explain
from runsift.core.formats import _crc32c, container, lightning, tensorboard
from runsift.core.formats import _tfrecord as tf
from runsift.core.loader import load
from runsift.core.records import Run

FIXTURES = Path(__file__).parent / "fixtures" / "tensorboard"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
PROJECT = EXPECTED["project"]
RUNS = sorted(EXPECTED["runs"])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the fixtures (tests change files; the committed ones stay as made)."""
    dest = tmp_path / "tb"
    shutil.copytree(FIXTURES, dest)
    return dest


def _read(root: Path, run_id: str) -> Run:
    found = {f.id: f for f in discover(root).found}[run_id]
    assert found.format == "tensorboard"
    run = load(found, root)
    assert isinstance(run, Run)
    return run


def _merged_scalars(name: str) -> dict[str, list[list[float]]]:
    """The run's scalars as TensorBoard read them, its hparams session sub-folder folded in."""
    entry = EXPECTED["runs"][name]
    out = dict(entry["folder"]["scalars"])
    for sub in entry["subfolders"].values():
        assert sub["hparams"] is not None  # tensorboardX's add_hparams session: tags kept as they are
        out.update(sub["scalars"])
    return out


def _session(name: str) -> dict:
    """The folder (run or sub-folder) holding the run's hparams session."""
    entry = EXPECTED["runs"][name]
    return next(f for f in (entry["folder"], *entry["subfolders"].values()) if f["hparams"] is not None)


def _local(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds).replace(microsecond=0)


# -- every mapped field -------------------------------------------------------------------


@pytest.mark.parametrize("name", RUNS)
def test_fields_match_what_tensorboard_reads(root: Path, name: str) -> None:
    run = _read(root, f"{PROJECT}/{name}")
    entry = EXPECTED["runs"][name]
    happened = EXPECTED["what_happened"][name]
    session = _session(name)

    assert (run.project, run.name, run.id) == (PROJECT, name, f"{PROJECT}/{name}")
    assert run.source.format == "tensorboard" and run.source.version is None
    assert run.problems == ()
    scalars = _merged_scalars(name)
    assert set(run.metrics.series) == set(scalars)
    for tag, points in scalars.items():
        assert run.metrics.series[tag] == tuple((float(step), value) for step, value in points)
    hparams = session["hparams"]
    assert run.config == tensorboard.nest(hparams)
    assert run.config["optimizer"]["lr"] == hparams["optimizer.lr"]
    assert run.seeds == {"seed": int(hparams["seed"])}
    assert run.started == _local(entry["folder"]["first_wall_time"])
    event_file = entry["folder"]["files"][0]
    assert run.host == event_file.split(".", 4)[4]
    assert event_file in run.files and all(f.startswith(tensorboard.EVENT_PREFIX) or "/" in f for f in run.files)
    assert run.user is None and run.exit_code is None and run.tags == {}

    texts = entry["folder"]["text"]
    notes = [t for tag, values in texts.items() if tag.startswith("notes/") for _s, t in values]
    assert run.notes == (notes[-1] if notes else "")
    tracebacks = [t for tag, values in texts.items() if tag.startswith("traceback/") for _s, t in values]

    if happened == "finished":
        assert session["session_end_status"] == "STATUS_SUCCESS"
        assert run.status == "finished" and "status" not in run.source.guessed
        assert run.metrics.final == {tag: points[-1][1] for tag, points in scalars.items()}
        end = session["session_end_time_secs"] or session["session_end_wall_time"]
        assert run.ended == _local(end)
        assert run.duration == pytest.approx(end - entry["folder"]["first_wall_time"])
        assert run.error is None
    elif happened == "crashed":
        assert session["session_end_status"] == "STATUS_FAILURE"
        assert run.status == "failed" and "status" not in run.source.guessed
        assert run.metrics.final == {}  # a crashed run's last values are not final
        assert run.ended == _local(session["session_end_time_secs"])
        assert tracebacks and run.error == tracebacks[-1].rstrip("\n")
        assert run.error.splitlines()[-1].startswith("FloatingPointError")
    else:
        assert happened == "killed"
        assert session["session_end_status"] is None  # SIGKILL: the session never ended
        assert run.status == "incomplete" and "status" in run.source.guessed
        assert run.metrics.final == {} and run.ended is None and run.duration is None
        assert run.error is None


def test_the_hparams_sub_folder_is_read_and_listed(root: Path) -> None:
    run = _read(root, f"{PROJECT}/finished")
    (sub,) = EXPECTED["runs"]["finished"]["subfolders"]
    assert any(f.startswith(sub + "/events.out.tfevents.") for f in run.files)
    assert "hparam/val_loss" in run.metrics.final  # add_hparams' metric_dict, written in the sub-folder
    assert run.metrics.final["hparam/val_loss"] == run.metrics.final["val/loss"]


def test_histograms_are_skipped(root: Path) -> None:
    run = _read(root, f"{PROJECT}/finished")
    assert "weights" not in run.metrics.series and run.problems == ()


# -- detection ----------------------------------------------------------------------------


def test_claims_run_folders_only(root: Path) -> None:
    walk = discover(root)
    assert sorted(f.id for f in walk.found) == [f"{PROJECT}/{name}" for name in RUNS]
    assert {f.format for f in walk.found} == {"tensorboard"}
    assert walk.problems == []
    for name in RUNS:
        names = set(os.listdir(root / PROJECT / name))
        assert tensorboard.detect(names)
        assert not container.detect(names) and not lightning.detect(names)
    assert not tensorboard.detect(set(os.listdir(root / PROJECT)))  # the project folder
    assert not tensorboard.detect(set(os.listdir(root)))
    assert not tensorboard.detect({"config.yaml", "metrics.json", "events.txt", "tfevents"})


def test_sub_folders_are_not_runs_of_their_own(root: Path) -> None:
    ids = {f.id for f in discover(root).found}
    for name in RUNS:
        for sub in EXPECTED["runs"][name]["subfolders"]:
            assert f"{PROJECT}/{name}/{sub}" not in ids


# -- the catalog end to end ---------------------------------------------------------------


def test_catalog_lists_and_explains(root: Path) -> None:
    with Catalog.open(root) as cat:
        rows = {r.name: r for r in cat.list()}
        assert cat.count() == len(RUNS)
        assert {r.project for r in rows.values()} == {PROJECT}
        assert set(rows) == set(RUNS)
        assert rows["finished"].status == "finished"
        assert rows["crashed"].status == "failed"
        assert rows["killed"].status == "incomplete"
        e = explain(cat, f"{PROJECT}/seed-1", f"{PROJECT}/lr-0.05", "val/loss")
    config_causes = {(c.section, c.path) for c in e.causes if c.section == "config"}
    assert ("config", "optimizer.lr") in config_causes
    lr = next(c for c in e.causes if c.path == "optimizer.lr")
    assert (lr.a, lr.b) == (0.02, 0.05)


def test_reading_writes_nothing_under_the_root(root: Path) -> None:
    before = snapshot(root)
    with Catalog.open(root) as cat:
        for run_id in cat.ids():
            cat.get(run_id)
        explain(cat, f"{PROJECT}/seed-1", f"{PROJECT}/lr-0.05", "val/loss")
    with Catalog.open(root, full=True) as cat:
        assert cat.count() == len(RUNS)
    assert snapshot(root) == before


# -- runs still being written -------------------------------------------------------------


def _event_file(root: Path, name: str) -> Path:
    return next((root / PROJECT / name).glob("events.out.tfevents.*"))


def _record_ends(data: bytes) -> list[int]:
    ends, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 12 + length + 4
        ends.append(pos)
    assert pos == len(data)
    return ends


def test_a_last_record_cut_mid_write_is_a_run_still_being_written(root: Path) -> None:
    path = _event_file(root, "session-style")
    data = path.read_bytes()
    ends = _record_ends(data)
    path.write_bytes(data[: ends[-6] + 7])  # cut inside a record before the session end
    run = _read(root, f"{PROJECT}/session-style")
    assert run.problems == ()
    assert run.status == "incomplete" and "status" in run.source.guessed
    assert run.metrics.final == {} and run.metrics.series["train/loss"]


def test_a_run_without_hparams_has_an_unknown_end(root: Path) -> None:
    run_dir = root / PROJECT / "seed-1"
    for sub in [p for p in run_dir.iterdir() if p.is_dir()]:
        shutil.rmtree(sub)
    run = _read(root, f"{PROJECT}/seed-1")
    assert run.status == "unknown" and "status" not in run.source.guessed
    assert run.config == {} and run.seeds == {}
    assert run.metrics.final["val/loss"] == run.metrics.series["val/loss"][-1][1]
    assert run.ended is not None and {"ended", "duration"} <= set(run.source.guessed)


# -- the decoder, fuzzed --------------------------------------------------------------------


def _decode(data: bytes) -> tf.FileEvents:
    return tf.read_events(io.BytesIO(data), tf.Decoder(), 1_000_000)


def _small_file() -> bytes:
    return next((FIXTURES / PROJECT / "crashed").glob("events.out.tfevents.*")).read_bytes()


def test_crc32c() -> None:
    assert _crc32c.crc32c(b"") == 0
    assert _crc32c.crc32c(b"123456789") == 0xE3069283
    assert _crc32c.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720's test vector


def test_truncation_at_every_byte_is_never_a_problem() -> None:
    data = _small_file()
    whole = _decode(data)
    ends = set(_record_ends(data))
    for cut in range(len(data) + 1):
        got = _decode(data[:cut])
        assert got.problems == [], cut
        assert got.framing.truncated == (cut not in ends and cut != 0), cut
        assert got.events == whole.events[: len(got.events)], cut


def test_every_flipped_byte_is_caught() -> None:
    data = _small_file()
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        got = _decode(bytes(bad))
        assert got.problems, pos


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    got = _decode(data)
    assert got.problems or got.framing.truncated or not data or got.events


def _frame(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (
        header
        + struct.pack("<I", _crc32c.masked_crc32c(header))
        + payload
        + struct.pack("<I", _crc32c.masked_crc32c(payload))
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_garbled_events_in_sound_framing_never_raise(data: st.DataObject) -> None:
    """Checksums right, contents garbled: the protobuf decoder itself must hold."""
    records = _records(_small_file())
    index = data.draw(st.integers(0, len(records) - 1))
    payload = bytearray(records[index])
    for _ in range(data.draw(st.integers(1, 4))):
        if not payload:
            break
        pos = data.draw(st.integers(0, len(payload) - 1))
        payload[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(payload)))
    garbled = [*records[:index], bytes(payload[:cut]), *records[index + 1 :]]
    got = _decode(b"".join(_frame(r) for r in garbled))
    assert not got.framing.truncated and got.framing.broken is None
    assert len(got.events) + sum(1 for _m, n in got.problems if n) == len(records)


def _records(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append(data[pos + 12 : pos + 12 + length])
        pos += 12 + length + 4
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_payloads_in_sound_framing_never_raise(payload: bytes) -> None:
    got = _decode(_frame(payload) + _frame(payload[::-1]))
    assert len(got.events) + len(got.problems) == 2


def test_a_hostile_event_file_is_a_run_with_problems(root: Path) -> None:
    path = _event_file(root, "crashed")
    data = path.read_bytes()
    path.write_bytes(data[:200] + bytes(range(256)) * 4)
    run = _read(root, f"{PROJECT}/crashed")
    assert any("checksum" in p.message for p in run.problems)
    assert run.started is not None  # what came before the garbage still counts
    (root / PROJECT / "empty").mkdir()
    (root / PROJECT / "empty" / "events.out.tfevents.1700000000.host").write_bytes(b"")
    empty = _read(root, f"{PROJECT}/empty")
    assert empty.status == "unknown" and empty.problems == ()
    assert empty.started == _local(1700000000) and empty.host == "host"


def test_an_event_file_linked_from_outside_the_root_is_not_read(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(_small_file())
    run_dir = root / PROJECT / "linked"
    run_dir.mkdir()
    (run_dir / "events.out.tfevents.1700000000.host").symlink_to(outside)
    run = _read(root, f"{PROJECT}/linked")
    assert any("outside the root" in p.message for p in run.problems)
    assert run.metrics.series == {}


# -- what TensorFlow 2 and PyTorch write: tensors, metadata once per tag, longer names ------


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, value: bytes | int | float, wire: int | None = None) -> bytes:
    """One protobuf field: bytes are length-delimited unless ``wire`` says fixed32 (5) or fixed64 (1)."""
    if isinstance(value, bytes):
        if wire in (1, 5):
            return _varint(number << 3 | wire) + value
        return _varint(number << 3 | 2) + _varint(len(value)) + value
    if isinstance(value, float):
        return _varint(number << 3 | 1) + struct.pack("<d", value)
    return _varint(number << 3 | (wire or 0)) + _varint(value)


def _event(step: int, wall: float, *values: bytes) -> bytes:
    summary = b"".join(_field(1, v) for v in values)
    return _field(1, wall) + _field(2, step) + _field(5, summary)


def _metadata(plugin: str, content: bytes = b"") -> bytes:
    return _field(1, _field(1, plugin.encode()) + (_field(2, content) if content else b""))


def _tensor(dtype: int, *fields: bytes, dims: tuple[int, ...] = ()) -> bytes:
    shape = b"".join(_field(2, _field(1, d)) for d in dims)
    return _field(1, dtype) + (_field(2, shape) if dims else b"") + b"".join(fields)


def _pb_value(v: object) -> bytes:
    if isinstance(v, bool):
        return _field(4, int(v))
    if isinstance(v, (int, float)):
        return _field(2, float(v))
    if isinstance(v, str):
        return _field(3, v.encode())
    if isinstance(v, dict):
        return _field(5, b"".join(_field(1, _field(1, k.encode()) + _field(2, _pb_value(x))) for k, x in v.items()))
    assert isinstance(v, list)
    return _field(6, b"".join(_field(1, _pb_value(x)) for x in v))


def test_tensorflow2_style_events(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    run_dir = root / "keras" / "train"
    run_dir.mkdir(parents=True)
    scalars_meta = _metadata("scalars")
    hparams = _field(1, _field(1, b"learning_rate") + _field(2, _pb_value(0.001))) + _field(
        1, _field(1, b"layers") + _field(2, _pb_value({"units": [64, 32], "dropout": True}))
    )
    session_start = _field(3, hparams + _field(5, 1700000001.0))
    experiment = _field(2, _field(6, b"keras-sweep") + _field(1, b"what the sweep is for") + _field(2, b"ada"))
    session_end = _field(4, _field(1, 2) + _field(2, 1700000100.0))
    events = [
        _field(1, 1700000000.0) + _field(3, b"brain.Event:2"),
        _event(0, 1700000000.5, _field(1, b"_hparams_/experiment") + _field(9, _metadata("hparams", experiment))),
        _event(0, 1700000001.0, _field(1, b"_hparams_/session_start_info") + _field(9, _metadata("hparams", session_start))),
        # the scalars plugin's metadata comes with a tag's first value only
        _event(1, 1700000002.0, _field(1, b"epoch_loss") + _field(9, scalars_meta) + _field(8, _tensor(1, _field(5, struct.pack("<f", 0.5), wire=5)))),
        _event(2, 1700000003.0, _field(1, b"epoch_loss") + _field(8, _tensor(1, _field(4, struct.pack("<f", 0.25))))),
        _event(3, 1700000004.0, _field(1, b"epoch_loss") + _field(8, _tensor(2, _field(6, struct.pack("<d", 0.125))))),
        _event(3, 1700000004.0, _field(1, b"count") + _field(8, _tensor(9, _field(10, -3)))),
        _event(3, 1700000004.0, _field(1, b"hist") + _field(9, _metadata("histograms")) + _field(8, _tensor(1, _field(4, bytes(24)), dims=(2, 3)))),
        _event(3, 1700000004.0, _field(1, b"vector") + _field(8, _tensor(1, _field(4, bytes(8)), dims=(2,)))),
        _event(3, 1700000004.5, _field(1, b"stderr/text_summary") + _field(9, _metadata("text")) + _field(8, _tensor(7, _field(8, b"line 1\nValueError: boom"), dims=(1,)))),
        _event(3, 1700000005.0, _field(1, b"_hparams_/session_end_info") + _field(9, _metadata("hparams", session_end))),
    ]
    name = "events.out.tfevents.1700000000.worker-3.example.com.4242.7.v2"
    (run_dir / name).write_bytes(b"".join(_frame(e) for e in events))
    run = _read(root, "keras/train")
    assert run.problems == ()
    assert run.metrics.series == {"epoch_loss": ((1.0, 0.5), (2.0, 0.25), (3.0, 0.125)), "count": ((3.0, -3.0),)}
    assert run.config == {"learning_rate": 0.001, "layers": {"units": [64.0, 32.0], "dropout": True}}
    assert run.status == "failed" and run.ended == _local(1700000100.0) and run.duration == 100.0
    assert run.error == "line 1\nValueError: boom"
    assert (run.project, run.user, run.notes) == ("keras-sweep", "ada", "what the sweep is for")
    assert run.host == "worker-3.example.com"
    assert run.started == _local(1700000000.0)


def test_add_scalars_sub_folders_keep_their_lines_apart(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    for sub, value in (("", 1.0), ("loss_train", 2.0), ("loss_val", 3.0)):
        folder = root / "proj" / "run" / sub
        folder.mkdir(parents=True, exist_ok=True)
        event = _event(1, 1700000000.0, _field(1, b"loss") + _field(2, struct.pack("<f", value), wire=5))
        (folder / "events.out.tfevents.1700000000.h").write_bytes(_frame(event))
    run = _read(root, "proj/run")
    assert run.metrics.series == {"loss": ((1.0, 1.0),), "loss_train/loss": ((1.0, 2.0),), "loss_val/loss": ((1.0, 3.0),)}


def test_garbled_hparams_data_is_a_problem(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    folder = root / "proj" / "run"
    folder.mkdir(parents=True)
    bad = _field(3, b"\xff\xff\xff")
    events = [
        _event(0, 1700000000.0, _field(1, b"_hparams_/session_start_info") + _field(9, _metadata("hparams", bad))),
        _event(1, 1700000001.0, _field(1, b"loss") + _field(2, struct.pack("<f", 1.0), wire=5)),
    ]
    (folder / "events.out.tfevents.1700000000.h").write_bytes(b"".join(_frame(e) for e in events))
    run = _read(root, "proj/run")
    assert any("hparams plugin data" in p.message for p in run.problems)
    assert run.metrics.series == {"loss": ((1.0, 1.0),)}


def test_nest() -> None:
    assert tensorboard.nest({"a.b": 1, "a.c": 2, "d": 3}) == {"a": {"b": 1, "c": 2}, "d": 3}
    assert tensorboard.nest({"a": 1, "a.b": 2}) == {"a": 1, "a.b": 2}
    assert tensorboard.nest({"a..b": 1, ".x": 2}) == {"a..b": 1, ".x": 2}


def test_lightning_tensorboard_logger_folders_are_tensorboard_runs(root: Path) -> None:
    """Lightning's TensorBoardLogger writes hparams.yaml and checkpoints/ beside the event files."""
    version = root / "lightning_logs" / "version_0"
    (version / "checkpoints").mkdir(parents=True)
    shutil.copy(_event_file(root, "seed-1"), version)
    (version / "hparams.yaml").write_text("optimizer:\n  lr: 0.1\nseed: 7\n")
    (version / "checkpoints" / "epoch=0-step=5.ckpt").write_bytes(b"")
    names = set(os.listdir(version))
    assert tensorboard.detect(names) and not lightning.detect(names)
    run = _read(root, "lightning_logs/version_0")
    assert run.config == {"optimizer": {"lr": 0.1}, "seed": 7} and run.seeds == {"seed": 7}
    assert "hparams.yaml" in run.files
    assert [a.path for a in run.artifacts] == ["checkpoints/epoch=0-step=5.ckpt"]
    assert run.metrics.series["train/loss"]
