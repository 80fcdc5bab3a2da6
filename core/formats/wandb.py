"""W&B runs as wandb leaves them on disk, read without wandb.

``wandb.init(dir=D)`` writes ``D/wandb/offline-run-<YYYYMMDD_HHMMSS>-<id>/`` (``run-...`` when the
run was online), beside a ``latest-run`` link and ``debug*.log`` links. A run folder holds:

* ``run-<id>.wandb``, the transaction log (framing and records: :mod:`._wandb_records`): the run
  record (project, display name, tags, notes, group, start time, host, git, the config as
  ``{key, value_json}`` items), later config records, history rows (``nested_key`` paths in 0.2x
  and later, ``key`` with a JSON value before: both become dotted metric names), summary updates
  (the final values), console output (standard error gives the traceback of a crash), the
  ``environment`` record (0.2x and later) and the exit record: present and empty means exit
  code 0, absent means the run never finished (killed, or still running).
* ``files/``: ``requirements.txt`` (packages), ``wandb-metadata.json`` (python, host, user, git,
  start before 0.2x; its ``state`` is written once at the start and never updated, so it is not
  read), ``wandb-summary.json``, ``output.log``, ``diff.patch`` when the tree was dirty and, for a
  run synced online, ``config.yaml`` with every value wrapped as ``{desc, value}``. Other files
  there are the run's saved files: artifacts (names and sizes only).

The log is the source of truth; the files under ``files/`` fill what it lacks (a log damaged
past reading, an older wandb). A ``files/`` folder met on its own (an online run copied without
its log) is read as the W&B run of its parent folder, never as a run called "files".
"""

from __future__ import annotations

import json
import math
import re
import signal
from collections.abc import Iterator, Mapping, Set
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..naming import started_from_name
from ..readers.env import merge_env, read_env
from ..readers.metrics import STEP_KEYS, last_values
from ..records import Artifact, CodeState, Environment, Metrics, Run, Source, Status
from ..safeio import MAX_TEXT_BYTES, ReadContext, Unreadable, parse_json
from ._common import _artifact_kind, dedupe
from ._inferred import error_tail, nest, seeds_from_config
from ._wandb_records import STDERR, LogProblems, check_header, parse, scan_chunks

if TYPE_CHECKING:
    from ..discover import FileStat, Found

FORMAT = "wandb"
LOG_PREFIX, LOG_SUFFIX = "run-", ".wandb"
FILES_DIR = "files"
METADATA = "wandb-metadata.json"
SUMMARY = "wandb-summary.json"
CONFIG_YAML = "config.yaml"
REQUIREMENTS = "requirements.txt"
OUTPUT_LOG = "output.log"
DIFF_PATCH = "diff.patch"
WANDB_DIR = "wandb"
BOOKKEEPING = frozenset(
    {METADATA, SUMMARY, CONFIG_YAML, REQUIREMENTS, OUTPUT_LOG, DIFF_PATCH, "conda-environment.yaml", "wandb-job.json"}
)
"""Files wandb itself writes under ``files/``: not the run's artifacts."""

MAX_RECORDS = 5_000_000
"""Records read from one log at most."""
MAX_SERIES = 2_000
"""Metric names kept (series and final values each)."""
MAX_POINTS = 100_000
"""Points kept per series; a longer history is thinned evenly (every 2nd, 4th ... step)."""
MAX_NESTING = 16
"""Deepest nested mapping flattened into metric names."""
STDERR_KEEP = 64 * 1024
"""Characters of standard error kept while scanning (the traceback is at the end)."""
DROPPED_CONFIG_KEYS = ("_wandb", "wandb_version")
"""wandb's own entries in a config: not the run's."""
CONTAINER_METRICS = "metrics.json"
"""A folder with wandb's files but no log, holding this too, is a hand-written run container that kept them."""
_GIT_KEYS = frozenset({"commit", "remote", "remote_url", "last_commit", "branch"})


def detect(names: Set[str]) -> bool:
    """A folder holding ``run-<id>.wandb``, or a W&B ``files/`` folder met without its run folder."""
    for name in names:
        if name.endswith(LOG_SUFFIX) and name.startswith(LOG_PREFIX) and len(name) > len(LOG_PREFIX) + len(LOG_SUFFIX):
            return True
    return (METADATA in names or (SUMMARY in names and CONFIG_YAML in names)) and CONTAINER_METRICS not in names


LATEST_LINK = "latest-run"


def skip(names: Set[str]) -> Set[str]:
    """In a ``wandb/`` folder, the ``latest-run`` link: it names one of the runs beside it, never a run of its own."""
    if LATEST_LINK in names and any(n.startswith(("run-", "offline-run-")) for n in names):
        return frozenset({LATEST_LINK})
    return frozenset()


def is_live(name: str) -> bool:
    """The log grows in place while a run goes on (resumed, or still running after a quiet day)."""
    return name.endswith(LOG_SUFFIX)


def read(found: Found, root: Path) -> Run:
    """Read one W&B run folder; never raises for bad input."""
    ctx = ReadContext(root)
    folder = found.dir
    listed = {f.rel: f for f in found.files}
    logs = sorted(n for n in listed if "/" not in n and n.endswith(LOG_SUFFIX) and n.startswith(LOG_PREFIX))
    # Without a log, detect claimed this folder for wandb's own files in it: a files/ folder met on
    # its own, read as the run of its parent folder.
    bare = not logs
    prefix = "" if bare else f"{FILES_DIR}/"
    run_dir_name = (Path(found.id).parent.name or found.name) if bare else found.name
    state = _State()
    read_files: list[str] = []

    if logs:
        if len(logs) > 1:
            ctx.problem(folder, f"{len(logs)} W&B logs in one run folder ({', '.join(logs[:3])}); read {logs[0]}")
        log = folder / logs[0]
        read_files.append(logs[0])
        state.log_read = _scan_log(log, ctx, state)

    def has(name: str) -> bool:
        return prefix + name in listed

    def path(name: str) -> Path:
        return folder / (prefix + name)

    def note(name: str) -> None:
        read_files.append(prefix + name)

    if has(METADATA) and not state.environment_seen:
        note(METADATA)
        state.metadata(_mapping(ctx.load_structured(path(METADATA)), ctx, path(METADATA)))
    config_yaml: dict[str, Any] = {}
    if has(CONFIG_YAML) and not state.config_seen:
        note(CONFIG_YAML)
        config_yaml = _unwrap_config(_mapping(ctx.load_structured(path(CONFIG_YAML)), ctx, path(CONFIG_YAML)))
        state.config_yaml(config_yaml)
    if has(SUMMARY) and not state.summary_seen:
        note(SUMMARY)
        doc = _mapping(ctx.load_structured(path(SUMMARY)), ctx, path(SUMMARY))
        for key, value in doc.items():
            state.summary_set([str(key)], value)
    env = state.environment()
    if has(REQUIREMENTS):
        note(REQUIREMENTS)
        env = merge_env(env, read_env([path(REQUIREMENTS)], ctx))
    code = state.code()
    if has(DIFF_PATCH):
        note(DIFF_PATCH)
        code = _with_diff(code, path(DIFF_PATCH), listed[prefix + DIFF_PATCH].size, ctx)

    status, guessed, error = state.status()
    if status == "failed" and not state.stderr and has(OUTPUT_LOG):
        tail = _output_tail(path(OUTPUT_LOG), listed[prefix + OUTPUT_LOG].size, ctx)
        if tail:
            note(OUTPUT_LOG)
            error = error_tail(tail) or error
    metrics = state.metrics(ctx, folder / logs[0] if logs else folder)
    if not metrics.final and metrics.series and status == "finished":
        metrics = Metrics(last_values(metrics.series), metrics.series, metrics.definitions, metrics.extra)

    config = nest(_drop_internal(state.config))
    started, start_epoch = state.started(run_dir_name)
    duration = state.duration()
    ended = _ended(start_epoch, duration)
    return Run(
        id=found.id,
        path=str(folder),
        project=state.project or _project_from_path(found, root, bare),
        name=state.name or run_dir_name,
        started=started,
        status=status,
        config=config,
        code=code,
        env=env,
        seeds=seeds_from_config(config),
        metrics=metrics,
        artifacts=_artifacts(found.files, prefix),
        notes=state.notes,
        sweep=found.sweep,
        files=tuple(dict.fromkeys(read_files)),
        problems=tuple(dedupe(ctx.problems)),
        source=Source(FORMAT, state.version(), tuple(dict.fromkeys(guessed))),
        tags=state.tags(),
        ended=ended,
        duration=duration,
        user=state.user,
        host=state.host,
        exit_code=state.exit_code,
        error=error,
    )


# -- the log -----------------------------------------------------------------------------


def _scan_log(path: Path, ctx: ReadContext, state: _State) -> bool:
    """Feed every record of the log to ``state``; False when the log could not be read at all."""
    try:
        size = ctx.check_file(path, None)
    except Unreadable as exc:
        ctx.problem(path, exc.message)
        return False
    problems = LogProblems()
    count = 0
    try:
        with open(path, "rb") as fh:
            why = check_header(fh.read(7))
            if why is not None:
                ctx.problem(path, why)
                return False
            for at, data in scan_chunks(fh, size, problems):
                count += 1
                if count > MAX_RECORDS:
                    problems.add(at, f"more than {MAX_RECORDS:,} records; the rest of the log was not read")
                    break
                try:
                    record = parse(data)
                except ValueError as exc:
                    problems.add(at, f"not a readable record ({exc}); skipped")
                    continue
                state.record(record, at, problems)
    except OSError as exc:
        ctx.problem(path, f"cannot read: {exc.strerror or exc}")
    for message in problems.messages():
        ctx.problem(path, message)
    return True


class _State:
    """What the records and files of one run say, gathered in the order wandb wrote them."""

    def __init__(self) -> None:
        self.log_read = False
        self.run_id = self.entity = self.project = self.name = self.group = self.job_type = self.sweep_id = ""
        self.notes = ""
        self.tag_list: list[str] = []
        self.host: str | None = None
        self.user: str | None = None
        self.start: float | None = None
        self.env_start: float | None = None
        self.meta_start: float | None = None
        self.cli_version = self.python_version = self.producer = ""
        self.git_commit = self.git_remote = self.program = ""
        self.python = self.os = self.cuda = ""
        self.hardware: list[str] = []
        self.config: dict[str, Any] = {}
        self.config_seen = False
        self.summary: dict[str, Any] = {}
        self.summary_seen = False
        self.environment_seen = False
        self.metric_name: dict[str, bool] = {}
        """Names seen in the history -> whether they are metrics (names repeat on every row)."""
        self.series: dict[str, list[Any]] = {}
        """name -> [points, stride, seen]: points kept, keep every stride-th, points seen."""
        self.dropped_names = 0
        self.thinned: set[str] = set()
        self.max_runtime: float | None = None
        self.history_rows = 0
        self.exit_seen = False
        self.exit_code: int | None = None
        self.exit_runtime = 0
        self.not_complete = False
        self.preempting = False
        self.stderr = ""

    # -- records -------------------------------------------------------------------
    def record(self, rec: Any, at: int, problems: LogProblems) -> None:
        kind = rec.WhichOneof("record_type")
        if kind == "history":
            self.history(rec.history, at, problems)
        elif kind == "summary":
            self.summary_record(rec.summary, at, problems)
        elif kind in ("output_raw", "output"):
            out = getattr(rec, kind)
            if out.output_type == STDERR and out.line:
                self.stderr = (self.stderr + out.line)[-STDERR_KEEP:]
        elif kind == "config":
            self.config_record(rec.config, at, problems)
        elif kind == "run":
            self.run(rec.run, at, problems)
        elif kind == "exit":
            self.exit_seen = True
            self.exit_code = int(rec.exit.exit_code)
            self.exit_runtime = int(rec.exit.runtime)
            self.not_complete = bool(rec.exit.not_complete)
        elif kind == "telemetry":
            self.telemetry(rec.telemetry)
        elif kind == "environment":
            self.environment_record(rec.environment)
        elif kind == "header":
            self.producer = rec.header.version_info.producer or self.producer
        elif kind == "preempting":
            self.preempting = True

    def run(self, run: Any, at: int, problems: LogProblems) -> None:
        for attr, field in (("run_id", "run_id"), ("entity", "entity"), ("project", "project"), ("name", "display_name"),
                            ("group", "run_group"), ("job_type", "job_type"), ("sweep_id", "sweep_id"), ("notes", "notes")):
            value = getattr(run, field)
            if value:
                setattr(self, attr, value)
        if run.tags:
            self.tag_list = list(run.tags)
        if run.host:
            self.host = run.host
        if run.start_time.seconds > 0:
            self.start = run.start_time.seconds + run.start_time.nanos / 1e9
        self.telemetry(run.telemetry)
        self.git(run.git)
        self.config_record(run.config, at, problems)
        if len(run.summary.update) or len(run.summary.remove):
            self.summary_record(run.summary, at, problems)

    def telemetry(self, tel: Any) -> None:
        self.cli_version = tel.cli_version or self.cli_version
        self.python_version = tel.python_version or self.python_version

    def git(self, git: Any) -> None:
        self.git_commit = git.commit or self.git_commit
        self.git_remote = git.remote_url or self.git_remote

    def environment_record(self, env: Any) -> None:
        self.environment_seen = True
        self.python = env.python or self.python
        self.os = env.os or self.os
        self.host = env.host or self.host
        self.user = env.username or self.user
        self.program = env.code_path or env.program or self.program
        self.cuda = env.cuda_version or self.cuda
        if env.started_at.seconds > 0:
            self.env_start = env.started_at.seconds + env.started_at.nanos / 1e9
        self.git(env.git)
        if env.cpu_count:
            self._hardware(f"CPU: {env.cpu_count} cores" + (f" ({env.cpu_count_logical} logical)" if env.cpu_count_logical and env.cpu_count_logical != env.cpu_count else ""))
        if env.gpu_count or env.gpu_type:
            self._hardware(f"GPU: {env.gpu_count or 1}x {env.gpu_type or 'unknown'}")

    def _hardware(self, note: str) -> None:
        kind = note.split(":", 1)[0]
        self.hardware = [h for h in self.hardware if not h.startswith(kind + ":")] + [note]

    def config_record(self, rec: Any, at: int, problems: LogProblems) -> None:
        for path, value in _updates(rec, at, problems, "config"):
            self.config_seen = True
            _set_path(self.config, path, value)
        for item in rec.remove:
            _del_path(self.config, _item_path(item))

    def summary_record(self, rec: Any, at: int, problems: LogProblems) -> None:
        for path, value in _updates(rec, at, problems, "summary"):
            self.summary_seen = True
            self.summary_set(path, value)
        for item in rec.remove:
            _del_path(self.summary, _item_path(item))

    def summary_set(self, path: list[str], value: Any) -> None:
        _set_path(self.summary, path, value)

    def history(self, rec: Any, at: int, problems: LogProblems) -> None:
        """One logged row (the hot path: a long run logs millions of values)."""
        row: list[tuple[str, Any]] = []
        step: Any = None
        for item in rec.item:
            nested = item.nested_key
            name = (nested[0] if len(nested) == 1 else ".".join(nested)) if nested else item.key
            if not name:
                continue
            try:
                value = _item_value(item)
            except ValueError:
                problems.add(at, f"history value of {name!r} is not JSON; skipped")
                continue
            kind = type(value)
            if name == "_step":
                step = value
            elif name == "_runtime":
                if kind is int or kind is float:
                    self.max_runtime = value if self.max_runtime is None else max(self.max_runtime, value)
            elif kind is int or kind is float:
                row.append((name, value))
            elif kind is dict:
                row.extend(_flatten([name], value))
        if not _is_number(step):
            step = rec.step.num
        self.history_rows += 1
        metric = self.metric_name
        for name, value in row:
            ok = metric.get(name)
            if ok is None:
                ok = metric[name] = _is_metric_name(name)
            if ok and (type(value) is int or type(value) is float):
                self._point(name, step, value)

    def _point(self, name: str, step: Any, value: Any) -> None:
        entry = self.series.get(name)
        if entry is None:
            if len(self.series) >= MAX_SERIES:
                self.dropped_names += 1
                return
            entry = self.series[name] = [[], 1, 0]
        points, stride, seen = entry
        entry[2] = seen + 1
        if seen % stride:
            return
        points.append((step, float(value)))
        if len(points) >= 2 * MAX_POINTS:
            entry[0] = points[::2]
            entry[1] = stride * 2
            self.thinned.add(name)

    def metadata(self, doc: Mapping[str, Any]) -> None:
        """``files/wandb-metadata.json`` (wandb before 0.2x): only what the log did not say."""
        self.python = self.python or _text(doc.get("python"))
        self.os = self.os or _text(doc.get("os"))
        self.host = self.host or _text(doc.get("host")) or None
        self.user = self.user or _text(doc.get("username")) or None
        self.program = self.program or _text(doc.get("codePath")) or _text(doc.get("program"))
        self.cuda = self.cuda or _text(doc.get("cuda"))
        git = doc.get("git")
        if isinstance(git, Mapping):
            self.git_commit = self.git_commit or _text(git.get("commit"))
            self.git_remote = self.git_remote or _text(git.get("remote"))
        started = _text(doc.get("startedAt"))
        if started:
            try:  # written as UTC without a zone
                when = datetime.fromisoformat(started)
                self.meta_start = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
            except ValueError:
                pass
        if not any(h.startswith("CPU:") for h in self.hardware) and isinstance(doc.get("cpu_count"), int):
            self._hardware(f"CPU: {doc['cpu_count']} cores")
        gpu, count = _text(doc.get("gpu")), doc.get("gpu_count")
        if gpu and not any(h.startswith("GPU:") for h in self.hardware):
            self._hardware(f"GPU: {count if isinstance(count, int) and count > 0 else 1}x {gpu}")

    def config_yaml(self, doc: Mapping[str, Any]) -> None:
        """An online run's ``files/config.yaml`` (already unwrapped), when the log gave no config."""
        internal = doc.get("_wandb")
        if isinstance(internal, Mapping):
            self.cli_version = self.cli_version or _text(internal.get("cli_version"))
            self.python_version = self.python_version or _text(internal.get("python_version"))
            ms = internal.get("start_time")
            if self.start is None and _is_number(ms) and ms > 0:
                self.start = ms / 1000 if ms > 1e11 else float(ms)
        self.config = dict(doc)
        self.config_seen = bool(doc)

    # -- results -------------------------------------------------------------------
    def status(self) -> tuple[Status, list[str], str | None]:
        """Status, the fields guessed for it, and the error."""
        if self.exit_seen:
            if self.not_complete:
                return "incomplete", [], "wandb marked the run not complete"
            if self.exit_code == 0:
                return "finished", [], None
            error = error_tail(self.stderr) or _exit_error(self.exit_code)
            return "failed", [], error
        if not self.log_read:
            return "unknown", [], None  # no log (or none readable): nothing says whether it ended
        error = "preempted (wandb recorded a preemption); it never wrote an end" if self.preempting else None
        return "incomplete", ["status"], error

    def duration(self) -> float | None:
        """Seconds from the exit record, or the last ``_runtime`` logged, for a run that ended."""
        if not self.exit_seen:
            return None
        if self.exit_runtime > 0:
            return float(max(self.exit_runtime, self.max_runtime or 0))
        return float(self.max_runtime) if self.max_runtime is not None else None

    def started(self, folder_name: str) -> tuple[datetime | None, float | None]:
        """The run record's start (local time, like the folder name wandb gives the run) and its
        epoch seconds; else the environment's or metadata's; else the time in the folder name."""
        for when in (self.start, self.env_start, self.meta_start):
            if when is not None and math.isfinite(when):
                try:
                    return datetime.fromtimestamp(when).replace(microsecond=0), when
                except (OverflowError, OSError, ValueError):
                    continue
        return started_from_name(folder_name), None

    def version(self) -> str | None:
        if self.cli_version:
            return self.cli_version
        return self.producer.split("+", 1)[0] if self.producer else None

    def tags(self) -> dict[str, str]:
        out = {tag: "" for tag in self.tag_list}
        for key, value in (("wandb.run_id", self.run_id), ("wandb.entity", self.entity), ("wandb.group", self.group),
                           ("wandb.job_type", self.job_type), ("wandb.sweep_id", self.sweep_id)):
            if value:
                out[key] = value
        return out

    def environment(self) -> Environment:
        python = _python(self.python) or _python(self.python_version)
        extra = {"cuda": self.cuda} if self.cuda else {}
        return Environment(python=python, os=self.os or None, hardware=tuple(self.hardware), extra=extra)

    def code(self) -> CodeState:
        extra = {k: v for k, v in (("remote", self.git_remote), ("program", self.program)) if v}
        return CodeState(commit=self.git_commit or None, extra=extra)

    def metrics(self, ctx: ReadContext, where: Path) -> Metrics:
        final: dict[str, float] = {}
        extra: dict[str, Any] = {}
        for name, value in _flatten([], self.summary):
            if not _is_metric_name(name):
                continue
            if _is_number(value):
                if len(final) < MAX_SERIES:
                    final[name] = float(value)
            elif isinstance(value, str) and len(extra) < MAX_SERIES:
                extra[name] = value
        series: dict[str, tuple[tuple[Any, float], ...]] = {}
        for name, (points, _stride, _seen) in self.series.items():
            by_step: dict[Any, float] = {}
            for step, value in points:
                by_step[step] = value  # a repeated step keeps its last value
            series[name] = tuple(sorted(by_step.items(), key=lambda p: p[0]))
        if self.dropped_names:
            ctx.problem(where, f"history has more than {MAX_SERIES:,} metric names; {self.dropped_names:,} more were not read")
        if self.thinned:
            names = ", ".join(sorted(self.thinned)[:3])
            ctx.problem(where, f"history longer than {MAX_POINTS:,} steps: {names}{' ...' if len(self.thinned) > 3 else ''} thinned evenly")
        return Metrics(final=final, series=series, extra=extra)


def _ended(start: float | None, duration: float | None) -> datetime | None:
    """Start plus the recorded duration, in local time like the start."""
    if start is None or duration is None or not math.isfinite(duration):
        return None
    try:
        return datetime.fromtimestamp(start + duration).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return None


# -- values and names ------------------------------------------------------------------------


def _updates(rec: Any, at: int, problems: LogProblems, what: str) -> Iterator[tuple[list[str], Any]]:
    """The (path, value) pairs a config or summary record sets; a value that cannot be read is a problem."""
    for item in rec.update:
        path = _item_path(item)
        if not path:
            continue
        try:
            yield path, _bounded_json(item.value_json)
        except Unreadable as exc:
            problems.add(at, f"{what} key {'.'.join(path)!r}: {exc.message}")


def _item_path(item: Any) -> list[str]:
    """A config/summary/history item's key: ``nested_key`` (0.2x and later) or ``key``."""
    if len(item.nested_key):
        return [str(k) for k in item.nested_key]
    return [item.key] if item.key else []


_NUMBER_START = frozenset("-0123456789")
_decode = json.JSONDecoder().decode


def _json(text: str) -> Any:
    """JSON text as a value; a plain number without the JSON parser's overhead. Raises ValueError."""
    if text[0] in _NUMBER_START:
        try:
            return int(text) if text.isdigit() else float(text)
        except ValueError:
            pass
    try:
        return _decode(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _bounded_json(text: str) -> Any:
    """A config or summary value: a plain number directly, anything else through safeio's bounded JSON."""
    if not text:
        return None
    if text[0] in _NUMBER_START:
        try:
            return int(text) if text.isdigit() else float(text)
        except ValueError:
            pass
    try:
        return parse_json(text)
    except ValueError as exc:  # what json lets through: an integer of more digits than Python converts
        raise Unreadable(f"invalid JSON: {exc}") from None


def _item_value(item: Any) -> Any:
    """A history item's value: JSON, or (newer wandb) a typed field. Raises ValueError."""
    if item.value_json:
        return _json(item.value_json)
    kind = item.WhichOneof("value")
    if kind is None:
        return None
    value = getattr(item, kind)
    if kind == "json":
        return _json(value) if value else None
    return value


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _is_metric_name(name: str) -> bool:
    """Not wandb's own (``_step``, ``_runtime``, ``_wandb.*``), nor an x-axis (``epoch``, ``step``)."""
    if name in STEP_KEYS:
        return False
    return not any(part.startswith("_") for part in name.split("."))


def _flatten(path: list[str], value: Any, depth: int = 0) -> list[tuple[str, Any]]:
    """(dotted name, leaf) of a value; a media object (``{"_type": ...}``) is one non-number leaf."""
    if isinstance(value, Mapping) and "_type" not in value and depth < MAX_NESTING:
        out: list[tuple[str, Any]] = []
        for key, sub in value.items():
            out.extend(_flatten([*path, str(key)], sub, depth + 1))
        return out
    return [(".".join(path), value)] if path else []


def _set_path(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


def _del_path(tree: dict[str, Any], path: list[str]) -> None:
    node: Any = tree
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and path:
        node.pop(path[-1], None)


def _drop_internal(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config without wandb's own entries (``_wandb``; a ``git`` block wandb added)."""
    out = {}
    for key, value in config.items():
        if key in DROPPED_CONFIG_KEYS:
            continue
        if key == "git" and isinstance(value, Mapping) and value and set(value) <= _GIT_KEYS:
            continue
        out[key] = value
    return out


def _unwrap_config(doc: Mapping[str, Any]) -> dict[str, Any]:
    """An online run's ``config.yaml``: every value as ``{desc, value}``; ``wandb_version`` dropped."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "wandb_version":
            continue
        if isinstance(value, Mapping) and "value" in value and set(value) <= {"desc", "value"}:
            value = value["value"]
        out[str(key)] = value
    return out


def _mapping(doc: Any, ctx: ReadContext, path: Path) -> dict[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        ctx.problem(path, f"is a {type(doc).__name__}, expected a mapping")
        return {}
    return {str(k): v for k, v in doc.items()}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


_PY_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?\S*")


def _python(value: str) -> str | None:
    """``CPython 3.11.7`` -> ``3.11.7``."""
    match = _PY_VERSION.search(value or "")
    return match.group(0) if match else None


# -- errors ----------------------------------------------------------------------------------


def _exit_error(code: int | None) -> str:
    """What an exit code without a traceback says: a signal for 128+N (or -N), else the code."""
    if code is None:
        return "failed"
    number = -code if code < 0 else code - 128 if 128 < code < 160 else None
    if number is not None:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"killed by {name} (exit code {code})"
    return f"exited with code {code}"


def _output_tail(path: Path, size: int, ctx: ReadContext) -> str | None:
    """``files/output.log`` when small enough to read whole (a crash's traceback is at its end)."""
    if size > MAX_TEXT_BYTES:
        return None
    return ctx.read_text(path, MAX_TEXT_BYTES)


_DIFF_FILE = re.compile(r"^diff --git a/(\S+) b/", re.MULTILINE)


def _with_diff(code: CodeState, path: Path, size: int, ctx: ReadContext) -> CodeState:
    """``files/diff.patch``: wandb saves it when the work tree had changes."""
    if size == 0:
        return code
    text = ctx.read_text(path, MAX_TEXT_BYTES)
    if text is None or not text.strip():
        return code
    changed = tuple(dict.fromkeys(_DIFF_FILE.findall(text)))[:1000]
    return CodeState(commit=code.commit, dirty=True, changed_files=changed, extra=code.extra)


# -- layout ----------------------------------------------------------------------------------


def _project_from_path(found: Found, root: Path, bare: bool) -> str:
    """The folder that holds ``wandb/`` (what ``wandb.init(dir=...)`` was given), else the enclosing folder."""
    parts = found.id.split("/")
    if bare:
        parts = parts[:-1]  # .../run-x/files: the run folder is the parent
    if len(parts) >= 2 and parts[-2] == WANDB_DIR:
        return parts[-3] if len(parts) >= 3 else Path(root).name
    return parts[-2] if len(parts) >= 2 else found.project


def _artifacts(files: tuple[FileStat, ...], prefix: str) -> tuple[Artifact, ...]:
    """Files the run saved under ``files/`` (wandb's own files excepted): names and sizes only."""
    out = []
    for f in files:
        if prefix and not f.rel.startswith(prefix):
            continue
        rel = f.rel[len(prefix):]
        name = rel.rsplit("/", 1)[-1]
        if rel in BOOKKEEPING or (name.startswith("wandb-") and name.endswith(".json")) or name.endswith(".patch"):
            continue
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        out.append(Artifact(f.rel, f.size, _artifact_kind(name, f".{ext}" if ext else "")))
    return tuple(out)
