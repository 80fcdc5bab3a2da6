"""The hand-written run container of the tutorial: a folder of small files, each with its own lenient reader.

A run is a folder holding a config (``config.yaml``/``.yml``/``.json``) or a ``metrics.json``
together with another run-container file; inside a sweep's ``runs/`` folder any such file
makes a run. This is where the per-file readers meet: which files to read, how to merge what
they say, status and start time, and every problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..naming import run_number_from_name, run_number_problem, started_from_name
from ..readers.code import CODE_FILE_NAMES, read_code
from ..readers.data import DATA_FILE_NAMES, read_data
from ..readers.env import ENV_FILE_NAMES, read_env
from ..readers.metrics import (
    METRICS_FILE_NAMES,
    is_metrics_file,
    last_values,
    read_metrics,
)
from ..readers.seeds import SEED_FILE_NAMES, read_seeds
from ..readers.splits import read_splits
from ..readers.sweep import BASELINE_NAMES, effective_config
from ..records import CodeState, DataSnapshot, Metrics, Run, Source, Status
from ..safeio import MAX_TEXT_BYTES, ReadContext
from ._common import ARTIFACTS_DIR, artifacts, dedupe, read_config, started_from_files
from ._inferred import configured_epochs, error_tail

if TYPE_CHECKING:
    from ..discover import FileStat, Found

NOTES_MAX_BYTES = 1024 * 1024

CONFIG_NAMES: tuple[str, ...] = ("config.yaml", "config.yml", "config.json")
CODE_NAMES: tuple[str, ...] = CODE_FILE_NAMES
NOTES_NAMES: tuple[str, ...] = ("notes.md", "notes.txt", "NOTES.md", "README.md", "notes")
STATUS_NAMES: tuple[str, ...] = ("status.txt", "STATUS", "status")
ERROR_NAMES: tuple[str, ...] = ("error.log", "error.txt", "traceback.txt", "FAILED", "stderr.log")
SPLITS_DIR = "splits"
SWEEP_RUNS_DIR = "runs"

RUN_ANCHORS = frozenset(CONFIG_NAMES) | {"metrics.json"}
RUN_FILES = (
    RUN_ANCHORS
    | set(CODE_NAMES)
    | set(NOTES_NAMES)
    | set(STATUS_NAMES)
    | set(ERROR_NAMES)
    | set(ENV_FILE_NAMES)
    | set(SEED_FILE_NAMES)
    | set(DATA_FILE_NAMES)
    | set(METRICS_FILE_NAMES)
    | {SPLITS_DIR, ARTIFACTS_DIR, "splits.json"}
)

_STATUS_WORDS: dict[str, Status] = {
    **dict.fromkeys(("finished", "completed", "complete", "success", "succeeded", "done", "ok"), "finished"),
    **dict.fromkeys(("failed", "failure", "error", "errored", "crashed", "killed", "oom", "aborted"), "failed"),
    **dict.fromkeys(("running", "in_progress", "in-progress", "started", "incomplete", "pending"), "incomplete"),
}

_UNREADABLE = ("invalid", "empty file", "binary", "cannot read", "file is", "not a regular", "symbolic link", "broken")
"""Starts of problem messages meaning a file could not be read at all (so a run is still being written)."""


def detect(names: Set[str]) -> bool:
    """A config or metrics.json together with at least one other run-container file."""
    anchors = names & RUN_ANCHORS
    if not anchors:
        return False
    return len(names & RUN_FILES) >= 2 or any(is_metrics_file(n) for n in names - anchors)


def member(names: Set[str]) -> bool:
    """Inside a sweep's ``runs/`` folder: any run-container file."""
    return not names.isdisjoint(RUN_FILES)


def is_live(name: str) -> bool:
    """Files a finished run may still rewrite in place (an evaluation adding a metric, a status)."""
    return is_metrics_file(name) or name in _LIVE_NAMES


_LIVE_NAMES = frozenset((*STATUS_NAMES, *ERROR_NAMES))


def read(found: Found, root: Path) -> Run:
    """Read every run-container file of one run folder; never raises for bad input."""
    ctx = ReadContext(root)
    folder = found.dir
    top = {f.rel: f for f in found.files if "/" not in f.rel}

    def present(names: Iterable[str]) -> list[Path]:
        return [folder / n for n in names if n in top]

    read: list[str] = []

    def first(names: tuple[str, ...] | list[str]) -> Path | None:
        paths = present(names)
        if paths:
            read.append(paths[0].name)
        return paths[0] if paths else None

    own_config = read_config(first(CONFIG_NAMES), ctx)
    config = own_config
    if found.sweep is not None:
        baseline = _sweep_baseline(root / found.sweep, root)
        config = effective_config(baseline, own_config) if baseline else own_config

    code_path = first(CODE_NAMES)
    code = read_code(code_path, ctx) if code_path else CodeState()
    env_paths = present(ENV_FILE_NAMES)
    read.extend(p.name for p in env_paths)
    env = read_env(env_paths, ctx) if env_paths else read_env([], ctx)
    seeds_path = first(SEED_FILE_NAMES)
    seeds = read_seeds(seeds_path, ctx) if seeds_path else {}
    data_path = first(DATA_FILE_NAMES)
    data = read_data(data_path, ctx) if data_path else DataSnapshot()
    metric_paths = present(METRICS_FILE_NAMES) + [folder / n for n in sorted(top) if n not in METRICS_FILE_NAMES and is_metrics_file(n)]
    read.extend(p.name for p in metric_paths)
    metrics = read_metrics(metric_paths, ctx) if metric_paths else Metrics()
    splits = read_splits(folder, ctx)
    notes_path = first(NOTES_NAMES)
    notes = (ctx.read_text(notes_path, NOTES_MAX_BYTES) or "") if notes_path else ""
    error_path = first(ERROR_NAMES)
    status, said = _status(found, config, metrics, ctx, first(STATUS_NAMES), error_path, metric_paths)
    if not metrics.final and metrics.series and status == "finished":
        metrics = Metrics(last_values(metrics.series), metrics.series, metrics.definitions, metrics.extra)

    started, guessed = _started(found, top)
    numbering = run_number_problem(found.name)
    if numbering is not None:
        ctx.problem(folder, numbering)
    return Run(
        id=found.id,
        path=str(folder),
        project=found.project,
        name=found.name,
        started=started,
        run_number=run_number_from_name(found.name),
        status=status,
        config=config,
        code=code,
        env=env,
        data=data,
        splits=splits,
        seeds=seeds,
        metrics=metrics,
        artifacts=artifacts(found.files),
        notes=notes,
        sweep=found.sweep,
        files=tuple(dict.fromkeys(read)),
        problems=tuple(dedupe(ctx.problems)),
        source=Source("container", None, (*(("started",) if guessed else ()), *(("status",) if not said and status != "unknown" else ()))),
        error=error_tail(ctx.read_text(error_path, MAX_TEXT_BYTES)) if error_path is not None else None,
    )


@lru_cache(maxsize=256)
def _baseline_cached(path: str, size: int, mtime_ns: int, root: str) -> dict[str, Any]:
    ctx = ReadContext(Path(root))
    doc = read_config(Path(path), ctx)
    return doc


def _sweep_baseline(sweep_dir: Path, root: Path) -> dict[str, Any]:
    """The sweep's baseline config (cached per file version; its problems belong to the sweep)."""
    for name in BASELINE_NAMES:
        path = sweep_dir / name
        try:
            st = path.stat()
        except OSError:
            continue
        return _baseline_cached(str(path), st.st_size, st.st_mtime_ns, str(root))
    return {}


def _status(
    found: Found,
    config: Mapping[str, Any],
    metrics: Metrics,
    ctx: ReadContext,
    status_path: Path | None,
    error_path: Path | None,
    metric_paths: list[Path],
) -> tuple[Status, bool]:
    """Explicit status file or metrics field first, then an error log, then what the metrics show; and whether
    the status was written (True) or inferred (False: listed in ``source.guessed``, shown as a guess)."""
    said: str | None = None
    if status_path is not None:
        text = ctx.read_text(status_path, MAX_TEXT_BYTES)
        said = (text or "").strip().splitlines()[0].strip().lower() if (text or "").strip() else None
    metric_files = {ctx.rel(m) for m in metric_paths}
    unreadable_metrics = any(p.file in metric_files and p.message.startswith(_UNREADABLE) for p in ctx.problems)
    if said is None and not unreadable_metrics:  # a cut metrics file's "status" was written before the cut
        value = metrics.extra.get("status") if isinstance(metrics.extra, Mapping) else None
        said = str(value).strip().lower() if value is not None else None
    if said:
        word = said.split()[0].strip(".:;,")
        if word in _STATUS_WORDS:
            return _STATUS_WORDS[word], True
    if error_path is not None:
        return "failed", False
    if metrics.final and not unreadable_metrics:
        return "finished", False
    if metrics.series and not unreadable_metrics:
        epochs = configured_epochs(config)
        done = max((len(s) for s in metrics.series.values()), default=0)
        if epochs is None or done >= epochs:
            return "finished", False
        return "incomplete", False
    if unreadable_metrics or metric_paths:
        return "incomplete", False
    return ("incomplete" if any(f.rel in CONFIG_NAMES for f in found.files) else "unknown"), False


def _started(found: Found, top: Mapping[str, FileStat]) -> tuple[datetime | None, bool]:
    """Start time from the folder name; else the config's (or oldest file's) modification time, a guess."""
    when = started_from_name(found.name)
    if when is not None:
        return when, False
    stats = [top[n] for n in CONFIG_NAMES if n in top] or list(top.values())
    when = started_from_files(stats)
    return when, when is not None
