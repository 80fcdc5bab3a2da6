"""Build a full record (Run, Sweep or ABTest) from a folder the walk found.

Runs are read by their format (:mod:`runsift.core.formats`); sweeps and A/B repro kits here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from . import formats
from .discover import Found
from .formats._common import dedupe, started_from_files
from .naming import started_from_name
from .readers.abtest import read_abtest
from .readers.sweep import read_sweep
from .records import ABTest, Problem, Record, Sweep
from .safeio import ReadContext


def load(found: Found, root: Path) -> Record:
    """Read the record ``found`` describes; never raises for bad input.

    What went wrong while listing its folder (a capped listing, files that could not be
    looked at) is added to the record's problems, whatever its format.
    """
    if found.kind == "sweep":
        record: Record = load_sweep(found, root)
    elif found.kind == "abtest":
        record = load_abtest(found, root)
    else:
        record = formats.get(found.format).read(found, root)
    if not found.trouble:
        return record
    listed = tuple(Problem(f"{found.id}/{where}" if where else found.id, message) for where, message in found.trouble)
    return replace(record, problems=tuple(dedupe([*listed, *record.problems])))


def load_sweep(found: Found, root: Path) -> Sweep:
    """Read a sweep folder: spec, baseline, leaderboard; members come from the walk."""
    read_format_sweep = formats.get(found.format).read_sweep
    if read_format_sweep is not None:  # a tracker's sweep (a Hydra multirun)
        sweep = read_format_sweep(found, root)
        return sweep if sweep.started is not None else replace(sweep, started=_sweep_started(found))
    ctx = ReadContext(root)
    sweep = read_sweep(
        found.dir,
        ctx,
        id=found.id,
        project=found.project,
        name=found.name,
        run_ids=tuple(found.members),
        started=_sweep_started(found),
    )
    return _with_problems(sweep, ctx)


def load_abtest(found: Found, root: Path) -> ABTest:
    """Read an A/B repro kit."""
    ctx = ReadContext(root)
    record = read_abtest(found.dir, ctx, id=found.id, project=found.project, name=found.name)
    return _with_problems(record, ctx)


_Kit = TypeVar("_Kit", Sweep, ABTest)


def _with_problems(record: _Kit, ctx: ReadContext) -> _Kit:
    """The record with the context's problems added (each once)."""
    merged = tuple(dedupe([*record.problems, *ctx.problems]))
    return replace(record, problems=merged) if merged != record.problems else record


def _sweep_started(found: Found) -> datetime | None:
    """From the folder name, else the oldest top-level file's modification time."""
    return started_from_name(found.name) or started_from_files([f for f in found.files if "/" not in f.rel])
