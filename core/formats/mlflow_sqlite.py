"""MLflow's SQLite store (``sqlite:///mlflow.db``): many runs in one file, read without writing a byte.

One ``mlflow.db`` holds every run of every experiment, so no folder is a run: :func:`stores`
names the store files among a folder's entries, :func:`expand` lists one record per run of a
store, and :func:`read` reads one run back. What a run takes from the tables is what the file
store's reader (:mod:`.mlflow`) takes from its files, through the same helpers:

* ``runs``: ``name``, ``status`` as text (FINISHED, FAILED, KILLED, RUNNING, SCHEDULED),
  ``start_time``/``end_time`` in ms since the epoch, ``user_id``, ``source_version``,
  ``lifecycle_stage`` (``deleted`` marks :attr:`Run.deleted`), ``experiment_id``.
* ``experiments``: ``name``, the run's project (else the walk's project).
* ``params``, ``tags``: text as MLflow stored it, re-nested and read as numbers like the file store's.
* ``metrics``: every logged value (``is_nan`` marks a NaN, whose ``value`` column holds 0); the
  final value is MLflow's own (highest step, then newest timestamp), the series one value a step.

Every run of a store carries the store file's size and mtime (and its ``-wal``'s) as its files,
so any write to the store changes every one of its runs' fingerprints and all are read again on
the next open: a store is read whole either way, and a run is a few indexed queries.

The file is opened with a ``mode=ro`` URI, which in rollback-journal mode (MLflow's default)
neither creates nor changes a file, and reads a live writer's committed state. A writer holding
the lock past :data:`TIMEOUT_S` while the store is listed makes it :class:`Held`: the catalog keeps
the runs it listed last time, each marked as shown from the last successful read, and reads them
again once the lock is gone (while a run is read, it is a problem on the run, as a hot journal is). SQLite
would create ``-wal``/``-shm`` beside a WAL-mode database even read-only, so such a store is
opened ``immutable``: only its checkpointed pages are read, a ``-wal`` present is reported, and a
read torn by a concurrent checkpoint fails as a malformed database, a problem, never a crash.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Set
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..naming import run_number_from_name
from ..records import Metrics, Problem, Run, Source, Status
from ..safeio import ReadContext
from ._inferred import nest
from ._mlflow_files import (
    MAX_KEYS,
    MAX_RUN_METRIC_LINES,
    MAX_VALUE_BYTES,
    keep_point,
    metrics_from_points,
)
from .mlflow import (
    _NOTE_TAG,
    _STATUSES,
    _code,
    _flat_seeds,
    _ms_time,
    _status_name,
    param_value,
)

if TYPE_CHECKING:
    from ..discover import FileStat, Found, Held

FORMAT = "mlflow-sqlite"
STORE_NAMES = ("mlflow.db",)
"""MLflow's default store file name; other ``*.db`` files cannot be told apart by name alone."""
MAX_RUNS = 100_000
"""Most runs listed from one store."""
TIMEOUT_S = 2.0
"""How long a read waits for a writer's lock before the run gets a problem."""
_SQLITE_MAGIC = b"SQLite format 3\x00"


def detect(names: Set[str]) -> bool:
    """Never: a store is no run folder; its runs come from :func:`expand`."""
    return False


def stores(names: Set[str]) -> tuple[str, ...]:
    """The entries of a folder that are MLflow SQLite stores (``mlflow.db``). Names only, no I/O."""
    return tuple(n for n in STORE_NAMES if n in names)


def expand(path: Path, rel: str, project: str) -> tuple[list[Found] | Held, list[Problem]]:
    """One record per run of the store at ``path`` (in the folder ``rel`` below the root), and what stopped the listing;
    a store a writer keeps locked past :data:`TIMEOUT_S` is :class:`Held`: its runs stay as last read."""
    from ..discover import Found, Held  # the walk imports the formats

    where = f"{rel}/{path.name}".lstrip("/")
    files = _stats(path)
    if not files:
        return [], [Problem(where, "cannot read the MLflow store: it is gone or not a file")]
    try:
        with closing(_open(path)) as con:
            rows = con.execute(
                "SELECT r.run_uuid, r.name, e.name FROM runs r LEFT JOIN experiments e ON e.experiment_id = r.experiment_id "
                "ORDER BY r.run_uuid LIMIT ?",
                (MAX_RUNS + 1,),
            ).fetchall()
    except (sqlite3.Error, OSError) as exc:
        if _busy(exc):  # a writer holds the lock: its runs are still there, only unreadable for now
            note = Problem(where, f"the MLflow store was busy ({_why(exc)}); this run is shown as of the last successful read")
            return Held(str(path.parent), rel, note), [
                Problem(where, f"cannot read the MLflow store now: {_why(exc)}; its runs are shown as of the last successful read")
            ]
        return [], [Problem(where, f"cannot read the MLflow store: {_why(exc)}; its runs are not listed")]
    problems = [Problem(where, f"more than {MAX_RUNS:,} runs; the rest not listed")] if len(rows) > MAX_RUNS else []
    out: list[Found] = []
    for run_uuid, name, experiment in rows[:MAX_RUNS]:
        if not _safe(run_uuid):
            problems.append(Problem(where, f"run id {str(run_uuid)[:40]!r} cannot name a record; the run is not listed"))
            continue
        exp = experiment if _safe(experiment, slash=True) else None
        folder = exp.replace("/", "_").strip("_") if exp else ""
        record = f"{rel}/{folder if _safe(folder) else 'mlflow'}/{run_uuid}".lstrip("/")
        out.append(Found("run", path.parent, record, exp or project, name if isinstance(name, str) and name else run_uuid, files=files, format=FORMAT))
    return out, problems


def read(found: Found, root: Path) -> Run:
    """Read one run of an MLflow SQLite store (its id ends with the run's uuid); never raises for bad input."""
    ctx = ReadContext(root)
    store = found.dir / (found.files[0].rel if found.files else STORE_NAMES[0])
    run_uuid = found.id.rsplit("/", 1)[-1]
    meta: dict[str, Any] = {}
    experiment: str | None = None
    params: dict[str, str] = {}
    tags: dict[str, str] = {}
    metrics = Metrics()
    try:
        with closing(_open(store)) as con:
            con.execute("BEGIN")  # one snapshot for every table, whatever a writer does meanwhile
            meta, experiment = _run_row(con, run_uuid)
            if not meta:
                ctx.problem(store, f"run {run_uuid} is not in the store (deleted for good since it was listed?)")
            else:
                params = _pairs(ctx, store, con, "params", run_uuid)
                tags = _pairs(ctx, store, con, "tags", run_uuid)
                metrics = _metrics(ctx, store, con, run_uuid)
            con.execute("COMMIT")
    except (sqlite3.Error, OSError) as exc:
        ctx.problem(store, f"cannot read the run from the MLflow store: {_why(exc)}")
    if any(f.rel.endswith("-wal") and f.size > 0 for f in found.files) and _is_wal(store):
        ctx.problem(store, "a writer's -wal file is beside the store: values written since its last checkpoint are not read")

    status_name = _status_name(meta.get("status"))
    if meta.get("status") is not None and status_name is None:
        ctx.problem(store, f"status {meta.get('status')!r} is not an MLflow run status")
    status: Status = _STATUSES.get(status_name or "", "unknown")
    started = _ms_time(ctx, store, meta, "start_time")
    ended = _ms_time(ctx, store, meta, "end_time") if status_name not in ("RUNNING", "SCHEDULED") else None
    duration = (ended - started).total_seconds() if ended is not None and started is not None else None
    name = meta.get("run_name") or tags.get("mlflow.runName") or found.name
    stage = meta.get("lifecycle_stage")
    run_tags = {k: v for k, v in tags.items() if k != _NOTE_TAG}
    if stage and stage != "active":
        run_tags["mlflow.lifecycle_stage"] = stage
    return Run(
        id=found.id,
        path=str(found.dir),
        project=experiment or found.project,
        name=name,
        started=started,
        run_number=run_number_from_name(name),
        status=status,
        config=nest({key: param_value(text) for key, text in params.items()}),
        code=_code(meta, tags),
        seeds=dict(_flat_seeds(params)),
        metrics=metrics,
        notes=tags.get(_NOTE_TAG, ""),
        sweep=found.sweep,
        files=tuple(f.rel for f in found.files),
        problems=tuple(dict.fromkeys(ctx.problems)),
        source=Source(FORMAT),
        tags=run_tags,
        ended=ended,
        duration=duration,
        user=tags.get("mlflow.user") or meta.get("user_id"),
        error="killed: MLflow recorded the run as KILLED" if status_name == "KILLED" else None,
        deleted=stage == "deleted",
    )


# -- the database ----------------------------------------------------------------------


def _stats(path: Path) -> tuple[FileStat, ...]:
    """The store file's (and its ``-wal``'s) size and mtime: what every run's fingerprint is made of."""
    from ..discover import FileStat

    out = []
    for name in (path.name, path.name + "-wal"):
        try:
            st = os.stat(path.parent / name)
        except OSError:
            continue
        if os.path.isfile(path.parent / name):
            out.append(FileStat(name, st.st_size, st.st_mtime_ns))
    return tuple(out) if out and out[0].rel == path.name else ()


def _is_wal(path: Path) -> bool:
    """True when the database header says WAL mode (read and write versions 2)."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return head[:16] == _SQLITE_MAGIC and head[18:20] == b"\x02\x02"


def _open(path: Path) -> sqlite3.Connection:
    """A read-only connection that creates no file beside the store (see the module's docstring)."""
    flags = "mode=ro&immutable=1" if _is_wal(path) else "mode=ro"
    con = sqlite3.connect(f"file:{quote(str(path))}?{flags}", uri=True, timeout=TIMEOUT_S, isolation_level=None, check_same_thread=False)
    con.text_factory = lambda b: b.decode("utf-8", "replace")
    return con


def _run_row(con: sqlite3.Connection, run_uuid: str) -> tuple[dict[str, Any], str | None]:
    """The run's ``runs`` row as the file store's ``meta.yaml`` keys, and its experiment's name."""
    row = con.execute(
        "SELECT r.name, r.status, r.start_time, r.end_time, r.user_id, r.source_version, r.lifecycle_stage, e.name "
        "FROM runs r LEFT JOIN experiments e ON e.experiment_id = r.experiment_id WHERE r.run_uuid = ?",
        (run_uuid,),
    ).fetchone()
    if row is None:
        return {}, None
    keys = ("run_name", "status", "start_time", "end_time", "user_id", "source_version", "lifecycle_stage")
    meta = {k: v for k, v in zip(keys, row[:7]) if v is not None and v != ""}
    return meta, row[7] if isinstance(row[7], str) and row[7] else None


def _pairs(ctx: ReadContext, store: Path, con: sqlite3.Connection, table: str, run_uuid: str) -> dict[str, str]:
    """Params or tags of the run: key -> text as MLflow stored it (bounded like the file store's)."""
    rows = con.execute(f"SELECT key, substr(value, 1, ?) FROM {table} WHERE run_uuid = ? ORDER BY key LIMIT ?", (MAX_VALUE_BYTES, run_uuid, MAX_KEYS + 1)).fetchall()
    if len(rows) > MAX_KEYS:
        ctx.problem(store, f"the run has more than {MAX_KEYS:,} {table}; the rest not read")
    return {str(k): "" if v is None else str(v) for k, v in rows[:MAX_KEYS] if k is not None}


def _metrics(ctx: ReadContext, store: Path, con: sqlite3.Connection, run_uuid: str) -> Metrics:
    """Final values and series from every logged value: per step the one MLflow would pick."""
    rows = con.execute(
        "SELECT key, step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? ORDER BY key, step LIMIT ?",
        (run_uuid, MAX_RUN_METRIC_LINES + 1),
    ).fetchall()
    if len(rows) > MAX_RUN_METRIC_LINES:
        ctx.problem(store, f"the run's metrics pass {MAX_RUN_METRIC_LINES:,} values; the rest not read (final values from those read)")
        rows = rows[:MAX_RUN_METRIC_LINES]
    points: dict[str, dict[int, tuple[int, float, float]]] = {}
    bad = 0
    for key, step, ts, value, is_nan in rows:
        if not isinstance(key, str) or not isinstance(step, int) or not isinstance(ts, int) or not isinstance(value, (int, float)):
            bad += 1
            continue
        keep_point(points.setdefault(key, {}), step, ts, math.nan if is_nan else float(value))
    if bad:
        ctx.problem(store, f"{bad} metric rows of the run are malformed (not key, step, timestamp, value); not read")
    return metrics_from_points(points)


def _safe(text: Any, slash: bool = False) -> bool:
    """A name that can be part of a record id: text, valid UTF-8, no ``/`` (unless ``slash``), not a dot name."""
    if not isinstance(text, str) or not text or (not slash and "/" in text) or text in (".", "..") or len(text) > 255:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked"/"busy": a writer's lock, gone once it commits."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
