"""MLflow's file store (``mlruns/``): one folder per run, ``<experiment id>/<run id>/``.

What MLflow writes, and what a run takes from it:

* ``<run>/meta.yaml``: ``run_name``, integer ``status`` (1 RUNNING, 2 SCHEDULED, 3 FINISHED,
  4 FAILED, 5 KILLED), ``start_time``/``end_time`` in ms since the epoch, ``user_id``,
  ``lifecycle_stage`` (a deleted run stays in place as ``deleted``).
* ``<run>/params/<key>``: the raw text of each parameter, one file each; a ``/`` in a key is a
  sub-folder. Dotted keys are re-nested into the config (``optimizer.lr`` -> ``optimizer: {lr:}``);
  a value that reads as a finite number is stored as the number, so ``0.01`` and ``1e-2`` compare
  equal; anything else stays the text MLflow stored (``True``, ``None``, ``[1, 2]``).
* ``<run>/metrics/<key>``: lines ``timestamp_ms value step`` (also 2 fields, step 0, and 5 fields,
  with the dataset's name and digest). The final value is MLflow's own: highest step, then newest
  timestamp. The series keeps one value per step, chosen by the same rule. MLflow 3's own reader
  takes the step of a 5-field line as 0 (its writer puts the real step there, which is read here),
  and logging a model copies such lines again with step 0: an exact repeat is skipped.
* ``<run>/tags/<key>``: ``mlflow.runName``, ``mlflow.note.content`` (notes), ``mlflow.user``,
  ``mlflow.source.git.commit``/``branch``/``repoURL`` (code), ``mlflow.parentRunId`` ...
* ``<run>/inputs/<id>/meta.yaml`` -> ``<experiment>/datasets/<id>/meta.yaml``: the datasets read.
* ``<run>/outputs/<model id>/`` -> ``<experiment>/models/<model id>/artifacts/``: logged models
  (MLflow 3); their ``requirements.txt``/``python_env.yaml``/``conda.yaml`` are the only record
  of the environment MLflow keeps (MLflow 2 put the model under the run's own ``artifacts/``).
* ``<experiment>/meta.yaml``: the experiment's ``name``, which is the run's project.

The experiment folder's ``models/``, ``datasets/``, ``traces/`` and ``tags/`` hold MLflow's
bookkeeping, never runs (a logged model's folder looks just like a run's): :func:`skip` keeps the
walk out of them. ``.trash`` (deleted experiments) is a dot folder, never walked. Nothing here
imports MLflow, follows ``artifact_uri``, loads a model or writes a byte.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator, Mapping, Set
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..naming import run_number_from_name
from ..readers.env import read_env
from ..records import (
    Artifact,
    CodeState,
    DataSnapshot,
    Environment,
    Metrics,
    Problem,
    Run,
    Source,
    Status,
)
from ..safeio import ReadContext, Unreadable
from ._common import _artifact_kind_of, artifacts, dedupe, started_from_files
from ._inferred import nest

if TYPE_CHECKING:
    from ..discover import Found

META = "meta.yaml"
PARAMS, METRICS, TAGS = "params", "metrics", "tags"
RUN_FOLDERS = frozenset((PARAMS, METRICS, TAGS))
BOOKKEEPING = frozenset(("models", "datasets", "traces", "tags"))
"""Sub-folders of an experiment folder that are MLflow's own records, never runs."""

MAX_KEYS = 10_000
"""Most params, metrics or tags read from one run (each is a file)."""
MAX_KEY_DEPTH = 8
"""Deepest ``/`` nesting of a key followed (each ``/`` is a sub-folder)."""
MAX_VALUE_BYTES = 1024 * 1024
"""Largest param or tag value read (MLflow itself caps params at 6000 characters)."""
MAX_METRIC_LINES = 1_000_000
"""Most lines read from one metric file; the final value then comes from the lines read."""
MAX_RUN_METRIC_LINES = 5_000_000
"""Most metric lines read from one run, all files together."""
MAX_SERIES_POINTS = 10_000
"""A longer series is thinned evenly to this many points (the last point always kept)."""
MAX_LINE_PROBLEMS = 5
"""Malformed lines reported one by one per metric file; the rest are counted in one problem."""
MAX_NUMBER_CHARS = 100
"""Longest param text read as a number (Python refuses to parse very long integers)."""
MAX_MODEL_FILES = 200
"""Most files listed from one logged model's folder."""

_STATUS_NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_STATUSES: dict[str, Status] = {
    "RUNNING": "incomplete",
    "SCHEDULED": "incomplete",
    "FINISHED": "finished",
    "FAILED": "failed",
    "KILLED": "failed",
}
_RUN_ID = re.compile(r"[0-9a-f]{32}")
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)")
_ENV_NAMES = ("requirements.txt", "conda.yaml", "python_env.yaml", "MLmodel")
_NOTE_TAG = "mlflow.note.content"
_CODE_TAGS = {"mlflow.source.git.branch": "branch", "mlflow.source.git.repoURL": "repo", "mlflow.source.name": "source", "mlflow.source.type": "source_type", "mlflow.project.entryPoint": "entry_point"}
_MS_RANGE = (0, 10**14)
"""Times (ms since the epoch) taken as real: up to the year 5138."""


def detect(names: Set[str]) -> bool:
    """A run folder: ``meta.yaml`` beside at least two of ``params/``, ``metrics/``, ``tags/``."""
    return META in names and len(RUN_FOLDERS & names) >= 2


def skip(names: Set[str]) -> Set[str]:
    """In an experiment folder (``meta.yaml`` beside run folders named by 32-hex run ids), MLflow's bookkeeping folders."""
    if META not in names or detect(names):
        return frozenset()
    if all(n == META or n in BOOKKEEPING or _RUN_ID.fullmatch(n) for n in names):
        return BOOKKEEPING & names
    return frozenset()


def is_live(name: str) -> bool:
    """``meta.yaml`` is rewritten in place when a run ends, is deleted or restored."""
    return name == META


def read(found: Found, root: Path) -> Run:
    """Read one MLflow run folder; never raises for bad input."""
    ctx = ReadContext(root)
    folder = found.dir
    exp_dir = folder.parent
    read_files: list[str] = []
    guessed: list[str] = []

    meta = _meta(ctx, folder / META)
    read_files.append(META)
    _check_ids(ctx, folder, meta)
    raw_params = _values(ctx, folder, PARAMS, read_files)
    tags = _values(ctx, folder, TAGS, read_files)
    metrics = _metrics(ctx, folder, read_files)
    project = _project(ctx, exp_dir, found.project, root, read_files)

    status_name = _status_name(meta.get("status"))
    if "status" in meta and status_name is None:
        ctx.problem(folder / META, f"status {meta.get('status')!r} is not an MLflow run status")
    status: Status = _STATUSES.get(status_name or "", "unknown")
    started = _ms_time(ctx, folder / META, meta, "start_time")
    ended = _ms_time(ctx, folder / META, meta, "end_time") if status_name not in ("RUNNING", "SCHEDULED") else None
    if started is None:
        started = started_from_files([f for f in found.files if "/" not in f.rel])
        if started is not None:
            guessed.append("started")
    duration = (ended - started).total_seconds() if ended is not None and started is not None and "started" not in guessed else None

    config = nest({key: param_value(text) for key, text in raw_params.items()})
    seeds = {key: value for key, value in _flat_seeds(raw_params)}
    name = _text(meta.get("run_name")) or tags.get("mlflow.runName") or found.name
    notes = tags.get(_NOTE_TAG, "")
    run_tags = {k: v for k, v in tags.items() if k != _NOTE_TAG}
    stage = _text(meta.get("lifecycle_stage"))
    if stage and stage != "active":
        run_tags["mlflow.lifecycle_stage"] = stage

    env, model_artifacts, version = _logged_models(ctx, folder, exp_dir, found, read_files)
    return Run(
        id=found.id,
        path=str(folder),
        project=project,
        name=name,
        started=started,
        run_number=run_number_from_name(name),
        status=status,
        config=config,
        code=_code(meta, tags),
        env=env,
        data=_data(ctx, folder, exp_dir, read_files),
        seeds=seeds,
        metrics=metrics,
        artifacts=(*artifacts(found.files), *model_artifacts),
        notes=notes,
        sweep=found.sweep,
        files=tuple(dict.fromkeys(read_files)),
        problems=tuple(dedupe(ctx.problems)),
        source=Source("mlflow", version, tuple(guessed)),
        tags=run_tags,
        ended=ended,
        duration=duration,
        user=tags.get("mlflow.user") or _text(meta.get("user_id")),
        error="killed: MLflow recorded the run as KILLED" if status_name == "KILLED" else None,
        deleted=stage == "deleted",
    )


# -- values ---------------------------------------------------------------------------


def param_value(text: str) -> Any:
    """A parameter as MLflow stored it: a finite number when the text reads as one, else the text."""
    s = text.strip()
    if len(s) > MAX_NUMBER_CHARS:
        return text
    if _INT.fullmatch(s):
        return int(s)
    if _FLOAT.fullmatch(s):
        value = float(s)
        if math.isfinite(value):
            return value
    return text


def _flat_seeds(raw: Mapping[str, str]) -> Iterator[tuple[str, int]]:
    """Integer params named ``seed`` (or ``<scope>.seed``)."""
    for key, text in raw.items():
        if key.rsplit(".", 1)[-1].rsplit("/", 1)[-1].lower() == "seed":
            value = param_value(text)
            if isinstance(value, int):
                yield key, value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _status_name(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _STATUS_NAMES.get(value)
    if isinstance(value, str) and value.strip().upper() in _STATUSES:
        return value.strip().upper()
    return None


def _ms_time(ctx: ReadContext, path: Path, meta: Mapping[str, Any], key: str) -> datetime | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not _MS_RANGE[0] < value < _MS_RANGE[1]:
        ctx.problem(path, f"{key} {value!r} is not a time in milliseconds")
        return None
    return datetime.fromtimestamp(value / 1000)


# -- files --------------------------------------------------------------------------


def _meta(ctx: ReadContext, path: Path) -> dict[str, Any]:
    doc = ctx.load_structured(path)
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        ctx.problem(path, f"meta.yaml is a {type(doc).__name__}, expected a mapping")
        return {}
    return {str(k): v for k, v in doc.items()}


def _check_ids(ctx: ReadContext, folder: Path, meta: Mapping[str, Any]) -> None:
    run_id = meta.get("run_id") or meta.get("run_uuid")
    if isinstance(run_id, str) and run_id and run_id != folder.name:
        ctx.problem(folder / META, f"run_id {run_id} is not the folder's name (MLflow itself refuses such a run)")


def _keys(ctx: ReadContext, base: Path) -> Iterator[tuple[str, Path]]:
    """(key, file) below ``base``, keys joined with ``/`` as MLflow does; bounded, links to folders not followed."""
    try:
        st = os.lstat(base)
    except OSError:
        return  # no such folder: nothing logged
    if stat.S_ISLNK(st.st_mode):
        ctx.problem(base, "link in place of a folder; not followed")
        return
    if not stat.S_ISDIR(st.st_mode):
        ctx.problem(base, "not a folder; not read")
        return
    count = 0
    stack: list[tuple[Path, str, int]] = [(base, "", 0)]
    while stack:
        where, prefix, depth = stack.pop()
        try:
            with os.scandir(where) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            ctx.problem(where, f"cannot list folder: {exc.strerror or exc}")
            continue
        for entry in entries:
            key = prefix + entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if depth + 1 >= MAX_KEY_DEPTH:
                    ctx.problem(entry.path, f"keys nested deeper than {MAX_KEY_DEPTH} levels; not read")
                else:
                    stack.append((Path(entry.path), key + "/", depth + 1))
                continue
            count += 1
            if count > MAX_KEYS:
                ctx.problem(base, f"more than {MAX_KEYS:,} entries; the rest not read")
                return
            yield key, Path(entry.path)


def _values(ctx: ReadContext, folder: Path, kind: str, read_files: list[str]) -> dict[str, str]:
    """Params or tags: key -> the file's text, exactly as MLflow stored it."""
    out: dict[str, str] = {}
    for key, path in sorted(_keys(ctx, folder / kind)):
        text = ctx.read_text(path, MAX_VALUE_BYTES)
        read_files.append(f"{kind}/{key}")
        if text is not None:
            out[key] = text
    return out


class _Budget:
    """Metric lines left to read for the whole run."""

    def __init__(self) -> None:
        self.left = MAX_RUN_METRIC_LINES


def _metrics(ctx: ReadContext, folder: Path, read_files: list[str]) -> Metrics:
    final: dict[str, float] = {}
    series: dict[str, tuple[tuple[float, float], ...]] = {}
    thinned: dict[str, int] = {}
    budget = _Budget()
    for key, path in sorted(_keys(ctx, folder / METRICS)):
        read_files.append(f"{METRICS}/{key}")
        points = _metric_points(ctx, path, budget)
        if not points:
            continue
        steps = sorted(points.items())
        final[key] = steps[-1][1][2]
        values: list[tuple[float, float]] = [(step, v) for step, (_, _, v) in steps]
        if len(values) > MAX_SERIES_POINTS:
            thinned[key] = len(values)
            values = thin(values, MAX_SERIES_POINTS)
        series[key] = tuple(values)
    extra = {"series_thinned": thinned} if thinned else {}
    return Metrics(final, series, {}, extra)


def _metric_points(ctx: ReadContext, path: Path, budget: _Budget) -> dict[int, tuple[int, float, float]]:
    """Step -> (timestamp, value rank, value) of the line MLflow would pick for that step."""
    points: dict[int, tuple[int, float, float]] = {}
    seen: set[tuple[str, ...]] = set()
    bad = 0
    limit = min(MAX_METRIC_LINES, budget.left)
    try:
        for number, line in ctx.iter_lines(path):
            if number > limit:
                why = f"more than {MAX_METRIC_LINES:,} lines" if limit == MAX_METRIC_LINES else f"the run's metric files pass {MAX_RUN_METRIC_LINES:,} lines"
                ctx.problem(path, f"{why}; the rest not read (final value from the lines read)", number)
                break
            budget.left -= 1
            parts = line.split()
            if not parts:
                continue
            if len(parts) == 5:
                # MLflow 3 reads the step of a line with a dataset as 0, and logging a model writes
                # such lines again at "step 0": a repeat of an earlier line is that copy, not a value.
                if tuple(p for i, p in enumerate(parts) if i != 2) in seen:
                    continue
                seen.add(tuple(p for i, p in enumerate(parts) if i != 2))
            point = _metric_line(parts)
            if point is None:
                bad += 1
                if bad <= MAX_LINE_PROBLEMS:
                    ctx.problem(path, f"malformed metric line {line[:60]!r}: expected 'timestamp value step'", number)
                continue
            step, ts, value = point
            rank = value if value == value else -math.inf  # NaN ranks lowest, as MLflow's max() would not order it
            old = points.get(step)
            if old is None or (ts, rank) >= old[:2]:
                points[step] = (ts, rank, value)
    except Unreadable as exc:
        ctx.problem(path, exc.message, exc.line)
        return points
    if not points and not bad:
        ctx.problem(path, "no values (empty file: still being written?)")
    if bad > MAX_LINE_PROBLEMS:
        ctx.problem(path, f"{bad - MAX_LINE_PROBLEMS} more malformed metric lines not read")
    return points


def _metric_line(parts: list[str]) -> tuple[int, int, float] | None:
    """(step, timestamp, value) of one metric line's fields, or None when malformed."""
    if len(parts) not in (2, 3, 5):
        return None
    try:
        ts = int(parts[0])
        value = float(parts[1])
        step = int(parts[2]) if len(parts) >= 3 else 0
    except ValueError:
        return None
    return step, ts, value


def thin(points: list[tuple[float, float]], most: int) -> list[tuple[float, float]]:
    """``most`` points spread evenly over ``points``, the first and the last included."""
    if len(points) <= most:
        return points
    last = len(points) - 1
    picks = sorted({round(i * last / (most - 1)) for i in range(most)})
    return [points[i] for i in picks]


# -- the experiment and its records outside the run folder ----------------------------


def _project(ctx: ReadContext, exp_dir: Path, fallback: str, root: Path, read_files: list[str]) -> str:
    """The experiment's name from its ``meta.yaml`` (cached per file version), else the folder name."""
    path = exp_dir / META
    try:
        st = os.stat(path)
    except OSError:
        ctx.problem(path, "missing: the experiment's name is not recorded; the folder's name is used")
        return fallback
    name, problems = _experiment(str(path), st.st_size, st.st_mtime_ns, str(root))
    ctx.problems.extend(problems)
    read_files.append("../" + META)
    return name or fallback


@lru_cache(maxsize=256)
def _experiment(path: str, size: int, mtime_ns: int, root: str) -> tuple[str | None, tuple[Problem, ...]]:
    ctx = ReadContext(Path(root))
    meta = _meta(ctx, Path(path))
    name = _text(meta.get("name"))
    if meta and name is None:
        ctx.problem(path, "the experiment has no name; the folder's name is used")
    return name, tuple(ctx.problems)


def _code(meta: Mapping[str, Any], tags: Mapping[str, str]) -> CodeState:
    commit = tags.get("mlflow.source.git.commit") or _text(meta.get("source_version"))
    extra = {label: tags[tag] for tag, label in _CODE_TAGS.items() if tags.get(tag)}
    return CodeState(commit=commit.strip() if commit else None, extra=extra)


def _subfolders(ctx: ReadContext, base: Path) -> list[str]:
    """Names of the real sub-folders of ``base`` (``inputs/``, ``outputs/``): bounded, links not followed.

    Listed here rather than taken from the walk's listing, which stops at a run's first 5,000 files
    (a big ``artifacts/`` comes first)."""
    try:
        if not stat.S_ISDIR(os.lstat(base).st_mode):
            return []
        with os.scandir(base) as it:
            names = [e.name for e in it if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    if len(names) > MAX_KEYS:
        ctx.problem(base, f"more than {MAX_KEYS:,} entries; the rest not read")
    return sorted(names)[:MAX_KEYS]


def _data(ctx: ReadContext, folder: Path, exp_dir: Path, read_files: list[str]) -> DataSnapshot:
    """The datasets the run logged as inputs; the training one (else the first) is the snapshot."""
    datasets: list[tuple[dict[str, Any], str | None]] = []
    for input_id in _subfolders(ctx, folder / "inputs"):
        rel = f"inputs/{input_id}/{META}"
        link = _meta(ctx, folder / rel)
        read_files.append(rel)
        if link.get("source_type") != "DATASET" or not isinstance(link.get("source_id"), str):
            continue
        dataset_id = link["source_id"]
        if not _RUN_ID.fullmatch(dataset_id):
            ctx.problem(folder / rel, f"dataset id {dataset_id[:40]!r} is not an MLflow dataset id; not followed")
            continue
        rel_ds = f"../datasets/{dataset_id}/{META}"
        ds = _meta(ctx, exp_dir / "datasets" / dataset_id / META)
        read_files.append(rel_ds)
        link_tags = link.get("tags")
        context = link_tags.get("mlflow.data.context") if isinstance(link_tags, Mapping) else None
        if ds:
            datasets.append((ds, context if isinstance(context, str) else None))
    if not datasets:
        return DataSnapshot()
    datasets.sort(key=lambda d: d[1] != "training")
    main, context = datasets[0]
    hashes = {str(d.get("name") or "?"): str(d.get("digest")) for d, _ in datasets if d.get("digest")}
    extra = {"source_type": str(main.get("source_type"))} if main.get("source_type") else {}
    if context:
        extra["context"] = context
    if len(datasets) > 1:
        extra["inputs"] = ", ".join(f"{d.get('name')} ({c or 'no context'})" for d, c in datasets)
    return DataSnapshot(name=_text(main.get("name")), hashes=hashes, rows=_rows(main.get("profile")), extra=extra)


def _rows(profile: Any) -> int | None:
    """Rows from a dataset profile (``num_rows``, or the first dimension of ``features_shape``)."""
    if not isinstance(profile, str) or len(profile) > 65536:
        return None
    try:
        doc = json.loads(profile)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    rows = doc.get("num_rows")
    if rows is None and isinstance(doc.get("features_shape"), list) and doc["features_shape"]:
        rows = doc["features_shape"][0]
    return rows if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0 else None


def _logged_models(ctx: ReadContext, folder: Path, exp_dir: Path, found: Found, read_files: list[str]) -> tuple[Environment, tuple[Artifact, ...], str | None]:
    """Environment, files and MLflow version of the run's logged models (the first model that records each).

    MLflow 3 keeps a model in ``<experiment>/models/<model id>/artifacts/`` (the run's ``outputs/``
    name it); MLflow 2 in the run's own ``artifacts/<path>/`` beside an ``MLmodel`` file.
    """
    places = [
        (folder / f.rel.rsplit("/", 1)[0], f.rel.rsplit("/", 1)[0])
        for f in found.files
        if f.rel.startswith("artifacts/") and f.rel.endswith("/MLmodel")
    ]
    places += [
        (exp_dir / "models" / model_id / "artifacts", f"../models/{model_id}/artifacts")
        for model_id in _subfolders(ctx, folder / "outputs")
        if _MODEL_ID.fullmatch(model_id)
    ]
    env = Environment()
    version: str | None = None
    outside: list[Artifact] = []
    for place, rel in places:
        listed = _model_files(place)
        names = {n for n, _ in listed}
        if rel.startswith("../"):  # files in the run folder are the walk's artifacts already
            outside.extend(Artifact(f"{rel}/{n}", size, _artifact_kind_of("artifacts/" + n) or "other") for n, size in listed)
        if env.python is None and not env.packages:
            env = _model_env(ctx, place, rel, names, read_files)
        if (version is None or env.python is None) and "MLmodel" in names:
            mlmodel = _meta(ctx, place / "MLmodel")
            read_files.append(f"{rel}/MLmodel")
            version = version or _text(mlmodel.get("mlflow_version"))
            if env.python is None:
                env = replace(env, python=_flavor_python(mlmodel))
    return env, tuple(outside), version


def _model_files(place: Path) -> list[tuple[str, int]]:
    """(name relative to the model folder, size) of its files: bounded, links not followed."""
    out: list[tuple[str, int]] = []
    stack: list[tuple[Path, str, int]] = [(place, "", 0)]
    while stack and len(out) < MAX_MODEL_FILES:
        where, prefix, depth = stack.pop()
        try:
            if stat.S_ISLNK(os.lstat(where).st_mode):
                continue
            with os.scandir(where) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue  # no such model folder (its artifacts kept elsewhere): nothing to list
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                if depth < 2:
                    stack.append((Path(entry.path), prefix + entry.name + "/", depth + 1))
            elif stat.S_ISREG(st.st_mode) and len(out) < MAX_MODEL_FILES:
                out.append((prefix + entry.name, st.st_size))
    return sorted(out)


def _model_env(ctx: ReadContext, place: Path, rel: str, names: Set[str], read_files: list[str]) -> Environment:
    """Packages from ``requirements.txt`` (else ``conda.yaml``); Python from ``python_env.yaml``, else ``conda.yaml``."""
    env = Environment()
    packages = next((n for n in ("requirements.txt", "conda.yaml") if n in names), None)
    if packages is not None:
        env = read_env([place / packages], ctx)
        read_files.append(f"{rel}/{packages}")
    if "python_env.yaml" in names:
        doc = _meta(ctx, place / "python_env.yaml")
        read_files.append(f"{rel}/python_env.yaml")
        python = doc.get("python")
        if isinstance(python, (str, int, float)) and not isinstance(python, bool) and str(python).strip():
            env = replace(env, python=str(python).strip())
    if env.python is None and packages != "conda.yaml" and "conda.yaml" in names:
        env = replace(env, python=read_env([place / "conda.yaml"], ctx).python)
        read_files.append(f"{rel}/conda.yaml")
    return env


def _flavor_python(mlmodel: Mapping[str, Any]) -> str | None:
    flavors = mlmodel.get("flavors")
    if isinstance(flavors, Mapping):
        for flavor in flavors.values():
            if isinstance(flavor, Mapping) and isinstance(flavor.get("python_version"), str):
                return flavor["python_version"]
    return None
