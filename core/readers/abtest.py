"""Read an online A/B test repro kit: experiment definition, assignment and event logs, and the rest.

An A/B record (tutorial Example 2) is a folder holding an experiment definition
plus an assignment log, usually with metric definitions, event schema versions,
a frozen analysis plan, the final query and a saved result. Logs can be huge:
here they are only counted by streaming; :func:`iter_assignments` and
:func:`iter_events` replay their rows on demand.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..records import ABTest, Status
from ..safeio import ReadContext
from .abtest_definition import (
    END_KEYS,
    EXPERIMENT_ID_KEYS,
    NAME_KEYS,
    SHARE_KEYS,
    SPLIT_KEYS,
    START_KEYS,
    UNIT_KEYS,
    VARIANT_KEYS,
    DefinitionFacts,
    parse_definition,
    parse_time,
    parse_variants,
)
from .abtest_logs import UNIT_COLUMNS, VARIANT_COLUMNS, count_rows, find_unit_column, find_variant_column, iter_assignments, iter_events, iter_log
from .sweep import _type_name, pick_file, read_notes

# The A/B reader's API, defined here and in the modules above (one job each).
__all__ = [
    "ASSIGNMENT_NAMES",
    "DEFINITION_NAMES",
    "END_KEYS",
    "EVENT_NAMES",
    "EXPERIMENT_ID_KEYS",
    "METRIC_DEFINITION_NAMES",
    "NAME_KEYS",
    "PLAN_NAMES",
    "QUERY_NAMES",
    "RESULT_NAMES",
    "SCHEMA_NAMES",
    "SHARE_KEYS",
    "SPLIT_KEYS",
    "START_KEYS",
    "UNIT_COLUMNS",
    "UNIT_KEYS",
    "VARIANT_COLUMNS",
    "VARIANT_KEYS",
    "DefinitionFacts",
    "count_rows",
    "find_unit_column",
    "find_variant_column",
    "is_abtest_dir",
    "iter_assignments",
    "iter_events",
    "iter_log",
    "parse_definition",
    "parse_time",
    "parse_variants",
    "read_abtest",
]

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


def is_abtest_dir(names: set[str]) -> bool:
    """True when a folder holding files ``names`` is an A/B kit: a definition plus an assignment (or event) log."""
    lower = {n.lower() for n in names}
    has_definition = any(n in lower for n in DEFINITION_NAMES)
    has_log = any(n in lower for n in ASSIGNMENT_NAMES + EVENT_NAMES)
    return has_definition and has_log


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
