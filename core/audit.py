"""Audit runs against the tutorial's Minimum Run Record: what a teammate would have to guess.

Each check names one item of the record; a run's score is the share of checks it
passes. Checks are deliberately plain so the report reads like a review comment.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .naming import started_from_name
from .records import Run

THRESHOLDED = re.compile(r"(^|[_.])(f1|f_1|fbeta|precision|recall|accuracy|acc|tpr|fpr|specificity|sensitivity)($|[_.@])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Finding:
    """One missing or guessable item."""

    item: str
    message: str


@dataclass(frozen=True, slots=True)
class RunAudit:
    """The findings for one run and its score (share of checks passed, 0..1)."""

    id: str
    project: str
    score: float
    findings: tuple[Finding, ...]
    checks: int


@dataclass(frozen=True, slots=True)
class ProjectAudit:
    """A project's mean score and its most common gaps."""

    project: str
    runs: int
    mean_score: float
    common: tuple[tuple[str, int], ...]


Check = Callable[[Run], str | None]
"""Returns a message when the item is missing or would have to be guessed, else None."""


def _thresholds(run: Run) -> str | None:
    missing = [m for m in run.metrics.final if THRESHOLDED.search(m) and (run.metrics.definitions.get(m) is None or run.metrics.definitions[m].threshold is None)]
    return f"no threshold recorded for {', '.join(sorted(missing))}" if missing else None


def _split_record(run: Run) -> str | None:
    if run.splits:
        return None
    if any("split" in name.lower() for name in run.seeds):
        return None
    return "no split ids and no split seed: the split cannot be recreated"


def _dirty(run: Run) -> str | None:
    if run.code.dirty and not run.code.changed_files:
        return "working tree was dirty but the changed files are not listed"
    return None


def _env_versions(run: Run) -> str | None:
    if not run.env.packages:
        return "no library versions recorded"
    unknown = [name for name, version in run.env.packages.items() if not version]
    if len(unknown) > len(run.env.packages) / 2:
        return f"{len(unknown)} of {len(run.env.packages)} packages have no version"
    return None


CHECKS: tuple[tuple[str, Check], ...] = (
    ("timestamp", lambda r: None if started_from_name(r.name) or "created" in r.config or "timestamp" in r.config else "start time is not recorded; guessed from file times"),
    ("config", lambda r: None if r.config else "no readable config"),
    ("data snapshot", lambda r: None if (r.data.version or r.data.hashes) else "no dataset version or hash"),
    ("splits", _split_record),
    ("code commit", lambda r: None if r.code.commit else "no code commit"),
    ("code changes", _dirty),
    ("python", lambda r: None if r.env.python else "no Python version"),
    ("library versions", _env_versions),
    ("hardware", lambda r: None if r.env.hardware else "no hardware notes (CPU/GPU)"),
    ("seeds", lambda r: None if r.seeds or any("seed" in k.lower() for k in r.config) else "no seeds recorded"),
    ("final metrics", lambda r: None if r.metrics.final or r.status == "failed" else "no final metrics"),
    ("per-step metrics", lambda r: None if r.metrics.series else "no per-epoch/step metrics"),
    ("metric definitions", lambda r: None if r.metrics.definitions or not r.metrics.final else "metrics have no definitions or versions"),
    ("thresholds", _thresholds),
    ("model artifact", lambda r: None if any(a.kind == "model" for a in r.artifacts) or r.status != "finished" else "no model weights saved"),
    ("predictions sample", lambda r: None if any(a.kind == "predictions" for a in r.artifacts) or r.status != "finished" else "no predictions sample saved"),
    ("notes", lambda r: None if r.notes.strip() else "no notes on why the run was made"),
)


def audit_run(run: Run) -> RunAudit:
    """Every check of the Minimum Run Record on one run."""
    findings = [Finding(item, message) for item, check in CHECKS if (message := check(run))]
    for p in run.problems:
        findings.append(Finding("unreadable file", f"{p.file}: {p.message}"))
    passed = len(CHECKS) - sum(1 for f in findings if f.item != "unreadable file")
    return RunAudit(run.id, run.project, passed / len(CHECKS), tuple(findings), len(CHECKS))


def summarise(audits: Iterable[RunAudit]) -> list[ProjectAudit]:
    """Mean score and most common gaps per project."""
    by_project: dict[str, list[RunAudit]] = {}
    for a in audits:
        by_project.setdefault(a.project, []).append(a)
    out = []
    for project, items in sorted(by_project.items()):
        counts = Counter(f.item for a in items for f in a.findings)
        out.append(ProjectAudit(project, len(items), sum(a.score for a in items) / len(items), tuple(counts.most_common(5))))
    return out


def audit_all(runs: Sequence[Run]) -> tuple[list[RunAudit], list[ProjectAudit]]:
    """Audits of every run and the per-project summary."""
    audits = [audit_run(r) for r in runs]
    return audits, summarise(audits)
