"""The quick warm open: folder times decide what is listed again, and nothing changed is missed where it matters."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import HOUR_NS, age, make_run, rewrite_in_place, write

import runsift.core.catalog as catalog_mod
from runsift.core.catalog import Catalog
from runsift.core.query import parse_filters


@pytest.fixture
def settled(experiments: Path) -> Path:
    """The sample tree with times in the past and a warm cache holding its walk memo."""
    age(experiments)
    with Catalog.open(experiments) as cat:
        assert cat.last_refresh.added == 4
    return experiments


RUN_023 = "fraud-model/2025-01-07_14-32-11_run-023"


def test_a_warm_open_lists_no_settled_run_again(settled: Path) -> None:
    with Catalog.open(settled) as cat:
        stats = cat.last_refresh
        assert (stats.unchanged, stats.listed, stats.changed) == (4, 0, 0)
        assert len(cat.summaries()) == 4


def test_a_metrics_file_rewritten_in_place_is_noticed(settled: Path) -> None:
    rewrite_in_place(settled / RUN_023 / "metrics.json", json.dumps({"final": {"val_auc": 0.97, "test_auc": 0.96}}))
    with Catalog.open(settled) as cat:
        assert (cat.last_refresh.changed, cat.last_refresh.listed) == (1, 1)
        row = next(r for r in cat.summaries() if r.id == RUN_023)
        assert row.metrics == {"val_auc": 0.97, "test_auc": 0.96}


def test_new_removed_and_replaced_files_and_runs_are_noticed(settled: Path) -> None:
    write(settled / RUN_023 / "status.txt", "failed\n")  # a new file changes the run folder's time
    config = settled / "fraud-model/2025-01-08_09-00-00_run-024/config.yaml"
    tmp = config.with_suffix(".tmp")
    tmp.write_text("optimizer:\n  name: sgd\n  lr: 0.5\n", encoding="utf-8")
    os.replace(tmp, config)  # an atomic save: rename over the old file
    make_run(settled / "fraud-model" / "2025-01-12_10-00-00_run-027")
    shutil.rmtree(settled / "team" / "ranker" / "20250110-120000-abc123")
    with Catalog.open(settled) as cat:
        stats = cat.last_refresh
        assert (stats.added, stats.changed, stats.removed, stats.unchanged) == (1, 2, 1, 1)
        rows = {r.id: r for r in cat.summaries()}
        assert rows[RUN_023].status == "failed"
        assert cat.list(filters=parse_filters("config.optimizer.name=sgd"))[0].id.endswith("run-024")
        assert "fraud-model/2025-01-12_10-00-00_run-027" in rows
        assert not any(i.startswith("team/") for i in rows)


def test_an_in_place_edit_elsewhere_is_seen_when_the_run_is_opened_or_on_a_full_rescan(settled: Path) -> None:
    rewrite_in_place(settled / RUN_023 / "config.yaml", "optimizer:\n  name: adam\n  lr: 0.3\n")
    rewrite_in_place(settled / "fraud-model/2025-01-08_09-00-00_run-024/notes.md", "re-checked: label leak\n")
    with Catalog.open(settled) as cat:
        assert cat.last_refresh.listed == 0  # the quick walk trusts the folder times ...
        run = cat.get(RUN_023)  # ... but opening a run lists it again
        assert run.config["optimizer"]["lr"] == 0.3
        assert [r.id for r in cat.list(filters=parse_filters("config.optimizer.lr=0.3"))] == [RUN_023]
    with Catalog.open(settled, full=True) as cat:
        stats = cat.last_refresh
        assert (stats.listed, stats.changed) == (4, 1)  # run-023 was already re-read by get()
        assert cat.get("fraud-model/2025-01-08_09-00-00_run-024").notes == "re-checked: label leak\n"


# -- runs settled for more than a day: their folder's time alone (catalog.SETTLED_NS) -----------------

FAILED_025 = "fraud-model/2025-01-09_10-00-00_run-025"


@pytest.fixture
def archive(experiments: Path) -> Path:
    """The sample tree with every time two days old (runs done long ago) and a warm cache."""
    age(experiments, hours=48)
    with Catalog.open(experiments) as cat:
        assert cat.last_refresh.added == 4
    return experiments


def memo_live(root: Path) -> dict[str, str]:
    """The live files the cache's walk memo watches, per run (what a quick open stats besides the folder)."""
    import sqlite3

    from runsift.core.catalog import cache_path_for

    db = sqlite3.connect(cache_path_for(root))
    try:
        return dict(db.execute("SELECT id, live FROM walk_runs"))
    finally:
        db.close()


def metrics_of(cat: Catalog, run_id: str) -> dict[str, Any]:
    return next(r for r in cat.summaries() if r.id == run_id).metrics


def test_a_run_settled_for_a_day_is_checked_by_its_folder_alone(archive: Path) -> None:
    assert memo_live(archive) == {RUN_023: "", "fraud-model/2025-01-08_09-00-00_run-024": "", RANKER: "", FAILED_025: ""}
    with Catalog.open(archive) as cat:
        assert (cat.last_refresh.unchanged, cat.last_refresh.listed) == (4, 0)


def test_metrics_of_a_run_settled_for_a_day_edited_in_place_are_seen_by_a_rescan_or_opening_it_not_a_quick_open(archive: Path) -> None:
    """The documented trade for a 100k warm open under a second: one stat a settled run, not two."""
    rewrite_in_place(archive / RUN_023 / "metrics.json", json.dumps({"final": {"val_auc": 0.97}}))
    rewrite_in_place(archive / FAILED_025 / "error.log", "RuntimeError: CUDA out of memory\n")
    with Catalog.open(archive) as cat:
        assert (cat.last_refresh.listed, cat.last_refresh.changed) == (0, 0)
        assert metrics_of(cat, RUN_023) == {"val_auc": 0.91, "val_f1": 0.70}  # as last read
        assert "out of memory" in (cat.get(FAILED_025).error or "")  # opening a run checks all its files
    with Catalog.open(archive, full=True) as cat:  # --rescan, r in the app
        assert (cat.last_refresh.listed, cat.last_refresh.changed) == (4, 1)
        assert metrics_of(cat, RUN_023) == {"val_auc": 0.97}


def test_a_run_settled_for_a_day_still_shows_files_added_removed_or_saved_over(archive: Path) -> None:
    write(archive / RUN_023 / "status.txt", "failed\n")
    tmp = archive / RANKER / "metrics.json.tmp"
    tmp.write_text(json.dumps({"final": {"ndcg": 0.6}}), encoding="utf-8")
    os.replace(tmp, archive / RANKER / "metrics.json")  # an atomic save: a rename changes the folder's time
    (archive / FAILED_025 / "error.log").unlink()
    make_run(archive / "fraud-model" / "2025-01-12_10-00-00_run-027")
    shutil.rmtree(archive / "fraud-model" / "2025-01-08_09-00-00_run-024")
    with Catalog.open(archive) as cat:
        stats = cat.last_refresh
        assert (stats.added, stats.changed, stats.removed) == (1, 3, 1)  # changed: run-023, the ranker, run-025
        rows = {r.id: r for r in cat.summaries()}
    assert rows[RUN_023].status == "failed"
    assert rows[RANKER].metrics == {"ndcg": 0.6}
    assert "fraud-model/2025-01-12_10-00-00_run-027" in rows and "fraud-model/2025-01-08_09-00-00_run-024" not in rows


def test_a_run_not_finished_keeps_its_metrics_watched_however_old(archive: Path) -> None:
    live = make_run(archive / "fraud-model" / "2025-01-13_10-00-00_run-028", metrics={"per_epoch": [{"epoch": 1, "val_auc": 0.7}]})
    age(live, hours=48)
    age_one(live.parent)
    with Catalog.open(archive) as cat:
        assert cat.last_refresh.added == 1
    assert memo_live(archive)["fraud-model/2025-01-13_10-00-00_run-028"] == "metrics.json"
    rewrite_in_place(live / "metrics.json", json.dumps({"per_epoch": [{"epoch": 1, "val_auc": 0.7}, {"epoch": 2, "val_auc": 0.8}]}))
    with Catalog.open(archive) as cat:
        assert (cat.last_refresh.listed, cat.last_refresh.changed) == (1, 1)


def test_a_run_settled_recently_is_watched_until_a_day_has_passed(settled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settled an hour ago: its live files are still looked at. Once a day has gone by, the walk that
    finds it unchanged lets them go, so a cache written before this rule, or a run that was young when
    listed, gets there without being listed again."""
    assert memo_live(settled)[RUN_023] == "metrics.json"
    assert memo_live(settled)[FAILED_025] == "error.log\nmetrics.json"
    monkeypatch.setattr(catalog_mod, "SETTLED_NS", HOUR_NS // 2)  # the day has passed
    with Catalog.open(settled) as cat:
        assert (cat.last_refresh.unchanged, cat.last_refresh.listed) == (4, 0)
    assert set(memo_live(settled).values()) == {""}
    rewrite_in_place(settled / RUN_023 / "metrics.json", json.dumps({"final": {"val_auc": 0.97}}))
    with Catalog.open(settled) as cat:
        assert cat.last_refresh.changed == 0
    with Catalog.open(settled, full=True) as cat:
        assert metrics_of(cat, RUN_023) == {"val_auc": 0.97}


def test_the_settled_key_is_the_quick_key_of_the_files_still_watched() -> None:
    from runsift.core.discover import FileStat, _context, _quick_key, settled_key

    context = _context("fraud:model", None, ())
    files = (FileStat("error:1.log", 10, 100), FileStat("meta.yaml", 20, 200), FileStat("metrics.json", 30, 300))
    memo = (_quick_key(50, files, context), tuple(f.rel for f in files))
    assert settled_key(memo, 301) == (_quick_key(50, files[1:2], context), ("meta.yaml",))  # MLflow's, kept
    assert settled_key(memo, 300) is None  # a file touched too recently
    assert settled_key(("garbled", ("metrics.json",)), 301) is None
    only_mlflow = (_quick_key(50, files[1:2], context), ("meta.yaml",))
    assert settled_key(only_mlflow, 301) is None  # nothing to let go


def test_runs_still_being_written_are_listed_on_every_open(settled: Path) -> None:
    live = make_run(settled / "fraud-model" / "2025-01-13_10-00-00_run-028", metrics={"per_epoch": [{"epoch": 1, "val_auc": 0.7}]})
    age(settled)
    with Catalog.open(settled) as cat:
        assert cat.get("fraud-model/2025-01-13_10-00-00_run-028").status not in ("finished", "failed")
    rewrite_in_place(live / "config.yaml", "optimizer:\n  name: adam\n  lr: 0.7\n")
    with Catalog.open(settled) as cat:
        stats = cat.last_refresh
        assert (stats.listed, stats.changed) == (1, 1)
        assert [r.id for r in cat.list(filters=parse_filters("config.optimizer.lr=0.7"))] == [
            "fraud-model/2025-01-13_10-00-00_run-028"
        ]


def test_runs_written_seconds_ago_are_not_trusted_yet(experiments: Path) -> None:
    """A file changed twice within one mtime tick would look unchanged: fresh times are checked again."""
    with Catalog.open(experiments):
        pass
    with Catalog.open(experiments) as cat:
        assert cat.last_refresh.listed == 4


def test_a_sweep_baseline_edited_in_place_re_reads_its_runs(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    sweep = root / "nlp-intent" / "sweep-07"
    write(sweep / "sweep.yaml", "metric: val_acc\ngoal: maximize\n")
    write(sweep / "baseline_config.yaml", "optimizer:\n  lr: 0.01\nbatch_size: 32\n")
    for name in ("run-1", "run-2"):
        write(sweep / "runs" / name / "config.yaml", "batch_size: 64\n")
        write(sweep / "runs" / name / "metrics.json", '{"final": {"val_acc": 0.8}}')
    age(root)
    with Catalog.open(root) as cat:
        assert cat.last_refresh.added == 3
    with Catalog.open(root) as cat:
        assert cat.last_refresh.listed == 1  # the sweep itself is small and always listed
    rewrite_in_place(sweep / "baseline_config.yaml", "optimizer:\n  lr: 0.02\nbatch_size: 32\n")
    write(sweep / "runs" / "run-3" / "config.yaml", "batch_size: 128\n")
    with Catalog.open(root) as cat:
        stats = cat.last_refresh
        assert (stats.added, stats.changed) == (1, 3)  # run-3; the sweep and both runs (effective config)
        assert cat.get("nlp-intent/sweep-07/runs/run-1").config["optimizer"]["lr"] == 0.02
        assert cat.get("nlp-intent/sweep-07").run_ids == (
            "nlp-intent/sweep-07/runs/run-1",
            "nlp-intent/sweep-07/runs/run-2",
            "nlp-intent/sweep-07/runs/run-3",
        )


def test_a_run_abandoned_for_a_day_is_trusted_like_a_finished_one(settled: Path) -> None:
    make_run(settled / "fraud-model" / "2025-01-14_10-00-00_run-029", metrics={"per_epoch": [{"epoch": 1, "val_auc": 0.7}]})
    age(settled, hours=30)
    with Catalog.open(settled):
        pass
    with Catalog.open(settled) as cat:
        assert (cat.last_refresh.listed, cat.last_refresh.unchanged) == (0, 5)
    rewrite_in_place(settled / "fraud-model" / "2025-01-14_10-00-00_run-029" / "metrics.json", '{"final": {"val_auc": 0.75}}')
    with Catalog.open(settled) as cat:  # it came back to life: its metrics file says so
        assert cat.last_refresh.changed == 1
        assert next(r for r in cat.summaries() if r.id.endswith("run-029")).status == "finished"


def test_a_removed_run_restored_with_its_old_times_is_listed_again(settled: Path, tmp_path: Path) -> None:
    """A backup restored with ``cp -a`` has the very times the memo knew: the memo must not outlive the record."""
    run = settled / "team" / "ranker" / "20250110-120000-abc123"
    backup = tmp_path / "backup"
    shutil.copytree(run, backup)  # copies times too, as cp -a and rsync -a do
    shutil.rmtree(run)
    with Catalog.open(settled) as cat:
        assert cat.last_refresh.removed == 1
    shutil.copytree(backup, run)
    os.utime(run, ns=(os.stat(backup).st_atime_ns, os.stat(backup).st_mtime_ns))
    age_one(run.parent)
    with Catalog.open(settled) as cat:
        assert cat.last_refresh.added == 1
        assert "team/ranker/20250110-120000-abc123" in {r.id for r in cat.summaries()}


def test_a_removed_run_is_noticed_however_many_runs_stay(settled: Path) -> None:
    """A quick walk counts rather than compares every id: a run gone and another come must not cancel out."""
    shutil.rmtree(settled / "team" / "ranker" / "20250110-120000-abc123")
    make_run(settled / "fraud-model" / "2025-01-12_10-00-00_run-027")
    with Catalog.open(settled) as cat:
        assert (cat.last_refresh.added, cat.last_refresh.removed) == (1, 1)
        assert not any(r.id.startswith("team/") for r in cat.summaries())


# -- found in review: each of these once gave a quick walk that differed from a full one ------------


def age_one(*paths: Path) -> None:
    """Half an hour ago, for just these paths (what the change touched), so the rest keep their memo."""
    past = time.time_ns() - HOUR_NS // 2
    for path in paths:
        os.utime(path, ns=(past, past))


def ids_of(root: Path, **kwargs: object) -> list[tuple[str, str]]:
    with Catalog.open(root, **kwargs) as cat:  # type: ignore[arg-type]
        return sorted((r.id, r.kind) for r in cat.summaries())


def test_a_folder_that_becomes_a_sweep_has_its_runs_found(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    for run in ("r1", "r2"):  # a config alone: a run inside a sweep, a plain folder outside one
        write(root / "proj" / "grid" / "runs" / run / "config.yaml", "lr: 0.1\n")
    write(root / "proj" / "grid" / "notes.txt", "x\n")
    age(root)
    assert ids_of(root) == []
    write(root / "proj" / "grid" / "sweep.yaml", "metric: val_acc\n")
    age_one(root / "proj" / "grid" / "sweep.yaml", root / "proj" / "grid")  # runs/ and below keep their times
    assert ids_of(root) == ids_of(root, full=True) == [
        ("proj/grid", "sweep"), ("proj/grid/runs/r1", "run"), ("proj/grid/runs/r2", "run")
    ]


def test_a_sweep_inside_a_sweep_that_stops_being_one_is_found(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    write(root / "outer" / "sweep.yaml", "metric: a\n")
    write(root / "outer" / "runs" / "inner" / "sweep.yaml", "metric: a\n")
    write(root / "outer" / "runs" / "inner" / "runs" / "x" / "config.yaml", "lr: 1\n")
    write(root / "outer" / "runs" / "inner" / "runs" / "x" / "metrics.json", '{"final": {"a": 1}}')
    age(root)
    ids_of(root)
    os.remove(root / "outer" / "sweep.yaml")
    age_one(root / "outer")
    assert ids_of(root) == ids_of(root, full=True)
    assert ("outer/runs/inner", "sweep") in ids_of(root)


def test_a_folder_name_that_is_not_utf8_does_not_break_the_cache(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    make_run(root / "ok" / "run-1")
    os.makedirs(os.fsencode(root) + b"/grp\xff/sub")
    age(root)
    for _ in range(2):
        assert [i for i, _kind in ids_of(root)] == ["ok/run-1"]


def test_a_broken_link_is_reported_as_broken_on_a_quick_open(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    make_run(root / "p" / "run-1")
    target = tmp_path / "elsewhere"
    target.mkdir()
    os.symlink(target, root / "p" / "shared")
    age(root)
    with Catalog.open(root) as cat:
        assert any("outside the root" in p.message for p in cat.problems)
    shutil.rmtree(target)
    with Catalog.open(root) as cat:
        assert [p.message for p in cat.problems] == ["link to a folder is broken or loops; not followed"]


def test_opening_a_run_replaced_by_a_link_does_not_follow_it(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    make_run(root / "p" / "run-1")
    make_run(tmp_path / "outside", config="secret: 42\n")
    with Catalog.open(root) as cat:
        shutil.rmtree(root / "p" / "run-1")
        os.symlink(tmp_path / "outside", root / "p" / "run-1")
        assert "secret" not in cat.get("p/run-1").config


def test_a_filter_typed_on_after_a_refresh_replaced_the_list_sees_the_new_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refresh in another thread between sorting and remembering a result must not leave old rows."""
    from runsift.core.query import Sort, parse_filters

    root = tmp_path / "exp"
    for i in range(3):
        make_run(root / "p" / f"fr-{i}")
    age(root)
    cat = Catalog.open(root, use_cache=False)
    sort = Sort("name")
    original = Catalog._ordered
    raced = []

    def ordered(self: Catalog, s: Sort, everything: list) -> list:  # type: ignore[type-arg]
        out = original(self, s, everything)
        if not raced:  # as if the index worker stored a new run and another worker reloaded the list
            raced.append(True)
            make_run(root / "p" / "fr-new")
            self.refresh()
            self.summaries()
        return out

    monkeypatch.setattr(Catalog, "_ordered", ordered)
    cat.list(filters=parse_filters("fr"), sort=sort)
    monkeypatch.setattr(Catalog, "_ordered", original)
    typed = [r.id for r in cat.list(filters=parse_filters("fr-"), sort=sort)]
    assert typed == sorted(r.id for r in cat.summaries() if "fr-" in r.search)
    cat.close()


def test_a_run_folder_named_in_bytes_that_are_not_utf8_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    make_run(root / "p" / "ok-run")
    make_run(Path(os.fsdecode(os.fsencode(root) + b"/p/run-\xff")))
    for _ in range(2):
        with Catalog.open(root) as cat:
            assert [r.id for r in cat.summaries()] == ["p/ok-run"]
            assert [(p.file, "not valid UTF-8" in p.message) for p in cat.problems] == [("p/run-\\xff", True)]


def test_a_sweep_member_named_in_bytes_that_are_not_utf8_is_left_out_of_the_sweep(tmp_path: Path) -> None:
    from runsift.core.catalog import RunNotFound

    root = tmp_path / "exp"
    sweep = root / "nlp" / "sweep-07"
    write(sweep / "sweep.yaml", "metric: val_acc\ngoal: maximize\n")
    for name in (b"run-1", b"run-\xff"):
        run = Path(os.fsdecode(os.fsencode(sweep) + b"/runs/" + name))
        write(run / "config.yaml", "lr: 0.1\n")
        write(run / "metrics.json", '{"final": {"val_acc": 0.8}}')
    with Catalog.open(root) as cat:
        assert cat.get("nlp/sweep-07").run_ids == ("nlp/sweep-07/runs/run-1",)
        assert any(p.file == "nlp/sweep-07/runs/run-\\xff" for p in cat.problems)
        with pytest.raises(RunNotFound):
            cat.get(os.fsdecode(b"nlp/sweep-07/runs/run-\xff"))


def test_a_link_to_a_file_that_breaks_is_reported_on_a_quick_open(tmp_path: Path) -> None:
    root = tmp_path / "exp"
    make_run(root / "p" / "run-1")
    target = tmp_path / "shared.txt"
    target.write_text("x\n")
    os.symlink(target, root / "p" / "shared.txt")
    age(root)
    with Catalog.open(root) as cat:
        assert cat.problems == []
    target.unlink()
    with Catalog.open(root) as cat:
        assert [p.message for p in cat.problems] == ["link to a folder is broken or loops; not followed"]


def test_a_root_whose_path_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    from runsift.core.catalog import CatalogError

    root = Path(os.fsdecode(os.fsencode(tmp_path) + b"/exp-\xff"))
    make_run(root / "p" / "run-1")
    with pytest.raises(CatalogError, match="not valid UTF-8"):
        Catalog.open(root)


RANKER = "team/ranker/20250110-120000-abc123"
NEW = "fraud-model/2025-01-15_10-00-00_run-030"


def _run_arriving_with_old_times(root: Path) -> None:
    """A finished run copied in by ``rsync -a``/``mv``: its own times are old."""
    run = make_run(root / NEW, metrics={"final": {"val_auc": 0.93}})
    age(run)


def _after_the_walk(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """Make the next refresh run ``action`` once, right after its walk: another process at work meanwhile."""
    real = catalog_mod.discover

    def discover(*args: Any, **kwargs: Any) -> Any:
        walk = real(*args, **kwargs)
        monkeypatch.setattr(catalog_mod, "discover", real)
        action()
        return walk

    monkeypatch.setattr(catalog_mod, "discover", discover)


def test_a_refresh_does_not_delete_a_run_that_another_refresh_added_during_its_walk(settled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runsift processes on one cache (the app open, a command run beside it): A's walk has passed
    fraud-model/ when a run arrives there, and B finds and stores it. A must not take it for removed."""
    other: dict[str, int] = {}

    def b_indexes_a_new_run() -> None:
        _run_arriving_with_old_times(settled)
        with Catalog.open(settled) as b:
            other["added"] = b.last_refresh.added

    _after_the_walk(monkeypatch, b_indexes_a_new_run)
    with Catalog.open(settled) as a:
        stats = a.last_refresh
    assert other["added"] == 1
    with Catalog.open(settled, refresh=False) as cat:
        cached = {r.id for r in cat.summaries()}
    assert (stats.removed, NEW in cached) == (0, True)


def test_a_refresh_racing_another_leaves_quick_and_full_opens_alike(settled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same race, with B's memo written last (B stores records, then its memo, in two transactions):
    no memo entry may hide a run, or make a later removal go unnoticed."""
    other: dict[str, Any] = {}

    def b_indexes_a_new_run_and_saves_its_memo_late() -> None:
        _run_arriving_with_old_times(settled)
        b = Catalog.open(settled, refresh=False)
        b._save_memo = lambda *a: other.setdefault("memo", (b, a))  # type: ignore[method-assign]
        b.refresh()

    _after_the_walk(monkeypatch, b_indexes_a_new_run_and_saves_its_memo_late)
    with Catalog.open(settled):
        pass
    b, args = other["memo"]
    Catalog._save_memo(b, *args)  # B's refresh ends
    b.close()

    shutil.rmtree(settled / RUN_023)  # later: a run is deleted
    age_one(settled / "fraud-model")
    quick = ids_of(settled)
    full = ids_of(settled, full=True)
    assert quick == full, f"quick-only {sorted(set(quick) - set(full))}, full-only {sorted(set(full) - set(quick))}"


def test_a_long_lived_catalog_reads_with_the_root_it_resolved_first(tmp_path: Path) -> None:
    """The app keeps one Catalog and refreshes it ('r'). When its root folder is replaced by a link
    (exp -> exp-2025-02, a deploy swap), the walk follows the new target, and reading must check
    files against that same root: a config linked to a file inside it is read, problems keep
    relative paths, as a fresh open gives."""
    root = tmp_path / "exp"
    write(root / "shared" / "base.yaml", "lr: 0.5\n")
    make_run(root / "p" / "run-1")
    cat = Catalog.open(root)  # reads run-1: caches realpath(root) == root
    target = tmp_path / "exp-2025-02"
    shutil.copytree(root, target, symlinks=True)
    run2 = make_run(target / "p" / "run-2", config="lr: 0.1\n")
    (run2 / "config.yaml").unlink()
    os.symlink("../../shared/base.yaml", run2 / "config.yaml")
    write(run2 / "seeds.txt", "\x00\x01 not text")  # something to report a problem about
    os.rename(root, tmp_path / "exp-old")
    os.symlink(target, root)
    cat.refresh()
    long_lived = cat.get("p/run-2")
    cat.close()
    with Catalog.open(root) as fresh:  # what the same command gives in a new process (or before the change)
        expected = fresh.get("p/run-2")
    assert (long_lived.config, [p.file for p in long_lived.problems]) == (expected.config, [p.file for p in expected.problems])


def test_a_run_whose_sweep_goes_away_gets_its_new_project_and_sweep(tmp_path: Path) -> None:
    """With no baseline file, removing sweep.yaml leaves the runs' files (and so fingerprints) as they
    were: where a run sits is compared too, on a full rescan as on a quick one."""
    root = tmp_path / "exp"
    write(root / "nlp" / "grid" / "sweep.yaml", "metric: a\n")
    write(root / "nlp" / "grid" / "runs" / "r1" / "config.yaml", "lr: 0.1\n")
    write(root / "nlp" / "grid" / "runs" / "r1" / "metrics.json", '{"final": {"a": 1}}')
    age(root)
    with Catalog.open(root):
        pass
    os.remove(root / "nlp" / "grid" / "sweep.yaml")
    with Catalog.open(root, full=True) as cat:
        row = next(r for r in cat.summaries() if r.id == "nlp/grid/runs/r1")
    with Catalog.open(root, cache_dir=tmp_path / "fresh") as cat:
        expected = next(r for r in cat.summaries() if r.id == "nlp/grid/runs/r1")
    assert (row.project, row.sweep) == (expected.project, expected.sweep) == ("runs", None)


def test_a_memo_entry_left_without_its_record_does_not_hide_the_run_or_a_removal(settled: Path) -> None:
    """Earlier versions deleted removed records in one transaction and their memo entries in a later
    one: a Ctrl-C in between left memo entries without records. Simulated by that very state."""
    import sqlite3

    from runsift.core.catalog import cache_path_for

    db = sqlite3.connect(cache_path_for(settled))
    with db:  # what c4a5c2c's refresh leaves when interrupted after deleting RANKER
        db.execute("DELETE FROM records WHERE id = ?", (RANKER,))
        db.execute("DELETE FROM details WHERE id = ?", (RANKER,))
    db.close()
    shutil.rmtree(settled / RUN_023)
    age_one(settled / "fraud-model")
    with Catalog.open(settled) as cat:
        stats = cat.last_refresh
        ids = {r.id for r in cat.summaries()}
    assert (RUN_023 in ids, stats.removed) == (False, 1)
    assert RANKER in ids  # listed and read again, not trusted from a memo entry without a record
