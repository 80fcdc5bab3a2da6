"""An explanation as a short report: the verdict in one sentence, then the evidence.

One builder of report lines serves both the terminal (Rich Text) and pull requests
(Markdown), so they never say different things.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Group
from rich.text import Text

from runsift.core.explain import Cause, Explanation
from runsift.core.fmt import clip, format_delta, format_number, format_pair, format_value
from runsift.core.naming import short_name

from .markdown import cell, code
from .safe import literal

VERDICT_STYLE = {"real": "bold", "noise": "green", "undetermined": "yellow", "incomparable": "bold yellow"}
CONFIDENCE_WORD = {"high": "strong evidence", "medium": "some evidence", "low": "not shown beyond noise", "none": "no isolating runs"}


def _evidence_line(cause: Cause) -> str:
    if not cause.evidence:
        return cause.note or "no run isolates this difference"
    pairs = "; ".join(f"{_run(e.run_a)} → {_run(e.run_b)}: {format_delta(e.delta)}" for e in cause.evidence[:3])
    more = f" (+{len(cause.evidence) - 3} more pairs)" if len(cause.evidence) > 3 else ""
    effect = f"effect ≈ {format_delta(cause.estimated_effect)}" if cause.estimated_effect is not None else ""
    extra = f"; {cause.note}" if cause.note else ""
    return f"{effect} from {pairs}{more}{extra}"


KIND_WORDS = {"seed": "seed noise", "evaluation_sample": "evaluation-sample noise only", "both": "seed and evaluation-sample noise"}


def _noise_line(e: Explanation) -> str:
    n = e.noise
    if e.verdict == "incomparable":  # a p-value for numbers that cannot be compared would mislead
        return "not tested: the two numbers are not comparable (the test's figures are in --format json)"
    parts = [f"method: {n.method}", f"measures: {KIND_WORDS.get(n.kind or '', 'nothing (no test possible)')}"]
    if n.sigma is not None:
        parts.append(f"seed σ {format_number(n.sigma)}")
    if n.ci is not None:
        parts.append(f"95% CI of Δ [{format_number(n.ci[0])}, {format_number(n.ci[1])}]")
    if n.p_value is not None:
        parts.append(f"p = {n.p_value:.3g}")
    parts.append(f"replicates: A {len(n.replicates_a)}, B {len(n.replicates_b)}")
    ev = n.detail.get("evaluation_sample")
    if isinstance(ev, dict) and ev.get("p_value") is not None and n.kind == "seed":
        parts.append(f"evaluation sample ({ev['method']}): p = {ev['p_value']:.3g}")
    return ", ".join(parts)


def explanation_renderable(e: Explanation) -> Group:
    """The report for the terminal; every value from a run is literal text."""
    lines: list[Any] = [literal(e.summary, VERDICT_STYLE.get(e.verdict, ""), one_line=False), Text("")]
    lines.append(Text.assemble(("verdict ", "bold"), literal(e.verdict, VERDICT_STYLE.get(e.verdict, "")), ("   direction ", "bold"), literal(e.direction), ("   Δ ", "bold"), format_delta(e.delta, e.relative_delta)))
    if e.comparability_issues:
        lines.append(Text("Not directly comparable:", style="bold yellow"))
        lines += [Text("  • ") + literal(i.message) for i in e.comparability_issues]
    if e.comparability_warnings:
        lines.append(Text("Comparable? Cannot be told from the records:", style="yellow"))
        lines += [Text("  • ") + literal(i.message) for i in e.comparability_warnings]
    if e.recomputed:
        lines.append(Text(f"Recomputed on the {e.recomputed['common_ids']:,} examples both runs predicted:", style="bold"))
        for r in e.recomputed["by_threshold"]:
            t = f" at threshold {format_number(r['threshold'])}" if r["threshold"] is not None else ""
            ra, rb = _computed_pair(r["a"], r["b"])
            lines.append(literal(f"  {e.metric}{t}: A {ra}, B {rb}, Δ {format_delta(r['delta'])}"))
    lines.append(Text.assemble(("Noise: ", "bold"), literal(_noise_line(e))))
    if e.causes:
        lines.append(Text("Differences, most likely cause first:", style="bold"))
        for c in e.causes:
            head = Text("  • ") + literal(f"{c.section} {c.path}", "bold") + Text(": ") + literal(_short(c.a)) + Text(" → ") + literal(_short(c.b))
            head.append(f"  [{CONFIDENCE_WORD[c.confidence]}]", style="dim")
            lines.append(head)
            lines.append(Text("      ") + literal(_evidence_line(c), "dim"))
    else:
        lines.append(Text("No recorded difference between the runs besides the result.", style="bold"))
    if e.unexplained is not None:
        lines.append(Text(f"Unexplained by well-supported causes: {format_delta(e.unexplained)}"))
    if e.divergence_step is not None:
        lines.append(Text(f"The curves separate from step {format_number(e.divergence_step)} on."))
    if e.flips:
        lines.append(literal(flips_sentence(e.flips)))
    if e.suggestions:
        lines.append(Text("To settle it:", style="bold"))
        lines += [Text("  • ") + literal(s) for s in e.suggestions]
    return Group(*lines)


def explanation_markdown(e: Explanation) -> str:
    """The report as Markdown for a pull request."""
    out = [f"### runsift explain: {code(e.metric)} {code(e.a)} → {code(e.b)}", "", f"**{cell(e.summary, 400)}**", ""]
    out += [
        "| | A | B | Δ |",
        "|---|---|---|---|",
        f"| {code(e.metric)} | {' | '.join(format_pair(e.value_a, e.value_b))} | {cell(format_delta(e.delta, e.relative_delta))} |",
        "",
        f"- **Verdict:** {e.verdict} ({e.direction})",
        f"- **Noise:** {cell(_noise_line(e), 300)}",
    ]
    for issue in e.comparability_issues:
        out.append(f"- **Not comparable:** {cell(issue.message, 300)}")
    for warning in e.comparability_warnings:
        out.append(f"- **Comparable? unknown:** {cell(warning.message, 300)}")
    if e.recomputed:
        for r in e.recomputed["by_threshold"]:
            t = f" at threshold {format_number(r['threshold'])}" if r["threshold"] is not None else ""
            ra, rb = _computed_pair(r["a"], r["b"])
            out.append(f"- **Recomputed on {e.recomputed['common_ids']:,} common examples{t}:** A {ra}, B {rb}, Δ {cell(format_delta(r['delta']))}")
    if e.divergence_step is not None:
        out.append(f"- **Curves separate from step** {format_number(e.divergence_step)}")
    if e.flips:
        out.append(f"- **Examples:** {cell(flips_sentence(e.flips), 300)}")
    if e.causes:
        out += ["", "| difference | A | B | evidence | confidence |", "|---|---|---|---|---|"]
        for c in e.causes:
            out.append(f"| {code(c.section + ' ' + c.path)} | {cell(_short(c.a))} | {cell(_short(c.b))} | {cell(_evidence_line(c), 200)} | {c.confidence} |")
    if e.suggestions:
        out += ["", "**To settle it:**", ""] + [f"- {cell(s, 300)}" for s in e.suggestions]
    return "\n".join(out) + "\n"


def flips_sentence(f: Any) -> str:
    """Which examples changed their predicted class, in one sentence."""
    at = f"at threshold {format_number(f['threshold'])}"
    if not f["fixed"] and not f["broken"] and not f["positive_to_negative"] and not f["negative_to_positive"]:
        return f"No example changed its predicted class {at}."
    return (
        f"Examples that changed {at}: {f['fixed']} fixed, {f['broken']} broken "
        f"({f['positive_to_negative']} positive→negative, {f['negative_to_positive']} negative→positive; "
        f"mean score shift of those {format_delta(f['mean_score_shift_of_flipped'])})."
    )


def _run(run_id: str) -> str:
    return str(short_name(run_id.rsplit("/", 1)[-1]))


def _short(value: Any) -> str:
    return str(clip(format_value(value), 60))


def _computed_pair(a: Any, b: Any) -> tuple[str, str]:
    """Two recomputed values at four decimals, alike (``0.9260`` beside ``0.9264``, not ``0.926``)."""
    if all(isinstance(v, float) and math.isfinite(v) and 1e-4 <= abs(v) < 1000 for v in (a, b)):
        shown: tuple[str, str] = format_pair(round(a, 4), round(b, 4))
        return shown
    return format_number(a), format_number(b)
