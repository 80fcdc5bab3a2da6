"""Shared fixtures: a private cache dir for every test, and a small catalog built on disk."""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RUNS = REPO / "sample_runs"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the user's real cache from a test."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("RUNSIFT_ROOT", raising=False)
    return cache


def write(path: Path, text: str) -> Path:
    """Write dedented text, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def make_run(
    folder: Path,
    *,
    config: str = "optimizer:\n  name: adam\n  lr: 0.001\nbatch_size: 64\nepochs: 3\n",
    commit: str = "1a2b3c4\n",
    env: str = "Python 3.10.12\nnumpy==1.26.4\ntorch==2.1.0\n",
    seeds: str = "global=1234, data_split=42\n",
    data: str = "dataset_v23 parquet hash=0x9af2\n",
    metrics: dict | str | None = None,
    val_ids: list[str] | None = None,
    notes: str = "baseline run\n",
) -> Path:
    """A complete run container as in the tutorial's Example 1."""
    if metrics is None:
        metrics = {
            "final": {"val_auc": 0.91, "val_f1": 0.70},
            "per_epoch": [{"epoch": i, "val_auc": 0.8 + i * 0.03, "val_f1": 0.6 + i * 0.03} for i in (1, 2, 3)],
            "definitions": {"val_f1": {"version": "1", "threshold": 0.5}},
        }
    write(folder / "config.yaml", config)
    write(folder / "code_commit.txt", commit)
    write(folder / "env.txt", env)
    write(folder / "seeds.txt", seeds)
    write(folder / "data_snapshot.txt", data)
    write(folder / "metrics.json", metrics if isinstance(metrics, str) else json.dumps(metrics))
    write(folder / "splits" / "val_ids.txt", "\n".join(val_ids or ["a", "b", "c"]) + "\n")
    write(folder / "notes.md", notes)
    (folder / "artifacts").mkdir(exist_ok=True)
    (folder / "artifacts" / "model.pt").write_bytes(b"\x00weights")
    return folder


@pytest.fixture
def experiments(tmp_path: Path) -> Path:
    """A small tree: two fraud-model runs, one nested project run, and a failed run."""
    root = tmp_path / "experiments"
    make_run(root / "fraud-model" / "2025-01-07_14-32-11_run-023")
    make_run(
        root / "fraud-model" / "2025-01-08_09-00-00_run-024",
        config="optimizer:\n  name: adam\n  lr: 0.01\nbatch_size: 64\nepochs: 3\nscheduler: cosine\n",
        env="Python 3.10.12\nnumpy==2.0.1\ntorch==2.1.0\n",
        metrics={"final": {"val_auc": 0.905, "val_f1": 0.71}, "definitions": {"val_f1": {"version": "2", "threshold": 0.4}}},
        val_ids=["a", "b", "d"],
    )
    make_run(root / "team" / "ranker" / "20250110-120000-abc123", metrics={"final": {"ndcg": 0.5}})
    failed = make_run(root / "fraud-model" / "2025-01-09_10-00-00_run-025", metrics={"per_epoch": [{"epoch": 1, "val_auc": 0.7}], "status": "failed"})
    write(failed / "error.log", "Traceback (most recent call last):\nRuntimeError: loss is NaN\n")
    return root


def plain_text(renderable: object, width: int = 160) -> str:
    """What a Rich renderable (a Static's content) shows, as plain text."""
    import io

    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


HOUR_NS = 3_600_000_000_000


def age(root: Path, hours: float = 1.0) -> None:
    """Move every mtime below ``root`` into the past, as for runs written earlier in the day."""
    past = time.time_ns() - int(hours * HOUR_NS)
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            os.utime(os.path.join(folder, name), ns=(past, past))
        os.utime(folder, ns=(past, past))


def rewrite_in_place(path: Path, text: str) -> None:
    """Overwrite a file's bytes without creating a new one, as an evaluation script or an editor may."""
    with open(path, "r+", encoding="utf-8") as f:
        f.truncate(0)
        f.write(text)
    assert path.stat().st_mtime_ns > time.time_ns() - HOUR_NS  # the file's own time moved, its folder's did not


async def until(pilot, condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``condition()`` holds or ``seconds`` pass: for a state reached while a worker is
    held (workers_done would wait for the worker); the caller asserts what it expects."""
    for _ in range(int(seconds / 0.05)):
        await pilot.pause(0.05)
        if condition():
            return


async def workers_done(app) -> None:  # type: ignore[no-untyped-def]
    """Wait until no worker of ``app`` runs. A worker cancelled by a newer one of its group (a filter
    typed on, a list reloaded after indexing) is not a failure: wait for the ones that replaced it."""
    from textual.worker import WorkerCancelled

    while True:
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue
