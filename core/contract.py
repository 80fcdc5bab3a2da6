"""The JSON contract of ``ls``, ``show`` and ``diff`` (documented in the README).

Keys listed in the README are stable; new keys may be added. Non-finite numbers
become the strings "NaN", "Infinity" and "-Infinity" so the output is strict JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .audit import ProjectAudit, RunAudit
from .diff import RunDiff
from .records import Record, Summary
from .serialize import json_document, to_dict

if TYPE_CHECKING:  # explain pulls in numpy/scipy; ls and diff should not pay for it
    from .explain import Explanation


def summary_json(s: Summary) -> dict[str, Any]:
    """One ``ls`` entry."""
    return json_document(
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
    return json_document(to_dict(record))


def diff_json(result: RunDiff) -> dict[str, Any]:
    """The ``diff`` document: ``a``, ``b``, ``summary`` and ``sections`` of changes."""
    return json_document(
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


def explanation_json(e: Explanation) -> dict[str, Any]:
    """The ``explain`` document (README, "JSON output")."""
    noise: dict[str, Any] = {
        "method": e.noise.method,
        "kind": e.noise.kind,
        "sigma": e.noise.sigma,
        "ci": list(e.noise.ci) if e.noise.ci else None,
        "p_value": e.noise.p_value,
        "replicates_a": list(e.noise.replicates_a),
        "replicates_b": list(e.noise.replicates_b),
        **to_dict(dict(e.noise.detail)),
    }
    return json_document(
        {
            "metric": e.metric,
            "goal": e.goal,
            "a": e.a,
            "b": e.b,
            "value_a": e.value_a,
            "value_b": e.value_b,
            "delta": e.delta,
            "relative_delta": e.relative_delta,
            "direction": e.direction,
            "comparable": e.comparable,
            "comparability_issues": [to_dict(i) for i in e.comparability_issues],
            "comparability_warnings": [to_dict(i) for i in e.comparability_warnings],
            "unrecorded": list(e.unrecorded),
            "verdict": e.verdict,
            "summary": e.summary,
            "noise": noise,
            "causes": [to_dict(c) for c in e.causes],
            "unexplained": e.unexplained,
            "divergence_step": e.divergence_step,
            "flips": to_dict(e.flips) if e.flips is not None else None,
            "recomputed": to_dict(e.recomputed) if e.recomputed is not None else None,
            "suggestions": list(e.suggestions),
        }
    )


def audit_json(audits: Sequence[RunAudit], projects: Sequence[ProjectAudit]) -> dict[str, Any]:
    """The ``audit`` document: ``runs`` (id, project, score, findings) and ``projects`` summaries."""
    return {
        "runs": [
            {"id": a.id, "project": a.project, "score": round(a.score, 4), "checks": a.checks, "findings": [to_dict(f) for f in a.findings]}
            for a in audits
        ],
        "projects": [
            {"project": p.project, "runs": p.runs, "mean_score": round(p.mean_score, 4), "common": [{"item": i, "runs": n} for i, n in p.common]}
            for p in projects
        ],
    }
