"""W&B runs as real wandb 0.31, 0.16 and 0.12 left them (tests/fixtures/make_wandb.py), read without wandb.

Every mapped field is checked against what wandb itself read from the same files
(``expected.json``), the layout against the walk and the run container, the catalog end to
end, the read-only promise, and broken logs: truncated at every byte, bytes flipped, blocks
damaged, a log too big to read whole.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runsift.core import formats
from runsift.core.catalog import Catalog
from runsift.core.discover import Found, discover
from runsift.core.formats import _wandb_records as wr
from runsift.core.formats import _wandb_state, container, wandb
from runsift.core.formats._inferred import TRACEBACK_LINES
from runsift.core.readers.metrics import STEP_KEYS
from runsift.core.records import Run

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wandb"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
RUNS: dict[str, dict] = EXPECTED["runs"]
STATUS_OF_KIND = {"finished": "finished", "replicate": "finished", "lr-change": "finished", "online": "finished",
                  "crashed": "failed", "killed": "incomplete"}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fixtures (links kept as links), shared by the tests that only read it."""
    dest = tmp_path_factory.mktemp("wandb-fixtures") / "runs"
    shutil.copytree(FIXTURES, dest, symlinks=True)
    return dest


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A copy of the fixtures a test may change."""
    dest = tmp_path / "runs"
    shutil.copytree(FIXTURES, dest, symlinks=True)
    return dest


def _found(root: Path, rel: str) -> Found:
    matches = [f for f in discover(root).found if f.id == rel]
    assert matches, f"the walk did not find {rel}"
    return matches[0]


def _read(root: Path, rel: str) -> Run:
    found = _found(root, rel)
    assert found.format == "wandb"
    return wandb.read(found, root)


def _only(kind: str, version: str = "0.31") -> str:
    (rel,) = [r for r, v in RUNS.items() if v["intent"]["kind"] == kind and r.startswith(f"wandb-{version}/")]
    return rel


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict) and "_type" not in value:
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: value} if prefix else {}


def _metric(name: str) -> bool:
    return name not in STEP_KEYS and not any(part.startswith("_") for part in name.split("."))


def _number(value: object) -> bool:
    return type(value) in (int, float)


def _nested(config: dict) -> dict:
    """The intent's config as a nested mapping (0.12 runs were given dotted keys)."""
    out: dict = {}
    for key, value in config.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


# -- every field against what wandb read -------------------------------------------------------


def test_three_wandb_versions_wrote_the_fixtures() -> None:
    versions = EXPECTED["versions"]
    assert set(versions) == {"0.31", "0.16", "0.12"}
    assert all(v["wandb"].startswith(short + ".") for short, v in versions.items())
    kinds = {short: sorted(v["intent"]["kind"] for r, v in RUNS.items() if r.startswith(f"wandb-{short}/")) for short in versions}
    assert kinds["0.31"] == kinds["0.12"] == ["crashed", "finished", "killed", "lr-change", "replicate", "replicate"]
    assert kinds["0.16"] == sorted([*kinds["0.31"], "online"])


@pytest.mark.parametrize("rel", sorted(RUNS))
def test_every_field_matches_what_wandb_reads(root: Path, rel: str) -> None:
    intent, lib = RUNS[rel]["intent"], RUNS[rel]["library"]
    short = rel.split("/", 1)[0].removeprefix("wandb-")
    run = _read(root, rel)

    assert run.source.format == "wandb"
    assert run.source.version == lib["cli_version"] == EXPECTED["versions"][short]["wandb"]
    assert (run.project, run.name, run.notes) == (lib["project"], lib["name"], lib["notes"])
    assert run.name == intent["name"]
    assert {k for k, v in run.tags.items() if v == ""} == set(lib["tags"])
    assert run.tags["wandb.run_id"] == lib["run_id"] and run.tags["wandb.group"] == lib["group"]
    assert run.tags["wandb.job_type"] == lib["job_type"]
    start = datetime.fromisoformat(lib["start_time"].replace("Z", "+00:00")).timestamp()
    assert run.started == datetime.fromtimestamp(start).replace(microsecond=0)
    assert run.host == lib["host"]

    # config: wandb's items without its own _wandb, nested again where older runs were given dotted keys
    library_config = {k: v for k, v in lib["config"].items() if k != "_wandb"}
    assert _flat(run.config) == _flat(_nested(library_config))
    assert run.config == {**_nested(intent["config"]), "n_params": 3}
    assert "_wandb" not in run.config
    assert run.seeds == {"seed": intent["seed"]}

    # history: every numeric row value at its _step, under the dotted name wandb shows
    want: dict[str, dict[int, float]] = {}
    for row in lib.get("history", []):
        items = _flat(row["items"])
        step = items.get("_step", row["step"])
        for name, value in items.items():
            if _metric(name) and _number(value):
                want.setdefault(name, {})[step] = float(value)
    assert {name: dict(points) for name, points in run.metrics.series.items()} == want
    assert want, "every run logged something"

    # finals: the summary as wandb accumulated it
    summary = {n: float(v) for n, v in _flat(lib.get("summary") or {}).items() if _metric(n) and _number(v)}
    assert dict(run.metrics.final) == summary
    if intent["kind"] != "killed" and intent["kind"] != "crashed":
        assert run.metrics.final["best_val_acc"] == max(p[1] for p in run.metrics.series["val.acc"])

    # status, exit code, error, times
    assert run.status == STATUS_OF_KIND[intent["kind"]]
    if lib["exit"] is None:
        assert run.exit_code is None and run.status == "incomplete" and "status" in run.source.guessed
        assert run.ended is None and run.duration is None
    else:
        assert run.exit_code == lib["exit"]["exit_code"]
        assert run.source.guessed == ()
        assert run.duration is not None and run.duration >= lib["exit"]["runtime"]
        assert run.ended is not None and run.ended >= run.started
    if intent["kind"] == "crashed":
        last = lib["stderr"].strip().splitlines()[-1]
        assert last == "RuntimeError: loss diverged at epoch 3"
        assert run.error is not None and run.error.startswith("Traceback (most recent call last)")
        assert run.error.splitlines()[-1] == last and len(run.error.splitlines()) <= TRACEBACK_LINES
    else:
        assert run.error is None

    # environment and code
    recorded_python = (lib.get("environment") or {}).get("python") or (lib.get("metadata") or {}).get("python")
    assert recorded_python and run.env.python == recorded_python.split()[-1] == EXPECTED["versions"][short]["python"]
    git = lib.get("git") or {}
    assert run.code.commit == git["commit"] and len(git["commit"]) == 40
    assert run.code.extra["remote"] == git["remote_url"] == "https://example.com/team/tiny-mlp.git"
    user = (lib.get("environment") or {}).get("username") or (lib.get("metadata") or {}).get("username")
    assert run.user == user
    folder = root / rel
    if (folder / "files" / "requirements.txt").exists():
        assert run.env.packages["wandb"] == EXPECTED["versions"][short]["wandb"]
        assert run.env.packages["numpy"] == EXPECTED["versions"][short]["numpy"]
    else:
        assert run.env.packages == {}

    # what was read, and nothing wrong but a killed wandb-core run's cut record
    assert run.files[0] == lib["file"]
    assert run.artifacts == ()
    if intent["kind"] == "killed" and short == "0.31":
        assert [p.message for p in run.problems] and all("ends inside a record" in p.message for p in run.problems)
    else:
        assert run.problems == ()


def test_nested_keys_of_0_31_and_json_values_of_older_versions_give_the_same_names(root: Path) -> None:
    names = {short: set(_read(root, _only("finished", short)).metrics.series) for short in ("0.31", "0.16", "0.12")}
    assert names["0.31"] == names["0.16"] == names["0.12"] == {"train/loss", "val.loss", "val.acc"}


def test_dotted_config_keys_are_nested_again(root: Path) -> None:
    rel = _only("lr-change", "0.12")
    assert "optimizer.lr" in RUNS[rel]["library"]["config"]  # as wandb 0.12 recorded them
    run = _read(root, rel)
    assert run.config["optimizer"] == {"name": "sgd", "lr": 0.2}
    assert run.config["data"] == {"name": "blobs", "rows": 256}


def test_nest_keeps_a_dotted_key_that_runs_into_a_value() -> None:
    assert wandb.nest({"a": 1, "a.b": 2, "c.d": 3, "c.e": 4}) == {"a": 1, "a.b": 2, "c": {"d": 3, "e": 4}}
    assert wandb.nest({"opt": {"lr": 1}, "opt.momentum": 0.9}) == {"opt": {"lr": 1, "momentum": 0.9}}
    assert wandb.nest({"layers": {1: 64, 2: 32}, "x.y": 1}) == {"layers": {1: 64, 2: 32}, "x": {"y": 1}}  # YAML's int keys


def test_exit_codes_of_signals_say_killed() -> None:
    assert _wandb_state._exit_error(137) == "killed by SIGKILL (exit code 137)"
    assert _wandb_state._exit_error(-15) == "killed by SIGTERM (exit code -15)"
    assert _wandb_state._exit_error(2) == "exited with code 2"


# -- layout: what is a run ---------------------------------------------------------------------


def test_the_walk_finds_exactly_the_run_folders(root: Path) -> None:
    walk = discover(root)
    runs = {f.id: f.format for f in walk.found if f.kind == "run"}
    assert runs == dict.fromkeys(RUNS, "wandb")
    assert not any(i.endswith(("/files", "/logs", "/tmp", "latest-run", "/wandb")) for i in runs)


def test_run_folders_are_claimed_by_wandb_only(root: Path) -> None:
    for rel in RUNS:
        names = set(os.listdir(root / rel))
        assert wandb.detect(names), rel
        assert not container.detect(names), rel
        assert formats.detect(names).name == "wandb"


def test_bookkeeping_folders_are_not_runs(root: Path) -> None:
    for short in ("0.31", "0.16", "0.12"):
        store = root / f"wandb-{short}" / "wandb"
        for folder in (store, root / f"wandb-{short}"):
            names = set(os.listdir(folder))
            assert formats.detect(names) is None, folder
        for rel in RUNS:
            if not rel.startswith(f"wandb-{short}/"):
                continue
            for sub in ("logs", "tmp"):
                if (root / rel / sub).is_dir():
                    assert formats.detect(set(os.listdir(root / rel / sub))) is None
            # files/ of a run with its log is never walked into; container never claims it
            assert not container.detect(set(os.listdir(root / rel / "files")))


def test_latest_run_link_and_summary_file_are_not_separate_runs(root: Path) -> None:
    assert (root / "wandb-0.31" / "wandb" / "latest-run").is_symlink()
    walk = discover(root)
    ids = [f.id for f in walk.found]
    assert len(ids) == len(RUNS)
    assert not any("latest-run" in i or i.endswith("wandb-summary.json") for i in ids)
    assert not any("latest-run" in p.file for p in walk.problems)  # wandb always leaves it: no noise about it


def test_online_run_folder_reads_its_config_yaml_when_the_log_is_gone(fresh: Path) -> None:
    rel = _only("online", "0.16")
    with_log = _read(fresh, rel)
    assert (fresh / rel / "files" / "config.yaml").read_text().count("desc:") >= 6  # values wrapped as {desc, value}
    assert "files/config.yaml" not in with_log.files  # the log's config is the truth
    (log,) = (fresh / rel).glob("*.wandb")
    log.unlink()  # an online run copied without its transaction log
    walk = discover(fresh)
    found = [f for f in walk.found if f.id.startswith(rel)]
    assert [f.id for f in found] == [f"{rel}/files"]
    run = wandb.read(found[0], fresh)
    assert run.name == Path(rel).name != "files"
    assert run.project == "wandb-0.16"  # the folder given to wandb.init(dir=...)
    assert run.config == with_log.config
    assert run.metrics.final == with_log.metrics.final
    assert run.source.version == with_log.source.version and run.started == with_log.started
    assert run.status == "unknown" and run.problems == ()
    with Catalog.open(fresh, use_cache=False) as cat:
        row = next(r for r in cat.list() if r.id == f"{rel}/files")
    assert row.name == Path(rel).name


# -- the catalog end to end ------------------------------------------------------------------------


def test_catalog_lists_projects_names_and_statuses(fresh: Path) -> None:
    with Catalog.open(fresh) as cat:
        rows = {r.id: r for r in cat.list()}
        assert len(rows) == len(RUNS)
        for rel, expected in RUNS.items():
            row = rows[rel]
            assert row.project == expected["library"]["project"] == f"tiny-{rel.split('/')[0].removeprefix('wandb-')}"
            assert row.name == expected["intent"]["name"]
            assert row.status == STATUS_OF_KIND[expected["intent"]["kind"]]
        run = cat.get(_only("lr-change"))
        assert isinstance(run, Run) and run.source.format == "wandb"
    with Catalog.open(fresh) as cat:  # warm: the same, from the cache
        assert {r.id: (r.project, r.name, r.status) for r in cat.list()} == {i: (r.project, r.name, r.status) for i, r in rows.items()}


def test_explain_between_the_lr_change_and_a_seed_replicate_names_the_learning_rate(fresh: Path) -> None:
    replicate = next(r for r, v in RUNS.items() if r.startswith("wandb-0.31/") and v["intent"]["kind"] == "replicate")
    out = subprocess.run(
        [sys.executable, "-m", "runsift", "explain", replicate, _only("lr-change"), "--root", str(fresh),
         "--metric", "val.loss", "--format", "json", "--no-cache"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    config_causes = {(c["section"], c["path"]) for c in doc["causes"] if c["section"] == "config"}
    assert ("config", "optimizer.lr") in config_causes
    lr = next(c for c in doc["causes"] if c["path"] == "optimizer.lr")
    assert (lr["a"], lr["b"]) == (0.05, 0.2)


def test_nothing_under_the_root_changes(fresh: Path) -> None:
    def listing() -> dict[str, tuple[int, int]]:
        out = {}
        for folder, dirs, files in os.walk(fresh):
            for name in dirs + files:
                path = os.path.join(folder, name)
                st = os.lstat(path)
                out[os.path.relpath(path, fresh)] = (st.st_size, st.st_mtime_ns)
        return out

    before = listing()
    with Catalog.open(fresh) as cat:
        for row in cat.list():
            cat.get(row.id)
    for rel in RUNS:
        _read(fresh, rel)
    assert listing() == before
    assert not any(".trash" in p for p in before)


# -- bad input -------------------------------------------------------------------------------------------


def _frame(records: list[bytes]) -> bytes:
    """A log framed as wandb's DataStore writes it: header, then FULL or FIRST/MIDDLE/LAST chunks in 32 KiB blocks."""
    out = bytearray(struct.pack("<4sHB", b":W&B", 0xBEE1, 0))
    for data in records:
        first = True
        while True:
            left = wr.BLOCK - len(out) % wr.BLOCK
            if left < wr.CHUNK_HEADER:
                out += b"\0" * left
                continue
            room = left - wr.CHUNK_HEADER
            piece, data = data[:room], data[room:]
            kind = (wr.FULL if first else wr.LAST) if not data else (wr.FIRST if first else wr.MIDDLE)
            out += struct.pack("<IHB", zlib.crc32(piece, zlib.crc32(bytes([kind]))), len(piece), kind) + piece
            first = False
            if not data:
                break
    return bytes(out)


def _run_record(name: str = "synthetic") -> bytes:
    rec = wr.Record()
    rec.run.run_id = "abc123"
    rec.run.project = "synth"
    rec.run.display_name = name
    rec.run.start_time.seconds = 1_700_000_000
    item = rec.run.config.update.add()
    item.key, item.value_json = "optimizer.lr", "0.1"
    return rec.SerializeToString()


def _history(step: int, pad: int = 0) -> bytes:
    rec = wr.Record()
    for key, value in (("loss", 1 / (step + 1)), ("_step", step)):
        item = rec.history.item.add()
        item.nested_key.append(key)
        item.value_json = json.dumps(value)
    if pad:
        item = rec.history.item.add()
        item.key, item.value_json = "note", json.dumps("x" * pad)
    rec.history.step.num = step
    return rec.SerializeToString()


def _exit(code: int = 0) -> bytes:
    rec = wr.Record()
    rec.exit.exit_code = code
    rec.exit.runtime = 12
    return rec.SerializeToString()


def _synthetic_root(tmp_path: Path, log: bytes) -> tuple[Path, Found]:
    run_dir = tmp_path / "proj" / "wandb" / "offline-run-20250101_120000-abc123"
    run_dir.mkdir(parents=True)
    (run_dir / "run-abc123.wandb").write_bytes(log)
    root = tmp_path
    return root, _found(root, "proj/wandb/offline-run-20250101_120000-abc123")


def test_our_framing_is_read_back_with_records_across_blocks(tmp_path: Path) -> None:
    pads = {10: 70_000, 20: 5000, 21: 5000, 22: 5000}  # a record over two blocks: FIRST/MIDDLE/LAST chunks
    log = _frame([_run_record(), *(_history(s, pad=pads.get(s, 0)) for s in range(60)), _exit()])
    assert len(log) > 2 * wr.BLOCK
    root, found = _synthetic_root(tmp_path, log)
    run = wandb.read(found, root)
    assert run.problems == ()
    assert (run.name, run.project, run.status, run.exit_code, run.duration) == ("synthetic", "synth", "finished", 0, 12.0)
    assert run.config == {"optimizer": {"lr": 0.1}}
    assert [p[0] for p in run.metrics.series["loss"]] == list(range(60))
    assert run.metrics.final == {"loss": pytest.approx(1 / 60)}  # no summary: the last values of a finished run


def _read_bytes(tmp_path: Path, data: bytes) -> Run:
    folder = tmp_path / "wandb" / "offline-run-20250101_120000-abc123"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "run-abc123.wandb").write_bytes(data)
    found = Found("run", folder, "wandb/offline-run-20250101_120000-abc123", "wandb", folder.name,
                  files=(), format="wandb")
    from runsift.core.discover import FileStat

    found.files = (FileStat("run-abc123.wandb", len(data), 0),)
    run = wandb.read(found, tmp_path)
    assert isinstance(run, Run)
    return run


def test_truncated_at_every_byte_is_a_problem_never_an_exception(tmp_path: Path) -> None:
    data = (FIXTURES / _only("finished", "0.12")).glob("*.wandb").__next__().read_bytes()
    assert len(data) < 8000
    whole = _read_bytes(tmp_path, data)
    assert whole.problems == () and whole.status == "finished"
    exit_end = next(at + wr.CHUNK_HEADER + size for at, size, rec in _records(data) if rec.WhichOneof("record_type") == "exit")
    for cut in range(len(data)):
        run = _read_bytes(tmp_path, data[:cut])
        if cut not in _record_ends(data):
            assert run.problems, cut
        assert run.status == ("unknown" if cut < wr.HEADER_LEN else "finished" if cut >= exit_end else "incomplete"), cut


def _records(data: bytes) -> list[tuple[int, int, object]]:
    """(offset, size, record) of every record of a log that fits in one chunk each."""
    import io

    problems = wr.LogProblems()
    return [(at, len(raw), wr.parse(raw)) for at, raw in wr.scan_chunks(io.BytesIO(data), len(data), problems)]


def _record_ends(data: bytes) -> set[int]:
    """Offsets where a chunk ends (a cut there leaves whole records only)."""
    ends, pos = {wr.HEADER_LEN}, wr.HEADER_LEN
    while pos + wr.CHUNK_HEADER <= len(data):
        left = wr.BLOCK - pos % wr.BLOCK
        if left < wr.CHUNK_HEADER:
            pos += left
            continue
        _crc, length, _kind = struct.unpack_from("<IHB", data, pos)
        pos += wr.CHUNK_HEADER + length
        ends.add(pos)
    return ends


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)), min_size=1, max_size=8),
       which=st.sampled_from(["0.31", "0.16", "0.12"]))
def test_flipped_bytes_are_problems_never_exceptions(tmp_path: Path, flips: list[tuple[int, int]], which: str) -> None:
    data = bytearray(next((FIXTURES / _only("crashed", which)).glob("*.wandb")).read_bytes())
    for at, mask in flips:
        data[at % len(data)] ^= mask
    run = _read_bytes(tmp_path, bytes(data))
    assert run.status in ("finished", "failed", "incomplete", "unknown")
    if run.problems:
        assert all(p.file.endswith("run-abc123.wandb") for p in run.problems)


def test_a_damaged_block_costs_only_that_block(tmp_path: Path) -> None:
    data = bytearray(next((FIXTURES / _only("killed", "0.31")).glob("*.wandb")).read_bytes())
    assert len(data) == 2 * wr.BLOCK
    intact = _read_bytes(tmp_path, bytes(data))
    data[wr.BLOCK // 2] ^= 0xFF  # inside a chunk in the middle of the first block
    run = _read_bytes(tmp_path, bytes(data))
    assert run.name == intact.name == "killed-s0"  # the run record, at the start of block 0
    messages = " | ".join(p.message for p in run.problems)
    assert "checksum mismatch" in messages and "rest of this 32 KiB block was skipped" in messages
    lost = len(intact.metrics.series["train/batch_loss"]) - len(run.metrics.series["train/batch_loss"])
    assert 0 < lost < len(intact.metrics.series["train/batch_loss"]) // 2 + 10
    assert run.metrics.series["train/batch_loss"][-1] == intact.metrics.series["train/batch_loss"][-1]  # block 1 read


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "ends inside its 7-byte header"),
        (b":W&B", "ends inside its 7-byte header"),
        (b"PK\x03\x04" + bytes(100), "not a W&B transaction log"),
        (struct.pack("<4sHB", b":W&B", 0xBEE1, 9) + bytes(20), "format version 9"),
        (struct.pack("<4sHB", b":W&B", 0xBEE1, 0) + struct.pack("<IHB", 0, 100, 9) + bytes(100), "damaged chunk (type 9)"),
        (struct.pack("<4sHB", b":W&B", 0xBEE1, 0) + struct.pack("<IHB", 0, 60000, 1) + bytes(100), "ends inside a record"),
        (_frame([b"\xff\xff\xff\xff"]), "not a readable record"),
        (_frame([_run_record()])[:-3], "ends inside a record"),
    ],
)
def test_bad_logs_are_named_problems(tmp_path: Path, data: bytes, expected: str) -> None:
    run = _read_bytes(tmp_path, data)
    assert any(expected in p.message for p in run.problems), run.problems


def test_random_garbage_never_hangs_or_raises(tmp_path: Path) -> None:
    rng = random.Random(11)
    header = struct.pack("<4sHB", b":W&B", 0xBEE1, 0)
    for size in (1, 7, 8, 100, 32768, 70000):
        run = _read_bytes(tmp_path, header + rng.randbytes(size))
        assert run.problems and run.status in ("incomplete", "unknown")


def test_a_log_too_big_to_read_whole_is_read_at_both_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _frame([_run_record("big"), *(_history(s, pad=300) for s in range(2000)), _exit(3)])
    monkeypatch.setattr(wr, "MAX_LOG_BYTES", 4 * wr.BLOCK)
    monkeypatch.setattr(wr, "HEAD_BYTES", 2 * wr.BLOCK)
    root, found = _synthetic_root(tmp_path, log)
    run = wandb.read(found, root)
    assert run.name == "big" and run.status == "failed" and run.exit_code == 3  # the start and the end
    steps = [p[0] for p in run.metrics.series["loss"]]
    assert steps[0] == 0 and steps[-1] == 1999 and len(steps) < 1000  # the middle was skipped
    assert any("were not read" in p.message for p in run.problems)


def test_long_histories_are_thinned_evenly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_wandb_state, "MAX_POINTS", 50)
    root, found = _synthetic_root(tmp_path, _frame([_run_record(), *(_history(s) for s in range(1000)), _exit()]))
    run = wandb.read(found, root)
    steps = [p[0] for p in run.metrics.series["loss"]]
    assert 50 <= len(steps) < 100 and steps[0] == 0
    assert len({b - a for a, b in itertools.pairwise(steps)}) == 1  # evenly spaced
    assert any("thinned" in p.message for p in run.problems)


def test_bad_side_files_are_problems_and_the_log_still_counts(fresh: Path) -> None:
    rel = _only("finished", "0.12")
    files = fresh / rel / "files"
    (files / "wandb-metadata.json").write_text('{"python": "3.11", "git": {"commit": ')
    (files / "requirements.txt").write_bytes(bytes(range(256)))
    run = _read(fresh, rel)
    messages = {p.file.rsplit("/", 1)[-1]: p.message for p in run.problems}
    assert "invalid JSON" in messages["wandb-metadata.json"]
    assert "binary" in messages["requirements.txt"]
    assert run.status == "finished" and run.name == "baseline-s0" and run.code.commit is not None  # from the log


def test_a_log_linked_from_outside_the_root_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.wandb"
    outside.write_bytes(_frame([_run_record("secret")]))
    root = tmp_path / "root"
    run_dir = root / "p" / "wandb" / "offline-run-20250101_120000-abc123"
    run_dir.mkdir(parents=True)
    (run_dir / "run-abc123.wandb").symlink_to(outside)
    run = wandb.read(_found(root, "p/wandb/offline-run-20250101_120000-abc123"), root)
    assert run.name != "secret"
    assert any("outside the root" in p.message for p in run.problems)
    assert run.status == "unknown"


def test_an_orphan_files_folder_with_an_alias_bomb_config(tmp_path: Path) -> None:
    files = tmp_path / "p" / "wandb" / "run-20250101_120000-abc123" / "files"
    files.mkdir(parents=True)
    bomb = "a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    bomb += "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    (files / "config.yaml").write_text(bomb)
    (files / "wandb-summary.json").write_text('{"acc": 0.5, "_wandb": {"runtime": 3}}')
    run = wandb.read(_found(tmp_path, "p/wandb/run-20250101_120000-abc123/files"), tmp_path)
    assert run.name == "run-20250101_120000-abc123" and run.project == "p"
    assert run.metrics.final == {"acc": 0.5}
    assert any("alias bomb" in p.message for p in run.problems)


def test_a_multi_block_log_cut_anywhere_keeps_what_came_before(tmp_path: Path) -> None:
    data = next((FIXTURES / _only("killed", "0.31")).glob("*.wandb")).read_bytes()
    previous = 0
    for cut in range(0, len(data), 97):
        run = _read_bytes(tmp_path, data[:cut])
        points = len(run.metrics.series.get("train/batch_loss", ()))
        assert points >= previous  # a longer prefix never reads less
        previous = points
        if cut > 2000:
            assert run.name == "killed-s0" and run.status == "incomplete"


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=3000), blocks=st.integers(min_value=0, max_value=2))
def test_the_decoder_takes_any_bytes(body: bytes, blocks: int) -> None:
    import io

    data = struct.pack("<4sHB", b":W&B", 0xBEE1, 0) + body + bytes(blocks * wr.BLOCK) + body
    problems = wr.LogProblems()
    for _at, raw in wr.scan_chunks(io.BytesIO(data), len(data), problems):
        with contextlib.suppress(ValueError):
            wr.parse(raw)
    assert len(problems.messages()) <= wr.MAX_PROBLEMS + 1


def test_an_exit_marked_not_complete_and_a_preemption(tmp_path: Path) -> None:
    rec = wr.Record()
    rec.exit.not_complete = True
    run = _read_bytes(tmp_path, _frame([_run_record(), rec.SerializeToString()]))
    assert run.status == "incomplete" and run.error == "wandb marked the run not complete"
    rec = wr.Record()
    rec.preempting.SetInParent()
    run = _read_bytes(tmp_path, _frame([_run_record(), rec.SerializeToString()]))
    assert run.status == "incomplete" and "preempted" in (run.error or "") and "status" in run.source.guessed


def test_values_json_cannot_convert_are_problems(tmp_path: Path) -> None:
    huge = "9" * 5000  # json.loads raises ValueError, not JSONDecodeError, for an integer this long
    rec = wr.Record()
    for key, value in (("loss", huge), ("acc", "0.5"), ("deep", "[" * 5000 + "]" * 5000), ("bad", "{nope")):
        item = rec.history.item.add()
        item.key, item.value_json = key, value
    conf = wr.Record()
    for key, value in (("lr", huge), ("layers", "[" * 5000 + "]" * 5000), ("ok", "1")):
        item = conf.config.update.add()
        item.key, item.value_json = key, value
    summ = wr.Record()
    item = summ.summary.update.add()
    item.key, item.value_json = "acc", huge
    run = _read_bytes(tmp_path, _frame([_run_record(), rec.SerializeToString(), conf.SerializeToString(), summ.SerializeToString()]))
    assert run.metrics.series == {"acc": ((0, 0.5),)}
    assert run.config == {"optimizer": {"lr": 0.1}, "ok": 1}
    messages = " | ".join(p.message for p in run.problems)
    assert "'loss' is not JSON" in messages and "'bad' is not JSON" in messages and "config key 'lr'" in messages
    assert "config key 'layers'" in messages and "summary key 'acc'" in messages


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(meta=_JSON, summary=_JSON, config=_JSON)
def test_side_files_of_any_shape_never_raise(tmp_path: Path, meta: object, summary: object, config: object) -> None:
    files = tmp_path / "p" / "wandb" / "run-20250101_120000-abc123" / "files"
    if files.exists():
        shutil.rmtree(files)
    files.mkdir(parents=True)
    (files / "wandb-metadata.json").write_text(json.dumps(meta))
    (files / "wandb-summary.json").write_text(json.dumps(summary))
    (files / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
    run = wandb.read(_found(tmp_path, "p/wandb/run-20250101_120000-abc123/files"), tmp_path)
    assert run.name == "run-20250101_120000-abc123" and run.status == "unknown"


def test_a_run_container_that_kept_wandb_files_stays_a_run_container() -> None:
    names = {"config.yaml", "metrics.json", "wandb-metadata.json", "wandb-summary.json"}
    assert not wandb.detect(names)
    assert formats.detect(names).name == "container"


def test_a_saved_diff_patch_marks_the_tree_dirty(fresh: Path) -> None:
    rel = _only("crashed", "0.16")
    assert _read(fresh, rel).code.dirty is None  # wandb 0.16 offline saved no patch: not known
    (fresh / rel / "files" / "diff.patch").write_text(
        "diff --git a/train.py b/train.py\nindex 1..2 100644\n--- a/train.py\n+++ b/train.py\n@@ -1 +1,2 @@\n+# wip\n"
    )
    run = _read(fresh, rel)
    assert run.code.dirty is True and run.code.changed_files == ("train.py",)
    assert "files/diff.patch" in run.files and run.code.commit is not None


def test_nest_does_not_depend_on_the_order_keys_were_written() -> None:
    from runsift.core.formats._inferred import nest

    assert nest({"a.b.c": 2, "a.b": 1}) == nest({"a.b": 1, "a.b.c": 2}) == {"a": {"b": 1}, "a.b.c": 2}
    assert nest({"a": {"b": 1}, "a.b": 2}) == {"a": {"b": 1}, "a.b": 2}  # lands on a value: kept as written
