"""Lightning CSVLogger runs: ``<save_dir>/<name>/version_N/`` with ``hparams.yaml``, ``metrics.csv`` and ``checkpoints/``.

What is read, from where:

* ``hparams.yaml`` (what ``save_hyperparameters`` recorded, nested as written) is the config; its
  ``seed`` keys are the seeds;
* ``metrics.csv`` holds one row per ``log_metrics`` call: ``step`` (the global step), ``epoch``
  (0-based) and one column per logged metric. Rows are sparse (a training row leaves the
  validation columns blank), so blank cells are normal and never problems. Each metric is a
  series over the global step; the final values are the last value of each, for a run that
  finished or whose end is unknown. A last line without its line end was cut mid-write and is
  not read;
* ``checkpoints/epoch=E-step=S.ckpt``: names and sizes only (a checkpoint is never opened, let
  alone unpickled); their epochs count as finished epochs.

CSVLogger records neither an end nor a failure, so the status is a guess (and says so): a run
whose logged epochs (or checkpoints) reach the configured ``max_epochs``/``epochs`` finished, one
that stops short is incomplete (crashed, killed, still running or stopped early: the files cannot
tell which), and without a configured number of epochs the status is unknown. Lightning writes no
times either: the start is ``hparams.yaml``'s modification time (written when fitting starts) and
a finished run's end is that of its last metrics or checkpoint file, all marked guessed.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Mapping, Set
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..records import Artifact, Metrics, Run, Source, Status
from ..safeio import ReadContext, Unreadable
from ._common import artifacts, dedupe, read_config
from ._inferred import configured_epochs, seeds_from_config
from .tensorboard import EVENT_PREFIX

if TYPE_CHECKING:
    from ..discover import FileStat, Found

HPARAMS = "hparams.yaml"
METRICS = "metrics.csv"
CHECKPOINTS = "checkpoints"

MAX_ROWS = 5_000_000
"""Most metrics.csv rows read."""
MAX_COLUMNS = 10_000
"""Most metric columns kept."""
LINE_BATCH = 4096

_EPOCH_IN_NAME = re.compile(r"(?:^|[-_])epoch=(\d{1,9})(?=[-_.]|$)")
_STEP_IN_NAME = re.compile(r"(?:^|[-_])step=(\d{1,12})(?=[-_.]|$)")


def detect(names: Set[str]) -> bool:
    """``hparams.yaml`` with ``metrics.csv``, or with a ``checkpoints`` folder and no TensorBoard event file.

    Lightning's TensorBoardLogger writes ``hparams.yaml`` and ``checkpoints/`` beside its event
    files: that folder is the TensorBoard format's.
    """
    if HPARAMS not in names:
        return False
    return METRICS in names or (CHECKPOINTS in names and not any(n.startswith(EVENT_PREFIX) for n in names))


def is_live(name: str) -> bool:
    """The logger rewrites both files in place as the run goes on."""
    return name in (METRICS, HPARAMS)


def read(found: Found, root: Path) -> Run:
    """Read one CSVLogger version folder; never raises for bad input."""
    ctx = ReadContext(root)
    folder = found.dir
    top = {f.rel: f for f in found.files if "/" not in f.rel}
    read_files: list[str] = []

    config: dict[str, Any] = {}
    if HPARAMS in top:
        config = read_config(folder / HPARAMS, ctx)
        read_files.append(HPARAMS)

    series: dict[str, dict[float, float]] = {}
    last_epoch: int | None = None
    if METRICS in top:
        read_files.append(METRICS)
        last_epoch = _read_metrics(folder / METRICS, ctx, series)

    checkpoints = [f for f in found.files if f.rel.startswith(CHECKPOINTS + "/") and f.rel.endswith(".ckpt")]
    ckpt_epochs = [int(m.group(1)) for f in checkpoints if (m := _EPOCH_IN_NAME.search(f.rel.rsplit("/", 1)[-1]))]

    guessed: list[str] = []
    status = _status(config, last_epoch, max(ckpt_epochs) if ckpt_epochs else None, METRICS in top)
    if status != "unknown":
        guessed.append("status")
    started = _mtime(top.get(HPARAMS)) or _mtime(min(found.files, key=lambda f: f.mtime_ns, default=None))
    if started is not None:
        guessed.append("started")
    ended = None
    duration = None
    if status == "finished":
        ends = [f for f in (top.get(METRICS), *checkpoints) if f is not None]
        newest = max(ends, key=lambda f: f.mtime_ns, default=None)
        ended = _mtime(newest)
        if ended is not None:
            guessed.append("ended")
            if started is not None and ended >= started:
                duration = (ended - started).total_seconds()
                guessed.append("duration")

    sorted_series = {name: tuple(sorted(points.items())) for name, points in series.items()}
    finals = {name: pts[-1][1] for name, pts in sorted_series.items() if pts} if status in ("finished", "unknown") else {}
    ckpt_artifacts = [Artifact(f.rel, f.size, "model") for f in checkpoints]
    return Run(
        id=found.id,
        path=str(folder),
        project=found.project,
        name=found.name,
        started=started,
        run_number=_version_number(found.name),
        status=status,
        config=config,
        seeds=seeds_from_config(config),
        metrics=Metrics(final=finals, series=sorted_series),
        artifacts=tuple(dict.fromkeys([*ckpt_artifacts, *artifacts(found.files)])),
        sweep=found.sweep,
        files=tuple(read_files),
        problems=tuple(dedupe(ctx.problems)),
        source=Source("lightning", None, tuple(guessed)),
        ended=ended,
        duration=duration,
    )


def _read_metrics(path: Path, ctx: ReadContext, series: dict[str, dict[float, float]]) -> int | None:
    """Fill ``series`` from a CSVLogger ``metrics.csv``; return the highest epoch logged (None if none)."""
    last_epoch: int | None = None
    where = [0]
    try:
        cut = not _ends_with_newline(path, ctx)
        header: list[str] | None = None
        step_col = epoch_col = None
        columns: list[tuple[int, str]] = []
        rows = bad_steps = bad_cells = 0
        first_bad: tuple[int, str] | None = None
        for line, row in _rows(path, ctx, cut, where):
            if header is None:
                if not any(cell.strip() for cell in row):
                    continue
                header = row
                step_col, epoch_col, columns = _columns(row, ctx, path, line)
                continue
            rows += 1
            if rows > MAX_ROWS:
                ctx.problem(path, f"more than {MAX_ROWS:,} rows; the rest not read", line)
                break
            got = _row(row, step_col, epoch_col, columns, rows, series)
            if got is None:
                bad_steps += 1
                continue
            epoch, bad = got
            if epoch is not None:
                last_epoch = epoch if last_epoch is None else max(last_epoch, epoch)
            if bad:
                bad_cells += len(bad)
                first_bad = first_bad or (line, bad[0])
    except Unreadable as exc:
        ctx.problem(path, exc.message, exc.line)
        return None
    except csv.Error as exc:
        ctx.problem(path, f"unreadable CSV: {exc}; rest of the file ignored", where[0])
        return last_epoch
    if header is None and not cut:
        ctx.problem(path, "empty file (still being written?)")
    if bad_steps:
        ctx.problem(path, f"{bad_steps} row(s) without a numeric step skipped")
    if bad_cells and first_bad is not None:
        ctx.problem(path, f"{bad_cells} non-numeric cell(s) skipped (first: {first_bad[1]})", first_bad[0])
    return last_epoch


def _rows(path: Path, ctx: ReadContext, cut: bool, where: list[int]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each CSV row; the last row is left out when the file was cut mid-line."""

    def texts() -> Iterator[str]:
        for start, batch in ctx.iter_line_batches(path, LINE_BATCH):
            for offset, text in enumerate(batch):
                where[0] = start + offset
                yield text

    held: tuple[int, list[str]] | None = None
    for row in csv.reader(texts()):
        if held is not None:
            yield held
        held = (where[0], row)
    if held is not None and not cut:
        yield held


def _columns(row: list[str], ctx: ReadContext, path: Path, line: int) -> tuple[int | None, int | None, list[tuple[int, str]]]:
    """The header's step and epoch columns and its metric columns (position, name)."""
    names = [cell.strip() for cell in row]
    lowered = [n.lower() for n in names]
    step_col = lowered.index("step") if "step" in lowered else None
    epoch_col = lowered.index("epoch") if "epoch" in lowered else None
    if step_col is None:
        ctx.problem(path, "no 'step' column; rows are numbered instead", line)
    columns: list[tuple[int, str]] = []
    seen: set[str] = set()
    for col, name in enumerate(names):
        if col in (step_col, epoch_col) or not name or name in seen:
            continue
        if len(columns) >= MAX_COLUMNS:
            ctx.problem(path, f"more than {MAX_COLUMNS:,} metric columns; the rest ignored", line)
            break
        seen.add(name)
        columns.append((col, name))
    return step_col, epoch_col, columns


def _row(
    row: list[str], step_col: int | None, epoch_col: int | None, columns: list[tuple[int, str]], number: int, series: dict[str, dict[float, float]]
) -> tuple[int | None, list[str]] | None:
    """Add one data row's cells to ``series``: (its epoch, the non-numeric cells), or None without a step."""
    if step_col is None:
        step = float(number - 1)
    else:
        cell_step = _number(row[step_col]) if step_col < len(row) else None
        if cell_step is None or not math.isfinite(cell_step):
            return None
        step = cell_step
    epoch = None
    if epoch_col is not None and epoch_col < len(row):
        value = _number(row[epoch_col])
        if value is not None and math.isfinite(value) and value.is_integer() and 0 <= value < 1e9:
            epoch = int(value)
    bad: list[str] = []
    for col, name in columns:
        if col >= len(row):
            continue
        cell = row[col].strip()
        if not cell:
            continue  # sparse rows: blank cells are normal
        value = _number(cell)
        if value is None:
            bad.append(f"column '{name}': {cell[:40]!r}")
            continue
        series.setdefault(name, {})[step] = value
    return epoch, bad


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except (ValueError, OverflowError):
        return None


def _ends_with_newline(path: Path, ctx: ReadContext) -> bool:
    """True when the file's last byte ends a line (or the file is empty); raises Unreadable."""
    size = ctx.check_file(path, None)
    if size == 0:
        return True
    try:
        with open(path, "rb") as fh:
            fh.seek(size - 1)
            return fh.read(1) in (b"\n", b"\r")
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None


def _status(config: Mapping[str, Any], csv_epoch: int | None, ckpt_epoch: int | None, has_metrics: bool) -> Status:
    """A guess from the epochs reached against the configured number (see the module's docstring)."""
    planned = configured_epochs(config)
    reached = max((e + 1 for e in (csv_epoch, ckpt_epoch) if e is not None), default=0)
    if planned is None:
        return "unknown" if has_metrics or ckpt_epoch is not None else "incomplete"
    return "finished" if reached >= planned else "incomplete"


def _mtime(stat: FileStat | None) -> datetime | None:
    if stat is None:
        return None
    try:
        return datetime.fromtimestamp(stat.mtime_ns / 1e9).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return None


def _version_number(name: str) -> int | None:
    match = re.fullmatch(r"version_(\d{1,9})", name)
    return int(match.group(1)) if match else None

