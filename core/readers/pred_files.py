"""Finding a run's prediction files: where they live, what they are called, which split they hold."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

SUFFIXES: Mapping[str, str] = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
"""Prediction file kinds by suffix."""
NAME_WORD = re.compile(r"(?<![a-z])(?:preds?|predicted|predictions?)(?![a-z])")
"""A prediction file's name (lower-cased stem) or folder name contains one of these words."""
SEARCH_DIRS: tuple[str, ...] = (".", "artifacts", "artifacts/*", "predictions")
"""Folders of a run searched, relative to the run folder (``*``: each folder one level down)."""
SPLIT_WORDS: Mapping[str, str] = {
    "val": "val", "valid": "val", "validation": "val", "dev": "val",
    "test": "test", "holdout": "test",
    "train": "train", "training": "train",
}
"""Words of a file name that name its split."""
SPLIT_ORDER: tuple[str | None, ...] = ("val", "test", None, "train")
"""Order of :func:`find_predictions`' result: validation predictions first."""


def is_prediction_file(name: str, folder: str = "") -> bool:
    """True when a file name (or its folder's name) says predictions and its suffix is readable."""
    stem, suffix = os.path.splitext(name.lower())
    if suffix not in SUFFIXES or name.startswith("."):
        return False
    return bool(NAME_WORD.search(stem) or NAME_WORD.search(folder.lower()))


def prediction_split(path: Path | str) -> str | None:
    """Split named by a prediction file's name (or, failing that, its folder's): val, test, train or None."""
    p = Path(path)
    for text in (p.stem, p.parent.name):
        for word in re.split(r"[^a-z]+", text.lower()):
            if word in SPLIT_WORDS:
                return SPLIT_WORDS[word]
    return None


def find_predictions(run_dir: Path) -> list[Path]:
    """Prediction files of a run (see :data:`PREDICTION_PATTERNS`): validation first, then test, unnamed, train."""
    run_dir = Path(run_dir)
    folders: list[Path] = []
    for pattern in SEARCH_DIRS:
        if pattern == "artifacts/*":
            folders.extend(sorted(_subdirs(run_dir / "artifacts")))
        else:
            folder = run_dir / pattern if pattern != "." else run_dir
            if folder == run_dir or (folder.is_dir() and not folder.is_symlink()):
                folders.append(folder)
    found: list[Path] = []
    seen: set[str] = set()
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.path in seen or not is_prediction_file(entry.name, folder.name if folder != run_dir else ""):
                continue
            try:
                if not entry.is_file():
                    continue
            except OSError:
                continue
            seen.add(entry.path)
            found.append(Path(entry.path))
    return sorted(found, key=lambda p: (SPLIT_ORDER.index(prediction_split(p)), p.as_posix()))


def _subdirs(folder: Path) -> Iterator[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                yield Path(entry.path)
        except OSError:
            continue
