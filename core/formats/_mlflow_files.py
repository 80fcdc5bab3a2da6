"""A run folder's own files in MLflow's file store: ``meta.yaml``, and params, metrics and tags kept one file per key.

Keys are walked below ``params/``, ``metrics/`` and ``tags/`` (a ``/`` in a key is a sub-folder),
within bounds. Params and tags are read as the text MLflow stored; metric files as lines of
``timestamp value step``, each step reduced to the value MLflow itself would pick, a long series
thinned evenly. Kept apart from :mod:`.mlflow`, which decides what those values mean for a run,
so that the file formats and their bounds read in one place.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..records import Metrics
from ..safeio import ReadContext, Unreadable

META = "meta.yaml"
PARAMS, METRICS, TAGS = "params", "metrics", "tags"

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


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


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
    points: dict[str, dict[int, tuple[int, float, float]]] = {}
    budget = _Budget()
    for key, path in sorted(_keys(ctx, folder / METRICS)):
        read_files.append(f"{METRICS}/{key}")
        by_step = _metric_points(ctx, path, budget)
        if by_step:
            points[key] = by_step
    return metrics_from_points(points)


def keep_point(points: dict[int, tuple[int, float, float]], step: int, ts: int, value: float) -> None:
    """Keep the value MLflow reports for a step: the newest, then the largest (NaN ranks lowest)."""
    rank = value if value == value else -math.inf  # MLflow's max() would not order a NaN
    old = points.get(step)
    if old is None or (ts, rank) >= old[:2]:
        points[step] = (ts, rank, value)


def metrics_from_points(points: Mapping[str, Mapping[int, tuple[int, float, float]]]) -> Metrics:
    """Finals (the highest step's value) and series by step, thinned past :data:`MAX_SERIES_POINTS`."""
    final: dict[str, float] = {}
    series: dict[str, tuple[tuple[float, float], ...]] = {}
    thinned: dict[str, int] = {}
    for key, by_step in sorted(points.items()):
        steps = sorted(by_step.items())
        final[key] = steps[-1][1][2]
        values: list[tuple[float, float]] = [(step, v) for step, (_, _, v) in steps]
        if len(values) > MAX_SERIES_POINTS:
            thinned[key] = len(values)
            values = thin(values, MAX_SERIES_POINTS)
        series[key] = tuple(values)
    return Metrics(final, series, {}, {"series_thinned": thinned} if thinned else {})


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
            keep_point(points, *point)
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
