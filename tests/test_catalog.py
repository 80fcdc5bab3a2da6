"""Catalog: discovery, cache, incremental refresh, queries, and the read-only guarantee."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

import pytest
from conftest import make_run

from runsift.core.catalog import (
    AmbiguousRun,
    Catalog,
    CatalogError,
    RunNotFound,
    cache_path_for,
)
from runsift.core.discover import discover
from runsift.core.loader import load
from runsift.core.query import QueryError, parse_filter, parse_filters, parse_sort
from runsift.core.records import Run


def test_finds_runs_with_ids_projects_names_and_times(experiments: Path) -> None:
    with Catalog.open(experiments) as cat:
        rows = {r.id: r for r in cat.list()}
    assert set(rows) == {
        "fraud-model/2025-01-07_14-32-11_run-023",
        "fraud-model/2025-01-08_09-00-00_run-024",
        "fraud-model/2025-01-09_10-00-00_run-025",
        "team/ranker/20250110-120000-abc123",
    }
    run = rows["fraud-model/2025-01-07_14-32-11_run-023"]
    assert (run.project, run.name, run.started, run.run_number) == ("fraud-model", "2025-01-07_14-32-11_run-023", "2025-01-07T14:32:11", 23)
    assert rows["team/ranker/20250110-120000-abc123"].project == "ranker"
    assert rows["team/ranker/20250110-120000-abc123"].started == "2025-01-10T12:00:00"
    assert rows["fraud-model/2025-01-09_10-00-00_run-025"].status == "failed"
    assert run.status == "finished"
    assert run.metrics == {"val_auc": 0.91, "val_f1": 0.70}


def test_get_loads_the_whole_run(experiments: Path) -> None:
    with Catalog.open(experiments) as cat:
        run = cat.get("fraud-model/2025-01-07_14-32-11_run-023")
    assert isinstance(run, Run)
    assert run.config["optimizer"]["lr"] == 0.001
    assert run.code.commit == "1a2b3c4"
    assert run.env.python == "3.10.12"
    assert run.env.packages["numpy"] == "1.26.4"
    assert run.seeds == {"global": 1234, "data_split": 42}
    assert run.data.format == "parquet"
    assert [s.name for s in run.splits] == ["val"] and run.splits[0].count == 3
    assert run.metrics.definitions["val_f1"].threshold == 0.5
    assert [a.path for a in run.artifacts] == ["artifacts/model.pt"]
    assert run.notes == "baseline run\n"


def test_cache_lives_outside_the_root_and_is_keyed_by_root(experiments: Path, tmp_path: Path, _private_cache: Path) -> None:
    with Catalog.open(experiments) as cat:
        assert cat.cache_file is not None
        assert cat.cache_file.exists()
        assert str(cat.cache_file).startswith(str(_private_cache))
        assert not str(cat.cache_file).startswith(str(experiments))
    assert cache_path_for(experiments) != cache_path_for(tmp_path)


def test_refuses_a_cache_dir_inside_the_root(experiments: Path) -> None:
    with pytest.raises(CatalogError, match="inside the runs folder"):
        Catalog.open(experiments, cache_dir=experiments / ".cache")
    assert not (experiments / ".cache").exists()


def test_warm_open_rereads_only_what_changed(experiments: Path) -> None:
    with Catalog.open(experiments) as cat:
        assert cat.last_refresh.added == 4
    with Catalog.open(experiments) as cat:
        assert (cat.last_refresh.added, cat.last_refresh.changed, cat.last_refresh.removed, cat.last_refresh.unchanged) == (0, 0, 0, 4)

    # change one run, add one, delete one
    metrics = experiments / "fraud-model/2025-01-07_14-32-11_run-023/metrics.json"
    metrics.write_text('{"final": {"val_auc": 0.95}}')
    os.utime(metrics, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    make_run(experiments / "fraud-model" / "2025-01-11_10-00-00_run-026")
    import shutil

    shutil.rmtree(experiments / "team")
    with Catalog.open(experiments) as cat:
        stats = cat.last_refresh
        assert (stats.added, stats.changed, stats.removed, stats.unchanged) == (1, 1, 1, 2)
        ids = cat.ids()
        assert "team/ranker/20250110-120000-abc123" not in ids
        assert "fraud-model/2025-01-11_10-00-00_run-026" in ids
        assert cat.get("fraud-model/2025-01-07_14-32-11_run-023").metrics.final == {"val_auc": 0.95}


def test_no_cache_writes_nothing(experiments: Path, _private_cache: Path) -> None:
    with Catalog.open(experiments, use_cache=False) as cat:
        assert cat.count() == 4
        assert cat.cache_file is None
    assert not any(_private_cache.rglob("*.sqlite"))


def test_corrupt_cache_is_rebuilt(experiments: Path) -> None:
    path = cache_path_for(experiments)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not sqlite" * 100)
    with Catalog.open(experiments) as cat:
        assert cat.count() == 4


def _checksums(root: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
            out[str(p.relative_to(root))] = (digest, st.st_mtime_ns)
    return out


def test_never_writes_inside_the_root(experiments: Path) -> None:
    before = _checksums(experiments)
    modes = {}
    for dirpath, dirnames, filenames in os.walk(experiments):
        for name in dirnames + filenames + [""]:
            p = Path(dirpath, name)
            modes[p] = p.stat().st_mode
    for p in modes:  # read-only tree: any write attempt would fail loudly
        p.chmod(modes[p] & ~0o222)
    try:
        with Catalog.open(experiments) as cat:
            assert cat.count() == 4
            for run_id in cat.ids():
                cat.get(run_id)
        with Catalog.open(experiments) as cat:
            assert cat.last_refresh.unchanged == 4
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert _checksums(experiments) == before


# -- queries -----------------------------------------------------------------------


def test_filters(experiments: Path) -> None:
    with Catalog.open(experiments) as cat:
        def ids(*exprs: str) -> set[str]:
            return {r.name for r in cat.list(filters=[parse_filter(e) for e in exprs])}

        assert ids("project=fraud-model") == {"2025-01-07_14-32-11_run-023", "2025-01-08_09-00-00_run-024", "2025-01-09_10-00-00_run-025"}
        assert ids("val_auc>0.906") == {"2025-01-07_14-32-11_run-023"}
        assert ids("metrics.val_auc<=0.905") == {"2025-01-08_09-00-00_run-024"}
        assert ids("config.optimizer.lr=0.01") == {"2025-01-08_09-00-00_run-024"}
        assert ids("config.optimizer.name=ADAM", "config.scheduler=cosine") == {"2025-01-08_09-00-00_run-024"}
        assert "2025-01-09_10-00-00_run-025" not in ids("status!=failed")
        assert len(ids("status!=failed")) == 3
        assert ids("ranker") == {"20250110-120000-abc123"}
        assert ids("name~run-02", "started>=2025-01-08") == {"2025-01-08_09-00-00_run-024", "2025-01-09_10-00-00_run-025"}
        assert ids("seeds.global=1234") == ids()
        assert ids("config.scheduler!=cosine") == ids() - {"2025-01-08_09-00-00_run-024"}
        assert cat.count(filters=[parse_filter("val_auc>0.9")]) == 2


def test_sorting_puts_missing_values_last(experiments: Path) -> None:
    with Catalog.open(experiments) as cat:
        asc = [r.name for r in cat.list(sort=parse_sort("val_auc"))]
        desc = [r.name for r in cat.list(sort=parse_sort("-val_auc"))]
        by_lr = [r.name for r in cat.list(sort=parse_sort("-config.optimizer.lr"))]
    assert asc[:2] == ["2025-01-08_09-00-00_run-024", "2025-01-07_14-32-11_run-023"]
    assert desc[:2] == ["2025-01-07_14-32-11_run-023", "2025-01-08_09-00-00_run-024"]
    assert set(asc[2:]) == set(desc[2:]) == {"2025-01-09_10-00-00_run-025", "20250110-120000-abc123"}
    assert by_lr[0] == "2025-01-08_09-00-00_run-024"


def test_bad_filters_say_what_to_write() -> None:
    with pytest.raises(QueryError, match="compare it with a number"):
        parse_filter("val_auc>high")
    with pytest.raises(QueryError, match="contains"):
        parse_filter("val_auc~9")
    with pytest.raises(QueryError, match="no value"):
        parse_filter("val_auc>")
    assert parse_filters('project=fraud-model "two words"')[1].value == "two words"
    assert parse_filter("project==b").op == "="


def test_resolve_by_id_path_and_suffix(experiments: Path) -> None:
    with Catalog.open(experiments) as cat:
        full = "fraud-model/2025-01-07_14-32-11_run-023"
        assert cat.resolve(full) == full
        assert cat.resolve(str(experiments / full)) == full
        assert cat.resolve("run-023") == full
        assert cat.resolve("2025-01-07_14-32-11_run-023/") == full
        with pytest.raises(AmbiguousRun) as amb:
            cat.resolve("run-02")
        assert len(amb.value.candidates) == 3
        with pytest.raises(RunNotFound) as missing:
            cat.resolve("2025-01-07_14-32-11_run-032")
        assert full in missing.value.candidates


def test_metric_comparisons_skip_missing_and_nan(experiments: Path) -> None:
    make_run(experiments / "fraud-model" / "2025-01-12_00-00-00_run-030", metrics='{"final": {"val_auc": NaN}}')
    with Catalog.open(experiments) as cat:
        names = {r.name for r in cat.list(filters=[parse_filter("val_auc>0")])}
        assert names == {"2025-01-07_14-32-11_run-023", "2025-01-08_09-00-00_run-024"}
        nan_run = cat.list(filters=[parse_filter("run-030")])
        assert len(nan_run) == 1 and nan_run[0].metrics["val_auc"] != nan_run[0].metrics["val_auc"]  # NaN kept as a value
        assert not cat.list(filters=[parse_filter("val_auc<=1"), parse_filter("run-030")])


def test_a_big_index_read_in_worker_processes_matches_a_serial_one(experiments: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spawn pool (used from PARALLEL_MIN new records up) must give exactly the serial rows."""
    import runsift.core.rows as rows_module

    for i in range(6):
        make_run(experiments / "bulk" / f"2025-02-0{i + 1}_10-00-00_run-{i:03d}", metrics={"final": {"val_auc": 0.8 + i / 100}})
    with Catalog.open(experiments, cache_dir=tmp_path / "serial", workers=1) as cat:
        serial = {r.id: r for r in cat.summaries()}
        serial_detail = cat.get("bulk/2025-02-03_10-00-00_run-002")
    monkeypatch.setattr(rows_module, "PARALLEL_MIN", 2)
    monkeypatch.setattr(rows_module.Reader, "TASK", 3)
    with Catalog.open(experiments, cache_dir=tmp_path / "pool", workers=2) as cat:
        assert cat.last_refresh.added == 10
        assert {r.id: r for r in cat.summaries()} == serial
        assert cat.get("bulk/2025-02-03_10-00-00_run-002") == serial_detail


def test_presorted_orders_are_the_same_as_sorting_on_demand(experiments: Path) -> None:
    with Catalog.open(experiments) as cat:
        sorts = [parse_sort(k) for k in ("val_auc", "-val_auc", "name", "-started", "status")]
        expected = {s: [r.id for r in cat.list(sort=s)] for s in sorts}
    with Catalog.open(experiments) as cat:
        cat.presort(sorts)
        assert {s: [r.id for r in cat.list(sort=s)] for s in sorts} == expected
        assert [r.id for r in cat.list(sort=sorts[0], filters=parse_filters("project=fraud-model"))] == [
            i for i in expected[sorts[0]] if i.startswith("fraud-model/")
        ]


def test_runs_sharing_a_file_word_for_word_each_get_its_problems_and_their_own_values(tmp_path: Path) -> None:
    """Identical small files are parsed once per process (runs share seeds, commits, snapshots, a pip
    freeze): each run must still carry the file's problems, and values no other run can change."""
    bad = {"seeds": "global=12x34, data_split=42\n", "commit": "not a commit hash at all\n", "data": "\n"}
    for name in ("run-1", "run-2"):
        make_run(tmp_path / "p" / name, **bad)
    with Catalog.open(tmp_path, use_cache=False) as cat:
        one, two = cat.get("p/run-1"), cat.get("p/run-2")
    for run in (one, two):
        assert {p.file.rsplit("/", 1)[1] for p in run.problems} >= {"seeds.txt", "data_snapshot.txt"}
        assert run.seeds == {"data_split": 42}
    assert [(p.message, p.line) for p in one.problems] == [(p.message, p.line) for p in two.problems]
    first, second = (load(f, tmp_path) for f in discover(tmp_path).found)
    first.seeds["global"] = 1  # type: ignore[index] - a caller changing what it got
    assert "global" not in second.seeds


def test_equal_looking_config_values_keep_their_own_text_and_number(tmp_path: Path) -> None:
    """Values that compare equal in Python (0.0 and -0.0, 1 and 1.0 and true) show and filter as written, run after run."""
    values = ["0.0", "-0.0", "1", "1.0", "true", "'1'", ".nan", "1e3", "-.inf"]
    for i, value in enumerate(values * 2):
        make_run(tmp_path / "p" / f"2025-01-01_10-00-{i:02d}_run-{i:03d}", config=f"x: {value}\n")
    with Catalog.open(tmp_path, use_cache=False) as cat:
        shown = cat.facet("config.x")
        texts = [shown[r.id][0] for r in sorted(cat.list(), key=lambda r: r.name)]
        assert texts == ["0.0", "-0.0", "1", "1.0", "true", "1", "nan", "1e3", "-inf"] * 2
        assert len(cat.list(filters=[parse_filter("config.x=1")])) == 6  # 1, 1.0 and '1': the same number
        assert len(cat.list(filters=[parse_filter("config.x<0")])) == 2  # -inf twice; -0.0 is not below 0

