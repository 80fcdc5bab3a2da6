"""Issue 13, items 6, 10 and 13: huge numbers, huge documents and huge streams each become a problem on their one record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_run, write

from runsift.core import safeio, yamlload
from runsift.core.catalog import Catalog
from runsift.core.naming import run_number_from_name
from runsift.core.readers.data import parse_data
from runsift.core.readers.seeds import parse_seeds
from runsift.core.records import Run
from runsift.core.safeio import ReadContext, Unreadable, parse_json, parse_yaml

HUGE = "1" + "0" * 400  # past a float's range (1.8e308)
OVER_INT_LIMIT = "7" * 5000  # past Python's 4,300-digit int() limit


def _load_all(root: Path) -> dict[str, Run]:
    with Catalog.open(root) as cat:
        return {rid: rec for rid in cat.ids() if isinstance(rec := cat.get(rid), Run)}


def _messages(run: Run, suffix: str) -> list[str]:
    return [p.message for p in run.problems if p.file.endswith(suffix)]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "exp"
    make_run(root / "good" / "run-1")
    return root


def test_a_run_number_past_64_bits_is_a_problem_on_that_run(root: Path) -> None:
    make_run(root / "p" / "run-9223372036854775808")
    make_run(root / "p" / ("run-" + "9" * 240))
    make_run(root / "p" / "run-9223372036854775807")
    runs = _load_all(root)
    assert runs["good/run-1"].run_number == 1, "the rest of the root still loads"
    assert runs["p/run-9223372036854775807"].run_number == 2**63 - 1
    big = runs["p/run-9223372036854775808"]
    assert big.run_number is None
    assert any("run number" in m for m in _messages(big, "run-9223372036854775808"))
    assert runs["p/run-" + "9" * 240].run_number is None


@pytest.mark.parametrize(
    "line, key, text",
    [
        (f"lr_big: {HUGE}\n", "lr_big", HUGE),
        (f"hexy: 0x{'f' * 4000}\n", "hexy", "0x" + "f" * 4000),
        (f"huge: {OVER_INT_LIMIT}\n", "huge", OVER_INT_LIMIT),
    ],
)
def test_a_config_integer_too_large_for_a_number_is_kept_as_text_with_a_problem(root: Path, line: str, key: str, text: str) -> None:
    make_run(root / "bad" / "run-2", config=f"batch_size: 64\n{line}epochs: 3\n")
    runs = _load_all(root)
    run = runs["bad/run-2"]
    assert run.config[key] == text
    assert run.config["batch_size"] == 64 and run.config["epochs"] == 3, "the rest of the config is read"
    messages = _messages(run, "bad/run-2/config.yaml")
    assert any("too large to use as a number" in m for m in messages), messages
    assert [p.line for p in run.problems if p.file.endswith("config.yaml")] == [2]
    assert "good/run-1" in runs


def test_json_config_and_metrics_with_huge_integers_load(root: Path) -> None:
    run_dir = make_run(root / "bad" / "run-2", metrics=f'{{"final": {{"val_auc": 0.9, "big": {OVER_INT_LIMIT}}}}}')
    (run_dir / "config.yaml").unlink()
    write(run_dir / "config.json", f'{{"batch_size": 64, "big": {HUGE}}}')
    run = _load_all(root)["bad/run-2"]
    assert run.config == {"batch_size": 64, "big": HUGE}
    assert run.metrics.final["val_auc"] == 0.9
    assert "big" not in run.metrics.final
    assert any("too large" in m for m in _messages(run, "config.json"))


def test_seeds_and_data_snapshot_with_huge_integers_are_problems(root: Path) -> None:
    make_run(
        root / "bad" / "run-2",
        seeds=f"global={HUGE}, data_split=42\nother={OVER_INT_LIMIT}\nhexed=0x{'f' * 300}\n",
        data=f"dataset_v23 parquet rows={OVER_INT_LIMIT}\n",
    )
    run = _load_all(root)["bad/run-2"]
    assert run.seeds == {"data_split": 42}
    seed_problems = _messages(run, "seeds.txt")
    assert len([m for m in seed_problems if "too large" in m]) == 3, seed_problems
    assert run.data.rows is None
    assert any("too large" in m for m in _messages(run, "data_snapshot.txt"))


def test_seeds_and_data_documents_with_huge_integers() -> None:
    seeds, issues = parse_seeds(f'{{"global": {HUGE}, "split": 7}}', "seeds.json")
    assert seeds == {"split": 7} and any("too large" in m for m, _ in issues)
    snapshot, issues = parse_data(f"name: fraud\nrows: {OVER_INT_LIMIT}\n", "data.yaml")
    assert snapshot.rows is None and any("too large" in m for m, _ in issues)


def test_run_number_parse_is_bounded() -> None:
    assert run_number_from_name("run-023") == 23
    assert run_number_from_name("run-" + "0" * 30 + "7") == 7
    assert run_number_from_name("run-" + "1" * 100_000) is None


def test_valid_json_with_more_values_than_the_yaml_node_bound_is_read() -> None:
    """Item 13: a valid 15.6 MiB metrics.json was refused as an alias bomb; JSON has no aliases."""
    values = list(range(safeio.MAX_NODES + 10))
    assert parse_json(json.dumps({"loss": values})) == {"loss": values}
    with pytest.raises(Unreadable, match="nested deeper"):
        parse_json("[" * (safeio.MAX_DEPTH + 2) + "]" * (safeio.MAX_DEPTH + 2))


def test_big_metrics_json_file_is_read(tmp_path: Path) -> None:
    series = [{"step": i, "loss": 1.0 / (i + 1), "acc": 0.5} for i in range(200_000)]
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"final": {"acc": 0.5}, "per_step": series}))
    assert path.stat().st_size > 8 * safeio.MiB
    ctx = ReadContext(tmp_path)
    doc = ctx.load_structured(path)
    assert ctx.problems == [] and len(doc["per_step"]) == 200_000


def test_huge_yaml_is_refused_while_composing_not_after() -> None:
    """Item 10: the node bound stops composing; a C compose of the whole text would first meet the syntax error at its end."""
    text = "[" + "1," * (safeio.MAX_NODES + 100_000) + "1]]"
    assert len(text) > yamlload.COUNTED_COMPOSE_CHARS
    with pytest.raises(Unreadable, match="more than 200,000 values"):
        parse_yaml(text)


def test_counted_composing_gives_what_the_fast_path_gives() -> None:
    body = "\n".join(f"k{i}: [v{i}, {i}, {i}.5, null, yes, 0x1F, 2025-01-07]" for i in range(3000))
    text = "base: &b {lr: 0.1}\nrun:\n  <<: *b\n  wd: 0.01\n" + body
    assert len(text) > yamlload.COUNTED_COMPOSE_CHARS
    import yaml

    assert parse_yaml(text) == yaml.load(text, Loader=yamlload._Base)


def test_deep_big_yaml_is_refused_while_composing() -> None:
    deep = "".join("  " * i + f"k{i}:\n" for i in range(safeio.MAX_DEPTH + 5)) + "#" * yamlload.COUNTED_COMPOSE_CHARS
    with pytest.raises(Unreadable, match="nested deeper"):
        parse_yaml(deep)


# -- item 10: streams bounded by bytes and lines, binary data found anywhere ------------------


def _reference_lines(data: bytes) -> list[tuple[int, str]]:
    return [(n, raw.decode("utf-8", errors="replace").rstrip("\r\n")) for n, raw in enumerate(data.splitlines(keepends=True), start=1)]


def test_streamed_lines_are_the_lines_of_the_file(tmp_path: Path) -> None:
    rows = [f"id-{i}\u00e9" if i % 7 else f"id-{i}\r" for i in range(400_000)]
    data = ("\n".join(rows) + "\nlast-no-newline").encode() + b"\xff\xfe tail"
    path = tmp_path / "ids.txt"
    path.write_bytes(data)
    assert len(data) > 2 * safeio._STREAM_CHUNK
    ctx = ReadContext(tmp_path)
    assert list(ctx.iter_lines(path)) == _reference_lines(data)
    batches = list(ctx.iter_line_batches(path, 1000))
    assert [line for _, batch in batches for line in batch] == [text for _, text in _reference_lines(data)]
    assert [start for start, _ in batches][:3] == [1, 1001, 2001]


def test_nul_bytes_after_the_first_chunk_stop_a_split_file(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "exp" / "run-1")
    ids = "".join(f"user-{i:08d}\n" for i in range(150_000)).encode()  # 2 MiB of good ids first
    (run_dir / "splits" / "train_ids.txt").write_bytes(ids + b"\x00" * (8 * safeio.MiB))
    run = _load_all(tmp_path / "exp")["run-1"]
    messages = _messages(run, "train_ids.txt")
    assert any("binary data" in m for m in messages), messages
    assert [p.line for p in run.problems if p.file.endswith("train_ids.txt")] == [150_001]
    assert [s.name for s in run.splits] == ["val"], "the other split is still read"


def test_a_sparse_2_gib_split_file_is_refused_before_reading(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "exp" / "run-1")
    big = run_dir / "splits" / "train_ids.txt"
    big.write_text("a\nb\n")
    with big.open("r+b") as fh:
        fh.truncate(2 * 1024 * safeio.MiB)
    run = _load_all(tmp_path / "exp")["run-1"]
    assert any("limit" in m for m in _messages(run, "train_ids.txt"))


def test_a_log_over_the_line_bound_keeps_its_first_lines_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safeio, "MAX_STREAM_LINES", 500)
    run_dir = make_run(tmp_path / "exp" / "run-1")
    write(run_dir / "metrics.csv", "step,loss\n" + "".join(f"{i},{1 / i}\n" for i in range(1, 5000)))
    run = _load_all(tmp_path / "exp")["run-1"]
    assert len(run.metrics.series["loss"]) == 499
    assert any("more than 500 lines" in m for m in _messages(run, "metrics.csv"))


def test_a_stream_over_the_byte_bound_before_and_while_reading(tmp_path: Path) -> None:
    import io

    data = b"x" * 100 + b"\n" + b"y" * (3 * safeio._STREAM_CHUNK)
    path = tmp_path / "log.txt"
    path.write_bytes(data)
    with pytest.raises(Unreadable, match="limit"):
        list(ReadContext(tmp_path).iter_lines(path, max_bytes=2 * safeio._STREAM_CHUNK))
    seen: list[tuple[int, list[str]]] = []
    with pytest.raises(Unreadable, match="limit"):  # a file growing after stat said its size
        for item in safeio._stream_chunks(io.BytesIO(data), 10, 2 * safeio._STREAM_CHUNK):
            seen.append(item)
    assert seen == [(1, ["x" * 100])]


def test_a_requirement_keeps_its_specifier_in_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 13: ``scipy>=1.10`` showed as ``scipy==>=1.10``."""
    from runsift.tui.cli import main

    run_dir = make_run(tmp_path / "exp" / "run-1")
    write(run_dir / "requirements.txt", "scipy>=1.10\nnumpy==1.26.4\n")
    assert main(["show", "run-1", "--root", str(tmp_path / "exp"), "--no-cache", "-q"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "scipy>=1.10" in out and "numpy==1.26.4" in out and "==>=" not in out
