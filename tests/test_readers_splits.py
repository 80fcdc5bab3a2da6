"""Tests for the splits reader: file shapes, the documented hash, streaming of huge id lists, bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from runsift.core.readers.splits import (
    hash_ids,
    load_split_ids,
    normalise_ids,
    parse_split_text,
    read_splits,
    split_name,
)
from runsift.core.records import Split
from runsift.core.safeio import MAX_TEXT_BYTES, ReadContext, Unreadable


def reference_hash(ids: list[str]) -> str:
    """The documented hash, computed independently of the reader."""
    return hashlib.sha256("".join(i + "\n" for i in sorted(ids)).encode()).hexdigest()


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (creating folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def splits_of(tmp_path: Path, run: str = "run") -> tuple[tuple[Split, ...], ReadContext]:
    """read_splits on ``tmp_path/run`` with a fresh context rooted at ``tmp_path``."""
    ctx = ReadContext(tmp_path)
    return read_splits(tmp_path / run, ctx), ctx


# -- text files and the hash ----------------------------------------------------------


def test_txt_split_count_hash_name_and_source(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "val_ids.txt", "u3\n  u1 \n\nu2\r\n")
    write(tmp_path / "run" / "splits" / "train.txt", "a\nb\n")
    splits, ctx = splits_of(tmp_path)
    assert ctx.problems == []
    assert [s.name for s in splits] == ["train", "val"]
    val = splits[1]
    assert val == Split(name="val", count=3, sha256=reference_hash(["u1", "u2", "u3"]),
                        source="run/splits/val_ids.txt", column=None)
    assert splits[0].sha256 == reference_hash(["a", "b"])


def test_same_ids_in_other_order_hash_the_same_and_different_ids_differ(tmp_path: Path) -> None:
    for run, text in (("r1", "1\n2\n3\n"), ("r2", "3\n\n1\n2"), ("r3", "1\n2\n4\n")):
        write(tmp_path / run / "splits" / "train_ids.txt", text)
    (a,), _ = splits_of(tmp_path, "r1")
    (b,), _ = splits_of(tmp_path, "r2")
    (c,), _ = splits_of(tmp_path, "r3")
    assert a.sha256 == b.sha256 == reference_hash(["1", "2", "3"])
    assert c.sha256 != a.sha256
    assert a.count == b.count == c.count == 3


def test_hash_sorts_as_strings_not_numbers() -> None:
    assert hash_ids(["10", "9", "100"]) == reference_hash(["10", "100", "9"])
    assert normalise_ids(["10", " 9 ", "", "100"]) == ["10", "100", "9"]


def test_hash_of_ids_with_non_ascii_text() -> None:
    ids = ["é1", "z", "Ω"]
    assert hash_ids(ids) == reference_hash(ids)


@pytest.mark.parametrize(
    ("file_name", "name"),
    [("val_ids.txt", "val"), ("train.txt", "train"), ("test-ids.txt", "test"), ("holdout_indices.csv", "holdout"),
     ("ids.txt", "ids"), ("_ids.txt", "_ids")],
)
def test_split_name(file_name: str, name: str) -> None:
    assert split_name(file_name) == name


def test_duplicates_are_reported_and_still_counted(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "train_ids.txt", "a\nb\na\na\n")
    (split,), ctx = splits_of(tmp_path)
    assert split.count == 4
    assert split.sha256 == reference_hash(["a", "a", "a", "b"])
    assert [p.message for p in ctx.problems] == ["split 'train': 2 duplicate ids"]


def test_empty_split_file_is_count_zero_and_a_problem(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "test_ids.txt", "\n  \n")
    (split,), ctx = splits_of(tmp_path)
    assert (split.name, split.count, split.sha256) == ("test", 0, hashlib.sha256(b"").hexdigest())
    assert len(ctx.problems) == 1 and "empty" in ctx.problems[0].message


def test_utf8_bom_is_not_part_of_the_first_id(tmp_path: Path) -> None:
    path = tmp_path / "run" / "splits" / "val_ids.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbfx1\nx2\n")
    (split,), _ = splits_of(tmp_path)
    assert split.sha256 == reference_hash(["x1", "x2"])


# -- CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "rows", "column", "ids"),
    [
        ("label,id,score", ["x,7,0.1", "y,3,0.2"], "id", ["7", "3"]),
        ("user_id,example_id", ["u1,e1", "u1,e2"], "example_id", ["e1", "e2"]),
        ("group,row_id", ["g,r9", "g,r8"], "row_id", ["r9", "r8"]),
        ("label,image_id", ["cat,i1", "dog,i2"], "image_id", ["i1", "i2"]),
        ("path,label", ["a.png,cat", "b.png,dog"], "path", ["a.png", "b.png"]),
    ],
)
def test_csv_id_column_choice(tmp_path: Path, header: str, rows: list[str], column: str, ids: list[str]) -> None:
    write(tmp_path / "run" / "splits" / "val.csv", "\n".join([header, *rows]) + "\n")
    (split,), ctx = splits_of(tmp_path)
    assert ctx.problems == []
    assert (split.name, split.column, split.count) == ("val", column, 2)
    assert split.sha256 == reference_hash(ids)
    assert load_split_ids(tmp_path, split) == sorted(ids)


def test_single_column_csv_has_no_column_and_header_is_not_an_id(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "train_ids.csv", "id\n5\n6\n")
    (split,), _ = splits_of(tmp_path)
    assert (split.name, split.count, split.column) == ("train", 2, None)
    assert split.sha256 == reference_hash(["5", "6"])


def test_headerless_numeric_csv_keeps_first_row(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "train.csv", "5,0\n6,1\n")
    (split,), _ = splits_of(tmp_path)
    assert split.count == 2 and split.sha256 == reference_hash(["5", "6"])


def test_csv_rows_without_id_are_skipped_and_reported(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "val.csv", "id,label\n1,a\n,b\n3,c\n")
    (split,), ctx = splits_of(tmp_path)
    assert split.count == 2
    assert [(p.line, "without an id" in p.message) for p in ctx.problems] == [(3, True)]


def test_csv_with_split_column_gives_one_split_per_value(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "assignment.csv", "example_id,split\ne1,train\ne2,val\ne3,train\n")
    splits, ctx = splits_of(tmp_path)
    assert ctx.problems == []
    assert [(s.name, s.count, s.column) for s in splits] == [("train", 2, "example_id"), ("val", 1, "example_id")]
    assert splits[0].sha256 == reference_hash(["e1", "e3"])
    assert load_split_ids(tmp_path, splits[0]) == ["e1", "e3"]
    assert load_split_ids(tmp_path, splits[1]) == ["e2"]


def test_unreadable_csv_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    folder = tmp_path / "run" / "splits"
    write(folder / "big.csv", "id\n" + "x" * 200_000 + "\n")  # over the csv module's field limit
    (folder / "dir.csv").mkdir()
    write(folder / "ok_ids.txt", "1\n")
    splits, ctx = splits_of(tmp_path)
    assert [s.name for s in splits] == ["ok"]
    assert sorted(p.file for p in ctx.problems) == ["run/splits/big.csv", "run/splits/dir.csv"]
    big = next(p for p in ctx.problems if p.file.endswith("big.csv"))
    assert big.line == 2 and "unreadable CSV" in big.message


# -- splits.json ----------------------------------------------------------------------------


def test_splits_json_in_splits_folder_and_in_run_folder(tmp_path: Path) -> None:
    write(tmp_path / "r1" / "splits" / "splits.json", json.dumps({"train": ["a", "b"], "val": [3, 1], "seed": 42}))
    write(tmp_path / "r2" / "splits.json", json.dumps({"splits": {"test": {"ids": ["z", "y"], "n": 2}}}))
    splits, ctx = splits_of(tmp_path, "r1")
    assert ctx.problems == []
    assert [(s.name, s.count, s.column, s.source) for s in splits] == [
        ("train", 2, "train", "r1/splits/splits.json"),
        ("val", 2, "val", "r1/splits/splits.json"),
    ]
    assert splits[1].sha256 == reference_hash(["1", "3"])
    assert load_split_ids(tmp_path, splits[1]) == ["1", "3"]
    (test,), _ctx2 = splits_of(tmp_path, "r2")
    assert (test.name, test.column, test.source, test.count) == ("test", "splits.test.ids", "r2/splits.json", 2)
    assert load_split_ids(tmp_path, test) == ["y", "z"]


def test_splits_json_without_id_lists_and_truncated(tmp_path: Path) -> None:
    write(tmp_path / "r1" / "splits.json", '{"seed": 42}')
    write(tmp_path / "r2" / "splits.json", '{"train": ["a",\n "b"')
    s1, ctx1 = splits_of(tmp_path, "r1")
    s2, ctx2 = splits_of(tmp_path, "r2")
    assert s1 == s2 == ()
    assert "no id lists" in ctx1.problems[0].message
    assert ctx2.problems[0].line == 2 and "invalid JSON" in ctx2.problems[0].message


def test_same_split_name_twice_keeps_the_first(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "train_ids.txt", "a\n")
    write(tmp_path / "run" / "splits.json", '{"train": ["b", "c"]}')
    splits, ctx = splits_of(tmp_path)
    assert [(s.name, s.count) for s in splits] == [("train", 1)]
    assert [p.file for p in ctx.problems] == ["run/splits.json"]


# -- bad input -------------------------------------------------------------------------------


def test_binary_garbage_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "run" / "splits" / "train_ids.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    splits, ctx = splits_of(tmp_path)
    assert splits == ()
    assert len(ctx.problems) == 1 and "binary" in ctx.problems[0].message


def test_symlink_outside_root_is_a_problem(tmp_path: Path) -> None:
    root = tmp_path / "root"
    secret = tmp_path / "secret.txt"
    secret.write_text("s1\ns2\n")
    folder = root / "run" / "splits"
    folder.mkdir(parents=True)
    (folder / "train_ids.txt").symlink_to(secret)
    ctx = ReadContext(root)
    assert read_splits(root / "run", ctx) == ()
    assert [p.file for p in ctx.problems] == ["run/splits/train_ids.txt"]
    assert "outside the root" in ctx.problems[0].message


def test_splits_folder_linked_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere / "train_ids.txt", "1\n")
    (root / "run").mkdir(parents=True)
    (root / "run" / "splits").symlink_to(elsewhere, target_is_directory=True)
    ctx = ReadContext(root)
    assert read_splits(root / "run", ctx) == ()
    assert "outside the root" in ctx.problems[0].message


def test_unsupported_formats_are_reported_and_others_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "run" / "splits"
    (folder / "fold0").mkdir(parents=True)
    (folder / "train_idx.npy").write_bytes(b"\x93NUMPY")
    write(folder / "README.md", "how the split was made")
    write(folder / "README.txt", "not ids")
    splits, ctx = splits_of(tmp_path)
    assert splits == ()
    assert [p.file for p in ctx.problems] == ["run/splits/train_idx.npy"]


def test_no_splits_at_all(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    assert splits_of(tmp_path) == ((), ReadContext(tmp_path))


def test_records_hold_no_ids(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "val_ids.txt", "a\nb\n")
    (split,), _ = splits_of(tmp_path)
    assert {f.name for f in dataclasses.fields(split)} == {"name", "count", "sha256", "source", "column"}
    assert all(not isinstance(getattr(split, f.name), (list, tuple, set)) for f in dataclasses.fields(split))


# -- huge files and lazy loading --------------------------------------------------------------


def test_million_id_file_streams(tmp_path: Path) -> None:
    ids = [f"id-{n:07d}" for n in range(1_000_000)]
    path = tmp_path / "run" / "splits" / "train_ids.txt"
    path.parent.mkdir(parents=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(i + "\n" for i in reversed(ids))
    assert path.stat().st_size > MAX_TEXT_BYTES  # too big for read_text: only streaming works
    (split,), ctx = splits_of(tmp_path)
    assert ctx.problems == []
    assert split.count == 1_000_000
    assert split.sha256 == reference_hash(ids)
    loaded = load_split_ids(tmp_path, split)
    assert len(loaded) == 1_000_000
    assert loaded[0] == "id-0000000" and loaded[-1] == "id-0999999"
    assert loaded == ids


def test_load_split_ids_txt_sorted_and_normalised(tmp_path: Path) -> None:
    write(tmp_path / "run" / "splits" / "val_ids.txt", " c\nb \n\na\n")
    (split,), _ = splits_of(tmp_path)
    loaded = load_split_ids(tmp_path, split)
    assert loaded == ["a", "b", "c"]
    assert hash_ids(loaded) == split.sha256


@pytest.mark.parametrize("source", ["../outside.txt", "/etc/passwd", "run/../../outside.txt"])
def test_load_split_ids_refuses_paths_outside_root(tmp_path: Path, source: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("x\n")
    with pytest.raises(Unreadable):
        load_split_ids(root, Split(name="x", count=1, sha256="", source=source))


def test_load_split_ids_refuses_links_leaving_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "run").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("x\n")
    (root / "run" / "link").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(Unreadable, match="outside"):
        load_split_ids(root, Split(name="x", count=1, sha256="", source="run/link/secret.txt"))


def test_load_split_ids_missing_file_raises_unreadable(tmp_path: Path) -> None:
    with pytest.raises(Unreadable):
        load_split_ids(tmp_path, Split(name="x", count=1, sha256="", source="run/splits/x_ids.txt"))


# -- pure parser ---------------------------------------------------------------------------------


def test_parse_split_text() -> None:
    parsed, messages = parse_split_text("b\na\n", "train_ids.txt")
    assert messages == [] and [(p.name, p.ids) for p in parsed] == [("train", ["a", "b"])]
    parsed, _ = parse_split_text('{"val": ["2", "1"]}', "splits.json")
    assert [(p.name, p.column, p.ids) for p in parsed] == [("val", "val", ["1", "2"])]
    parsed, messages = parse_split_text('{"val": [', "splits.json")
    assert parsed == [] and messages[0][1] == 1


def test_runs_sharing_one_id_file_each_get_their_own_source_and_problems(tmp_path: Path) -> None:
    """Identical id files are summarised once per content; each run still reports its own file."""
    text = "b\na\na\n\ufffd-odd\n".encode() + b"\xff\n"
    for run in ("run-1", "run-2"):
        (tmp_path / run / "splits").mkdir(parents=True)
        (tmp_path / run / "splits" / "val_ids.txt").write_bytes(text)
    results = []
    for run in ("run-1", "run-2"):
        ctx = ReadContext(tmp_path)
        (split,) = read_splits(tmp_path / run, ctx)
        results.append((split, sorted((p.file, p.message) for p in ctx.problems)))
    (a, a_problems), (b, b_problems) = results
    assert (a.count, a.sha256) == (b.count, b.sha256) == (5, hash_ids(["b", "a", "a", "\ufffd-odd", "\ufffd"]))
    assert (a.source, b.source) == ("run-1/splits/val_ids.txt", "run-2/splits/val_ids.txt")
    assert [f for f, _ in a_problems] == ["run-1/splits/val_ids.txt"] * len(a_problems)
    assert [m for _, m in a_problems] == [m for _, m in b_problems]
    assert any("duplicate" in m for _, m in a_problems)
