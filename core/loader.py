"""Build a full record (Run, Sweep or ABTest) from a folder the walk found.

This is where the per-file readers meet: it picks which files to read, merges
what they say, works out status and start time, and gathers every problem.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from .discover import (
    ARTIFACTS_DIR,
    CODE_NAMES,
    CONFIG_NAMES,
    ERROR_NAMES,
    NOTES_NAMES,
    STATUS_NAMES,
    FileStat,
    Found,
)
from .naming import run_number_from_name, started_from_name
from .readers.abtest import read_abtest
from .readers.code import read_code
from .readers.data import DATA_FILE_NAMES, read_data
from .readers.env import ENV_FILE_NAMES, read_env
from .readers.metrics import (
    METRICS_FILE_NAMES,
    is_metrics_file,
    last_values,
    read_metrics,
)
from .readers.seeds import SEED_FILE_NAMES, read_seeds
from .readers.splits import read_splits
from .readers.sweep import BASELINE_NAMES, effective_config, read_sweep
from .records import (
    ABTest,
    Artifact,
    CodeState,
    DataSnapshot,
    Metrics,
    Record,
    Run,
    Status,
    Sweep,
)
from .safeio import MAX_TEXT_BYTES, ReadContext

NOTES_MAX_BYTES = 1024 * 1024

_STATUS_WORDS: dict[str, Status] = {
    **dict.fromkeys(("finished", "completed", "complete", "success", "succeeded", "done", "ok"), "finished"),
    **dict.fromkeys(("failed", "failure", "error", "errored", "crashed", "killed", "oom", "aborted"), "failed"),
    **dict.fromkeys(("running", "in_progress", "in-progress", "started", "incomplete", "pending"), "incomplete"),
}

_UNREADABLE = ("invalid", "empty file", "binary", "cannot read", "file is", "not a regular", "symbolic link", "broken")
"""Starts of problem messages meaning a file could not be read at all (so a run is still being written)."""

_ARTIFACT_KINDS: dict[str, str] = {
    **dict.fromkeys((".pt", ".pth", ".ckpt", ".npz", ".npy", ".pkl", ".joblib", ".onnx", ".h5", ".safetensors", ".bin"), "model"),
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".svg", ".pdf", ".gif"), "plot"),
    **dict.fromkeys((".csv", ".tsv", ".parquet", ".jsonl", ".json", ".feather", ".arrow"), "table"),
    **dict.fromkeys((".log",), "log"),
    **dict.fromkeys((".txt", ".md"), "text"),
}


def load(found: Found, root: Path) -> Record:
    """Read the record ``found`` describes; never raises for bad input."""
    if found.kind == "sweep":
        return load_sweep(found, root)
    if found.kind == "abtest":
        return load_abtest(found, root)
    return load_run(found, root)


def load_run(found: Found, root: Path) -> Run:
    """Read every run-container file of one run folder."""
    ctx = ReadContext(root)
    folder = found.dir
    top = {f.rel: f for f in found.files if "/" not in f.rel}
    present = lambda names: [folder / n for n in names if n in top]  # noqa: E731 - tiny local helper
    read: list[str] = []

    def first(names: tuple[str, ...] | list[str]) -> Path | None:
        paths = present(names)
        if paths:
            read.append(paths[0].name)
        return paths[0] if paths else None

    own_config = _read_config(first(CONFIG_NAMES), ctx)
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
    status = _status(found, config, metrics, ctx, first(STATUS_NAMES), first(ERROR_NAMES), metric_paths)
    if not metrics.final and metrics.series and status == "finished":
        metrics = Metrics(last_values(metrics.series), metrics.series, metrics.definitions, metrics.extra)

    return Run(
        id=found.id,
        path=str(folder),
        project=found.project,
        name=found.name,
        started=_started(found, top),
        run_number=run_number_from_name(found.name),
        status=status,
        config=config,
        code=code,
        env=env,
        data=data,
        splits=splits,
        seeds=seeds,
        metrics=metrics,
        artifacts=_artifacts(found.files),
        notes=notes,
        sweep=found.sweep,
        files=tuple(dict.fromkeys(read)),
        problems=tuple(_dedupe(ctx.problems)),
    )


def load_sweep(found: Found, root: Path) -> Sweep:
    """Read a sweep folder: spec, baseline, leaderboard; members come from the walk."""
    ctx = ReadContext(root)
    top = {f.rel: f for f in found.files if "/" not in f.rel}
    sweep = read_sweep(
        found.dir,
        ctx,
        id=found.id,
        project=found.project,
        name=found.name,
        run_ids=tuple(found.members),
        started=_started(found, top),
    )
    return _with_problems(sweep, ctx)


def load_abtest(found: Found, root: Path) -> ABTest:
    """Read an A/B repro kit."""
    ctx = ReadContext(root)
    record = read_abtest(found.dir, ctx, id=found.id, project=found.project, name=found.name)
    return _with_problems(record, ctx)


def _with_problems(record: Any, ctx: ReadContext) -> Any:
    from dataclasses import replace

    merged = tuple(_dedupe([*record.problems, *ctx.problems]))
    return replace(record, problems=merged) if merged != record.problems else record


def _read_config(path: Path | None, ctx: ReadContext) -> dict[str, Any]:
    if path is None:
        return {}
    doc = ctx.load_structured(path)
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        ctx.problem(path, f"config is a {type(doc).__name__}, expected a mapping of keys to values")
        return {}
    return {str(k): v for k, v in doc.items()}


@lru_cache(maxsize=256)
def _baseline_cached(path: str, size: int, mtime_ns: int, root: str) -> dict[str, Any]:
    ctx = ReadContext(Path(root))
    doc = _read_config(Path(path), ctx)
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
) -> Status:
    """Explicit status file or metrics field first, then an error log, then what the metrics show."""
    said: str | None = None
    if status_path is not None:
        text = ctx.read_text(status_path, MAX_TEXT_BYTES)
        said = (text or "").strip().splitlines()[0].strip().lower() if (text or "").strip() else None
    if said is None:
        value = metrics.extra.get("status") if isinstance(metrics.extra, Mapping) else None
        said = str(value).strip().lower() if value is not None else None
    if said:
        word = said.split()[0].strip(".:;,")
        if word in _STATUS_WORDS:
            return _STATUS_WORDS[word]
    if error_path is not None:
        return "failed"
    metric_files = {ctx.rel(m) for m in metric_paths}
    unreadable_metrics = any(p.file in metric_files and p.message.startswith(_UNREADABLE) for p in ctx.problems)
    if metrics.final and not unreadable_metrics:
        return "finished"
    if metrics.series and not unreadable_metrics:
        epochs = _configured_epochs(config)
        done = max((len(s) for s in metrics.series.values()), default=0)
        if epochs is None or done >= epochs:
            return "finished"
        return "incomplete"
    if unreadable_metrics or metric_paths:
        return "incomplete"
    return "incomplete" if any(f.rel in CONFIG_NAMES for f in found.files) else "unknown"


def _configured_epochs(config: Mapping[str, Any]) -> int | None:
    """Planned number of epochs, when the config says (``epochs``, ``training.epochs`` ...)."""
    for scope in (config, config.get("training"), config.get("train"), config.get("trainer")):
        if not isinstance(scope, Mapping):
            continue
        for key in ("epochs", "num_epochs", "max_epochs", "n_epochs"):
            value = scope.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def _started(found: Found, top: Mapping[str, FileStat]) -> datetime | None:
    """Start time from the folder name, else the config's (or oldest file's) modification time."""
    when = started_from_name(found.name)
    if when is not None:
        return when
    stats = [top[n] for n in CONFIG_NAMES if n in top] or list(top.values())
    if not stats:
        return None
    oldest = min(f.mtime_ns for f in stats)
    return datetime.fromtimestamp(oldest / 1e9).replace(microsecond=0)


def _artifacts(files: tuple[FileStat, ...]) -> tuple[Artifact, ...]:
    """Files under ``artifacts/`` plus loose model/plot/prediction files in the run folder."""
    out = []
    for f in files:
        kind = _artifact_kind_of(f.rel)
        if kind is not None:
            out.append(Artifact(f.rel, f.size, kind))
    return tuple(out)


@lru_cache(maxsize=4096)
def _artifact_kind_of(rel: str) -> str | None:
    """Kind of the file at ``rel`` in a run folder when it is an artifact, else None (cached: run folders repeat names)."""
    in_artifacts = rel.startswith(ARTIFACTS_DIR + "/")
    if not in_artifacts and "/" in rel:
        return None  # in another sub-folder (splits/ ...): neither kind of artifact
    name = rel.rsplit("/", 1)[-1]
    ext = os.path.splitext(name)[1].lower()
    loose = "/" not in rel and (_ARTIFACT_KINDS.get(ext) in ("model", "plot") or "prediction" in name.lower() or "preds" in name.lower())
    return _artifact_kind(name, ext) if in_artifacts or loose else None


def _artifact_kind(name: str, ext: str) -> str:
    lowered = name.lower()
    if "prediction" in lowered or lowered.startswith("preds"):
        return "predictions"
    return _ARTIFACT_KINDS.get(ext, "other")


def _dedupe(problems: list[Any]) -> list[Any]:
    return list(dict.fromkeys(problems))
