"""What a run's MLflow experiment and its records outside the run folder say: the experiment's name, datasets, logged models.

The experiment folder's ``meta.yaml`` names the run's project (read once per version of the
file). A run's ``inputs/`` point at ``<experiment>/datasets/`` and its ``outputs/`` at
``<experiment>/models/`` (MLflow 3), whose ``requirements.txt``, ``python_env.yaml``,
``conda.yaml`` and ``MLmodel`` are the only record of the run's environment and MLflow version
(MLflow 2 kept the model under the run's own ``artifacts/``). Kept apart because it is the one
part of the reader that looks outside the run's folder: ids are checked before they are followed,
and links to folders are not followed.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping, Set
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..readers.env import read_env
from ..records import Artifact, DataSnapshot, Environment, Problem
from ..safeio import ReadContext
from ._common import _artifact_kind_of
from ._mlflow_files import MAX_KEYS, META, _meta, _text

if TYPE_CHECKING:
    from ..discover import Found

MAX_MODEL_FILES = 200
"""Most files listed from one logged model's folder."""

_RUN_ID = re.compile(r"[0-9a-f]{32}")
_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


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
            version = flavor.get("python_version") if isinstance(flavor, Mapping) else None
            if isinstance(version, str):
                return version
    return None
