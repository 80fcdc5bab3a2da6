"""Read an online A/B test repro kit: experiment definition, assignment and event logs, and the rest.

An A/B record (tutorial Example 2) is a folder holding an experiment definition
plus an assignment log, usually with metric definitions, event schema versions,
a frozen analysis plan, the final query and a saved result. Logs can be huge:
here they are only counted by streaming; :func:`iter_assignments` and
:func:`iter_events` replay their rows on demand.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from ..records import ABTest, Status
from ..safeio import ReadContext, Unreadable
from .sweep import _type_name, pick_file, read_notes

_STRUCT = (".yaml", ".yml", ".json")

DEFINITION_NAMES: tuple[str, ...] = tuple(
    stem + ext
    for stem in ("experiment", "experiment_definition", "definition", "abtest", "ab_test")
    for ext in _STRUCT
)
"""Accepted experiment definition names, in order of preference."""
ASSIGNMENT_NAMES: tuple[str, ...] = tuple(
    stem + ext
    for stem in ("assignments", "assignment_log", "assignment", "exposures", "exposure_log")
    for ext in (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet")
)
"""Accepted assignment (exposure) log names, in order of preference."""
EVENT_NAMES: tuple[str, ...] = tuple(
    stem + ext for stem in ("events", "event_log") for ext in (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet")
)
"""Accepted event log names, in order of preference."""
METRIC_DEFINITION_NAMES: tuple[str, ...] = (
    "metric_definitions.yaml",
    "metric_definitions.yml",
    "metric_definitions.json",
    "metrics.yaml",
    "metrics.yml",
)
"""Accepted metric definition names, in order of preference."""
SCHEMA_NAMES: tuple[str, ...] = tuple(
    stem + ext for stem in ("event_schemas", "event_schema", "schema_versions") for ext in _STRUCT
)
"""Accepted event schema version names, in order of preference."""
PLAN_NAMES: tuple[str, ...] = ("analysis_plan.yaml", "analysis_plan.yml", "analysis_plan.json", "analysis_plan.md")
"""Accepted analysis plan names, in order of preference (Markdown is kept as ``{"text": ...}``)."""
QUERY_NAMES: tuple[str, ...] = ("query.sql", "analysis.sql", "analysis_query.sql", "final_query.sql", "query.txt")
"""Accepted analysis query names, in order of preference."""
RESULT_NAMES: tuple[str, ...] = (
    "result.json",
    "saved_result.json",
    "results.json",
    "result.yaml",
    "result.yml",
    "saved_result.yaml",
    "results.yaml",
)
"""Accepted saved result names, in order of preference."""

EXPERIMENT_ID_KEYS: tuple[str, ...] = ("experiment_id", "id", "name", "key")
UNIT_KEYS: tuple[str, ...] = ("unit", "exposure_unit", "unit_of_randomization", "randomization_unit")
START_KEYS: tuple[str, ...] = ("start", "start_time", "started_at", "start_date", "starts_at")
END_KEYS: tuple[str, ...] = ("end", "end_time", "ended_at", "end_date", "ends_at")
VARIANT_KEYS: tuple[str, ...] = ("variants", "arms", "variations")
SPLIT_KEYS: tuple[str, ...] = ("traffic_split", "traffic", "allocation", "split")
SHARE_KEYS: tuple[str, ...] = ("traffic", "weight", "share", "allocation", "percent", "fraction", "split")
"""Keys of a variant entry that may hold its traffic share."""
NAME_KEYS: tuple[str, ...] = ("name", "id", "key", "variant")
UNIT_COLUMNS: tuple[str, ...] = (
    "user_id",
    "unit_id",
    "unit",
    "visitor_id",
    "anonymous_id",
    "session_id",
    "device_id",
    "account_id",
    "customer_id",
    "member_id",
    "cookie_id",
)
"""Assignment log columns accepted as the randomization unit when the definition does not name one present."""
VARIANT_COLUMNS: tuple[str, ...] = (
    "variant",
    "variant_id",
    "variant_name",
    "variation",
    "arm",
    "group",
    "bucket",
    "cohort",
    "treatment",
    "treatment_group",
    "condition",
    "assignment",
    "assigned_variant",
)
"""Assignment log columns accepted as the variant."""

_SHARE_TOLERANCE = 0.01
"""Shares summing to within 1% of 1 (or of 100) are taken as summing to 1."""
_PARQUET_MISSING = "Parquet needs the optional pyarrow extra"


def is_abtest_dir(names: set[str]) -> bool:
    """True when a folder holding files ``names`` is an A/B kit: a definition plus an assignment (or event) log."""
    lower = {n.lower() for n in names}
    has_definition = any(n in lower for n in DEFINITION_NAMES)
    has_log = any(n in lower for n in ASSIGNMENT_NAMES + EVENT_NAMES)
    return has_definition and has_log


# -- the definition -----------------------------------------------------------------
class DefinitionFacts(NamedTuple):
    """What :func:`parse_definition` understood of an experiment definition."""

    experiment_id: str | None
    variants: dict[str, float]
    unit: str | None
    start: datetime | None
    end: datetime | None
    issues: list[str]


def parse_definition(doc: Mapping[str, Any]) -> DefinitionFacts:
    """Experiment id, variant shares, unit, start and end of a parsed definition, plus messages.

    A definition wrapped in a top-level ``experiment:`` mapping is unwrapped.
    Variants are read by :func:`parse_variants`.
    """
    issues: list[str] = []
    body = _unwrap(doc)
    experiment_id = _first_scalar(body, EXPERIMENT_ID_KEYS)
    variants, variant_issues = parse_variants(body)
    issues.extend(variant_issues)
    unit = _first_scalar(body, UNIT_KEYS)
    if unit is None:
        for outer in ("exposure", "assignment", "randomization"):
            inner = body.get(outer)
            if isinstance(inner, Mapping):
                unit = _first_scalar(inner, UNIT_KEYS)
                if unit:
                    break
    start = _first_time(body, START_KEYS, issues)
    end = _first_time(body, END_KEYS, issues)
    if start is None or end is None:
        for outer in ("schedule", "dates", "window", "period"):
            inner = body.get(outer)
            if isinstance(inner, Mapping):
                start = start or _first_time(inner, START_KEYS, issues, prefix=f"{outer}.")
                end = end or _first_time(inner, END_KEYS, issues, prefix=f"{outer}.")
    if start is not None and end is not None and _comparable(start, end) and end < start:
        issues.append(f"end {end.isoformat()} is before start {start.isoformat()}")
    return DefinitionFacts(experiment_id, variants, unit, start, end, issues)


def _unwrap(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = doc.get("experiment")
    if isinstance(inner, Mapping) and not any(k in doc for k in VARIANT_KEYS + SPLIT_KEYS):
        merged = {k: v for k, v in doc.items() if k != "experiment"}
        merged.update(inner)
        return merged
    return doc


def _first_scalar(body: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = body.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def parse_variants(body: Mapping[str, Any]) -> tuple[dict[str, float], list[str]]:
    """Variant name -> traffic share (fractions summing to 1) from a definition, plus messages.

    Accepted shapes: ``variants: {control: 0.5, treatment: 0.5}`` (values may be
    fractions, percents, ``"50%"`` strings or mappings with a share key),
    ``variants: [{name, traffic|weight|share|allocation}]`` (or plain names), and
    ``traffic_split: {A: 50, B: 50}`` (also a list or ``"50/50"`` aligned with the
    variant names). Shares are divided by their total; a total not within 1% of 1
    or 100 (holdout included when a numeric ``holdout`` is given) is reported.
    Variants without any share are given an equal split, and that is reported.
    """
    issues: list[str] = []
    names: list[str] = []
    shares: dict[str, float] = {}
    marked_percent = False

    raw = next((body[k] for k in VARIANT_KEYS if k in body), None)
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            name = str(key)
            names.append(name)
            share, pct = _share_of(value)
            marked_percent |= pct
            if share is not None:
                shares[name] = share
    elif isinstance(raw, list):
        for i, item in enumerate(raw, start=1):
            item_name, value = _variant_item(item)
            if item_name is None:
                issues.append(f"variant {i} has no name; ignored")
                continue
            name = item_name
            names.append(name)
            share, pct = _share_of(value)
            marked_percent |= pct
            if share is not None:
                shares[name] = share
    elif raw is not None:
        issues.append(f"variants should be a mapping or a list, not {_type_name(raw)}")

    split_key = next((k for k in SPLIT_KEYS if k in body), None)
    if split_key is not None and not shares:
        split = body[split_key]
        if isinstance(split, str) and ("/" in split or ":" in split):  # "50/50" or "90:10"
            split = split.replace(":", "/").split("/")
        if isinstance(split, Mapping):
            known = list(names)
            for key, value in split.items():
                name = str(key)
                share, pct = _share_of(value)
                if share is None:
                    issues.append(f"{split_key}.{name}: {value!r} is not a share")
                    continue
                if known and name not in known:
                    issues.append(f"{split_key}.{name}: not one of the variants {known}; ignored")
                    continue
                if name not in names:
                    names.append(name)
                marked_percent |= pct
                shares[name] = share
        elif isinstance(split, list) and names and len(split) == len(names):
            for name, value in zip(names, split):
                share, pct = _share_of(value)
                marked_percent |= pct
                if share is None:
                    issues.append(f"{split_key}: {value!r} is not a share")
                else:
                    shares[name] = share
        else:
            issues.append(f"{split_key}: {split!r} could not be matched to variants {names}")

    if not names:
        issues.append("no variants found (expected variants or traffic_split)")
        return {}, issues
    negative = [n for n, s in shares.items() if s < 0]
    for name in negative:
        issues.append(f"variant {name!r} has a negative share; ignored")
        del shares[name]
    if not shares:
        issues.append(f"no traffic shares given for variants {names}; assumed an equal split")
        return {n: 1.0 / len(names) for n in names}, issues
    missing = [n for n in names if n not in shares]
    for name in missing:
        issues.append(f"variant {name!r} has no traffic share; left out of the split")
    total = sum(shares.values())
    if total <= 0:
        issues.append("variant shares sum to 0; cannot normalise")
        return dict.fromkeys(shares, 0.0), issues
    if marked_percent:
        total_fraction = total / 100
    else:
        total_fraction = total / 100 if abs(total - 100) <= 100 * _SHARE_TOLERANCE else total
    if abs(total_fraction - 1) > _SHARE_TOLERANCE:
        holdout = _holdout_share(body)
        explained = holdout is not None and any(
            abs(total + holdout - whole) <= whole * _SHARE_TOLERANCE for whole in (1.0, 100.0)
        )
        if not explained:
            written = f"{total:g}%" if marked_percent else f"{total:g}"
            issues.append(f"variant shares sum to {written}, not 1 or 100%; normalised to fractions summing to 1")
    return {n: s / total for n, s in shares.items()}, issues


def _variant_item(item: Any) -> tuple[str | None, Any]:
    if isinstance(item, (str, int)) and not isinstance(item, bool):
        return str(item), None
    if not isinstance(item, Mapping):
        return None, None
    for key in NAME_KEYS:
        if key in item and isinstance(item[key], (str, int)) and not isinstance(item[key], bool):
            return str(item[key]), item
    if len(item) == 1:  # "- control: 0.5"
        (key, value), = item.items()
        return str(key), value
    return None, None


def _share_of(value: Any) -> tuple[float | None, bool]:
    """(share as written, whether it was marked as a percent) of one variant's value."""
    if isinstance(value, Mapping):
        for key in SHARE_KEYS:
            if key in value:
                share, pct = _share_of(value[key])
                return share, pct or key == "percent"
        return None, False
    if isinstance(value, bool) or value is None:
        return None, False
    if isinstance(value, (int, float)):
        return (float(value), False) if value == value else (None, False)
    if isinstance(value, str):
        text = value.strip()
        pct = text.endswith("%")
        try:
            number = float(text.rstrip("%").strip())
        except ValueError:
            return None, False
        return (number, pct) if number == number else (None, False)
    return None, False


def _holdout_share(body: Mapping[str, Any]) -> float | None:
    for key in ("holdout", "holdout_share", "holdout_percent", "holdout_pct", "holdout_traffic"):
        if key in body:
            share, _ = _share_of(body[key])
            if share is not None:
                return share
    return None


# -- times ----------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """A datetime from an ISO string, a datetime, a date (midnight) or epoch seconds/ms; timezone kept."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        for candidate in (text, text.replace("/", "-")):
            try:
                return datetime.fromisoformat(candidate)
            except ValueError:
                continue
    return None


def _first_time(
    body: Mapping[str, Any], keys: Iterable[str], issues: list[str], prefix: str = ""
) -> datetime | None:
    for key in keys:
        if key in body and body[key] is not None:
            parsed = parse_time(body[key])
            if parsed is None:
                issues.append(f"{prefix}{key}: {body[key]!r} is not a date or time")
            return parsed
    return None


def _comparable(a: datetime, b: datetime) -> bool:
    return (a.tzinfo is None) == (b.tzinfo is None)


def _is_past(when: datetime, now: datetime | None) -> bool:
    """True when ``when`` is before ``now``; naive times are taken as local time."""
    if now is None:
        now = datetime.now(UTC)
    if when.tzinfo is None:
        local_now = now.astimezone().replace(tzinfo=None) if now.tzinfo else now
        return when < local_now
    return when < (now if now.tzinfo else now.astimezone())


# -- companion files ----------------------------------------------------------------
def _as_mapping(doc: Any, path: Path, ctx: ReadContext, key_names: tuple[str, ...]) -> dict[str, Any]:
    """``doc`` as a mapping: lists of named entries are keyed by name, text is kept as ``{"text": ...}``."""
    if doc is None:
        return {}
    if isinstance(doc, Mapping):
        return dict(doc)
    if isinstance(doc, str):
        return {"text": doc}
    if isinstance(doc, list) and doc and all(isinstance(e, Mapping) for e in doc):
        keyed: dict[str, Any] = {}
        for entry in doc:
            key = next((entry[k] for k in key_names if isinstance(entry.get(k), (str, int))), None)
            if key is None or str(key) in keyed:
                break
            keyed[str(key)] = dict(entry)
        else:
            return keyed
    ctx.problem(path, f"expected a mapping, found {_type_name(doc)}; kept under 'value'")
    return {"value": doc}


def _load_mapping(
    folder: Path, names: tuple[str, ...], ctx: ReadContext, what: str, keys: tuple[str, ...]
) -> dict[str, Any]:
    path = pick_file(folder, names, ctx, what)
    if path is None:
        return {}
    if path.suffix.lower() in (".md", ".markdown", ".txt"):
        text = ctx.read_text(path)
        return {"text": text} if text is not None else {}
    return _as_mapping(ctx.load_structured(path), path, ctx, keys)


# -- logs -----------------------------------------------------------------------
def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "tsv" if suffix == ".tsv" else "csv"


def _lines(ctx: ReadContext, path: Path) -> Iterator[str]:
    for _, text in ctx.iter_lines(path):
        yield text + "\n"  # csv needs the newline to keep line breaks inside quoted cells


def find_unit_column(columns: Iterable[str], unit: str | None = None) -> str | None:
    """The column of ``columns`` holding the randomization unit, or None.

    Tried in order (case-insensitively): the definition's ``unit`` itself,
    ``<unit>_id``, then :data:`UNIT_COLUMNS`.
    """
    by_lower = {c.strip().lower(): c for c in columns}
    wanted: list[str] = []
    if unit:
        wanted += [unit.lower(), f"{unit.lower()}_id"]
    for name in wanted + list(UNIT_COLUMNS):
        if name in by_lower:
            return by_lower[name]
    return None


def find_variant_column(columns: Iterable[str]) -> str | None:
    """The column of ``columns`` holding the assigned variant (see :data:`VARIANT_COLUMNS`), or None."""
    by_lower = {c.strip().lower(): c for c in columns}
    return next((by_lower[n] for n in VARIANT_COLUMNS if n in by_lower), None)


def _check_columns(path: Path, ctx: ReadContext, columns: list[str], unit: str | None, line: int | None) -> None:
    if find_unit_column(columns, unit) is None:
        expected = f"{unit!r}, " if unit else ""
        ctx.problem(
            path,
            f"assignment log has no unit column (expected {expected}one of {', '.join(UNIT_COLUMNS[:4])} ...;"
            f" found {', '.join(columns) or 'none'})",
            line,
        )
    if find_variant_column(columns) is None:
        ctx.problem(
            path,
            f"assignment log has no variant column (expected one of {', '.join(VARIANT_COLUMNS[:5])} ...;"
            f" found {', '.join(columns) or 'none'})",
            line,
        )


def count_rows(
    path: Path, ctx: ReadContext, *, check_assignment_columns: bool = False, unit: str | None = None
) -> int | None:
    """Data rows of a CSV/TSV (header excluded), JSON-lines or Parquet log, counted by streaming.

    Returns None, with a problem recorded, when the file cannot be read. With
    ``check_assignment_columns`` the header (first JSON object, Parquet schema)
    must have a unit column and a variant column, else a problem is recorded.
    """
    fmt = _format(path)
    try:
        if fmt == "parquet":
            return _count_parquet(path, ctx, check_assignment_columns, unit)
        if fmt == "jsonl":
            return _count_jsonl(path, ctx, check_assignment_columns, unit)
        return _count_csv(path, ctx, "\t" if fmt == "tsv" else ",", check_assignment_columns, unit)
    except Unreadable as exc:
        ctx.problem(path, exc.message, exc.line)
        return None


def _count_csv(path: Path, ctx: ReadContext, delimiter: str, check: bool, unit: str | None) -> int | None:
    reader = csv.reader(_lines(ctx, path), delimiter=delimiter)
    header: list[str] | None = None
    rows = 0
    bad = 0
    first_bad: int | None = None
    prev_end = 0
    try:
        for cells in reader:
            start, prev_end = prev_end + 1, reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                if check:
                    _check_columns(path, ctx, header, unit, start)
                continue
            rows += 1
            if len(cells) != len(header):
                bad += 1
                first_bad = first_bad or start
    except csv.Error as exc:
        ctx.problem(path, f"CSV error: {exc}; row count unknown", prev_end + 1)
        return None
    if header is None:
        ctx.problem(path, "empty log (no header row)")
        return 0
    if bad:
        message = f"{bad:,} row(s) have a different number of cells than the header (first here)"
        ctx.problem(path, message, first_bad)
    return rows


def _count_jsonl(path: Path, ctx: ReadContext, check: bool, unit: str | None) -> int:
    rows = 0
    bad = 0
    first_bad: int | None = None
    checked = not check
    for number, text in ctx.iter_lines(path):
        text = text.strip()
        if not text:
            continue
        rows += 1
        if not checked:
            checked = True
            try:
                first = json.loads(text)
            except ValueError:
                first = None
            if isinstance(first, Mapping):
                _check_columns(path, ctx, [str(k) for k in first], unit, number)
            else:
                checked = False  # try the next line
        if not (text.startswith("{") and text.endswith("}")):
            bad += 1
            first_bad = first_bad or number
    if bad:
        ctx.problem(path, f"{bad:,} line(s) are not JSON objects (first here); counted anyway", first_bad)
    return rows


def _count_parquet(path: Path, ctx: ReadContext, check: bool, unit: str | None) -> int | None:
    ctx.check_file(path, None)
    try:
        import pyarrow.parquet as pq  # optional
    except ImportError:
        ctx.problem(path, _PARQUET_MISSING)
        return None
    try:
        meta = pq.ParquetFile(path)
        if check:
            _check_columns(path, ctx, list(meta.schema_arrow.names), unit, None)
        return int(meta.metadata.num_rows)
    except Exception as exc:
        ctx.problem(path, f"cannot read Parquet: {exc}")
        return None


# -- reading a kit --------------------------------------------------------------------
def read_abtest(
    dir: Path,
    ctx: ReadContext,
    *,
    id: str,
    project: str,
    name: str,
    now: datetime | None = None,
) -> ABTest:
    """Read the A/B kit folder ``dir`` into an :class:`ABTest`; problems go to ``ctx`` and the record.

    ``now`` (default: the current time) decides whether the planned end is past.
    """
    first_problem = len(ctx.problems)
    folder = Path(dir)

    definition: dict[str, Any] = {}
    facts = DefinitionFacts(None, {}, None, None, None, [])
    def_path = pick_file(folder, DEFINITION_NAMES, ctx, "experiment definition")
    if def_path is None:
        ctx.problem(folder / DEFINITION_NAMES[0], "no experiment definition (experiment.yaml)")
    else:
        doc = ctx.load_structured(def_path)
        if isinstance(doc, Mapping):
            definition = dict(doc)
            facts = parse_definition(definition)
            for message in facts.issues:
                ctx.problem(def_path, message)
        elif doc is not None:
            kind = _type_name(doc)
            ctx.problem(def_path, f"experiment definition should be a mapping, not {kind}; not used")

    named = ("name", "metric", "id")
    metric_definitions = _load_mapping(folder, METRIC_DEFINITION_NAMES, ctx, "metric definition", named)
    event_schemas = _load_mapping(folder, SCHEMA_NAMES, ctx, "event schema", ("event", "name", "id"))
    plan = _load_mapping(folder, PLAN_NAMES, ctx, "analysis plan", named)
    saved_result = _load_mapping(folder, RESULT_NAMES, ctx, "saved result", ("metric", "name", "id"))

    query = ""
    query_path = pick_file(folder, QUERY_NAMES, ctx, "query")
    if query_path is not None:
        query = ctx.read_text(query_path) or ""

    assignment_log: str | None = None
    assignment_rows: int | None = None
    log_path = pick_file(folder, ASSIGNMENT_NAMES, ctx, "assignment log")
    if log_path is None:
        ctx.problem(folder / ASSIGNMENT_NAMES[0], "no assignment log (assignments.csv)")
    else:
        assignment_log = ctx.rel(log_path)
        assignment_rows = count_rows(log_path, ctx, check_assignment_columns=True, unit=facts.unit)

    events_log: str | None = None
    events_rows: int | None = None
    events_path = pick_file(folder, EVENT_NAMES, ctx, "event log")
    if events_path is not None:
        events_log = ctx.rel(events_path)
        events_rows = count_rows(events_path, ctx)

    status: Status = "unknown"
    if saved_result or (facts.end is not None and _is_past(facts.end, now)):
        status = "finished"

    return ABTest(
        id=id,
        path=os.path.abspath(folder),
        project=project,
        name=name,
        experiment_id=facts.experiment_id,
        started=facts.start,
        ended=facts.end,
        definition=definition,
        variants=facts.variants,
        unit=facts.unit,
        metric_definitions=metric_definitions,
        event_schemas=event_schemas,
        analysis_plan=plan,
        query=query,
        saved_result=saved_result,
        assignment_log=assignment_log,
        assignment_rows=assignment_rows,
        events_log=events_log,
        events_rows=events_rows,
        notes=read_notes(folder, ctx),
        problems=tuple(ctx.problems[first_problem:]),
        status=status,
    )


# -- replaying logs ----------------------------------------------------------------
def iter_assignments(root: Path, abtest: ABTest, ctx: ReadContext | None = None) -> Iterator[dict[str, Any]]:
    """Rows of the kit's assignment log as dicts, streamed; see :func:`iter_log`."""
    yield from iter_log(root, abtest.assignment_log, ctx, what="assignment log")


def iter_events(root: Path, abtest: ABTest, ctx: ReadContext | None = None) -> Iterator[dict[str, Any]]:
    """Rows of the kit's event log as dicts, streamed; see :func:`iter_log`."""
    yield from iter_log(root, abtest.events_log, ctx, what="event log")


def iter_log(
    root: Path, rel: str | None, ctx: ReadContext | None = None, *, what: str = "log"
) -> Iterator[dict[str, Any]]:
    """Rows of the log at ``rel`` (relative to the catalog ``root``) as dicts, streamed.

    CSV/TSV rows come from :class:`csv.DictReader` (short rows get None, extra
    cells go under the key None). JSON-lines rows are the objects; lines that are
    not JSON objects are skipped and reported to ``ctx`` when given. Parquet needs
    pyarrow. Raises :class:`Unreadable` when there is no log, when it lies (or
    links) outside the root, or cannot be opened.
    """
    if not rel:
        raise Unreadable(f"no {what} in this record")
    guard = ReadContext(Path(root), problems=ctx.problems if ctx is not None else [])
    path = guard.root / rel
    if Path(rel).is_absolute() or not guard.inside_root(path):
        raise Unreadable(f"{what} {rel} is outside the catalog root; refused")
    fmt = _format(path)
    if fmt == "parquet":
        yield from _iter_parquet(guard, path)
    elif fmt == "jsonl":
        for number, text in guard.iter_lines(path):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except ValueError as exc:
                guard.problem(path, f"not JSON ({exc}); line skipped", number)
                continue
            except RecursionError:
                guard.problem(path, "JSON nested too deeply to read; line skipped", number)
                continue
            if not isinstance(row, dict):
                guard.problem(path, "not a JSON object; line skipped", number)
                continue
            yield row
    else:
        yield from csv.DictReader(_lines(guard, path), delimiter="\t" if fmt == "tsv" else ",")


def _iter_parquet(guard: ReadContext, path: Path) -> Iterator[dict[str, Any]]:
    guard.check_file(path, None)
    try:
        import pyarrow.parquet as pq  # optional
    except ImportError:
        raise Unreadable(_PARQUET_MISSING) from None
    try:
        batches = pq.ParquetFile(path).iter_batches()
    except Exception as exc:
        raise Unreadable(f"cannot read Parquet: {exc}") from None
    for batch in batches:
        yield from batch.to_pylist()
