"""Can the two values of a metric be compared? Decided by evidence, kept apart from the verdict.

*Issues* are definite: the metric's definition (version, threshold) changed, or the runs were
evaluated on different example ids. *Warnings* are what cannot be told from the records: a data
snapshot that changed (or is recorded by one run only) without split ids to show the evaluation
examples stayed the same, a definition recorded by one run only, a definition text that changed
under the same version, a run that failed or did not finish (its value may be from mid-training).
"""

from __future__ import annotations

from ..fmt import format_number
from ..records import Run
from .model import Issue

EVAL_SPLITS = ("val", "valid", "validation", "dev", "eval", "test")


def comparability(a: Run, b: Run, metric: str) -> tuple[list[Issue], list[Issue]]:
    """(issues, warnings) for comparing ``metric`` between A and B."""
    issues: list[Issue] = []
    warnings: list[Issue] = []
    da, db = a.metrics.definitions.get(metric), b.metrics.definitions.get(metric)
    if da is not None and db is not None:
        if da.version != db.version and (da.version or db.version):
            issues.append(Issue("metric_definition", f"{metric}.version", f"metric definition changed: version {da.version} → {db.version}"))
        if da.threshold != db.threshold:
            issues.append(Issue("metric_definition", f"{metric}.threshold", f"threshold changed: {format_number(da.threshold)} → {format_number(db.threshold)}"))
        elif da.text and db.text and da.text.strip() != db.text.strip() and da.version == db.version:
            warnings.append(Issue("metric_definition", f"{metric}.text", "definition text differs although the version is the same"))
    elif (da is None) != (db is None):
        only, other = ("A", "B") if da is not None else ("B", "A")
        warnings.append(Issue("metric_definition", metric, f"only {only} records how {metric} is defined; {other}'s version and threshold are unknown"))
    warnings += _unfinished(a, b, metric)
    split = eval_split_name(a, b, metric)
    sa = a.split(split) if split is not None else None
    sb = b.split(split) if split is not None else None
    same_ids = sa is not None and sb is not None and sa.sha256 == sb.sha256
    if sa is not None and sb is not None and not same_ids:
        issues.append(Issue("splits", str(split), f"evaluated on different {split} ids ({sa.count:,} vs {sb.count:,}, different hash)"))
    if not same_ids and not issues:
        warning = _snapshot_warning(a, b)
        if warning is not None:
            warnings.append(warning)
    return issues, warnings


UNFINISHED = ("failed", "incomplete")
"""Statuses whose final values may come from before the end of training."""


def _unfinished(a: Run, b: Run, metric: str) -> list[Issue]:
    """A warning per run that failed or did not finish: its value may not be an end-of-training value."""
    out: list[Issue] = []
    for label, run in (("A", a), ("B", b)):
        if run.status in UNFINISHED:
            series = run.metrics.series.get(metric) or ()
            where = f" (its last recorded {metric} step is {format_number(series[-1][0])})" if series else ""
            guess = " (inferred by runsift from the run's files, not read from a recorded status)" if "status" in run.source.guessed else ""
            out.append(Issue("status", f"{label}.status", f"{label} {run.status}{guess}: its {metric} may come from before the end of training{where}"))
    return out


def _snapshot_warning(a: Run, b: Run) -> Issue | None:
    """A changed or half-recorded data snapshot, when no evaluation ids show the examples are the same."""
    data_a, data_b = _snapshot(a), _snapshot(b)
    if data_a is None and data_b is None:
        return None
    if data_a is None or data_b is None:
        only = "A" if data_a is not None else "B"
        return Issue("data", "snapshot", f"only {only} records its data snapshot and neither records evaluation ids, so the evaluation data may differ")
    if data_a == data_b:
        return None
    va = " ".join(str(x) for x in (a.data.name, a.data.version) if x) or "snapshot A"
    vb = " ".join(str(x) for x in (b.data.name, b.data.version) if x) or "snapshot B"
    return Issue("data", "snapshot", f"data snapshot changed ({va} → {vb}) and no evaluation ids are recorded in both runs, so the evaluation examples may differ")


def _snapshot(run: Run) -> tuple[object, ...] | None:
    data = (run.data.name, run.data.version, tuple(sorted(run.data.hashes.items())))
    return data if any(x for x in data) else None


def eval_split_name(a: Run, b: Run, metric: str) -> str | None:
    """The split the metric was computed on: the metric's prefix (``val_auc`` → val), else the usual names."""
    names = {s.name for s in a.splits} & {s.name for s in b.splits}
    prefix = metric.lower().split("_", 1)[0].split(".", 1)[0]
    if prefix in names:
        return prefix
    for name in EVAL_SPLITS:
        if name in names and (prefix == name or (prefix in ("val", "valid", "validation", "dev") and name in ("val", "valid", "validation", "dev"))):
            return name
    return next((n for n in EVAL_SPLITS if n in names), None)
