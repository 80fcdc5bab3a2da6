"""The JSON contract of ``ls``, ``show`` and ``diff`` (documented in the README).

Keys listed in the README are stable; new keys may be added. Non-finite numbers
become the strings "NaN", "Infinity" and "-Infinity" so the output is strict JSON.
"""

from __future__ import annotations

from typing import Any

from .catalog import Summary
from .diff import RunDiff
from .records import Record
from .serialize import json_safe, to_dict


def summary_json(s: Summary) -> dict[str, Any]:
    """One ``ls`` entry."""
    return json_safe(
        {
            "id": s.id,
            "kind": s.kind,
            "project": s.project,
            "name": s.name,
            "path": s.path,
            "status": s.status,
            "started": s.started,
            "run_number": s.run_number,
            "sweep": s.sweep,
            "metrics": dict(s.metrics),
            "problems": [to_dict(p) for p in s.problems],
        }
    )


def record_json(record: Record) -> dict[str, Any]:
    """One ``show`` document: the whole record."""
    return json_safe(to_dict(record))


def diff_json(result: RunDiff) -> dict[str, Any]:
    """The ``diff`` document: ``a``, ``b``, ``summary`` and ``sections`` of changes."""
    return json_safe(
        {
            "a": result.a,
            "b": result.b,
            "summary": result.summary(),
            "different": result.has_differences,
            "sections": {
                name: [{"path": c.path, "a": to_dict(c.a), "b": to_dict(c.b), "change": c.change, **to_dict(dict(c.detail))} for c in changes]
                for name, changes in result.sections.items()
            },
        }
    )
