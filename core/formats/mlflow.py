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
imports MLflow, follows ``artifact_uri``, loads a model or writes a byte. Reading the run's own
files is :mod:`._mlflow_files`' job; the experiment and the records outside the run folder
(datasets, logged models) are :mod:`._mlflow_experiment`'s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Set
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..naming import run_number_from_name
from ..records import CodeState, Run, Source, Status
from ..safeio import ReadContext
from ._common import artifacts, dedupe, started_from_files
from ._inferred import nest
from ._mlflow_experiment import _RUN_ID, _data, _logged_models, _project
from ._mlflow_files import (
    META,
    METRICS,
    PARAMS,
    TAGS,
    _check_ids,
    _meta,
    _metrics,
    _text,
    _values,
)

if TYPE_CHECKING:
    from ..discover import Found

RUN_FOLDERS = frozenset((PARAMS, METRICS, TAGS))
BOOKKEEPING = frozenset(("models", "datasets", "traces", "tags"))
"""Sub-folders of an experiment folder that are MLflow's own records, never runs."""

MAX_NUMBER_CHARS = 100
"""Longest param text read as a number (Python refuses to parse very long integers)."""

_STATUS_NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_STATUSES: dict[str, Status] = {
    "RUNNING": "incomplete",
    "SCHEDULED": "incomplete",
    "FINISHED": "finished",
    "FAILED": "failed",
    "KILLED": "failed",
}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)")
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
    seeds = dict(_flat_seeds(raw_params))
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


def _code(meta: Mapping[str, Any], tags: Mapping[str, str]) -> CodeState:
    commit = tags.get("mlflow.source.git.commit") or _text(meta.get("source_version"))
    extra = {label: tags[tag] for tag, label in _CODE_TAGS.items() if tags.get(tag)}
    return CodeState(commit=commit.strip() if commit else None, extra=extra)
