"""Catalog hardening (issue 13): huge numbers, a broken or unwritable cache, transient read errors."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from conftest import make_run

from runsift.core import safeio
from runsift.core.catalog import Catalog, cache_path_for
from runsift.core.discover import discover
from runsift.core.query import parse_filter, parse_sort
from runsift.core.records import Run
from runsift.core.serialize import to_dict

BIG = 2**63


# -- item 6: numbers no column can hold ------------------------------------------------------


def test_huge_numbers_cost_nothing_but_their_own_values(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_run(root / "p" / f"run-{BIG}")  # run number past SQLite's INTEGER
    hex_digits = "f" * 4000  # a YAML hex literal: an int of ~4,800 decimal digits, past str()'s limit
    make_run(
        root / "p" / "run-big",
        config=f"lr: 0.1\nhuge: {'1' * 400}\nhex: 0x{hex_digits}\nmid: {BIG * 4}\n",
        seeds=f"global={'9' * 400}\n",
        metrics={"final": {"val_auc": 0.5, "steps": int("7" * 400)}},
    )
    make_run(root / "p" / "run-001")
    with Catalog.open(root) as cat:
        rows = {r.id: r for r in cat.list()}
        assert set(rows) == {f"p/run-{BIG}", "p/run-big", "p/run-001"}
        assert rows[f"p/run-{BIG}"].run_number is None
        assert rows["p/run-001"].run_number == 1
        # a number past a float's range compares as infinity (as the text 1e400 does), never a crash
        assert [r.id for r in cat.list(filters=[parse_filter("config.huge>1")])] == ["p/run-big"]
        assert [r.id for r in cat.list(filters=[parse_filter("config.huge<1")])] == []
        assert [r.id for r in cat.list(filters=[parse_filter("config.mid>1")])] == ["p/run-big"]
        assert [r.id for r in cat.list(filters=[parse_filter("config.lr=0.1")])] == ["p/run-big"]
        assert cat.list(sort=parse_sort("-config.hex"))[0].id == "p/run-big"
        assert rows["p/run-big"].metrics["val_auc"] == 0.5
        assert cat.list(sort=parse_sort("-run_number"))[0].id == "p/run-001"
        run = cat.get("p/run-big")
        assert isinstance(run, Run)
        assert run.config["mid"] == BIG * 4  # what JSON can hold is kept as it was
        assert str(run.config["hex"]).startswith("0xfff")  # what it cannot is kept as the text it was written as
        assert any("hex" in p.message or "too large" in p.message for p in run.problems), run.problems
        json.dumps(run.config)
    # and a warm open reads the same back from the cache file
    with Catalog.open(root) as cat:
        assert {r.id for r in cat.list()} == set(rows)


# -- item 9: the cache is only a cache --------------------------------------------------------


def test_an_unwritable_cache_folder_falls_back_to_memory_with_one_warning(experiments: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")  # a file where the cache folder should be: mkdir fails as if unwritable
    with Catalog.open(experiments, cache_dir=blocker / "sub") as cat:
        assert cat.count() == 4
        assert cat.cache_file is None
        warnings = [p for p in cat.problems if "cache" in p.message]
        assert len(warnings) == 1 and "memory" in warnings[0].message


def test_a_folder_where_the_cache_file_should_be_falls_back_to_memory(experiments: Path) -> None:
    cache_path_for(experiments).mkdir(parents=True)
    with Catalog.open(experiments) as cat:
        assert cat.count() == 4
        assert cat.cache_file is None
        assert sum("cache" in p.message for p in cat.problems) == 1
    assert cache_path_for(experiments).is_dir()  # not removed: it is not ours


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a read-only folder anyway")
def test_a_read_only_cache_folder_falls_back_to_memory(experiments: Path, tmp_path: Path) -> None:
    cache = tmp_path / "ro"
    cache.mkdir(mode=0o500)
    with Catalog.open(experiments, cache_dir=cache) as cat:
        assert cat.count() == 4
        assert cat.cache_file is None


def _listing(cat: Catalog) -> list[tuple[str, str, str | None, int, str]]:
    return [(r.id, r.status, r.name, len(r.problems), json.dumps(r.metrics, sort_keys=True)) for r in cat.list()]


def _bigger_tree(root: Path) -> Path:
    for i in range(40):
        make_run(
            root / f"proj{i % 3}" / f"2025-01-{1 + i % 28:02d}_10-00-00_run-{i:03d}",
            metrics={"final": {"val_auc": 0.5 + i / 100, "loss": 1 / (i + 1)}, "status": "failed" if i % 7 == 0 else "finished"},
            config=f"lr: {0.001 * (i + 1)}\nname: model-{i}\n",
        )
    return root


@pytest.mark.parametrize("seed", range(8))
def test_a_cache_with_random_byte_flips_never_shows_a_wrong_list(tmp_path: Path, seed: int) -> None:
    root = _bigger_tree(tmp_path / "r")
    with Catalog.open(root, use_cache=False) as cat:
        truth = _listing(cat)
        truth_detail = to_dict(cat.get("proj1/2025-01-02_10-00-00_run-001"))
    with Catalog.open(root) as cat:
        assert _listing(cat) == truth
        path = cat.cache_file
    assert path is not None and path.is_file()
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for _ in range(rng.choice((1, 3, 20))):
        at = rng.randrange(len(data))
        data[at] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    for _ in range(2):  # the first open heals the cache, the second finds it whole
        with Catalog.open(root) as cat:
            assert _listing(cat) == truth
            assert {r.id: r.status for r in cat.list(filters=[parse_filter("status=failed")])} == {
                rid: status for rid, status, *_ in truth if status == "failed"
            }
            assert cat.get("proj1/2025-01-02_10-00-00_run-001").id == "proj1/2025-01-02_10-00-00_run-001"
            assert to_dict(cat.get("proj1/2025-01-02_10-00-00_run-001")) == truth_detail


def test_flipped_bytes_inside_values_are_caught_by_the_row_checksums(tmp_path: Path) -> None:
    """A flip SQLite cannot see (inside a stored text) must not reach the list: the row checksum catches it."""
    root = _bigger_tree(tmp_path / "r")
    with Catalog.open(root, use_cache=False) as cat:
        truth = _listing(cat)
    with Catalog.open(root) as cat:
        path = cat.cache_file
    assert path is not None
    data = path.read_bytes()
    for needle in (b"finished", b"proj2", b"val_auc"):
        at = data.index(needle)
        flipped = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]  # e.g. "finished" -> "gintshed"
        path.write_bytes(flipped)
        with Catalog.open(root) as cat:
            assert _listing(cat) == truth, needle
        data = path.read_bytes()


# -- item 11: read errors pass -----------------------------------------------------------------


def test_a_record_read_with_a_read_error_is_read_again_next_time(experiments: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = "fraud-model/2025-01-07_14-32-11_run-023"
    real = safeio._read_head
    denied = {"on": True}

    def flaky(path: Path, expected: int, limit: int) -> bytes:
        if denied["on"] and Path(path).name == "config.yaml" and run_id in str(path):
            raise PermissionError(13, "Permission denied")
        return real(path, expected, limit)

    monkeypatch.setattr(safeio, "_read_head", flaky)
    with Catalog.open(experiments) as cat:
        run = cat.get(run_id)
        assert any("Permission denied" in p.message for p in run.problems)
    denied["on"] = False  # chmod 644 again: nothing about the files' sizes or times changed
    with Catalog.open(experiments) as cat:
        row = next(r for r in cat.list() if r.id == run_id)
        assert not any("Permission denied" in p.message for p in row.problems)
        run = cat.get(run_id)
        assert isinstance(run, Run) and run.config["optimizer"]["name"] == "adam"
    with Catalog.open(experiments) as cat:  # read well once: trusted by the quick walk again
        cat.list()
        assert cat.last_refresh.changed == 0


def test_the_fingerprint_sees_a_change_of_mode(experiments: Path) -> None:
    run = experiments / "fraud-model" / "2025-01-07_14-32-11_run-023"
    before = {f.id: f.fingerprint for f in discover(experiments).found}
    os.chmod(run / "config.yaml", 0o600)
    after = {f.id: f.fingerprint for f in discover(experiments).found}
    changed = [rid for rid in before if before[rid] != after[rid]]
    assert changed == ["fraud-model/2025-01-07_14-32-11_run-023"]
