"""What a folder holds when runsift finds no run in it, so "0 records" never stands alone.

A bounded look at the top of the tree: how many folders and files, and the names that show
a tracker was used there (each format lists its own markers), then what runsift reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import formats

MAX_ENTRIES = 2_000
"""Most folder entries looked at."""
MAX_DEPTH = 3


@dataclass(frozen=True, slots=True)
class Survey:
    """Counts of what was seen, and tracker markers found (format name, path below the root)."""

    folders: int
    files: int
    markers: tuple[tuple[str, str], ...]
    complete: bool
    """False when the look stopped at its bounds."""

    def message(self) -> str:
        """``no run records here: saw 3 folders and 12 files, among them an mlflow marker (mlruns) ...``."""
        more = "" if self.complete else " (looked at the first levels only)"
        seen = f"saw {self.folders:,} folder{'s' if self.folders != 1 else ''} and {self.files:,} file{'s' if self.files != 1 else ''}{more}"
        if self.markers:
            shown = ", ".join(f"{path} ({name})" for name, path in self.markers[:5])
            seen += f"; signs of a tracker with no run runsift could read: {shown}"
        reads = "; ".join(f.describe for f in formats.FORMATS if f.describe)
        return f"no run records here: {seen}. runsift reads {reads}; sweeps (sweep.yaml with runs/) and A/B repro kits (experiment.yaml with assignments.csv)."


def survey(root: Path) -> Survey:
    """Look at ``root`` (bounded in entries and depth) without reading any file."""
    marks = {m: f.name for f in formats.FORMATS for m in f.markers}
    folders = files = seen = 0
    found: list[tuple[str, str]] = []
    stack = [(str(root), 0)]
    complete = True
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                return Survey(folders, files, tuple(found), False)
            rel = os.path.relpath(entry.path, root)
            if entry.name in marks:
                found.append((marks[entry.name], rel))
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                folders += 1
                if depth + 1 < MAX_DEPTH:
                    stack.append((entry.path, depth + 1))
                else:
                    complete = False
            else:
                files += 1
    return Survey(folders, files, tuple(found), complete)
