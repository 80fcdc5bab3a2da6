"""Frozen, typed records for what runsift finds on disk: runs, sweeps and A/B tests.

Records are plain data. Readers build them, the catalog caches them (via
:mod:`runsift.core.serialize`), and the diff, CLI and app only read them.
Mappings inside records are ordinary dicts by convention: treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["finished", "failed", "incomplete", "unknown"]
Kind = Literal["run", "sweep", "abtest"]

STATUSES: tuple[str, ...] = ("finished", "failed", "incomplete", "unknown")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in a record that could not be read or understood."""

    file: str
    """Path of the offending file, relative to the catalog root (POSIX separators)."""
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class CodeState:
    """The code a run was trained with: commit, whether the tree was dirty, what changed."""

    commit: str | None = None
    dirty: bool | None = None
    """True or False when recorded; None when the record does not say."""
    changed_files: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)
    """Anything else the file said (branch, tag, message ...)."""


@dataclass(frozen=True, slots=True)
class Environment:
    """Interpreter, OS, hardware and packages a run used."""

    python: str | None = None
    os: str | None = None
    hardware: tuple[str, ...] = ()
    packages: Mapping[str, str] = field(default_factory=dict)
    """Normalised distribution name (as pip normalises it) -> version string."""
    extra: Mapping[str, str] = field(default_factory=dict)
    """Other key/value facts, e.g. ``{"cuda": "12.1"}``."""


@dataclass(frozen=True, slots=True)
class DataSnapshot:
    """The dataset a run read: name, version, hashes, format, rows and anything else recorded."""

    name: str | None = None
    version: str | None = None
    format: str | None = None
    hashes: Mapping[str, str] = field(default_factory=dict)
    rows: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Split:
    """One data split. Only the count and a hash are kept; ids are read from ``source`` on demand."""

    name: str
    count: int
    sha256: str
    """sha256 of the ids, stripped, de-blanked, sorted as strings, each followed by a newline."""
    source: str
    """File the ids come from, relative to the catalog root."""
    column: str | None = None
    """Column (CSV) or key (splits.json) holding the ids, when the file has several."""


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """How a metric was computed: version, threshold, goal and a human description."""

    name: str
    version: str | None = None
    threshold: float | None = None
    text: str | None = None
    goal: Literal["max", "min"] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Metrics:
    """Final values, per-step series and definitions of a run's metrics."""

    final: Mapping[str, float] = field(default_factory=dict)
    series: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    """Metric name -> ((step, value), ...) in step order."""
    definitions: Mapping[str, MetricDefinition] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Non-numeric leftovers of the metrics file (status, timings, notes ...)."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file a run produced (model weights, plots, predictions)."""

    path: str
    """Relative to the run folder, POSIX separators."""
    size: int
    kind: str
    """Coarse kind from the file name: model, plot, predictions, table, log, text, other."""


@dataclass(frozen=True, slots=True)
class Source:
    """What wrote a run: a tracker (``mlflow``, ``wandb`` ...) or a hand-written run container."""

    format: str = "container"
    version: str | None = None
    """The writer's version where the files record it (``0.31.0``)."""
    guessed: tuple[str, ...] = ()
    """Fields inferred rather than recorded (``started`` from file times, ``status`` from steps logged)."""


def status_source(status: str | None, guessed: Iterable[str]) -> str | None:
    """What lists say of a run's status: ``guessed`` (inferred, shown with ``~``), ``recorded``, or None when there is
    no status to vouch for (none, or ``unknown``)."""
    if status in (None, "unknown"):
        return None
    return "guessed" if "status" in guessed else "recorded"


@dataclass(frozen=True, slots=True)
class Run:
    """One training run: a folder holding a frozen config plus the other run-container files."""

    id: str
    """Path of the run folder relative to the catalog root, POSIX separators."""
    path: str
    """Absolute path of the run folder."""
    project: str
    name: str
    started: datetime | None = None
    run_number: int | None = None
    status: Status = "unknown"
    config: Mapping[str, Any] = field(default_factory=dict)
    """Effective config: for a sweep member, the sweep's baseline overlaid by the run's own config."""
    code: CodeState = field(default_factory=CodeState)
    env: Environment = field(default_factory=Environment)
    data: DataSnapshot = field(default_factory=DataSnapshot)
    splits: tuple[Split, ...] = ()
    seeds: Mapping[str, int] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    artifacts: tuple[Artifact, ...] = ()
    notes: str = ""
    sweep: str | None = None
    """Id of the parent sweep, if the run belongs to one."""
    files: tuple[str, ...] = ()
    """Run-container files that were recognised and read, relative to the run folder."""
    problems: tuple[Problem, ...] = ()
    kind: Kind = "run"
    source: Source = field(default_factory=Source)
    tags: Mapping[str, str] = field(default_factory=dict)
    ended: datetime | None = None
    duration: float | None = None
    """Seconds, as recorded (or ended - started)."""
    user: str | None = None
    host: str | None = None
    exit_code: int | None = None
    error: str | None = None
    """The last lines of the error the run recorded (traceback tail), as text."""
    deleted: bool = False
    """The tracker marks the run deleted (MLflow's lifecycle stage): lists leave it out unless asked."""

    def split(self, name: str) -> Split | None:
        """The split called ``name``, or None."""
        return next((s for s in self.splits if s.name == name), None)


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    """One row of a sweep's saved ``leaderboard.csv``, as written."""

    run_id: str
    values: Mapping[str, str]
    line: int


@dataclass(frozen=True, slots=True)
class Sweep:
    """A hyper-parameter sweep: a search space, a baseline config and member runs."""

    id: str
    path: str
    project: str
    name: str
    started: datetime | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    """Contents of ``sweep.yaml`` (search space, budget, metric, goal ...)."""
    metric: str | None = None
    goal: Literal["max", "min"] | None = None
    baseline_config: Mapping[str, Any] = field(default_factory=dict)
    run_ids: tuple[str, ...] = ()
    leaderboard: tuple[LeaderboardRow, ...] = ()
    leaderboard_columns: tuple[str, ...] = ()
    notes: str = ""
    problems: tuple[Problem, ...] = ()
    kind: Kind = "sweep"
    status: Status = "unknown"


@dataclass(frozen=True, slots=True)
class ABTest:
    """A repro kit for an online A/B test: definition, logs, metric definitions, plan, query, result."""

    id: str
    path: str
    project: str
    name: str
    experiment_id: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    definition: Mapping[str, Any] = field(default_factory=dict)
    variants: Mapping[str, float] = field(default_factory=dict)
    """Variant name -> planned traffic share (fractions summing to about 1)."""
    unit: str | None = None
    metric_definitions: Mapping[str, Any] = field(default_factory=dict)
    event_schemas: Mapping[str, Any] = field(default_factory=dict)
    analysis_plan: Mapping[str, Any] = field(default_factory=dict)
    query: str = ""
    saved_result: Mapping[str, Any] = field(default_factory=dict)
    assignment_log: str | None = None
    """Assignment log file, relative to the catalog root; rows are streamed on demand."""
    assignment_rows: int | None = None
    events_log: str | None = None
    events_rows: int | None = None
    notes: str = ""
    problems: tuple[Problem, ...] = ()
    kind: Kind = "abtest"
    status: Status = "unknown"


Record = Run | Sweep | ABTest


@dataclass(frozen=True, slots=True)
class Summary:
    """What a list of records shows: the real columns of the catalog's cache, no details."""

    id: str
    kind: str
    project: str
    name: str
    path: str
    status: str
    started: str | None
    run_number: int | None
    sweep: str | None
    metrics: Mapping[str, float]
    problems: tuple[Problem, ...]
    search: str = ""
    """Lower-case id, name and project, for free-text filtering without re-lowering per keystroke."""
