"""The ``regress`` gate: did the candidate regress beyond noise on any metric checked, corrected for checking several?

CI wires this in, so it never passes what it could not decide. Per metric, from its
explanation (:func:`runsift.core.explain.explain`):

* **undecided** when the two values cannot be compared (verdict ``incomparable``), noise
  could not be measured (``undetermined``), a value is not a finite number, or the
  metric's direction (goal) is unknown;
* **regression** when it got worse by its goal, its verdict is ``real``, and its p-value
  stays below :data:`ALPHA` after Holm's correction over the metrics that were tested
  (verdict ``real`` or ``noise``; a ``noise`` verdict without a p-value counts as p = 1);
* **pass** otherwise.

The gate fails on any regression, else is undecided on any undecided metric, else passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from . import stats
from .fmt import format_number
from .serialize import json_document

if TYPE_CHECKING:  # the gate only reads the explanations' fields; it needs nothing else of explain
    from .explain import Explanation

ALPHA = 0.05
"""Family-wise level: a metric regresses when its Holm-adjusted p-value is below it."""

Outcome = Literal["pass", "regression", "undecided"]
GateOutcome = Literal["pass", "fail", "undecided"]


@dataclass(frozen=True, slots=True)
class MetricCheck:
    """One metric's part of the gate: its verdict, raw and Holm-adjusted p-values, outcome and why."""

    metric: str
    verdict: str
    """The explanation's verdict: real | noise | undetermined | incomparable."""
    goal: str | None
    delta: float
    worse: bool | None
    """True when the candidate is worse by the metric's goal, False when better or equal, None when unknown."""
    p_value: float | None
    """The noise test's p-value as explain reported it (None when untested)."""
    adjusted_p: float | None
    """Holm-adjusted over the metrics that were tested; None for metrics outside that family."""
    outcome: Outcome
    reason: str
    """Why, in a short phrase of the gate's own words that follows the metric's name (``regressed beyond noise (...)``)."""
    detail: str = ""
    """Text from the runs behind the reason (what makes the values incomparable): untrusted, escape it when shown."""


@dataclass(frozen=True, slots=True)
class GateResult:
    """The gate over every metric checked, in the order they were asked for."""

    checks: tuple[MetricCheck, ...]
    outcome: GateOutcome
    family: int
    """How many metrics were tested and so shared Holm's correction."""

    @property
    def regressions(self) -> tuple[MetricCheck, ...]:
        """Metrics that regressed beyond noise."""
        return tuple(c for c in self.checks if c.outcome == "regression")

    @property
    def undecided(self) -> tuple[MetricCheck, ...]:
        """Metrics the gate could not decide."""
        return tuple(c for c in self.checks if c.outcome == "undecided")


def _worse(goal: str | None, delta: float) -> bool | None:
    if goal not in ("max", "min") or not math.isfinite(delta):
        return None
    return delta < 0 if goal == "max" else delta > 0


def _raw_p(e: Explanation) -> float | None:
    """The p-value that enters Holm's correction: None when the metric was not tested (or a real verdict has none)."""
    if e.verdict not in ("real", "noise"):
        return None
    p = e.noise.p_value
    if p is None or not math.isfinite(p):
        return 1.0 if e.verdict == "noise" else None
    return min(max(float(p), 0.0), 1.0)


def _undecided_reason(e: Explanation) -> tuple[str, str] | None:
    """(why, untrusted detail) when the gate cannot decide this metric, or None when it can."""
    if e.verdict == "incomparable" or getattr(e, "comparable", True) is False:
        return "not comparable", "; ".join(i.message for i in e.comparability_issues[:2])
    if not (math.isfinite(e.value_a) and math.isfinite(e.value_b)):
        return f"a value is not a finite number (baseline {format_number(e.value_a)}, candidate {format_number(e.value_b)})", ""
    if e.goal not in ("max", "min"):
        return "direction unknown: give the metric a goal (max or min) in its definition", ""
    if e.verdict == "undetermined":
        return "noise could not be measured (no seed replicates, no shared predictions)", ""
    if e.verdict not in ("real", "noise"):
        return "the explanation's verdict is not one the gate knows", e.verdict
    if _raw_p(e) is None:
        return "the change was called real without a p-value", ""
    return None


def _unknown_comparability(e: Explanation) -> str:
    """When explain could not tell whether the values are comparable (``comparable`` None), what it warned about."""
    if getattr(e, "comparable", True) is not None:
        return ""
    warnings = [str(getattr(w, "message", w)) for w in getattr(e, "comparability_warnings", ())]
    return "comparability unknown" + (": " + "; ".join(warnings[:2]) if warnings else "")


def decide(explanations: Sequence[Explanation], alpha: float = ALPHA) -> GateResult:
    """The gate over one explanation per metric (baseline → candidate): Holm-corrected, undecided stays undecided."""
    if not explanations:
        raise ValueError("the gate needs at least one metric to decide")
    raw = [_raw_p(e) for e in explanations]
    tested = [i for i, p in enumerate(raw) if p is not None]
    adjusted: list[float | None] = [None] * len(explanations)
    for i, held in zip(tested, stats.holm([p for p in raw if p is not None])):
        adjusted[i] = held
    family = len(tested)
    checks = []
    for e, p, adj in zip(explanations, raw, adjusted):
        worse = _worse(e.goal, e.delta)
        blocked = _undecided_reason(e)
        if blocked is not None:
            checks.append(MetricCheck(e.metric, e.verdict, e.goal, e.delta, worse, e.noise.p_value, adj, "undecided", *blocked))
            continue
        assert p is not None and adj is not None
        holm = f"Holm-adjusted p={adj:.3g} over {family} metric{'s' if family != 1 else ''}"
        if worse and e.verdict == "real" and adj < alpha:
            outcome: Outcome = "regression"
            reason = f"regressed beyond noise ({holm})"
        elif worse and e.verdict == "real":
            outcome, reason = "pass", f"worse with p={p:.3g}, but within noise after Holm's correction ({holm})"
        elif e.verdict == "real" and e.delta != 0:
            outcome, reason = "pass", f"improved beyond noise ({holm})"
        elif e.noise.method == "replicates":
            change = "worse" if worse else "better" if e.delta else "unchanged"
            outcome, reason = "pass", f"{change}, but the runs differ only in seeds: seed noise by construction (p={p:.3g})"
        else:
            outcome, reason = "pass", f"{'worse' if worse else 'better' if e.delta else 'unchanged'}, within noise (p={p:.3g})"
        checks.append(MetricCheck(e.metric, e.verdict, e.goal, e.delta, worse, e.noise.p_value, adj, outcome, reason, _unknown_comparability(e)))
    result_checks = tuple(checks)
    if any(c.outcome == "regression" for c in result_checks):
        gate: GateOutcome = "fail"
    elif any(c.outcome == "undecided" for c in result_checks):
        gate = "undecided"
    else:
        gate = "pass"
    return GateResult(result_checks, gate, family)


def why(check: MetricCheck, text: Callable[[str], str] = str) -> str:
    """The check's reason with its detail from the runs, formatted by ``text`` (escape it for Markdown)."""
    return f"{check.reason} ({text(check.detail)})" if check.detail else check.reason


def summary(result: GateResult, name: Callable[[str], str] = str, text: Callable[[str], str] = str) -> str:
    """One line: ``FAIL: val_auc regressed beyond noise (...)``.

    ``name`` formats metric names (e.g. as inline code) and ``text`` the runs' own words in
    the details, so Markdown output can escape both.
    """
    word = {"pass": "PASS", "fail": "FAIL", "undecided": "UNDECIDED"}[result.outcome]
    picked = {"fail": result.regressions, "undecided": result.undecided, "pass": result.checks}[result.outcome]
    if result.outcome == "pass" and len(picked) > 1:
        return f"{word}: no regression beyond noise in {len(picked)} metrics ({', '.join(name(c.metric) for c in picked)})"
    if result.outcome == "pass" and picked:
        return f"{word}: no regression beyond noise in {name(picked[0].metric)}: {why(picked[0], text)}"
    if result.outcome == "fail":
        ps = ", ".join(f"{c.adjusted_p:.3g}" for c in picked)
        plural = "s" if result.family != 1 else ""
        return f"{word}: {', '.join(name(c.metric) for c in picked)} regressed beyond noise (Holm-adjusted p={ps} over {result.family} metric{plural})"
    parts = "; ".join(f"{name(c.metric)}: {why(c, text)}" for c in picked)
    if result.outcome == "undecided" and len(result.checks) > 1:
        parts = f"{len(picked)} of {len(result.checks)} metrics cannot be decided: {parts}"
    elif result.outcome == "undecided":
        parts = f"cannot be decided: {parts}"
    return f"{word}: {parts}"


def gate_json(result: GateResult, explanations: Sequence[Explanation], baseline: str, candidate: str) -> dict[str, Any]:
    """The ``regress --format json`` document (README, "JSON output"): the outcome, then one entry per metric."""
    from .contract import explanation_json

    return json_document(
        {
            "outcome": result.outcome,
            "summary": summary(result),
            "baseline": baseline,
            "candidate": candidate,
            "alpha": ALPHA,
            "correction": "holm",
            "tested": result.family,
            "metrics": [
                {
                    "metric": c.metric,
                    "outcome": c.outcome,
                    "reason": why(c),
                    "verdict": c.verdict,
                    "goal": c.goal,
                    "delta": c.delta,
                    "worse": c.worse,
                    "p_value": c.p_value,
                    "adjusted_p": c.adjusted_p,
                    "explanation": explanation_json(e),
                }
                for c, e in zip(result.checks, explanations)
            ],
        }
    )
