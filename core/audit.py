"""Audit runs against the tutorial's Minimum Run Record: what a teammate would have to guess.

Each check names one item of the record; a run's score is the share of checks it
passes. Checks are deliberately plain so the report reads like a review comment.
A check that cannot be made in full (definitions or thresholds of a metrics file that
could not be read, or was read only up to a cut) is not passed: a run with a broken or
half-written metrics file must not score like, let alone above, a complete one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from .goals import NO_GOAL_WORDS, name_tokens
from .mappings import flatten
from .naming import started_from_name
from .readers.metrics import is_metrics_file, is_thresholded
from .records import Problem, Run

ACCURACY_WORDS = frozenset({"acc", "accuracy"})
"""Accuracy needs a threshold only for a binary classifier whose scores are cut at one."""
CLASS_COUNT_KEYS = frozenset({"num_classes", "n_classes", "nclasses", "num_labels", "n_labels", "number_of_classes", "num_class"})
"""Config keys that say how many classes a classifier has."""
TASK_KEYS = frozenset({"task", "task_type", "problem_type", "objective", "problem"})
"""Config keys whose text may say binary, multiclass or multilabel."""
_MULTILABEL = re.compile(r"multi[\s_-]?label", re.IGNORECASE)
_MULTICLASS = re.compile(r"multi[\s_-]?class|\b(?:macro|micro|weighted)\b|argmax|top[\s_-]?1\b", re.IGNORECASE)
_BINARY = re.compile(r"binary|\bthreshold|score\s*>=?|prob\w*\s*>=?", re.IGNORECASE)

EVAL_SECTIONS = frozenset({"eval", "evaluation", "metrics", "metric", "decision", "predict", "prediction", "inference", "classifier", "test", "val", "validation"})
"""Config sections whose threshold is a decision threshold (a scheduler's or early stopping's is not)."""

Task = Literal["binary", "multiclass", "multilabel"]


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


def _metrics_problems(run: Run) -> list[Problem]:
    """Problems of the run's metrics files (unreadable, truncated, still being written)."""
    return [p for p in run.problems if is_metrics_file(PurePosixPath(p.file).name)]


def _final_metrics(run: Run) -> str | None:
    """Final metrics that can be read in full; a failed or unfinished run without them is still missing them."""
    broken = sorted({PurePosixPath(p.file).name for p in _metrics_problems(run)})
    if broken:
        what = "the final metrics are missing" if not run.metrics.final else "the final metrics may be incomplete"
        return f"{', '.join(broken)} cannot be read in full, so {what}"
    if run.metrics.final:
        return None
    why = {"failed": " (the run failed)", "incomplete": " (the run has not finished)"}.get(run.status, "")
    return f"no final metrics{why}"


def _unreadable_metrics(run: Run, what: str) -> str | None:
    """Why ``what`` cannot be checked (not a pass): a metrics file is broken, so nothing or only part of it was read.

    A file cut off mid-write gives the values before the cut (curves, definitions), but what
    came after is unknown: a check made on part of a record is not passed, so a truncated
    record never scores above complete ones.
    """
    broken = _metrics_problems(run)
    if not broken:
        return None
    name = PurePosixPath(broken[0].file).name
    if run.metrics.final or run.metrics.series or run.metrics.definitions:
        return f"{what} cannot be checked in full: {name} was read only in part"
    return f"{what} cannot be checked: {name} could not be read"


def _per_step(run: Run) -> str | None:
    if (unreadable := _unreadable_metrics(run, "per-step metrics")) is not None:
        return unreadable
    return None if run.metrics.series else "no per-epoch/step metrics"


def _definitions(run: Run) -> str | None:
    if (unreadable := _unreadable_metrics(run, "metric definitions")) is not None:
        return unreadable
    return None if run.metrics.definitions or not run.metrics.final else "metrics have no definitions or versions"


def _thresholds(run: Run) -> str | None:
    if (unreadable := _unreadable_metrics(run, "thresholds")) is not None:
        return unreadable
    task = classification_task(run)
    missing = [m for m in run.metrics.final if needs_threshold(run, m, task) and not _threshold_recorded(run, m)]
    return f"no threshold recorded for {', '.join(sorted(missing))}" if missing else None


def is_threshold_name(name: str) -> bool:
    """True for a name that is itself a threshold (``f1_threshold``, ``threshold``, ``val_thresh``)."""
    return bool(set(name_tokens(name)) & NO_GOAL_WORDS)


def needs_threshold(run: Run, metric: str, task: Task | None = None) -> bool:
    """Whether ``metric`` is computed at a decision threshold that a teammate would otherwise have to guess.

    Thresholds themselves need none. F1, precision, recall ... need one unless the run is
    multiclass (they are then taken at the argmax). Accuracy needs one only with evidence of a
    binary classifier cut at a score: a binary task or two classes in the config, or a definition
    that speaks of a threshold or a score; a multiclass accuracy, or one with no evidence either
    way, is not flagged.
    """
    if is_threshold_name(metric):
        return False
    tokens = set(name_tokens(metric))
    definition = run.metrics.definitions.get(metric)
    text = definition.text if definition is not None and definition.text else ""
    if task == "multilabel" or _MULTILABEL.search(text):
        return is_thresholded(metric) or bool(tokens & ACCURACY_WORDS)
    if task == "multiclass" or _MULTICLASS.search(text):
        return False
    if tokens & ACCURACY_WORDS and not is_thresholded(metric):
        return task == "binary" or bool(_BINARY.search(text))
    return is_thresholded(metric)


def classification_task(run: Run) -> Task | None:
    """What the config says the classifier is: binary, multiclass, multilabel, or None when it does not say."""
    found: set[Task] = set()
    for path, value in flatten(run.config) if isinstance(run.config, Mapping) else ():
        key = path.rsplit(".", 1)[-1].lower()
        if key in CLASS_COUNT_KEYS:
            count = _count(value)
            if count is not None:
                if count == 2:
                    found.add("binary")
                elif count > 2:
                    found.add("multiclass")
        elif key in TASK_KEYS and isinstance(value, str):
            if _MULTILABEL.search(value):
                found.add("multilabel")
            elif re.search(r"multi[\s_-]?class", value, re.IGNORECASE):
                found.add("multiclass")
            elif re.search(r"binary", value, re.IGNORECASE):
                found.add("binary")
    if "multilabel" in found:
        return "multilabel"
    return found.pop() if len(found) == 1 else None


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _threshold_recorded(run: Run, metric: str) -> bool:
    """A threshold in the metric's definition, a recorded ``<metric words>_threshold`` value, or a config threshold."""
    definition = run.metrics.definitions.get(metric)
    if definition is not None and definition.threshold is not None:
        return True
    words = set(name_tokens(metric))
    for name in run.metrics.final:
        tokens = name_tokens(name)
        if is_threshold_name(name) and set(tokens) - NO_GOAL_WORDS <= words:
            return True  # f1_threshold records the threshold of val_f1; a bare "threshold" that of all
    if isinstance(run.config, Mapping):
        for path, value in flatten(run.config):
            *parents, leaf = path.lower().split(".")
            if is_threshold_name(leaf) and _number(value) and (not parents or EVAL_SECTIONS & set(parents)):
                return True  # threshold: 0.5, eval.decision_threshold: 0.4 (not scheduler.threshold)
    return False


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    ("final metrics", _final_metrics),
    ("per-step metrics", _per_step),
    ("metric definitions", _definitions),
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
