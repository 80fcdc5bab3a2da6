"""The embedded catalog's detail values, read a key at a time (core/facetcols.py): the same values as the stored facets
say, for any key; kept columns that follow the runs as they change; damage caught by the rows' checksums."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import make_run, rewrite_in_place
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runsift.core import facetcols
from runsift.core.catalog import Catalog, _store
from runsift.core.discover import discover
from runsift.core.query import parse_filter, parse_sort
from runsift.core.rows import compact, read_row

HOSTILE_KEYS = [
    "config.plain", "config.a b", "config.a[0]", "config.$", "config.a'b", 'config.a"b', "config.a\\b", "config.é",
    "config.😀", "config.a\x00b", "config.\ud800x", "config.a\nb", "config.a\x7fb", "config.lr", "config.*",
]
KEYS = st.one_of(st.sampled_from(HOSTILE_KEYS), st.text(max_size=6).map(lambda t: "config." + t))
VALUES = st.tuples(
    st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["\ud800", "a\x00b", "é", '"\\'])),
    st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
)
FACETS = st.lists(st.dictionaries(KEYS, VALUES, max_size=6), min_size=1, max_size=6)


def _template(tmp_path: Path) -> tuple[Path, tuple[object, ...]]:
    root = tmp_path / "r"
    make_run(root / "p" / "run-001")
    found = discover(root).found[0]
    return root, read_row(found, root)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=FACETS, data=st.data())
def test_a_key_gives_the_values_its_records_store_whatever_it_holds(tmp_path: Path, records: list[dict[str, tuple[str | None, float | None]]], data: st.DataObject) -> None:
    root, row = _template(tmp_path)
    rows = [(f"p/run-{i:03d}", *row[1:14], compact({k: list(v) for k, v in facets.items()}), row[15]) for i, facets in enumerate(records)]
    with Catalog.open(root, use_cache=False, refresh=False) as cat:
        with cat.db:
            _store(cat.db, rows)
        keys = sorted({k for facets in records for k in facets})
        assert cat.facet_keys() == keys
        some = [data.draw(st.lists(st.sampled_from([r[0] for r in rows]), unique=True)) for _ in range(2)]
        for key in [*keys, "config.none-has-it"]:
            whole = {f"p/run-{i:03d}": facets[key] for i, facets in enumerate(records) if key in facets}
            for ids in some:  # from those records' facets, decoded for the first key asked of them
                assert cat.facet(key, ids) == {rid: value for rid, value in whole.items() if rid in ids}, key
            assert cat.facet(key) == whole, key
            for ids in some:  # from the kept column
                assert cat.facet(key, ids) == {rid: value for rid, value in whole.items() if rid in ids}, key


def test_a_kept_column_follows_runs_as_they_change_and_go(tmp_path: Path) -> None:
    root = _runs(tmp_path, 3, lambda i: f"lr: 0.00{i}\n")
    with Catalog.open(root) as cat:
        assert cat.facet("config.lr") == {f"p/run-00{i}": (f"0.00{i}", 0.001 * i) for i in range(1, 4)}
        assert "config.batch" not in cat.facet_keys()
        rewrite_in_place(root / "p" / "run-001" / "config.yaml", "lr: 0.5\nbatch: 64\n")
        shutil.rmtree(root / "p" / "run-003")
        make_run(root / "p" / "run-004", config="lr: 0.004\n")
        cat.refresh(full=True)
        assert cat.last_refresh.changed == 1 and cat.last_refresh.removed == 1
        assert cat.facet("config.lr") == {"p/run-001": ("0.5", 0.5), "p/run-002": ("0.002", 0.002), "p/run-004": ("0.004", 0.004)}
        assert cat.facet("config.batch") == {"p/run-001": ("64", 64.0)}
        assert "config.batch" in cat.facet_keys()
        assert [r.id for r in cat.list(filters=[parse_filter("config.lr>0.003")])] == ["p/run-001", "p/run-004"]
        assert [r.id for r in cat.list(sort=parse_sort("-config.lr"))] == ["p/run-001", "p/run-004", "p/run-002"]


def test_columns_beyond_the_kept_ones_are_read_again_and_the_same(tmp_path: Path) -> None:
    root = tmp_path / "r"
    keys = [f"k{i}" for i in range(facetcols.KEPT + 3)]
    make_run(root / "p" / "run-001", config="".join(f"{k}: {i}\n" for i, k in enumerate(keys)))
    with Catalog.open(root) as cat:
        for _ in range(2):
            for i, k in enumerate(keys):
                assert cat.facet(f"config.{k}") == {"p/run-001": (str(i), float(i))}


def test_a_flipped_byte_in_a_stored_detail_value_is_caught_and_the_cache_rebuilt(tmp_path: Path) -> None:
    root = _runs(tmp_path, 3, lambda i: f"lr: 0.00{i}\nname: model-{i}\n")
    with Catalog.open(root) as cat:
        truth = [r.id for r in cat.list(filters=[parse_filter("config.name=model-2")])]
        path = cat.cache_file
    assert truth == ["p/run-002"] and path is not None
    data = path.read_bytes()
    at = data.index(b'"config.name":["model-2"')  # in the facets column: the detail JSON spells the config otherwise
    path.write_bytes(data[: at + 17] + b"3" + data[at + 18 :])  # model-2 -> model-3 in that record's facets
    with Catalog.open(root) as cat:
        assert [r.id for r in cat.list(filters=[parse_filter("config.name=model-2")])] == truth
        assert [r.id for r in cat.list(filters=[parse_filter("config.name=model-3")])] == ["p/run-003"]
        assert any("damaged" in p.message for p in cat.cache_problems)


def test_kept_columns_stay_within_their_bound_of_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facetcols, "KEPT_VALUES", 5)
    root = _runs(tmp_path, 3, lambda i: f"a: {i}\nb: {i}\nc: {i}\n")
    with Catalog.open(root) as cat:
        for key in ("a", "b", "c", "a"):
            assert cat.facet(f"config.{key}") == {f"p/run-00{i}": (str(i), float(i)) for i in range(1, 4)}
        kept = cat._facets._columns
        assert list(kept) == ["config.a"]  # three values a key: one kept column within 5 values, the last one read


def test_kept_columns_follow_what_another_process_wrote_to_the_cache(tmp_path: Path) -> None:
    """A `runsift index` in a shell, or a second app, writes the same cache: the records it stored or dropped are
    not ours to patch, so what was kept is read again (the cache's data_version moved)."""
    root, cache = _runs(tmp_path, 2, lambda i: f"lr: 0.00{i}\n"), tmp_path / "cache"
    with Catalog.open(root, cache_dir=cache) as app:
        assert cat_ids(app, "config.lr>0") == ["p/run-001", "p/run-002"]
        assert "config.warmup" not in app.facet_keys()
        rewrite_in_place(root / "p" / "run-001" / "config.yaml", "lr: 0.5\n")
        shutil.rmtree(root / "p" / "run-002")
        make_run(root / "p" / "run-003", config="lr: 0.003\nwarmup: 5\n")
        with Catalog.open(root, cache_dir=cache, full=True) as shell:
            assert shell.last_refresh.changed == 1 and shell.last_refresh.removed == 1
        make_run(root / "p" / "run-004", config="lr: 0.004\n")
        app.refresh()  # stores only run-004: the others are as the shell left them
        assert cat_ids(app, "config.lr>0") == ["p/run-001", "p/run-003", "p/run-004"]
        assert cat_ids(app, "config.lr=0.5") == ["p/run-001"]
        assert "config.warmup" in app.facet_keys()


def test_a_key_whose_only_record_went_is_no_longer_offered(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_run(root / "p" / "run-001", config="lr: 0.1\n")
    make_run(root / "p" / "run-002", config="lr: 0.2\nwarmup: 5\n")
    with Catalog.open(root) as cat:
        assert cat.facet("config.lr") and "config.warmup" in cat.facet_keys()
        shutil.rmtree(root / "p" / "run-002")
        cat.refresh()
        assert "config.warmup" not in cat.facet_keys()
        assert cat.facet("config.lr") == {"p/run-001": ("0.1", 0.1)}


@pytest.mark.parametrize("damaged", ["0.1", "0.2"], ids=["escaped-row", "plain-row"])
def test_damage_in_a_row_only_python_reads_is_caught_too(tmp_path: Path, damaged: str) -> None:
    """Keys are listed by SQLite (rows without a \\u escape) or by json (rows with one), and keys no JSON path names
    are found by json: a damaged row rebuilds the cache rather than ending in a JSONDecodeError or in a key that was
    never written."""
    root = tmp_path / "r"
    make_run(root / "p" / "run-001", config="lr: 0.1\nnote: café\n")
    make_run(root / "p" / "run-002", config="lr: 0.2\nnote: plain\n")
    with Catalog.open(root) as cat:
        truth = (cat.facet_keys(), cat.facet("config.note"), cat.facet('config.a"b'))
        path = cat.cache_file
    assert path is not None
    data = path.read_bytes()
    at = data.index(b'"config.lr":["' + damaged.encode() + b'"')
    path.write_bytes(data[:at + 9] + b"X" + data[at + 10 :])  # the key config.lr becomes config.lX, the JSON still valid
    with Catalog.open(root, refresh=False) as cat:
        assert (cat.facet_keys(), cat.facet("config.note"), cat.facet('config.a"b')) == truth
        assert any("damaged" in p.message for p in cat.cache_problems)


def cat_ids(cat: Catalog, text: str) -> list[str]:
    return [r.id for r in cat.list(filters=[parse_filter(text)])]


def test_past_its_bound_of_patches_what_is_kept_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facetcols, "PATCH_MAX", 1)
    root = _runs(tmp_path, 2, lambda i: f"lr: 0.00{i}\n")
    with Catalog.open(root) as cat:
        cat.facet("config.lr")
        for i in range(1, 3):
            rewrite_in_place(root / "p" / f"run-00{i}" / "config.yaml", f"lr: 0.{i}\n")
        cat.refresh(full=True)
        assert not cat._facets._columns  # two records changed: dropped, not patched
        assert cat.facet("config.lr") == {"p/run-001": ("0.1", 0.1), "p/run-002": ("0.2", 0.2)}


def _runs(tmp_path: Path, count: int, config: Callable[[int], str]) -> Path:
    """A root of runs ``p/run-001`` .. ``p/run-00<count>``, run i's config being ``config(i)``."""
    root = tmp_path / "r"
    for i in range(1, count + 1):
        make_run(root / "p" / f"run-00{i}", config=config(i))
    return root
