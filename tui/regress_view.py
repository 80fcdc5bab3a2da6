"""The ``regress`` report as Markdown: the verdict line CI logs show first, a table per metric, then each explanation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from runsift.core.fmt import format_delta
from runsift.core.gate import GateResult, summary, why

from .explain_view import explanation_markdown
from .markdown import cell, code

if TYPE_CHECKING:
    from runsift.core.explain import Explanation

OUTCOME_WORD = {"pass": "pass", "regression": "**regression**", "undecided": "*undecided*"}


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def regress_markdown(result: GateResult, explanations: Sequence[Explanation], baseline: str, candidate: str) -> str:
    """First line ``PASS``/``FAIL``/``UNDECIDED: why``; then the per-metric table and every explanation."""
    out = [
        summary(result, name=code, text=lambda t: cell(t, 300)),
        "",
        f"# runsift regress: {code(baseline)} → {code(candidate)}",
        "",
        "| metric | verdict | Δ | p | Holm-adjusted p | outcome |",
        "|---|---|---|---|---|---|",
    ]
    for c, e in zip(result.checks, explanations):
        out.append(
            f"| {code(c.metric)} | {c.verdict} | {cell(format_delta(e.delta, e.relative_delta))} | {_p(c.p_value)} "
            f"| {_p(c.adjusted_p)} | {OUTCOME_WORD[c.outcome]} |"
        )
    out += ["", *(f"- {code(c.metric)}: {why(c, lambda t: cell(t, 300))}" for c in result.checks), ""]
    return "\n".join(out) + "\n" + "\n".join(explanation_markdown(e) for e in explanations)
