"""The explanation in words: one summary sentence that never claims more than the tests showed, and what to run next."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..factors import Factor, value
from ..fmt import clip, format_number, format_pair
from ..records import Run
from .model import Cause, Direction, Issue, Noise, Verdict

MAX_ISOLATION_SUGGESTIONS = 3
_SECTION_PRIORITY = {"data": 0, "config": 1, "code": 2, "env": 3, "hardware": 4, "splits": 5, "metric_definition": 6}
_FACTOR_WORDS = {
    "config": "config",
    "code": "code commit",
    "data": "data snapshot",
    "env": "environment",
    "env.python": "Python version",
    "env.packages": "package versions",
    "env.hardware": "hardware",
}


def factor_words(name: str) -> str:
    """``code commit``, ``val split ids``, ``definition of val_auc`` for a factor name."""
    if name in _FACTOR_WORDS:
        return _FACTOR_WORDS[name]
    if name.startswith("splits."):
        return f"{name[7:]} split ids"
    if name.startswith("metric_definition."):
        return f"definition of {name[18:]}"
    return name


def unrecorded_words(names: Sequence[str], fa: Mapping[str, Factor], fb: Mapping[str, Factor]) -> str:
    """``B does not record code commit, data snapshot`` (or A, or neither)."""
    parts = []
    for who, mine in (("A", fa), ("B", fb)):
        missing = [factor_words(n) for n in names if value(mine, n) is None and (n != "env" or value(mine, "env.python") is None)]
        if missing:
            parts.append(f"{who} does not record {', '.join(missing)}")
    return "; ".join(parts)


def summary(
    metric: str,
    va: float,
    vb: float,
    relative: float | None,
    direction: Direction,
    verdict: Verdict,
    issues: Sequence[Issue],
    warnings: Sequence[Issue],
    causes: Sequence[Cause],
    noise: Noise,
    recomputed: Mapping[str, Any] | None,
    unexplained: float | None,
    delta: float,
    unrecorded: str,
) -> str:
    """One or two sentences: the verdict with the noise it rules out, then the most likely cause."""
    rel = f" ({relative * 100:+.2f}%)" if relative is not None else ""
    shown_a, shown_b = format_pair(va, vb)  # as recorded: 0.926045 to 0.927100, not 0.926 to 0.9271
    move = f"{metric} went from {shown_a} to {shown_b}{rel}"
    caution = f" Caution: {'; '.join(w.message for w in warnings)}." if warnings else ""
    if verdict == "incomparable":
        text = f"{move}, but the two numbers are not comparable: {'; '.join(i.message for i in issues)}."
        words = recomputed_words(metric, recomputed)
        return text + (f" {words}." if words else "") + caution
    unknown = f" {unrecorded[0].upper()}{unrecorded[1:]}: these may differ." if unrecorded else ""
    if verdict == "undetermined":
        reason = noise.detail.get("reason") or "no replicate runs and no shared predictions"
        return f"{move}; noise cannot be ruled out: {reason}.{unknown}{caution}"
    if verdict == "noise":
        return f"{move}: within {_kind_words(noise)} ({noise_words(noise)}): not shown to be a real change.{caution}"
    kind = {"regression": "a real regression", "improvement": "a real improvement"}.get(direction, "a real change")
    text = f"{move}: {kind} beyond {_kind_words(noise)} ({noise_words(noise)}){_caveat(noise)}"
    return text + _why(causes, unexplained, delta, noise) + "." + unknown + caution


def _kind_words(noise: Noise) -> str:
    return {"seed": "seed noise", "evaluation_sample": "evaluation-sample noise", "both": "seed and evaluation-sample noise"}.get(noise.kind or "", "noise")


def _caveat(noise: Noise) -> str:
    """What the verdict did not rule out."""
    if noise.kind == "evaluation_sample":
        return "; seed noise not measured"
    ev = noise.detail.get("evaluation_sample")
    if noise.kind == "seed" and isinstance(ev, Mapping) and ev.get("p_value") is not None and ev["p_value"] >= 0.05:
        n = ev.get("common_ids")
        on = f" on {n:,} examples" if isinstance(n, int) else ""
        return f"; evaluation-sample noise not ruled out ({_method_name(ev['method'])}{on}, p={ev['p_value']:.3g})"
    return ""


def _why(causes: Sequence[Cause], unexplained: float | None, delta: float, noise: Noise) -> str:
    top = next((c for c in causes if c.confidence in ("high", "medium")), None)
    open_ = [c for c in causes if c.confidence == "none"]
    not_isolated = ", ".join(c.label for c in open_[:3]) + (" …" if len(open_) > 3 else "")
    if top is None:
        if open_ and noise.kind == "evaluation_sample":  # seed noise is still a candidate
            return f"; no difference is shown to move it in other runs: it is seed noise (not measured) or lies in what no run isolated: {not_isolated}"
        if open_:
            return f"; no difference is shown to move it in other runs: it most likely lies in what no run isolated: {not_isolated}"
        return "; no recorded difference is shown to move it" if causes else ""
    text = f"; most likely cause: {top.label} ({_short(top.a)} → {_short(top.b)}), which alone moves it by {format_number(top.estimated_effect)} in other runs"
    if unexplained is not None and abs(unexplained) > abs(delta) / 2 and open_:
        text += f"; most of Δ ({format_number(unexplained)}) is unexplained: not isolated: {not_isolated}"
    return text


def recomputed_words(metric: str, recomputed: Mapping[str, Any] | None) -> str:
    """``Recomputed under one definition on the 3,000 examples both runs predicted: Δ 0 at threshold 0.4 ...``."""
    if not recomputed or not recomputed.get("by_threshold"):
        return ""
    parts = []
    for r in recomputed["by_threshold"]:
        at = f" at threshold {format_number(r['threshold'])}" if r["threshold"] is not None else ""
        parts.append(f"Δ {format_number(r['delta'])}{at}")
    same = all(abs(r["delta"]) < 1e-12 for r in recomputed["by_threshold"])
    tail = " — the change comes from how the metric was computed, not from the model" if same else ""
    return f"Recomputed under one definition on the {recomputed['common_ids']:,} examples both runs predicted: {', '.join(parts)}{tail}"


def _method_name(method: str) -> str:
    return {"bootstrap": "paired bootstrap", "delong": "DeLong's test", "mcnemar": "McNemar's test"}.get(method, method)


def noise_words(noise: Noise) -> str:
    """The test that decided, on what, with its p-value."""
    p = f"p={noise.p_value:.3g}" if noise.p_value is not None else ""
    d = noise.detail
    if noise.method == "welch":
        return f"Welch's t-test over {len(noise.replicates_a)}+{len(noise.replicates_b)} seed replicates, {p}"
    if noise.method == "prediction_interval":
        k = d.get("k")
        both = " plus evaluation-sample noise of the shared predictions" if noise.kind == "both" else ""
        return f"one run against the prediction interval of {k} seed replicates, Student's t on {k - 1 if isinstance(k, int) else '?'} df{both}, {p}"
    if noise.method in ("bootstrap", "delong", "mcnemar"):
        n = d.get("common_ids")
        on = f" on {n:,} shared examples" if isinstance(n, int) else " on the same examples"
        return f"{_method_name(noise.method)}{on}, {p}"
    if noise.method == "replicates":
        return "A and B record the same setup and differ only in seeds"
    return "no noise estimate"


def suggestions(a: Run, b: Run, causes: Sequence[Cause], reps_a: Sequence[Run], reps_b: Sequence[Run], verdict: Verdict, noise: Noise, has_predictions: bool, unrecorded: str) -> list[str]:
    """What to record or run to settle what this explanation could not: at most three isolation runs."""
    out: list[str] = []
    if unrecorded and verdict != "incomparable":
        out.append(f"Record what is missing ({unrecorded}) so the runs can be compared factor by factor.")
    if verdict == "undetermined" or noise.kind == "evaluation_sample":
        for who, run, reps in (("A", a, reps_a), ("B", b, reps_b)):
            more = 3 - len(reps)
            if more > 0:
                out.append(f"Run {more} more seed{'s' if more != 1 else ''} of {who} ({run.name}) with the same recorded setup, to measure seed noise.")
        if not has_predictions and verdict == "undetermined":
            out.append("Save per-example predictions (id, label, score) in both runs to test the change on the same examples.")
    isolate = sorted((c for c in causes if c.confidence == "none" and c.section != "seeds"), key=lambda c: _SECTION_PRIORITY.get(c.section, 9))
    for cause in isolate[:MAX_ISOLATION_SUGGESTIONS]:
        target = "unset, as in B" if cause.b is None else f"set to B's value ({_short(cause.b)})"
        out.append(f"To isolate {cause.label}: run A's setup with only {cause.path} {target}, 2 seeds.")
    return out


def _short(value: Any) -> str:
    return clip(str(value), 40)
