"""What one W&B run's transaction log says, gathered record by record: the state machine behind :func:`.wandb.read`.

:class:`_State` takes each ``wandb_internal.Record`` in the order wandb wrote it (the run record,
config and summary updates, history rows, console output, telemetry, the environment, the exit)
and keeps what a run needs: names and times, the config, final values, each metric's series
(bounded, thinned evenly when long), the tail of standard error and the exit. ``files/`` fill
what the log lacks through :meth:`_State.metadata` and :meth:`_State.config_yaml`. Its results
(status, start, duration, environment, code, metrics, tags) are what :mod:`.wandb` maps to a Run.
Kept apart from the reading of the folder because it is the largest part of the W&B reader and
the one every record goes through.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..naming import started_from_name
from ..records import CodeState, Environment, Metrics, Status
from ..safeio import ReadContext
from ._inferred import error_tail
from ._wandb_records import STDERR, LogProblems
from ._wandb_values import (
    _del_path,
    _flatten,
    _is_metric_name,
    _is_number,
    _item_path,
    _item_value,
    _python,
    _set_path,
    _text,
    _updates,
)

MAX_SERIES = 2_000
"""Metric names kept (series and final values each)."""
MAX_POINTS = 100_000
"""Points kept per series; a longer history is thinned evenly (every 2nd, 4th ... step)."""
STDERR_KEEP = 64 * 1024
"""Characters of standard error kept while scanning (the traceback is at the end)."""


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
                self.meta_start = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
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
        why = "preempted (wandb recorded a preemption); it never wrote an end" if self.preempting else None
        return "incomplete", ["status"], why

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
        out = dict.fromkeys(self.tag_list, "")
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
