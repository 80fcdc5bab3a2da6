"""Replay an A/B repro kit: recompute the primary metric from the logs and compare it with the saved result.

The tutorial's "Mini A/B Replay" project: from the assignment log and the event log,
recompute a conversion lift analysis following the recorded metric definition (an
exposure-anchored, end-exclusive window; one conversion per unit; only events of the
recorded schema version; only units assigned in this experiment), test it (two-proportion
z-test, Wald and delta-method CIs, sample ratio mismatch) and compare every figure of the
saved result at the precision it was written with. When the saved result does not
reproduce, each filter is relaxed in turn to name the input that most likely explains it.

Logs are streamed once each with the :mod:`csv` module (JSON lines and Parquet through
:func:`runsift.core.readers.abtest.iter_log`); large logs are split between worker
processes by unit, so a unit's assignments and events are always read by the same worker.
"""

from __future__ import annotations

import csv
import math
import os
import re
from array import array
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .gcpause import paused_gc
from .readers.abtest import find_unit_column, find_variant_column, iter_log
from .records import ABTest
from .safeio import ReadContext, Unreadable
from .serialize import json_safe

CONTROL_NAMES: tuple[str, ...] = ("control", "a", "baseline", "ctrl")
"""Variant names (any case) taken as the control; otherwise the first planned variant is."""
NOT_A_VARIANT: tuple[str, ...] = ("holdout", "hold_out", "hold-out", "excluded", "unassigned", "none", "null", "")
"""Assignment values never analysed as a variant when the definition plans none."""
EXPERIMENT_COLUMNS: tuple[str, ...] = ("experiment_id", "experiment", "exp_id", "experiment_key", "experiment_name", "test_id")
EXPOSURE_COLUMNS: tuple[str, ...] = (
    "assigned_at", "exposed_at", "exposure_time", "exposure_at", "first_exposure_at", "exposure_timestamp",
    "assignment_time", "assigned_time", "timestamp", "time", "ts", "created_at",
)
"""Assignment log columns accepted as the exposure time, in order of preference."""
EVENT_NAME_COLUMNS: tuple[str, ...] = ("event", "event_name", "event_type", "name", "type", "action")
EVENT_TIME_COLUMNS: tuple[str, ...] = (
    "event_time", "event_timestamp", "timestamp", "time", "ts", "occurred_at", "created_at", "datetime",
)
SCHEMA_COLUMNS: tuple[str, ...] = ("schema_version", "event_version", "schema", "version")
EVENT_WORDS: tuple[str, ...] = ("purchase", "conversion", "order", "checkout", "signup", "sign_up", "subscribe", "click")
"""Conversion event names looked for in a definition's text when it names no event explicitly."""

ALPHA = 0.05
"""Significance level when neither the analysis plan nor the saved result gives one."""
SRM_ALPHA = 0.001
"""Sample ratio mismatch is flagged below this chi-square p-value."""
CI_LEVEL = 0.95
MAX_EXAMPLES = 5
"""Example unit ids kept for units assigned to more than one variant."""
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
"""Below this combined log size one process is quicker than starting workers."""
PARQUET_EXTRA = "runsift[parquet]"

# Per-unit classes of metric events, as bits: schema ok / other schema x in window / before / after.
_Q, _B, _A, _SQ, _SB, _SA = 1, 2, 4, 8, 16, 32
_NBITS = 64

_RELAX_ORDER: tuple[str, ...] = ("before_exposure", "window", "schema", "duplicates", "distinct_units")

_UTC = UTC
_fromiso = datetime.fromisoformat


class ReplayError(ValueError):
    """The kit cannot be replayed (no log, missing columns, no metric ...); the message says why."""


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """What the recorded metric definition says to count, as understood here."""

    name: str
    version: str | None
    event: str
    """Event name that converts (when the event log has no event column, every row counts)."""
    schema_version: str | None
    """Only events of this schema version count; None when no version is recorded."""
    window_days: float | None
    """Window length from exposure (end exclusive); None for no end."""
    exposure_column: str | None
    """Assignment log column holding the exposure time, when the definition names one."""


@dataclass(frozen=True, slots=True)
class VariantFigures:
    """One variant's units, converting units and conversion rate."""

    name: str
    units: int
    conversions: int
    rate: float | None
    planned_share: float | None


@dataclass(frozen=True, slots=True)
class Lift:
    """Treatment vs control: absolute and relative lift with 95% CIs, z and the two-sided p-value."""

    control: str
    treatment: str
    absolute: float | None
    absolute_ci: tuple[float, float] | None
    """Wald interval with the unpooled standard error."""
    relative: float | None
    relative_ci: tuple[float, float] | None
    """Delta-method interval for (p_t / p_c - 1)."""
    relative_ci_fixed_control: tuple[float, float] | None
    """The absolute interval divided by the control rate (treats the control rate as known)."""
    z: float | None
    """Pooled-SE two-proportion z statistic."""
    p_value: float | None


@dataclass(frozen=True, slots=True)
class SRM:
    """Sample ratio mismatch check: chi-square goodness of fit of units per variant to the planned split."""

    p_value: float | None
    chi2: float | None
    flagged: bool
    message: str
    observed: Mapping[str, int] = field(default_factory=dict)
    expected: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """What the replay excluded and why; event counts are rows of the metric's event."""

    assignment_rows: int = 0
    other_experiment_rows: int = 0
    """Assignment rows of another experiment id."""
    unplanned_variant_rows: Mapping[str, int] = field(default_factory=dict)
    """Assignment rows of variants that are not analysed (holdout ...), by variant."""
    duplicate_assignment_rows: int = 0
    """Rows repeating a unit's assignment to the same variant (the earliest is the exposure)."""
    multi_variant_units: int = 0
    """Units assigned to more than one variant: excluded from every variant."""
    multi_variant_examples: tuple[str, ...] = ()
    bad_assignment_rows: int = 0
    event_rows: int = 0
    metric_events: int = 0
    qualifying_events: int = 0
    events_before_exposure: int = 0
    events_outside_window: int = 0
    """Events at or after the end of the window (end exclusive)."""
    events_other_schema: int = 0
    other_schema_versions: Mapping[str, int] = field(default_factory=dict)
    events_unassigned: int = 0
    """Events of units not in the assignment log for this experiment."""
    events_unplanned_variant: int = 0
    """Events of units assigned only to a variant that is not analysed (holdout ...)."""
    events_multi_variant_units: int = 0
    events_bad_exposure: int = 0
    """Events of units whose exposure time could not be read."""
    bad_event_rows: int = 0

    def messages(self, spec: MetricSpec | None = None) -> list[str]:
        """The diagnostics as sentences, only those that are not zero."""
        event = (spec.event if spec and spec.event else "metric") + " events"
        out: list[str] = []
        if self.multi_variant_units:
            ex = ", ".join(self.multi_variant_examples)
            out.append(
                f"{self.multi_variant_units:,} unit(s) assigned to more than one variant (e.g. {ex}): "
                "excluded from every variant"
            )
        if self.duplicate_assignment_rows:
            out.append(f"{self.duplicate_assignment_rows:,} repeated assignment row(s) of the same unit and variant: counted once")
        if self.other_experiment_rows:
            out.append(f"{self.other_experiment_rows:,} assignment row(s) of other experiments ignored")
        for name, n in sorted(self.unplanned_variant_rows.items()):
            out.append(f"{n:,} assignment row(s) of variant {name!r}, which is not analysed, excluded")
        if self.events_before_exposure:
            out.append(f"{self.events_before_exposure:,} {event} before exposure excluded")
        if self.events_outside_window:
            days = f" {spec.window_days:g}-day" if spec and spec.window_days is not None else ""
            out.append(f"{self.events_outside_window:,} {event} at or after the end of the{days} window excluded")
        if self.events_other_schema:
            versions = ", ".join(f"v{k}: {v:,}" for k, v in sorted(self.other_schema_versions.items()))
            want = f" (only v{spec.schema_version} counts)" if spec and spec.schema_version else ""
            out.append(f"{self.events_other_schema:,} {event} of another schema version excluded ({versions}){want}")
        if self.events_unassigned:
            out.append(f"{self.events_unassigned:,} {event} of units not in the assignment log excluded")
        if self.events_unplanned_variant:
            out.append(f"{self.events_unplanned_variant:,} {event} of holdout or other unanalysed units excluded")
        if self.events_multi_variant_units:
            out.append(f"{self.events_multi_variant_units:,} {event} of units assigned to several variants excluded")
        if self.events_bad_exposure:
            out.append(f"{self.events_bad_exposure:,} {event} of units whose exposure time is unreadable excluded")
        if self.bad_assignment_rows:
            out.append(f"{self.bad_assignment_rows:,} unreadable assignment row(s) skipped")
        if self.bad_event_rows:
            out.append(f"{self.bad_event_rows:,} unreadable event row(s) skipped")
        return out


@dataclass(frozen=True, slots=True)
class _Tally:
    """One variant's units by which classes of metric events they have (bit masks), for relaxed recounts."""

    hist: tuple[int, ...]
    """hist[mask] = analysed units whose metric events fall in the classes of ``mask``."""
    multi_hist: tuple[int, ...]
    """The same for units also assigned to another variant (excluded unless duplicates are relaxed)."""
    qualifying_events: int


@dataclass(frozen=True, slots=True)
class Replay:
    """The recomputed analysis of an A/B kit's primary metric."""

    experiment_id: str | None
    metric: MetricSpec
    variants: tuple[VariantFigures, ...]
    control: str | None
    lifts: tuple[Lift, ...]
    """One per non-control variant, in plan order."""
    srm: SRM
    diagnostics: Diagnostics
    alpha: float
    notes: tuple[str, ...]
    tallies: Mapping[str, _Tally] = field(default_factory=dict, repr=False)

    @property
    def lift(self) -> Lift | None:
        """The first treatment's lift over control."""
        return self.lifts[0] if self.lifts else None

    @property
    def p_value(self) -> float | None:
        """The first treatment's two-sided p-value."""
        return self.lifts[0].p_value if self.lifts else None

    def variant(self, name: str) -> VariantFigures | None:
        """Figures of the variant called ``name``."""
        return next((v for v in self.variants if v.name == name), None)


@dataclass(frozen=True, slots=True)
class FigureMismatch:
    """A figure of the saved result that the replay does not reproduce at the saved precision."""

    name: str
    saved: Any
    recomputed: Any
    message: str


@dataclass(frozen=True, slots=True)
class SavedCheck:
    """The comparison of a replay with a saved result, figure by figure."""

    reproduced: bool
    mismatches: tuple[FigureMismatch, ...]
    checked: tuple[str, ...]
    """Names of the saved figures that were compared."""
    notes: tuple[str, ...]
    """Figures that match by another method than the replay's (e.g. a relative CI that ignores control noise)."""
    explanation: str | None
    """The relaxed filter(s) under which the saved figures reproduce, in words; None when reproduced or unknown."""


# -- the metric definition ---------------------------------------------------------------------------


def metric_spec(ab: ABTest, metric: str | None = None) -> MetricSpec:
    """The metric to replay and what its recorded definition says (event, schema version, window)."""
    name = metric or _primary_metric(ab)
    if not name:
        raise ReplayError("no metric to replay: no primary metric in the analysis plan, saved result or definitions")
    definition = _lookup(ab.metric_definitions, name)  # None: infer what we can from the name and the query
    body: Mapping[str, Any] = definition if isinstance(definition, Mapping) else ({"text": definition} if definition else {})
    texts = _texts(body)
    event = _event_of(body, texts, ab, name)
    schema = _schema_of(ab.event_schemas, event) if event else None
    if schema is None:
        schema = _search(r"schema_version\s*(?:==|=)\s*['\"]?v?([\w.]+)", texts + [ab.query])
        schema = _norm_version(schema) if schema is not None else None
    exposure = body.get("exposure")
    exposure_column = exposure.strip() if isinstance(exposure, str) and re.fullmatch(r"\s*\w+\s*", exposure) else None
    version = body.get("version")
    return MetricSpec(
        name=name,
        version=str(version) if version is not None else None,
        event=event,
        schema_version=schema,
        window_days=_window_days(body, texts),
        exposure_column=exposure_column,
    )


def _primary_metric(ab: ABTest) -> str | None:
    """The analysis plan's primary metric, else the saved result's metric, else the first definition."""
    plan = ab.analysis_plan
    for key in ("primary_metric", "primary", "primary_metrics"):
        name = _metric_name(plan.get(key))
        if name:
            return name
    metrics = plan.get("metrics")
    if isinstance(metrics, Mapping):
        name = _metric_name(metrics.get("primary"))
        if name:
            return name
    name = _metric_name(ab.saved_result.get("metric")) or _metric_name(ab.saved_result.get("primary_metric"))
    if name:
        return name
    return next((str(k) for k in ab.metric_definitions if k not in ("text", "value")), None)


def _metric_name(value: Any) -> str | None:
    """A metric name from a string, the first of a list, or a mapping's name."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value:
        return _metric_name(value[0])
    if isinstance(value, Mapping):
        return _metric_name(value.get("name") or value.get("metric"))
    return None


def _lookup(mapping: Mapping[str, Any], name: str) -> Any:
    """``mapping[name]``, else the value of a key equal to ``name`` ignoring case, else None."""
    if name in mapping:
        return mapping[name]
    return next((v for k, v in mapping.items() if str(k).lower() == name.lower()), None)


def _texts(body: Mapping[str, Any]) -> list[str]:
    """Filters first, then the other free-text fields of a definition."""
    out: list[str] = []
    filters = body.get("filters")
    if isinstance(filters, str):
        out.append(filters)
    elif isinstance(filters, list):
        out += [str(f) for f in filters]
    for key in ("numerator", "formula", "window", "description", "text", "definition", "sql"):
        value = body.get(key)
        if isinstance(value, str):
            out.append(value)
    return out


def _search(pattern: str, texts: Sequence[str]) -> str | None:
    """The first group of the first match of ``pattern`` (any case) in ``texts``."""
    for text in texts:
        m = re.search(pattern, text or "", re.IGNORECASE)
        if m:
            return m.group(1)
    return None


def _event_of(body: Mapping[str, Any], texts: list[str], ab: ABTest, name: str) -> str:
    """The converting event: named in the definition, its filters or the query, else recognised in its text."""
    for key in ("event", "event_name", "numerator_event", "conversion_event"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    named = _search(r"\bevent(?:_name|_type)?\s*(?:==|=)\s*['\"]([^'\"]+)['\"]", texts + [ab.query])
    if named:
        return named
    words = " ".join(texts[:] + [name]).lower()
    known = [str(k) for k in ab.event_schemas if k not in ("text", "value")]
    hits = [k for k in known if k.lower() in words]
    if len(hits) == 1:
        return hits[0]
    for word in EVENT_WORDS:
        if word in words and (not known or word in [k.lower() for k in known]):
            return word
    raise ReplayError(
        f"cannot tell which event counts as a conversion for {name!r}: the definition names no event "
        "(expected event: ... or a filter such as event == 'purchase')"
    )


def _schema_of(schemas: Mapping[str, Any], event: str) -> str | None:
    """The recorded schema version of ``event`` (``purchase: 5`` or ``purchase: {version: 5}``), normalised."""
    value = _lookup(schemas, event)
    if isinstance(value, Mapping):
        value = next((value[k] for k in ("version", "schema_version", "v") if k in value), None)
    return _norm_version(value) if value is not None and not isinstance(value, (list, Mapping)) else None


def _norm_version(value: Any) -> str:
    """``5``, ``5.0``, ``"5"``, ``"v5"`` -> ``"5"``; other text stripped and lower-cased."""
    text = str(value).strip().lower()
    if text.startswith("v") and text[1:2].isdigit():
        text = text[1:]
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


_DURATION = r"(\d+(?:\.\d+)?)\s*'?\s*(days?|d|hours?|hrs?|h)\b"


def _window_days(body: Mapping[str, Any], texts: list[str]) -> float | None:
    """The window length in days: window_days, window_hours, a numeric or textual window, or a filter's interval."""
    for key, scale in (("window_days", 1.0), ("window_hours", 1 / 24), ("window", 1.0)):
        value = body.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value) * scale
    candidates = [body["window"]] if isinstance(body.get("window"), str) else []
    for text in candidates + texts:
        m = re.search(_DURATION, text, re.IGNORECASE)
        if m:
            number, unit = float(m.group(1)), m.group(2).lower()
            return number if unit.startswith("d") else number / 24
    return None


# -- reading logs ------------------------------------------------------------------------------------


def _log_format(path: str) -> str:
    """csv, tsv, jsonl or parquet, from the file name."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "tsv" if suffix == ".tsv" else "csv"


def _checked_path(root: Path, rel: str | None, what: str) -> Path:
    """The log's path after the same root checks as :func:`iter_log`; raise ReplayError."""
    if not rel:
        raise ReplayError(f"no {what} in this kit")
    guard = ReadContext(Path(root))
    path = guard.root / rel
    if Path(rel).is_absolute() or not guard.inside_root(path):
        raise ReplayError(f"{what} {rel} is outside the catalog root; refused")
    if _log_format(rel) == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401 - optional
        except ImportError:
            raise ReplayError(
                f"{what} {rel} is Parquet, which needs pyarrow: install the optional extra {PARQUET_EXTRA} "
                f"(pip install '{PARQUET_EXTRA}')"
            ) from None
    try:
        guard.check_file(path, None)
    except Unreadable as exc:
        raise ReplayError(f"{what} {rel}: {exc.message}") from None
    return path


def _columns(root: Path, rel: str, path: Path) -> list[str]:
    """Column names of a log: the CSV header, the first JSON object's keys or the Parquet schema."""
    fmt = _log_format(rel)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return [str(n) for n in pq.ParquetFile(path).schema_arrow.names]
    if fmt == "jsonl":
        for row in iter_log(root, rel):
            return [str(k) for k in row]
        return []
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        for cells in csv.reader(fh, delimiter="\t" if fmt == "tsv" else ","):
            if cells and any(c.strip() for c in cells):
                return [c.strip() for c in cells]
    return []


@contextmanager
def _open_rows(root: str, rel: str, path: str, names: Sequence[str]) -> Iterator[Iterator[Sequence[Any]]]:
    """Data rows of a log as sequences aligned with ``names``: for CSV the csv module's reader itself."""
    fmt = _log_format(rel)
    if fmt in ("csv", "tsv"):
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
            reader = csv.reader(fh, delimiter="\t" if fmt == "tsv" else ",")
            for cells in reader:  # skip to the header (blank lines before it)
                if cells and any(c.strip() for c in cells):
                    break
            yield reader
        return
    yield ([_as_cell(row.get(n)) for n in names] for row in iter_log(Path(root), rel))


def _as_cell(value: Any) -> Any:
    """A JSON/Parquet value as the scan expects: text, or a datetime kept as is."""
    if value is None or isinstance(value, (str, datetime)):
        return "" if value is None else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _find(columns: Sequence[str], candidates: Sequence[str], preferred: str | None = None) -> int:
    """Index of the first column named like ``preferred`` or one of ``candidates`` (any case), else -1."""
    lower = [c.strip().lower() for c in columns]
    for name in ([preferred] if preferred else []) + list(candidates):
        if name and name.lower() in lower:
            return lower.index(name.lower())
    return -1


def _slow_time(value: Any) -> datetime | None:
    """A timezone-aware datetime from ISO text (``Z``, ``/``, space), a datetime or epoch seconds/ms; else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=_UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    for candidate in (text, text.replace("/", "-"), text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text):
        try:
            t = _fromiso(candidate)
        except ValueError:
            continue
        return t if t.tzinfo is not None else t.replace(tzinfo=_UTC)
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    try:
        return datetime.fromtimestamp(number / 1000 if abs(number) > 1e11 else number, tz=_UTC)
    except (OverflowError, OSError, ValueError):
        return None


# -- the scan (one partition of units) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    """Everything a worker needs to scan one partition of the units (picklable)."""

    root: str
    a_rel: str
    a_path: str
    a_names: tuple[str, ...]
    a_cols: tuple[int, int, int, int]
    """unit, variant, exposure time, experiment id (-1: none)."""
    experiment_id: str | None
    planned: tuple[str, ...]
    e_rel: str
    e_path: str
    e_names: tuple[str, ...]
    e_cols: tuple[int, int, int, int]
    """unit, event name (-1: every row is the event), time, schema version (-1: none)."""
    event: str | None
    schema: str | None
    window_seconds: float | None
    part: int = 0
    parts: int = 1


@dataclass(slots=True)
class _Partial:
    """What one worker counted (plain data: summed across workers)."""

    hist: dict[str, list[int]]
    multi_hist: dict[str, list[int]]
    qualifying: dict[str, int]
    variants_seen: list[str]
    counts: dict[str, int]
    unplanned_rows: dict[str, int]
    other_schema: dict[str, int]
    multi_units: int
    multi_examples: list[str]


def _scan(job: _Job) -> _Partial:
    """Stream both logs once for the units of one partition; classify every metric event of each unit."""
    with paused_gc():  # millions of small objects: generational GC passes would cost as much as the parsing
        return _scan_inner(job)


def _scan_inner(job: _Job) -> _Partial:
    part, parts = job.part, job.parts
    iu, iv, it, ix = job.a_cols
    exp_id = job.experiment_id if ix >= 0 else None
    planned = list(job.planned)
    names: list[str] = list(planned)
    lower_planned = {p.lower(): p for p in planned}
    vindex: dict[Any, int] = {}
    unplanned_rows: dict[str, int] = {}
    unplanned_units: set[str] = set()
    units: dict[str, int] = {}
    var = array("h")
    texp: list[Any] = []
    multi: dict[str, dict[int, Any]] = {}
    other_exp = dup = bad_a = rows_a = 0
    setdefault = units.setdefault
    append_var, append_time = var.append, texp.append
    str_type = str

    def variant_index(raw: Any) -> int:
        """Index of an assignment value's variant; -1 for values not analysed (holdout ...)."""
        text = raw if isinstance(raw, str) else str(raw)
        if planned:
            if text in planned:
                return planned.index(text)
            name = lower_planned.get(text.strip().lower())
            return planned.index(name) if name is not None else -1
        key = text.strip()
        if key.lower() in NOT_A_VARIANT:
            return -1
        if key not in names:
            names.append(key)
        return names.index(key)

    with _open_rows(job.root, job.a_rel, job.a_path, job.a_names) as rows:
        for row in rows:
            try:
                u = row[iu]
                raw_v = row[iv]
                ts = row[it]
                exp = row[ix] if ix >= 0 else None
            except IndexError:
                if row and part == 0:
                    bad_a += 1
                continue
            if parts > 1 and (ord(u[-1]) % parts if u else 0) != part:
                continue
            rows_a += 1
            if exp_id is not None and exp != exp_id:
                other_exp += 1
                continue
            vi = vindex.get(raw_v)
            if vi is None:
                vi = vindex[raw_v] = variant_index(raw_v)
            if vi < 0:
                key = str(raw_v)
                unplanned_rows[key] = unplanned_rows.get(key, 0) + 1
                unplanned_units.add(u)
                continue
            n = len(texp)
            i = setdefault(u, n)
            if i == n:  # a new unit; its exposure time is parsed when first needed
                if not u:
                    del units[u]
                    bad_a += 1
                    continue
                append_var(vi)
                append_time(ts if ts.__class__ is str_type else _slow_time(ts))
                continue
            cur = var[i]
            if cur == vi:  # the same assignment again: the earliest is the exposure
                dup += 1
                old, new = _exposure(texp[i]), _slow_time(ts)
                if new is not None and (old is None or new < old):
                    texp[i] = new
            elif cur >= 0:  # a second variant: the unit leaves every variant
                multi[u] = {cur: _exposure(texp[i]), vi: _slow_time(ts)}
                var[i] = -1
            else:
                seen = multi[u]
                new = _slow_time(ts)
                if vi in seen:
                    dup += 1
                    if new is not None and (seen[vi] is None or new < seen[vi]):
                        seen[vi] = new
                else:
                    seen[vi] = new

    mask = bytearray(len(texp))
    touched: list[int] = []
    multi_mask: dict[tuple[str, int], int] = {}
    qualifying = [0] * len(names)
    other_schema: dict[str, int] = {}
    ju, je, jt, js = job.e_cols
    event = job.event if je >= 0 else None
    event_lower = event.strip().lower() if event is not None else None
    want = job.schema if js >= 0 else None
    window = timedelta(seconds=job.window_seconds) if job.window_seconds is not None else None
    event_ok: dict[Any, bool] = {}
    schema_norm: dict[Any, str] = {}
    rows_e = bad_e = metric_events = unassigned = unplanned_ev = multi_ev = bad_exposure = 0
    before = outside = other_schema_n = qualifying_n = 0
    fromiso = _fromiso
    utc = _UTC
    get = units.get
    norm = ""

    with _open_rows(job.root, job.e_rel, job.e_path, job.e_names) as rows:
        for row in rows:
            try:
                u = row[ju]
                ev = row[je] if je >= 0 else None
                ts = row[jt]
                sv = row[js] if js >= 0 else None
            except IndexError:
                if row and part == 0:
                    bad_e += 1
                continue
            if parts > 1 and (ord(u[-1]) % parts if u else 0) != part:
                continue
            rows_e += 1
            if ev != event:
                ok = event_ok.get(ev)
                if ok is None:
                    ok = event_ok[ev] = str(ev).strip().lower() == event_lower
                if not ok:
                    continue
            metric_events += 1
            i = get(u)
            if i is None:
                if u in unplanned_units:
                    unplanned_ev += 1
                else:
                    unassigned += 1
                continue
            schema_ok = True
            if want is not None and sv != want:
                norm = schema_norm.get(sv)  # type: ignore[assignment]
                if norm is None:
                    norm = schema_norm[sv] = _norm_version(sv)
                schema_ok = norm == want
            try:
                t = fromiso(ts)
                if t.tzinfo is None:
                    t = t.replace(tzinfo=utc)
            except (TypeError, ValueError):
                t = _slow_time(ts)
                if t is None:
                    bad_e += 1
                    continue
            vi = var[i]
            if vi >= 0:
                te = texp[i]
                if te.__class__ is str_type:  # first event of this unit: parse its exposure time once
                    try:
                        te = fromiso(te)
                        if te.tzinfo is None:
                            te = te.replace(tzinfo=utc)
                    except ValueError:
                        te = _slow_time(te)
                    texp[i] = te
                if te is None:
                    bad_exposure += 1
                    continue
                if not schema_ok:
                    other_schema_n += 1
                    other_schema[norm] = other_schema.get(norm, 0) + 1
                    c = _SB if t < te else (_SA if window is not None and t >= te + window else _SQ)
                elif t < te:
                    c = _B
                    before += 1
                elif window is not None and t >= te + window:
                    c = _A
                    outside += 1
                else:
                    c = _Q
                    qualifying[vi] += 1
                    qualifying_n += 1
                if not mask[i]:
                    touched.append(i)
                mask[i] |= c
            else:
                multi_ev += 1
                for vj, te in multi[u].items():
                    if te is None:
                        continue
                    if t < te:
                        c = _B if schema_ok else _SB
                    elif window is not None and t >= te + window:
                        c = _A if schema_ok else _SA
                    else:
                        c = _Q if schema_ok else _SQ
                    multi_mask[(u, vj)] = multi_mask.get((u, vj), 0) | c

    per_variant = [0] * len(names)
    for v in var:
        if v >= 0:
            per_variant[v] += 1
    hist = [[0] * _NBITS for _ in names]
    for i in touched:
        if var[i] >= 0:
            hist[var[i]][mask[i]] += 1
    for k, h in enumerate(hist):
        h[0] = per_variant[k] - sum(h)
    multi_hist = [[0] * _NBITS for _ in names]
    for u, seen in multi.items():
        for vj in seen:
            multi_hist[vj][multi_mask.get((u, vj), 0)] += 1
    return _Partial(
        hist={n: hist[k] for k, n in enumerate(names)},
        multi_hist={n: multi_hist[k] for k, n in enumerate(names)},
        qualifying={n: qualifying[k] for k, n in enumerate(names)},
        variants_seen=names,
        counts={
            "assignment_rows": rows_a,
            "other_experiment_rows": other_exp,
            "duplicate_assignment_rows": dup,
            "bad_assignment_rows": bad_a,
            "event_rows": rows_e,
            "metric_events": metric_events,
            "qualifying_events": qualifying_n,
            "events_before_exposure": before,
            "events_outside_window": outside,
            "events_other_schema": other_schema_n,
            "events_unassigned": unassigned,
            "events_unplanned_variant": unplanned_ev,
            "events_multi_variant_units": multi_ev,
            "events_bad_exposure": bad_exposure,
            "bad_event_rows": bad_e,
        },
        unplanned_rows=unplanned_rows,
        other_schema=other_schema,
        multi_units=len(multi),
        multi_examples=sorted(multi)[:MAX_EXAMPLES],
    )


def _exposure(value: Any) -> datetime | None:
    """An exposure time kept as text until first needed, parsed (timezone-aware), or None."""
    if value is None or isinstance(value, datetime):
        return _slow_time(value) if value is not None else None
    try:
        t = _fromiso(value)
    except (TypeError, ValueError):
        return _slow_time(value)
    return t if t.tzinfo is not None else t.replace(tzinfo=_UTC)


def _merge(parts: Sequence[_Partial]) -> _Partial:
    """Sum the workers' counts (variant names in first-seen order)."""
    names: list[str] = []
    for p in parts:
        names += [n for n in p.variants_seen if n not in names]
    total = _Partial(
        hist={n: [0] * _NBITS for n in names},
        multi_hist={n: [0] * _NBITS for n in names},
        qualifying={n: 0 for n in names},
        variants_seen=names,
        counts={},
        unplanned_rows={},
        other_schema={},
        multi_units=0,
        multi_examples=[],
    )
    for p in parts:
        for n in p.variants_seen:
            total.hist[n] = [a + b for a, b in zip(total.hist[n], p.hist[n])]
            total.multi_hist[n] = [a + b for a, b in zip(total.multi_hist[n], p.multi_hist[n])]
            total.qualifying[n] += p.qualifying[n]
        for src, dst in ((p.counts, total.counts), (p.unplanned_rows, total.unplanned_rows), (p.other_schema, total.other_schema)):
            for k, v in src.items():
                dst[k] = dst.get(k, 0) + v
        total.multi_units += p.multi_units
        total.multi_examples += p.multi_examples
    total.multi_examples = sorted(total.multi_examples)[:MAX_EXAMPLES]
    return total


# -- replay ---------------------------------------------------------------------------------------------


def replay(root: Path, ab: ABTest, metric: str | None = None, *, workers: int | None = None) -> Replay:
    """Recompute the kit's primary metric (or ``metric``) from its logs, following the recorded definition.

    ``root`` is the catalog root the kit's log paths are relative to. ``workers``
    (default: automatic) splits the units between processes for large logs.
    """
    root = Path(root)
    spec = metric_spec(ab, metric)
    a_path = _checked_path(root, ab.assignment_log, "assignment log")
    e_path = _checked_path(root, ab.events_log, "event log")
    notes: list[str] = []

    a_names = _columns(root, ab.assignment_log or "", a_path)
    iu = _find(a_names, (), find_unit_column(a_names, ab.unit))
    iv = _find(a_names, (), find_variant_column(a_names))
    it = _find(a_names, EXPOSURE_COLUMNS, spec.exposure_column)
    ix = _find(a_names, EXPERIMENT_COLUMNS)
    missing = [w for w, i in (("unit", iu), ("variant", iv), ("exposure time", it)) if i < 0]
    if missing:
        raise ReplayError(f"assignment log has no {' or '.join(missing)} column (found: {', '.join(a_names) or 'none'})")
    if ix >= 0 and not ab.experiment_id:
        notes.append("the definition gives no experiment id: every assignment row was used")

    e_names = _columns(root, ab.events_log or "", e_path)
    ju = _find(e_names, (), find_unit_column(e_names, ab.unit) or (a_names[iu] if a_names[iu] in e_names else None))
    je = _find(e_names, EVENT_NAME_COLUMNS)
    jt = _find(e_names, EVENT_TIME_COLUMNS)
    js = _find(e_names, SCHEMA_COLUMNS)
    missing = [w for w, i in (("unit", ju), ("event time", jt)) if i < 0]
    if missing:
        raise ReplayError(f"event log has no {' or '.join(missing)} column (found: {', '.join(e_names) or 'none'})")
    if je < 0:
        notes.append(f"the event log has no event column: every row counts as a {spec.event or 'conversion'} event")
    if spec.schema_version is not None and js < 0:
        notes.append(f"the event log has no schema version column: the v{spec.schema_version} filter was not applied")
    if spec.schema_version is None:
        notes.append("no schema version is recorded for the event: events of every version count")
    if spec.window_days is None:
        notes.append("the definition gives no window: every event at or after exposure counts")

    planned = tuple(str(v) for v in ab.variants)
    job = _Job(
        root=str(root),
        a_rel=ab.assignment_log or "",
        a_path=str(a_path),
        a_names=tuple(a_names),
        a_cols=(iu, iv, it, ix),
        experiment_id=ab.experiment_id,
        planned=planned,
        e_rel=ab.events_log or "",
        e_path=str(e_path),
        e_names=tuple(e_names),
        e_cols=(ju, je, jt, js),
        event=spec.event,
        schema=spec.schema_version if js >= 0 else None,
        window_seconds=spec.window_days * 86400.0 if spec.window_days is not None else None,
    )
    n = _workers(workers, [a_path, e_path])
    try:
        total = _scan_all(job, n)
    except Unreadable as exc:
        raise ReplayError(exc.message) from None
    except (OSError, csv.Error) as exc:
        raise ReplayError(f"cannot read the logs: {exc}") from None

    names = list(planned) if planned else [v for v in total.variants_seen]
    tallies = {
        v: _Tally(tuple(total.hist.get(v, [0] * _NBITS)), tuple(total.multi_hist.get(v, [0] * _NBITS)), total.qualifying.get(v, 0))
        for v in names
    }
    counts = total.counts
    if sum(sum(t.hist) for t in tallies.values()) == 0 and counts.get("other_experiment_rows"):
        raise ReplayError(
            f"no assignment rows for experiment {ab.experiment_id!r} "
            f"({counts['other_experiment_rows']:,} rows of other experiments)"
        )
    diagnostics = Diagnostics(
        assignment_rows=counts.get("assignment_rows", 0),
        other_experiment_rows=counts.get("other_experiment_rows", 0),
        unplanned_variant_rows=dict(sorted(total.unplanned_rows.items())),
        duplicate_assignment_rows=counts.get("duplicate_assignment_rows", 0),
        multi_variant_units=total.multi_units,
        multi_variant_examples=tuple(total.multi_examples),
        bad_assignment_rows=counts.get("bad_assignment_rows", 0),
        event_rows=counts.get("event_rows", 0),
        metric_events=counts.get("metric_events", 0),
        qualifying_events=counts.get("qualifying_events", 0),
        events_before_exposure=counts.get("events_before_exposure", 0),
        events_outside_window=counts.get("events_outside_window", 0),
        events_other_schema=counts.get("events_other_schema", 0),
        other_schema_versions=dict(sorted(total.other_schema.items())),
        events_unassigned=counts.get("events_unassigned", 0),
        events_unplanned_variant=counts.get("events_unplanned_variant", 0),
        events_multi_variant_units=counts.get("events_multi_variant_units", 0),
        events_bad_exposure=counts.get("events_bad_exposure", 0),
        bad_event_rows=counts.get("bad_event_rows", 0),
    )
    if diagnostics.multi_variant_units:
        notes.append(
            f"{diagnostics.multi_variant_units:,} unit(s) were assigned to more than one variant "
            f"(e.g. {', '.join(diagnostics.multi_variant_examples)}); they are excluded from every variant"
        )
    shares = {str(k): float(v) for k, v in ab.variants.items()}
    control = _control(names)
    alpha = _alpha(ab)
    variants, lifts = _figures(_counts(tallies, _STRICT), shares, control)
    srm = _srm(variants, shares)
    return Replay(
        experiment_id=ab.experiment_id,
        metric=spec,
        variants=variants,
        control=control,
        lifts=lifts,
        srm=srm,
        diagnostics=diagnostics,
        alpha=alpha,
        notes=tuple(notes),
        tallies=tallies,
    )


def _scan_all(job: _Job, n: int) -> _Partial:
    """Scan in this process, or split the units between it and ``n - 1`` spawned workers."""
    if n <= 1:
        return _merge([_scan(job)])
    jobs = [replace(job, part=k, parts=n) for k in range(n)]
    try:
        with ProcessPoolExecutor(max_workers=n - 1, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_scan, j) for j in jobs[1:]]
            own = _scan(jobs[0])  # this process scans one partition while the workers scan the others
            return _merge([own] + [f.result() for f in futures])
    except BrokenProcessPool:  # workers could not start or died: do it all here
        return _merge([_scan(job)])


def _workers(requested: int | None, paths: Sequence[Path]) -> int:
    """Worker processes to use: as requested, else 2-4 for logs over PARALLEL_MIN_BYTES when cores allow."""
    if requested is not None:
        return max(1, int(requested))
    try:
        size = sum(os.path.getsize(p) for p in paths)
    except OSError:
        return 1
    if size < PARALLEL_MIN_BYTES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _alpha(ab: ABTest) -> float:
    """Significance level from the analysis plan, else the saved result, else ALPHA."""
    for source in (ab.analysis_plan, ab.saved_result):
        value = source.get("alpha")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1:
            return float(value)
    return ALPHA


def _control(names: Sequence[str]) -> str | None:
    """The variant named control/A/baseline (any case), else the first one."""
    for name in names:
        if name.strip().lower() in CONTROL_NAMES:
            return name
    return names[0] if names else None


# -- counting and statistics ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    """Which metric-event classes make a unit convert, and what else to relax."""

    bits: int
    duplicates: bool = False
    """Keep units assigned to several variants, in each of them."""
    events: bool = False
    """Count qualifying events instead of distinct converting units."""


_STRICT = _Rule(_Q)


def _counts(tallies: Mapping[str, _Tally], rule: _Rule) -> list[tuple[str, int, int]]:
    """(variant, units, conversions) under ``rule``."""
    out = []
    for name, t in tallies.items():
        units = sum(t.hist)
        conv = sum(n for m, n in enumerate(t.hist) if m & rule.bits)
        if rule.events:
            conv = t.qualifying_events
        if rule.duplicates:
            units += sum(t.multi_hist)
            conv += sum(n for m, n in enumerate(t.multi_hist) if m & rule.bits)
        out.append((name, units, conv))
    return out


def _figures(
    counts: Sequence[tuple[str, int, int]], shares: Mapping[str, float], control: str | None
) -> tuple[tuple[VariantFigures, ...], tuple[Lift, ...]]:
    """Per-variant figures and each treatment's lift over control."""
    variants = tuple(VariantFigures(n, u, c, c / u if u else None, shares.get(n)) for n, u, c in counts)
    by_name = {v.name: v for v in variants}
    lifts = []
    if control is not None and control in by_name:
        for v in variants:
            if v.name != control:
                lifts.append(two_proportions(by_name[control], v))
    return variants, tuple(lifts)


def two_proportions(control: VariantFigures, treatment: VariantFigures) -> Lift:
    """Lift of ``treatment`` over ``control``: Wald (unpooled) and delta-method CIs, pooled z-test."""
    from scipy.stats import norm

    x1, n1, x2, n2 = control.conversions, control.units, treatment.conversions, treatment.units
    if not n1 or not n2:
        return Lift(control.name, treatment.name, None, None, None, None, None, None, None)
    p1, p2 = x1 / n1, x2 / n2
    zc = float(norm.ppf(0.5 + CI_LEVEL / 2))
    diff = p2 - p1
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):  # counts that are not proportions (events, not units): no test
        return Lift(control.name, treatment.name, diff, None, diff / p1 if p1 else None, None, None, None, None)
    var1, var2 = p1 * (1 - p1) / n1, p2 * (1 - p2) / n2
    se = math.sqrt(var1 + var2)
    abs_ci = (diff - zc * se, diff + zc * se)
    pooled = (x1 + x2) / (n1 + n2)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se_pooled > 0:
        z = diff / se_pooled
        p = float(2 * norm.sf(abs(z)))
    else:  # both rates 0 or both 1: no difference to test
        z, p = 0.0, 1.0
    rel = rel_ci = rel_fixed = None
    if p1 > 0:
        rel = diff / p1
        se_rel = math.sqrt(var2 / p1**2 + p2**2 * var1 / p1**4)
        rel_ci = (rel - zc * se_rel, rel + zc * se_rel)
        rel_fixed = (abs_ci[0] / p1, abs_ci[1] / p1)
    return Lift(control.name, treatment.name, diff, abs_ci, rel, rel_ci, rel_fixed, z, p)


def _srm(variants: Sequence[VariantFigures], shares: Mapping[str, float]) -> SRM:
    """Chi-square goodness of fit of units per variant to the planned split."""
    planned = [v for v in variants if shares.get(v.name)]
    observed = {v.name: v.units for v in planned}
    total = sum(observed.values())
    if len(planned) < 2 or total == 0:
        why = "no planned traffic split" if len(planned) < 2 else "no units"
        return SRM(None, None, False, f"sample ratio mismatch not tested: {why}", observed, {})
    from scipy.stats import chisquare

    weight = sum(shares[v.name] for v in planned)
    expected = {v.name: total * shares[v.name] / weight for v in planned}
    res = chisquare(list(observed.values()), list(expected.values()))
    p, chi2 = float(res.pvalue), float(res.statistic)
    split = "/".join(f"{shares[v.name] / weight:.0%}" for v in planned)
    seen = ", ".join(f"{k} {n:,}" for k, n in observed.items())
    if p < SRM_ALPHA:
        message = (
            f"sample ratio mismatch: units {seen} do not fit the planned {split} split "
            f"(chi-square p = {p:.2g} < {SRM_ALPHA}); the metrics must not be trusted until the assignment is explained"
        )
        return SRM(p, chi2, True, message, observed, expected)
    return SRM(p, chi2, False, f"units {seen} fit the planned {split} split (chi-square p = {p:.3g})", observed, expected)


# -- comparing with the saved result ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Saved:
    """One figure of a saved result: where it was, what it says, which replay figure(s) it corresponds to."""

    name: str
    value: Any
    keys: tuple[str, ...]
    """Replay figure keys it may match; the first is the replay's own method."""


def _figure_values(variants: Sequence[VariantFigures], lift: Lift | None, alpha: float) -> dict[str, Any]:
    """Replay figures by key, for comparison."""
    out: dict[str, Any] = {}
    for v in variants:
        out[f"variants.{v.name}.units"] = v.units
        out[f"variants.{v.name}.conversions"] = v.conversions
        out[f"variants.{v.name}.rate"] = v.rate
    if lift is not None:
        out["absolute"] = lift.absolute
        out["relative"] = lift.relative
        out["z"] = lift.z
        out["p_value"] = lift.p_value
        out["significant"] = (lift.p_value < alpha) if lift.p_value is not None else None
        for key, ci in (("absolute_ci", lift.absolute_ci), ("relative_ci", lift.relative_ci), ("relative_ci_fixed", lift.relative_ci_fixed_control)):
            out[f"{key}_low"] = ci[0] if ci else None
            out[f"{key}_high"] = ci[1] if ci else None
    return out


_UNITS_KEYS = ("units", "n", "users", "exposed", "sample_size", "n_units", "count")
_CONV_KEYS = ("conversions", "converters", "converted", "successes", "purchasers", "x", "n_conversions")
_RATE_KEYS = ("rate", "conversion_rate", "cr", "mean", "value")


def _saved_figures(saved: Mapping[str, Any], replay: Replay) -> list[_Saved]:
    """Every figure of a saved result that a replay can recompute (sample kit format, replay_json and variants)."""
    out: list[_Saved] = []
    names = {v.name.lower(): v.name for v in replay.variants}
    variants = saved.get("variants")
    entries: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(variants, Mapping):
        entries = [(str(k), v) for k, v in variants.items() if isinstance(v, Mapping)]
    elif isinstance(variants, list):
        for item in variants:
            if isinstance(item, Mapping):
                label = next((item[k] for k in ("name", "variant", "id") if k in item), None)
                if label is not None:
                    entries.append((str(label), item))
    else:
        entries = [(k, v) for k, v in saved.items() if isinstance(v, Mapping) and str(k).lower() in names]
    prefix = "variants." if variants is not None else ""
    for label, body in entries:
        name = names.get(label.lower())
        if name is None:
            out.append(_Saved(f"{prefix}{label}", body, (f"variants.{label}.units",)))
            continue
        for keys, what in ((_UNITS_KEYS, "units"), (_CONV_KEYS, "conversions"), (_RATE_KEYS, "rate")):
            key = next((k for k in keys if k in body), None)
            if key is not None:
                out.append(_Saved(f"{prefix}{label}.{key}", body[key], (f"variants.{name}.{what}",)))

    lift = saved.get("lift") if isinstance(saved.get("lift"), Mapping) else {}
    scalars = (
        (("absolute_lift", "lift_absolute", "abs_lift", "absolute_difference", "difference", "diff"), ("absolute",), ("absolute", "abs")),
        (("relative_lift", "lift_relative", "rel_lift", "relative_difference", "uplift"), ("relative",), ("relative", "rel")),
        (("z", "z_score", "z_stat", "zstat"), ("z",), ("z",)),
        (("p_value", "pvalue", "p", "p_val"), ("p_value",), ("p_value",)),
        (("significant", "is_significant"), ("significant",), ()),
    )
    for top_keys, fig_keys, lift_keys in scalars:
        key = next((k for k in top_keys if k in saved and not isinstance(saved[k], (Mapping, list))), None)
        if key is not None:
            out.append(_Saved(key, saved[key], fig_keys))
            continue
        key = next((k for k in lift_keys if k in lift), None)
        if key is not None:
            out.append(_Saved(f"lift.{key}", lift[key], fig_keys))
    intervals = (
        (("ci95_absolute", "ci_absolute", "absolute_ci", "ci95", "ci", "confidence_interval"), ("absolute_ci",)),
        (("ci95_relative", "ci_relative", "relative_ci"), ("relative_ci", "relative_ci_fixed")),
    )
    for top_keys, fig_keys in intervals:
        key = next((k for k in top_keys if k in saved), None)
        if key is None:
            continue
        bounds = _bounds(saved[key])
        if bounds is not None:
            for side, value, label in ((0, bounds[0], "[0]"), (1, bounds[1], "[1]")):
                which = "low" if side == 0 else "high"
                out.append(_Saved(f"{key}{label}", value, tuple(f"{k}_{which}" for k in fig_keys)))
    # replay_json's own shape: lift {ci_low, ci_high (relative), absolute_ci_low, absolute_ci_high}
    for key, fig_keys in (
        ("absolute_ci_low", ("absolute_ci_low",)),
        ("absolute_ci_high", ("absolute_ci_high",)),
        ("ci_low", ("relative_ci_low", "relative_ci_fixed_low")),
        ("ci_high", ("relative_ci_high", "relative_ci_fixed_high")),
    ):
        if key in lift:
            out.append(_Saved(f"lift.{key}", lift[key], fig_keys))
    return out


def _bounds(value: Any) -> tuple[Any, Any] | None:
    """(low, high) of a saved interval written as ``[lo, hi]`` or ``{low, high}``."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, Mapping):
        lo = next((value[k] for k in ("low", "lower", "lo", "ci_low") if k in value), None)
        hi = next((value[k] for k in ("high", "upper", "hi", "ci_high") if k in value), None)
        if lo is not None and hi is not None:
            return lo, hi
    return None


def _decimals(value: Any) -> int | None:
    """Decimals a saved number was written with (its shortest repr); None for integers (exact)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        exponent = Decimal(text).as_tuple().exponent
    except InvalidOperation:
        return None
    return max(0, -exponent) if isinstance(exponent, int) else None


def _as_number(value: Any) -> float | None:
    """A saved figure as a float (numbers and numeric text), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _matches(saved: Any, recomputed: Any) -> bool:
    """True when ``recomputed`` agrees with ``saved`` at the precision ``saved`` was written with."""
    if isinstance(saved, bool) or isinstance(recomputed, bool):
        return isinstance(saved, bool) and saved == recomputed
    s, r = _as_number(saved), _as_number(recomputed)
    if s is None or r is None:
        return False
    decimals = _decimals(saved)
    if decimals is None:
        return s == r if float(s).is_integer() and isinstance(recomputed, int) else abs(s - r) <= 0.5
    half = 0.5 * 10.0 ** (-decimals)
    return abs(r - s) <= half * (1 + 1e-9) + 1e-12 * max(1.0, abs(s))


def _compare(figures: Sequence[_Saved], values: Mapping[str, Any]) -> tuple[list[_Saved], list[str]]:
    """Saved figures the values do not reproduce, and notes on figures matched by another method."""
    failed: list[_Saved] = []
    notes: list[str] = []
    for f in figures:
        candidates = [values.get(k) for k in f.keys]
        if candidates and _matches(f.value, candidates[0]):
            continue
        alt = next((k for k, v in zip(f.keys[1:], candidates[1:]) if _matches(f.value, v)), None)
        if alt is not None:
            if alt.startswith("relative_ci_fixed"):
                notes.append(
                    f"saved {f.name} is the absolute CI divided by the control rate (it ignores the control rate's own "
                    f"noise); the delta-method bound is {_fmt(candidates[0])}"
                )
            continue
        if f.keys[0].endswith(".rate") or f.keys[0] == "relative":
            r = _as_number(candidates[0])
            if r is not None and _matches(f.value, r * 100):
                notes.append(f"saved {f.name} is a percentage")
                continue
        failed.append(f)
    return failed, notes


def _fmt(value: Any) -> str:
    """A recomputed figure for a message."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def check_saved(replay: Replay, saved: Mapping[str, Any]) -> SavedCheck:
    """Compare every figure of the saved result with the replay; if one differs, find which filter explains it."""
    figures = _saved_figures(saved, replay)
    values = _figure_values(replay.variants, replay.lift, replay.alpha)
    failed, notes = _compare(figures, values)
    saved_metric = _metric_name(saved.get("metric"))
    if saved_metric and saved_metric.lower() != replay.metric.name.lower():
        message = f"the saved result is for {saved_metric!r} but the replay computed {replay.metric.name!r}"
        return SavedCheck(False, (FigureMismatch("metric", saved_metric, replay.metric.name, message),), (), tuple(notes), None)
    if not figures:
        notes.append("the saved result has no figure the replay can recompute")
    if not failed:
        return SavedCheck(bool(figures), (), tuple(f.name for f in figures), tuple(notes), None)
    explanation = _explain(replay, figures, failed)
    mismatches = []
    for f in failed:
        recomputed = values.get(f.keys[0])
        d = _decimals(f.value)
        at = f" (compared at {d} decimals)" if d else ""
        message = f"saved {f.name} = {f.value!r} but the replay gives {_fmt(recomputed)}{at}"
        if f.keys[0] not in values:
            message = f"saved {f.name} has no counterpart in the replay (variants: {', '.join(v.name for v in replay.variants)})"
        if explanation:
            message += f"; most likely: {explanation}"
        mismatches.append(FigureMismatch(f.name, f.value, recomputed, message))
    return SavedCheck(False, tuple(mismatches), tuple(f.name for f in figures), tuple(notes), explanation)


def compare_saved(replay: Replay, saved: Mapping[str, Any]) -> tuple[bool, list[FigureMismatch]]:
    """(reproduced, mismatches): every saved figure compared at the precision it was written with."""
    check = check_saved(replay, saved)
    return check.reproduced, list(check.mismatches)


def _relaxations(replay: Replay) -> list[tuple[tuple[str, ...], _Rule]]:
    """Filter relaxations worth trying (something to relax), single ones first, then pairs."""
    d = replay.diagnostics
    has = {
        "before_exposure": d.events_before_exposure > 0 or _any_bits(replay, _B | _SB),
        "window": d.events_outside_window > 0 or _any_bits(replay, _A | _SA),
        "schema": d.events_other_schema > 0,
        "duplicates": d.multi_variant_units > 0,
    }
    singles = [k for k in _RELAX_ORDER[:4] if has[k]]
    out: list[tuple[tuple[str, ...], _Rule]] = [((k,), _rule((k,))) for k in singles]
    if d.qualifying_events:
        out.append((("distinct_units",), _Rule(_Q, events=True)))
    for i, a in enumerate(singles):
        for b in singles[i + 1 :]:
            out.append(((a, b), _rule((a, b))))
    if len(singles) >= 3:
        out.append((tuple(singles), _rule(tuple(singles))))
    return out


def _any_bits(replay: Replay, bits: int) -> bool:
    """True when some multi-variant unit has metric events of the classes in ``bits``."""
    return any(n for t in replay.tallies.values() for m, n in enumerate(t.multi_hist) if m & bits)


def _rule(names: Sequence[str]) -> _Rule:
    """The rule with every filter in ``names`` relaxed (classes needing two relaxations included)."""
    relaxed = set(names)
    bits = _Q
    if "before_exposure" in relaxed:
        bits |= _B
    if "window" in relaxed:
        bits |= _A
    if "schema" in relaxed:
        bits |= _SQ
        if "before_exposure" in relaxed:
            bits |= _SB
        if "window" in relaxed:
            bits |= _SA
    return _Rule(bits, duplicates="duplicates" in relaxed)


def _explain(replay: Replay, figures: Sequence[_Saved], failed: Sequence[_Saved]) -> str | None:
    """The relaxed filter(s) under which the saved figures reproduce (all of them, else the counts), in words.

    Single relaxations are tried before pairs; when several single ones reproduce the
    saved figures, the first (in :data:`_RELAX_ORDER`) is named and the others mentioned.
    """
    shares = {v.name: v.planned_share for v in replay.variants if v.planned_share is not None}
    counts_only = [f for f in figures if f.keys[0].endswith((".units", ".conversions"))]
    failed_counts = [f for f in failed if f in counts_only]
    full: list[str] = []
    partial: str | None = None
    for names, rule in _relaxations(replay):
        if full and len(names) > 1:
            break  # a single relaxation already explains it
        variants, lifts = _figures(_counts(replay.tallies, rule), shares, replay.control)
        values = _figure_values(variants, lifts[0] if lifts else None, replay.alpha)
        if not _compare(figures, values)[0]:
            full.append(_words(replay, names, variants))
            if len(names) > 1:
                break
        elif partial is None and failed_counts and not _compare(counts_only, values)[0]:
            partial = _words(replay, names, variants) + " (the counts match; other figures still differ)"
    if full:
        others = f" (the saved figures are also reproduced if {'; or if '.join(full[1:])})" if len(full) > 1 else ""
        return full[0] + others
    return partial


def _plural(count: int, word: str) -> str:
    """``1 purchase event``, ``40 purchase events``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _words(replay: Replay, names: Sequence[str], variants: Sequence[VariantFigures]) -> str:
    """What relaxing ``names`` means for the saved figures, in words."""
    d, spec = replay.diagnostics, replay.metric
    event = f"{spec.event} event"
    extra = sum(v.conversions for v in variants) - sum(v.conversions for v in replay.variants)
    more = f" ({extra:+,} converting unit{'' if abs(extra) == 1 else 's'})" if extra and "distinct_units" not in names else ""
    parts = []
    for name in names:
        if name == "before_exposure":
            parts.append(f"saved conversions include {_plural(d.events_before_exposure, event)} before exposure")
        elif name == "window":
            days = f"{spec.window_days:g}-day " if spec.window_days is not None else ""
            parts.append(
                f"saved conversions include {_plural(d.events_outside_window, event)} at or after the end of the {days}window"
            )
        elif name == "schema":
            versions = ", ".join(f"v{k}" for k in sorted(d.other_schema_versions))
            parts.append(
                f"saved conversions include {_plural(d.events_other_schema, event)} of schema version {versions} "
                f"(the recorded schema is v{spec.schema_version})"
            )
        elif name == "duplicates":
            parts.append(
                f"saved figures keep the {_plural(d.multi_variant_units, 'unit')} assigned to more than one variant "
                "(counted in each of their variants)"
            )
        elif name == "distinct_units":
            parts.append(f"saved conversions count {_plural(d.qualifying_events, event)}, not distinct converting units")
    return " and ".join(parts) + more


# -- JSON ----------------------------------------------------------------------------------------------------


def _lift_json(lift: Lift | None) -> dict[str, Any] | None:
    """One lift in the JSON document (``ci_low``/``ci_high`` are the relative lift's delta-method CI)."""
    if lift is None:
        return None
    return {
        "control": lift.control,
        "treatment": lift.treatment,
        "absolute": lift.absolute,
        "relative": lift.relative,
        "ci_low": lift.relative_ci[0] if lift.relative_ci else None,
        "ci_high": lift.relative_ci[1] if lift.relative_ci else None,
        "absolute_ci_low": lift.absolute_ci[0] if lift.absolute_ci else None,
        "absolute_ci_high": lift.absolute_ci[1] if lift.absolute_ci else None,
        "relative_ci_fixed_control_low": lift.relative_ci_fixed_control[0] if lift.relative_ci_fixed_control else None,
        "relative_ci_fixed_control_high": lift.relative_ci_fixed_control[1] if lift.relative_ci_fixed_control else None,
        "z": lift.z,
        "p_value": lift.p_value,
    }


def saved_notes(check: SavedCheck | None) -> tuple[str, ...]:
    """What to tell the reader about a saved-result comparison: method notes, then why it differs."""
    if check is None:
        return ()
    return (*check.notes, *((f"the saved figures reproduce when {check.explanation}",) if check.explanation else ()))


def replay_json(
    r: Replay, reproduced: bool | None, mismatches: Sequence[FigureMismatch], *, notes: Sequence[str] = ()
) -> dict[str, Any]:
    """The replay document: per-variant figures, lift with CIs, p-value, SRM, diagnostics and the saved comparison."""
    d = r.diagnostics
    lift = r.lift
    return json_safe(
        {
            "experiment_id": r.experiment_id,
            "metric": r.metric.name,
            "definition": {
                "version": r.metric.version,
                "event": r.metric.event,
                "schema_version": r.metric.schema_version,
                "window_days": r.metric.window_days,
                "window": "[exposure, exposure + window), end exclusive" if r.metric.window_days is not None else None,
                "exposure_column": r.metric.exposure_column,
            },
            "control": r.control,
            "treatment": lift.treatment if lift else None,
            "variants": {
                v.name: {"units": v.units, "conversions": v.conversions, "rate": v.rate, "planned_share": v.planned_share}
                for v in r.variants
            },
            "lift": _lift_json(lift),
            "lifts": [_lift_json(x) for x in r.lifts],
            "z": lift.z if lift else None,
            "p_value": r.p_value,
            "alpha": r.alpha,
            "significant": (r.p_value < r.alpha) if r.p_value is not None else None,
            "srm": {
                "p_value": r.srm.p_value,
                "chi2": r.srm.chi2,
                "flagged": r.srm.flagged,
                "message": r.srm.message,
                "observed": dict(r.srm.observed),
                "expected": dict(r.srm.expected),
            },
            "diagnostics": {
                "assignment_rows": d.assignment_rows,
                "other_experiment_rows": d.other_experiment_rows,
                "unplanned_variant_rows": dict(d.unplanned_variant_rows),
                "duplicate_assignment_rows": d.duplicate_assignment_rows,
                "multi_variant_units": d.multi_variant_units,
                "multi_variant_examples": list(d.multi_variant_examples),
                "bad_assignment_rows": d.bad_assignment_rows,
                "event_rows": d.event_rows,
                "metric_events": d.metric_events,
                "qualifying_events": d.qualifying_events,
                "events_before_exposure": d.events_before_exposure,
                "events_outside_window": d.events_outside_window,
                "events_other_schema": d.events_other_schema,
                "other_schema_versions": dict(d.other_schema_versions),
                "events_unassigned": d.events_unassigned,
                "events_unplanned_variant": d.events_unplanned_variant,
                "events_multi_variant_units": d.events_multi_variant_units,
                "events_bad_exposure": d.events_bad_exposure,
                "bad_event_rows": d.bad_event_rows,
                "messages": d.messages(r.metric),
            },
            "notes": list(r.notes) + list(notes),
            "reproduced": reproduced,
            "mismatches": [
                {"name": m.name, "saved": m.saved, "recomputed": m.recomputed, "message": m.message} for m in mismatches
            ],
        }
    )
