"""The answer explain gives, as frozen records: comparability, noise, causes, and the verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..goals import Goal

Verdict = Literal["real", "noise", "undetermined", "incomparable"]
Direction = Literal["improvement", "regression", "none"]
NoiseKind = Literal["seed", "evaluation_sample", "both"]
Confidence = Literal["high", "medium", "low", "none"]

ALPHA = 0.05
"""Significance level for calling a change real, and a cause significant after Holm's correction."""


class ExplainError(ValueError):
    """The question cannot be asked (no shared metric, not runs ...); the message says why."""


@dataclass(frozen=True, slots=True)
class Issue:
    """Something that makes the two numbers not directly comparable (or, as a warning, maybe not)."""

    section: str
    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Noise:
    """How the change compares with noise, and which noise (``kind``) the test measured."""

    method: str
    """welch | prediction_interval | combined | bootstrap | delong | mcnemar | replicates | none"""
    sigma: float | None = None
    """Seed standard deviation of the metric, when replicates measured it."""
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    replicates_a: tuple[str, ...] = ()
    replicates_b: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)
    kind: NoiseKind | None = None
    """seed | evaluation_sample | both: the noise this test rules out (None: no test was possible)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Runs that differ in one factor (and little else) and the metric change they show."""

    run_a: str
    run_b: str
    delta: float
    other_differences: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cause:
    """A difference between A and B, with the evidence for its effect on the metric."""

    section: str
    path: str
    a: Any
    b: Any
    evidence: tuple[Evidence, ...] = ()
    estimated_effect: float | None = None
    confidence: Confidence = "none"
    note: str = ""
    p_value: float | None = None
    """Holm-adjusted over the candidate factors; None when no test was possible."""

    @property
    def label(self) -> str:
        """How the difference is named in words: ``config optimizer.lr``, ``seeds`` (not ``seeds seeds``)."""
        return self.path if self.path == self.section or self.path.startswith(self.section + ".") else f"{self.section} {self.path}"


@dataclass(frozen=True, slots=True)
class Explanation:
    """The structured answer; ``summary`` is its one-sentence verdict."""

    metric: str
    goal: Goal | None
    a: str
    b: str
    value_a: float
    value_b: float
    delta: float
    relative_delta: float | None
    direction: Direction
    comparable: bool | None
    """False on definite evidence (definition or evaluation ids changed); None when it cannot be told."""
    comparability_issues: tuple[Issue, ...]
    verdict: Verdict
    noise: Noise
    causes: tuple[Cause, ...]
    unexplained: float | None
    divergence_step: float | None
    flips: Mapping[str, Any] | None
    recomputed: Mapping[str, Any] | None
    suggestions: tuple[str, ...]
    summary: str
    comparability_warnings: tuple[Issue, ...] = ()
    unrecorded: tuple[str, ...] = ()
    """Factors one of the two runs does not record: unknown, so possibly different."""
