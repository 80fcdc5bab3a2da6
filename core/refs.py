"""Which catalog root a typed reference implies: ``runsift show .`` inside a run folder, absolute paths.

A command that names records (show, diff, explain, sweep ...) indexes a root, by default the
current folder. Inside a run folder that root would hold no run at all (the folder is the
record, not a folder of records), and an absolute path elsewhere lies outside it. The root is
then the folder just above the outermost record (run, sweep, A/B kit, or a sweep's ``runs/``)
that holds the path, found by listing a few folders upwards, never by reading a record.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import formats
from .discover import SWEEP_RUNS_DIR
from .readers.abtest import is_abtest_dir
from .readers.sweep import is_sweep_dir

LEVELS_UP = 6
"""How far above a path to look for the record holding it (a run's ``artifacts/plots/x`` is 3 below the run,
a sweep's run 2 below the sweep)."""


def _names(folder: Path) -> set[str] | None:
    try:
        return set(os.listdir(folder))
    except OSError:
        return None


def is_record_dir(folder: Path, in_sweep: bool = False) -> bool:
    """True when ``folder`` is a run, a sweep or an A/B kit as the catalog's walk would see it."""
    names = _names(folder)
    if not names:
        return False
    return is_sweep_dir(names) or is_abtest_dir(names) or formats.detect(names, in_sweep=in_sweep) is not None


def record_root(path: Path) -> Path:
    """The folder above the outermost record holding ``path`` (``path`` itself when no record holds it).

    ``.../fraud-model/run-023`` -> ``.../fraud-model``; ``.../nlp-intent/sweep-07/runs/run-101`` ->
    ``.../nlp-intent``; ``.../sample_runs`` -> ``.../sample_runs``.
    """
    path = Path(os.path.realpath(path))
    outermost: Path | None = None
    folder = path
    for _ in range(LEVELS_UP + 1):
        parent = folder.parent
        if parent == folder:
            break
        in_sweep = parent.name == SWEEP_RUNS_DIR and is_sweep_dir(_names(parent.parent) or set())
        if is_record_dir(folder, in_sweep=in_sweep):
            outermost = folder
        elif folder.name == SWEEP_RUNS_DIR and is_sweep_dir(_names(parent) or set()):
            outermost = parent
        folder = parent
    return outermost.parent if outermost is not None else path


def is_within(path: Path, root: Path) -> bool:
    """True when ``path`` is ``root`` or lies below it (both resolved)."""
    path, root = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return path == root or root in path.parents


def root_for_refs(default: Path, refs: list[str], cwd: Path, explicit: bool) -> Path:
    """The root to index for commands naming ``refs``.

    An ``explicit`` root (``--root``, ``$RUNSIFT_ROOT``) is kept. Otherwise the default (the current
    folder) is lifted out of any record holding it, and when a reference is a folder outside that
    root, the root is the common folder of the roots the references imply.
    """
    if explicit:
        return default
    root = record_root(default)
    implied: list[Path] = []
    outside = False
    for ref in refs:
        candidate = Path(ref) if os.path.isabs(ref) else cwd / ref
        if not candidate.is_dir():
            continue  # an id or a name: resolved in whatever root the paths give
        if is_within(candidate, root):
            implied.append(root)
        else:
            outside = True
            implied.append(record_root(candidate))
    if outside:
        return Path(os.path.commonpath([str(p) for p in implied]))
    return root
