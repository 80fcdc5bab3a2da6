"""Helpers every format's reader shares: configs as mappings, artifacts, start times from file times."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..records import Artifact
from ..safeio import ReadContext

if TYPE_CHECKING:
    from ..discover import FileStat

ARTIFACTS_DIR = "artifacts"

_ARTIFACT_KINDS: dict[str, str] = {
    **dict.fromkeys((".pt", ".pth", ".ckpt", ".npz", ".npy", ".pkl", ".joblib", ".onnx", ".h5", ".safetensors", ".bin"), "model"),
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".svg", ".pdf", ".gif"), "plot"),
    **dict.fromkeys((".csv", ".tsv", ".parquet", ".jsonl", ".json", ".feather", ".arrow"), "table"),
    **dict.fromkeys((".log",), "log"),
    **dict.fromkeys((".txt", ".md"), "text"),
}


def read_config(path: Path | None, ctx: ReadContext) -> dict[str, Any]:
    """A config file as a mapping with string keys; {} (and a problem) for anything else."""
    if path is None:
        return {}
    doc = ctx.load_structured(path)
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        ctx.problem(path, f"config is a {type(doc).__name__}, expected a mapping of keys to values")
        return {}
    return {str(k): v for k, v in doc.items()}


def started_from_files(stats: list[FileStat]) -> datetime | None:
    """The oldest modification time among ``stats``: a guess at when the run started (callers say so)."""
    if not stats:
        return None
    oldest = min(f.mtime_ns for f in stats)
    return datetime.fromtimestamp(oldest / 1e9).replace(microsecond=0)


def artifacts(files: tuple[FileStat, ...]) -> tuple[Artifact, ...]:
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


def dedupe(problems: list[Any]) -> list[Any]:
    """Problems in order, each once."""
    return list(dict.fromkeys(problems))
