"""TensorBoard runs: a folder of ``events.out.tfevents.<unix time>.<host>…`` files.

A folder holding an event file is a run (TensorBoard's own rule); its sub-folders are folded
into it, as tensorboardX's ``add_hparams`` writes the hparams plugin's session into a new
timestamp-named sub-folder of the run, and ``add_scalars`` writes one sub-folder per line.

What is read, from where:

* scalars (``simple_value``, or a one-element tensor of the ``scalars`` plugin) become per-step
  series named by their tag; a sub-folder's tags are prefixed with the sub-folder's path
  (``loss_train/loss`` for ``add_scalars``), except in an hparams session sub-folder, whose metric
  tags are the run's own. Final values are the last value of each series, for a run that
  finished or whose end is not recorded;
* the hparams plugin: the session start's hyper-parameters are the config (dotted names nested
  again: ``optimizer.lr`` is ``{"optimizer": {"lr": …}}``), the session end's status and end time
  are the run's; the experiment's name, description and user are its project, notes and user;
* text summaries are notes, except those whose tag names an error or traceback, whose last lines
  are the run's error;
* start time: the first event's wall time; the host: the event file's name.

A config file beside the event files (``hparams.yaml`` as Lightning's TensorBoardLogger writes
it, or ``config.yaml``/``.yml``/``.json``) is the config instead of the plugin's hyper-parameters,
and checkpoints in ``checkpoints/`` (names and sizes only) are artifacts.

Status: the latest hparams session's end (success, failure, running); a session started and
never ended, or an event file whose last record is cut mid-write (a run still being written,
not an error), is ``incomplete``; with neither, TensorBoard records nothing about the end and the
status is ``unknown``. Only the latter two are guesses.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Set
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..records import Artifact, Metrics, Run, Source, Status
from ..safeio import ReadContext, Unreadable
from . import _tfhparams as hp
from . import _tfrecord as tf
from ._common import artifacts, dedupe, read_config, started_from_files
from ._inferred import nest, seeds_from_config
from ._protoschema import BadMessage

if TYPE_CHECKING:
    from ..discover import FileStat, Found

EVENT_PREFIX = "events.out.tfevents."
CHECKPOINTS_DIR = "checkpoints/"
CONFIG_NAMES: tuple[str, ...] = ("hparams.yaml", "config.yaml", "config.yml", "config.json")
"""A config file beside the event files, used instead of the hparams plugin's values."""

MAX_EVENT_FILES = 500
"""Most event files read for one run (a run restarted many times writes one per start)."""
MAX_RECORDS = 2_000_000
"""Most records read for one run, all its files together."""
MAX_SERIES = 10_000
"""Most scalar tags kept for one run."""
MAX_NOTES_CHARS = 256 * 1024
ERROR_LINES = 20
"""Lines of a recorded traceback kept as the run's error."""

_ERROR_TAG = re.compile(r"(error|traceback|exception|stderr|crash)", re.IGNORECASE)
_TEXT_SUFFIX = "/text_summary"
_SESSION_STATUS: dict[int, Status] = {0: "unknown", 1: "finished", 2: "failed", 3: "incomplete"}


def detect(names: Set[str]) -> bool:
    """A folder holding an event file."""
    return any(n.startswith(EVENT_PREFIX) for n in names)


def is_live(name: str) -> bool:
    """Event files are appended to while a run (or a later evaluation) logs."""
    return name.startswith(EVENT_PREFIX)


class _Session:
    """The hparams plugin's records found in one run, with the wall time of each."""

    def __init__(self) -> None:
        self.starts: list[tuple[float, str, hp.HParamsData]] = []
        self.ends: list[tuple[float, str, hp.HParamsData]] = []
        self.experiments: list[hp.HParamsData] = []


def read(found: Found, root: Path) -> Run:
    """Read every event file of one run folder (and its sub-folders); never raises for bad input."""
    ctx = ReadContext(root)
    folder = found.dir
    event_files = sorted((f for f in found.files if f.rel.rsplit("/", 1)[-1].startswith(EVENT_PREFIX)), key=_file_order)
    if len(event_files) > MAX_EVENT_FILES:
        ctx.problem(folder, f"{len(event_files)} event files; only the first {MAX_EVENT_FILES} read")
        event_files = event_files[:MAX_EVENT_FILES]
    read_files: list[str] = []
    by_folder: dict[str, list[tuple[str, tf.FileEvents]]] = {}
    decoders: dict[str, tf.Decoder] = {}
    budget = MAX_RECORDS
    truncated: list[str] = []
    capped = False
    for stat in event_files:
        sub = stat.rel.rsplit("/", 1)[0] if "/" in stat.rel else ""
        path = folder / stat.rel
        if budget <= 0:
            capped = True
            break
        got = _read_file(path, ctx, decoders.setdefault(sub, tf.Decoder()), budget)
        if got is None:
            continue
        read_files.append(stat.rel)
        budget -= got.framing.records
        capped = capped or got.capped
        if got.framing.truncated:
            truncated.append(stat.rel)
        for message, record in got.problems:
            ctx.problem(path, f"record {record}: {message}" if record else message)
        by_folder.setdefault(sub, []).append((stat.rel, got))
    if capped:
        ctx.problem(folder, f"more than {MAX_RECORDS:,} event records; the rest not read")

    series: dict[str, dict[float, float]] = {}
    texts: dict[str, str] = {}
    session = _Session()
    first_wall: float | None = None
    last_wall: float | None = None
    dropped_tags = 0
    for sub, files in sorted(by_folder.items(), key=lambda item: (item[0].count("/"), item[0])):
        hparams_folder = any(v.kind == "hparams" for _rel, got in files for e in got.events for v in e.values)
        prefix = "" if not sub or hparams_folder else sub + "/"
        for rel, got in files:
            for event in got.events:
                wall = event.wall_time
                if wall is not None:
                    first_wall = wall if first_wall is None else min(first_wall, wall)
                    last_wall = wall if last_wall is None else max(last_wall, wall)
                for value in event.values:
                    if value.kind == "scalar" and value.number is not None:
                        name = prefix + value.tag
                        points = series.get(name)
                        if points is None:
                            if len(series) >= MAX_SERIES:
                                dropped_tags += 1
                                continue
                            points = series[name] = {}
                        points[float(event.step)] = value.number
                    elif value.kind == "text" and value.text is not None:
                        texts[prefix + _text_tag(value.tag)] = value.text
                    elif value.kind == "hparams" and value.content:
                        _session_value(value.content, wall, rel, session, ctx, folder / rel)
    if dropped_tags:
        ctx.problem(folder, f"more than {MAX_SERIES:,} scalar tags; the rest not kept")

    guessed: list[str] = []
    status, ended, status_guessed = _status(session, truncated)
    if status_guessed:
        guessed.append("status")
    started = _when(first_wall)
    if started is None:
        started = _started_from_names(event_files)
    if started is None:
        started = started_from_files([f for f in found.files if "/" not in f.rel])
        if started is not None:
            guessed.append("started")
    if ended is None and status == "unknown" and last_wall is not None:
        ended = last_wall
        guessed.append("ended")
    duration = None
    if ended is not None and first_wall is not None and ended >= first_wall:
        duration = ended - first_wall
        if "ended" in guessed:
            guessed.append("duration")

    config, config_file = _config(found, ctx, session)
    if config_file:
        read_files.append(config_file)
    sorted_series = {name: tuple(sorted(points.items())) for name, points in series.items()}
    finals = {name: pts[-1][1] for name, pts in sorted_series.items() if pts} if status in ("finished", "unknown") else {}
    experiment = session.experiments[-1] if session.experiments else None
    notes, error = _notes_and_error(texts, experiment)

    return Run(
        id=found.id,
        path=str(folder),
        project=(experiment.name if experiment and experiment.name else found.project),
        name=found.name,
        started=started,
        status=status,
        config=config,
        seeds=seeds_from_config(config),
        metrics=Metrics(final=finals, series=sorted_series),
        artifacts=_artifacts(found.files),
        notes=notes,
        sweep=found.sweep,
        files=tuple(dict.fromkeys(read_files)),
        problems=tuple(dedupe(ctx.problems)),
        source=Source("tensorboard", None, tuple(guessed)),
        ended=_when(ended),
        duration=duration,
        user=experiment.user if experiment else None,
        host=_host(event_files),
        error=error,
    )


def _artifacts(files: tuple[FileStat, ...]) -> tuple[Artifact, ...]:
    """The usual artifacts, plus checkpoints in ``checkpoints/`` (Lightning's TensorBoardLogger puts them there)."""
    ckpts = [Artifact(f.rel, f.size, "model") for f in files if f.rel.startswith(CHECKPOINTS_DIR) and f.rel.endswith(".ckpt")]
    return tuple(dict.fromkeys([*ckpts, *artifacts(files)]))


def _file_order(stat: FileStat) -> tuple[int, str, str]:
    """Top-level event files first, then each sub-folder's; within a folder by name (their start time)."""
    folder, _, name = stat.rel.rpartition("/")
    return (folder.count("/") + (1 if folder else 0), folder, name)


def _read_file(path: Path, ctx: ReadContext, decoder: tf.Decoder, budget: int) -> tf.FileEvents | None:
    """One event file's events, or None with a problem when it cannot be opened."""
    try:
        ctx.check_file(path, None)
        with open(path, "rb") as fh:
            return tf.read_events(fh, decoder, budget)
    except Unreadable as exc:
        ctx.problem(path, exc.message)
    except OSError as exc:
        ctx.problem(path, f"cannot read: {exc.strerror or exc}")
    return None


def _text_tag(tag: str) -> str:
    return tag[: -len(_TEXT_SUFFIX)] if tag.endswith(_TEXT_SUFFIX) else tag


def _session_value(content: bytes, wall: float | None, rel: str, session: _Session, ctx: ReadContext, path: Path) -> None:
    try:
        data = hp.decode_hparams(content)
    except (BadMessage, RecursionError) as exc:
        ctx.problem(path, f"hparams plugin data is not readable ({exc}); ignored")
        return
    when = wall if wall is not None else 0.0
    if data.kind == "session_start":
        session.starts.append((when, rel, data))
    elif data.kind == "session_end":
        session.ends.append((when, rel, data))
    elif data.kind == "experiment":
        session.experiments.append(data)


def _status(session: _Session, truncated: list[str]) -> tuple[Status, float | None, bool]:
    """(status, end time, whether the status is a guess)."""
    start = max(session.starts, key=lambda s: s[0]) if session.starts else None
    end = max(session.ends, key=lambda s: s[0]) if session.ends else None
    if end is not None and (start is None or end[0] >= start[0]):
        data = end[2]
        status = _SESSION_STATUS.get(data.status or 0, "unknown")
        when = data.end_time or (end[0] if end[0] > 0 else None)
        return status, (when if status != "incomplete" else None), False
    if start is not None or truncated:
        return "incomplete", None, True
    return "unknown", None, False


def _config(found: Found, ctx: ReadContext, session: _Session) -> tuple[dict[str, Any], str | None]:
    """The config file beside the events, else the latest session start's hyper-parameters, nested again."""
    top = {f.rel for f in found.files if "/" not in f.rel}
    for name in CONFIG_NAMES:
        if name in top:
            return read_config(found.dir / name, ctx), name
    if not session.starts:
        return {}, None
    starts = sorted(session.starts, key=lambda s: s[0])
    latest = starts[-1][2].hparams
    others = {rel for _w, rel, data in starts if data.hparams != latest}
    if others:
        ctx.problem(found.dir, f"{len(starts)} hparams sessions with different values; the config is the latest ({starts[-1][1]})")
    return nest(latest), None


def _notes_and_error(texts: Mapping[str, str], experiment: hp.HParamsData | None) -> tuple[str, str | None]:
    """Text summaries as notes (each tag's latest), and the latest error-like one's last lines as the error."""
    error = None
    notes: list[tuple[str, str]] = []
    for tag, text in texts.items():
        if _ERROR_TAG.search(tag):
            lines = text.rstrip("\n").splitlines()
            error = "\n".join(lines[-ERROR_LINES:])
        else:
            notes.append((tag, text))
    parts = []
    if experiment is not None and experiment.description:
        parts.append(experiment.description)
    if len(notes) == 1 and not parts:
        parts.append(notes[0][1])
    else:
        parts.extend(f"{tag}:\n{text}" for tag, text in notes)
    text = "\n\n".join(parts)
    return text[:MAX_NOTES_CHARS], error


def _when(seconds: float | None) -> datetime | None:
    """A wall time as a local datetime (whole seconds), None for one no clock can show."""
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return None


def _name_parts(stat: FileStat) -> list[str]:
    """``events.out.tfevents.<time>.<host>[.<pid>.<n>][.v2]`` split into time and host (may be short)."""
    rest = stat.rel.rsplit("/", 1)[-1][len(EVENT_PREFIX) :]
    when, _, host = rest.partition(".")
    if host.endswith(".v2"):
        host = host[:-3]
    parts = host.split(".")
    if len(parts) >= 3 and parts[-1].isdigit() and parts[-2].isdigit():
        host = ".".join(parts[:-2])  # PyTorch's and TensorFlow's "<host>.<pid>.<n>"
    if host in ("profile-empty", ""):
        host = ""
    return [when, host]


def _host(event_files: list[FileStat]) -> str | None:
    for stat in event_files:
        host = _name_parts(stat)[1]
        if host:
            return os.fsencode(host).decode("utf-8", "replace")
    return None


def _started_from_names(event_files: list[FileStat]) -> datetime | None:
    """The writer's start time its event file is named after (when no event could be read)."""
    times = [int(w) for w in (_name_parts(s)[0] for s in event_files) if w.isdigit() and len(w) <= 12]
    return _when(float(min(times))) if times else None
