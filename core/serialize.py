"""Records to plain dicts and back: one format for the cache and the JSON output.

``to_dict`` gives JSON-ready data (datetimes as ISO strings, tuples as lists);
``from_dict`` rebuilds the frozen record. ``json_safe`` turns NaN and infinities
into the strings "NaN", "Infinity" and "-Infinity" for strict JSON consumers.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from .records import (
    ABTest,
    Artifact,
    CodeState,
    DataSnapshot,
    Environment,
    LeaderboardRow,
    MetricDefinition,
    Metrics,
    Problem,
    Record,
    Run,
    Source,
    Split,
    Sweep,
)


def to_dict(record: Any) -> Any:
    """A record (or any value inside one) as plain JSON-ready data."""
    kind: type = type(record)
    if kind is str or kind is float or kind is int or kind is bool or record is None:
        return record  # most values: tested first, by exact type (an index serialises millions)
    if kind is dict:
        return {k if type(k) is str else str(k): to_dict(v) for k, v in record.items()}
    if kind is list or kind is tuple:
        return [to_dict(v) for v in record]
    if kind is Metrics:
        return {
            "final": dict(record.final),
            "series": {k: [list(p) for p in v] for k, v in record.series.items()},
            "definitions": {k: to_dict(v) for k, v in record.definitions.items()},
            "extra": to_dict(dict(record.extra)),
        }
    names = _field_names(kind)
    if names is not None:
        return {name: to_dict(getattr(record, name)) for name in names}
    if isinstance(record, (datetime, date, time)):
        return record.isoformat()
    if isinstance(record, Mapping):
        return {str(k): to_dict(v) for k, v in record.items()}
    if isinstance(record, (list, tuple)):
        return [to_dict(v) for v in record]
    if isinstance(record, (set, frozenset)):
        return sorted((to_dict(v) for v in record), key=repr)
    if isinstance(record, (str, int, float, bool)):
        return record
    if isinstance(record, bytes):
        return record.decode("utf-8", errors="replace")
    return str(record)


@functools.cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """Field names of a dataclass type (None for any other type), looked up once per type."""
    if dataclasses.is_dataclass(kind):
        return tuple(f.name for f in dataclasses.fields(kind))
    return None


def from_dict(d: Mapping[str, Any]) -> Record:
    """Rebuild a Run, Sweep or ABTest from :func:`to_dict` output."""
    kind = d.get("kind", "run")
    if kind == "sweep":
        return _sweep(d)
    if kind == "abtest":
        return _abtest(d)
    return _run(d)


def json_safe(value: Any) -> Any:
    """Replace non-finite floats by "NaN"/"Infinity"/"-Infinity" so the output is strict JSON."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # exact types first, as in to_dict: `ls` of 10k runs passes here 150k times
    if isinstance(value, float):
        return value if math.isfinite(value) else ("NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity"))
    if kind is dict or isinstance(value, Mapping):  # a dict skips the slow abstract-class check
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def json_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`json_safe` of a whole document (a mapping), typed as the dict it returns."""
    safe: dict[str, Any] = json_safe(doc)
    return safe


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _problems(d: Mapping[str, Any]) -> tuple[Problem, ...]:
    return tuple(Problem(p["file"], p["message"], p.get("line")) for p in d.get("problems", ()))


def _run(d: Mapping[str, Any]) -> Run:
    m = d.get("metrics", {})
    metrics = Metrics(
        final=dict(m.get("final", {})),
        series={k: tuple((p[0], p[1]) for p in v) for k, v in m.get("series", {}).items()},
        definitions={k: MetricDefinition(**v) for k, v in m.get("definitions", {}).items()},
        extra=dict(m.get("extra", {})),
    )
    code = d.get("code", {})
    env = d.get("env", {})
    return Run(
        id=d["id"],
        path=d["path"],
        project=d["project"],
        name=d["name"],
        started=_dt(d.get("started")),
        run_number=d.get("run_number"),
        status=d.get("status", "unknown"),
        config=d.get("config", {}),
        code=CodeState(code.get("commit"), code.get("dirty"), tuple(code.get("changed_files", ())), code.get("extra", {})),
        env=Environment(
            env.get("python"), env.get("os"), tuple(env.get("hardware", ())), env.get("packages", {}), env.get("extra", {})
        ),
        data=DataSnapshot(**d.get("data", {})),
        splits=tuple(Split(**s) for s in d.get("splits", ())),
        seeds=d.get("seeds", {}),
        metrics=metrics,
        artifacts=tuple(Artifact(**a) for a in d.get("artifacts", ())),
        notes=d.get("notes", ""),
        sweep=d.get("sweep"),
        files=tuple(d.get("files", ())),
        problems=_problems(d),
        source=_source(d.get("source")),
        tags=dict(d.get("tags") or {}),
        ended=_dt(d.get("ended")),
        duration=d.get("duration"),
        user=d.get("user"),
        host=d.get("host"),
        exit_code=d.get("exit_code"),
        error=d.get("error"),
        deleted=bool(d.get("deleted", False)),
    )


def _source(d: Any) -> Source:
    if not isinstance(d, Mapping):
        return Source()
    return Source(d.get("format", "container"), d.get("version"), tuple(d.get("guessed", ())))


def _sweep(d: Mapping[str, Any]) -> Sweep:
    fields = {f.name for f in dataclasses.fields(Sweep)}
    kw = {k: v for k, v in d.items() if k in fields}
    kw["started"] = _dt(d.get("started"))
    kw["run_ids"] = tuple(d.get("run_ids", ()))
    kw["leaderboard"] = tuple(LeaderboardRow(**r) for r in d.get("leaderboard", ()))
    kw["leaderboard_columns"] = tuple(d.get("leaderboard_columns", ()))
    kw["problems"] = _problems(d)
    return Sweep(**kw)


def _abtest(d: Mapping[str, Any]) -> ABTest:
    fields = {f.name for f in dataclasses.fields(ABTest)}
    kw = {k: v for k, v in d.items() if k in fields}
    kw["started"] = _dt(d.get("started"))
    kw["ended"] = _dt(d.get("ended"))
    kw["problems"] = _problems(d)
    return ABTest(**kw)
