"""The quick warm open: folder times decide what is listed again, and nothing changed is missed where it matters."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import age, make_run, rewrite_in_place, write
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
