"""What an A/B kit's recorded metric definition says to count: the event, its schema version, the window.

Read from the kit's ``metric_definitions`` (a mapping per metric, or free text), ``event_schemas``
and query, so :mod:`.abscan` knows which events convert and :mod:`.abreplay` which figures to report.
The event name and the schema version are then matched exactly (:func:`version_key` states the one
equivalence); :func:`loose_name` and :func:`loose_version` only find near misses to report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .records import ABTest

EVENT_WORDS: tuple[str, ...] = ("purchase", "conversion", "order", "checkout", "signup", "sign_up", "subscribe", "click")
"""Conversion event names looked for in a definition's text when it names no event explicitly."""


class ReplayError(ValueError):
    """The kit cannot be replayed (no log, missing columns, no metric ...); the message says why."""


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
    notes: tuple[str, ...] = ()
    """What the reader should know about how the definition was read (e.g. a schema key that is not the event exactly)."""


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
        schema = _search(r"schema_version\s*(?:==|=)\s*['\"]?([\w.]+)", [*texts, ab.query])
        schema = version_key(schema) if schema is not None else None
    exposure = body.get("exposure")
    exposure_column = exposure.strip() if isinstance(exposure, str) and re.fullmatch(r"\s*\w+\s*", exposure) else None
    version = body.get("version")
    notes = []
    if event and event not in ab.event_schemas:
        close = next((str(k) for k in ab.event_schemas if loose_name(k) == loose_name(event)), None)
        if close is not None:
            notes.append(
                f"the event schemas record {close!r}, not the definition's event {event!r}: names must match "
                "exactly, so that entry's version is not used"
            )
    return MetricSpec(
        name=name,
        version=str(version) if version is not None else None,
        event=event,
        schema_version=schema,
        window_days=_window_days(body, texts),
        exposure_column=exposure_column,
        notes=tuple(notes),
    )


def _primary_metric(ab: ABTest) -> str | None:
    """The analysis plan's primary metric, else the saved result's metric, else the first definition."""
    plan = ab.analysis_plan
    for key in ("primary_metric", "primary", "primary_metrics"):
        name = metric_name(plan.get(key))
        if name:
            return name
    metrics = plan.get("metrics")
    if isinstance(metrics, Mapping):
        name = metric_name(metrics.get("primary"))
        if name:
            return name
    name = metric_name(ab.saved_result.get("metric")) or metric_name(ab.saved_result.get("primary_metric"))
    if name:
        return name
    return next((str(k) for k in ab.metric_definitions if k not in ("text", "value")), None)


def metric_name(value: Any) -> str | None:
    """A metric name from a string, the first of a list, or a mapping's name."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value:
        return metric_name(value[0])
    if isinstance(value, Mapping):
        return metric_name(value.get("name") or value.get("metric"))
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
    named = _search(r"\bevent(?:_name|_type)?\s*(?:==|=)\s*['\"]([^'\"]+)['\"]", [*texts, ab.query])
    if named:
        return named
    words = " ".join([*texts, name]).lower()
    known = [str(k) for k in ab.event_schemas if k not in ("text", "value")]
    hits = [k for k in known if k.lower() in words]
    if len(hits) == 1:
        return hits[0]
    for word in EVENT_WORDS:
        spelled = [k for k in known if k.lower() == word]
        if word in words and (not known or spelled):
            return spelled[0] if spelled else word  # the recorded spelling: logs must match it exactly
    raise ReplayError(
        f"cannot tell which event counts as a conversion for {name!r}: the definition names no event "
        "(expected event: ... or a filter such as event == 'purchase')"
    )


def _schema_of(schemas: Mapping[str, Any], event: str) -> str | None:
    """The recorded schema version of ``event`` (``purchase: 5`` or ``purchase: {version: 5}``): the key must be the event exactly."""
    value = schemas.get(event)
    if isinstance(value, Mapping):
        value = next((value[k] for k in ("version", "schema_version", "v") if k in value), None)
    if value is None or isinstance(value, (list, Mapping)):
        return None
    return version_key(value.strip() if isinstance(value, str) else value)


def version_key(value: Any) -> str:
    """A schema version as the text that must match exactly, with one documented equivalence: ``v5`` is ``5``.

    A number is written as a version without a fractional ``.0`` (YAML ``5`` or ``5.0``, a Parquet
    float column's 5.0: ``"5"``); text is kept as written - no case folding, no trimming, ``"5.0"``
    stays ``"5.0"`` - except that a lowercase ``v`` before a digit is dropped, because kits write
    the same version both ways (``purchase: v5`` in the schemas, ``5`` in the log).
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if len(text) > 1 and text[0] == "v" and text[1] in "0123456789":
        return text[1:]
    return text


def version_label(key: str) -> str:
    """A version for a sentence: ``v5`` for a number, the text quoted otherwise (so `` 5`` and ``5.0`` show as written)."""
    return f"v{key}" if key.isascii() and key.replace(".", "").isdigit() and not key.endswith(".0") else repr(key)


def loose_version(value: Any) -> str:
    """A version with case, spacing, a ``v`` prefix and a numeric ``.0`` ignored: only to find near misses, never to match."""
    text = str(value).strip().lower()
    if text.startswith("v") and text[1:2].isdigit():
        text = text[1:]
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if math.isfinite(number) and number.is_integer() else text


def loose_name(value: Any) -> str:
    """An event name with case and spacing ignored: only to find near misses (``Purchase``, `` purchase``), never to match."""
    return " ".join(str(value).split()).casefold()


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
