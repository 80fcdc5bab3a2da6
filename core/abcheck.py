"""Comparing an A/B replay with the kit's saved result, figure by figure, and explaining a difference.

Every figure of the saved result is compared at the precision it was written with. When the saved
result does not reproduce, each filter of the replay is relaxed in turn (from the tallies, without
reading the logs again) to name the input that most likely explains it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .abfigures import Lift, Replay, Rule, VariantFigures, compute_figures, count_units
from .abscan import AFTER, BEFORE, QUAL, SCHEMA_AFTER, SCHEMA_BEFORE, SCHEMA_QUAL
from .abspec import metric_name, version_label

_RELAX_ORDER: tuple[str, ...] = ("before_exposure", "window", "schema", "duplicates", "distinct_units")


@dataclass(frozen=True, slots=True)
class FigureMismatch:
    """A figure of the saved result that the replay does not reproduce at the saved precision."""

    name: str
    saved: Any
    recomputed: Any
    message: str


@dataclass(frozen=True, slots=True)
class SavedCheck:
    """The comparison of a replay with a saved result, figure by figure."""

    reproduced: bool
    mismatches: tuple[FigureMismatch, ...]
    checked: tuple[str, ...]
    """Names of the saved figures that were compared."""
    notes: tuple[str, ...]
    """Figures that match by another method than the replay's (e.g. a relative CI that ignores control noise)."""
    explanation: str | None
    """The relaxed filter(s) under which the saved figures reproduce, in words; None when reproduced or unknown."""


@dataclass(frozen=True, slots=True)
class _Saved:
    """One figure of a saved result: where it was, what it says, which replay figure(s) it corresponds to."""

    name: str
    value: Any
    keys: tuple[str, ...]
    """Replay figure keys it may match; the first is the replay's own method."""


def _figure_values(variants: Sequence[VariantFigures], lift: Lift | None, alpha: float) -> dict[str, Any]:
    """Replay figures by key, for comparison."""
    out: dict[str, Any] = {}
    for v in variants:
        out[f"variants.{v.name}.units"] = v.units
        out[f"variants.{v.name}.conversions"] = v.conversions
        out[f"variants.{v.name}.rate"] = v.rate
    if lift is not None:
        out["absolute"] = lift.absolute
        out["relative"] = lift.relative
        out["z"] = lift.z
        out["p_value"] = lift.p_value
        out["significant"] = (lift.p_value < alpha) if lift.p_value is not None else None
        for key, ci in (
            ("absolute_ci", lift.absolute_ci),
            ("absolute_ci_wald", lift.absolute_ci_wald),
            ("relative_ci", lift.relative_ci),
            ("relative_ci_delta", lift.relative_ci_delta),
            ("relative_ci_fixed", lift.relative_ci_fixed_control),
        ):
            out[f"{key}_low"] = ci[0] if ci else None
            out[f"{key}_high"] = ci[1] if ci else None
    return out


_UNITS_KEYS = ("units", "n", "users", "exposed", "sample_size", "n_units", "count")
_CONV_KEYS = ("conversions", "converters", "converted", "successes", "purchasers", "x", "n_conversions")
_RATE_KEYS = ("rate", "conversion_rate", "cr", "mean", "value")


def _saved_figures(saved: Mapping[str, Any], replay: Replay) -> list[_Saved]:
    """Every figure of a saved result that a replay can recompute (sample kit format, replay_json and variants)."""
    out: list[_Saved] = []
    names = {v.name.lower(): v.name for v in replay.variants}
    variants = saved.get("variants")
    entries: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(variants, Mapping):
        entries = [(str(k), v) for k, v in variants.items() if isinstance(v, Mapping)]
    elif isinstance(variants, list):
        for item in variants:
            if isinstance(item, Mapping):
                label = next((item[k] for k in ("name", "variant", "id") if k in item), None)
                if label is not None:
                    entries.append((str(label), item))
    else:
        entries = [(k, v) for k, v in saved.items() if isinstance(v, Mapping) and str(k).lower() in names]
    prefix = "variants." if variants is not None else ""
    for label, body in entries:
        name = names.get(label.lower())
        if name is None:
            out.append(_Saved(f"{prefix}{label}", body, (f"variants.{label}.units",)))
            continue
        for keys, what in ((_UNITS_KEYS, "units"), (_CONV_KEYS, "conversions"), (_RATE_KEYS, "rate")):
            key = next((k for k in keys if k in body), None)
            if key is not None:
                out.append(_Saved(f"{prefix}{label}.{key}", body[key], (f"variants.{name}.{what}",)))

    raw_lift = saved.get("lift")
    lift: Mapping[str, Any] = raw_lift if isinstance(raw_lift, Mapping) else {}
    scalars: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
        (("absolute_lift", "lift_absolute", "abs_lift", "absolute_difference", "difference", "diff"), ("absolute",), ("absolute", "abs")),
        (("relative_lift", "lift_relative", "rel_lift", "relative_difference", "uplift"), ("relative",), ("relative", "rel")),
        (("z", "z_score", "z_stat", "zstat"), ("z",), ("z",)),
        (("p_value", "pvalue", "p", "p_val"), ("p_value",), ("p_value",)),
        (("significant", "is_significant"), ("significant",), ()),
    )
    for top_keys, fig_keys, lift_keys in scalars:
        key = next((k for k in top_keys if k in saved and not isinstance(saved[k], (Mapping, list))), None)
        if key is not None:
            out.append(_Saved(key, saved[key], fig_keys))
            continue
        key = next((k for k in lift_keys if k in lift), None)
        if key is not None:
            out.append(_Saved(f"lift.{key}", lift[key], fig_keys))
    intervals: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
        (("ci95_absolute", "ci_absolute", "absolute_ci", "ci95", "ci", "confidence_interval"), ("absolute_ci", "absolute_ci_wald")),
        (("ci95_relative", "ci_relative", "relative_ci"), ("relative_ci", "relative_ci_delta", "relative_ci_fixed")),
    )
    for top_keys, fig_keys in intervals:
        key = next((k for k in top_keys if k in saved), None)
        if key is None:
            continue
        bounds = _bounds(saved[key])
        if bounds is not None:
            for side, value, label in ((0, bounds[0], "[0]"), (1, bounds[1], "[1]")):
                which = "low" if side == 0 else "high"
                out.append(_Saved(f"{key}{label}", value, tuple(f"{k}_{which}" for k in fig_keys)))
    # replay_json's own shape: lift {ci_low, ci_high (relative), absolute_ci_low, absolute_ci_high}, also as
    # written by earlier versions (Wald and delta-method intervals)
    for key, fig_keys in (
        ("absolute_ci_low", ("absolute_ci_low", "absolute_ci_wald_low")),
        ("absolute_ci_high", ("absolute_ci_high", "absolute_ci_wald_high")),
        ("ci_low", ("relative_ci_low", "relative_ci_delta_low", "relative_ci_fixed_low")),
        ("ci_high", ("relative_ci_high", "relative_ci_delta_high", "relative_ci_fixed_high")),
    ):
        if key in lift:
            out.append(_Saved(f"lift.{key}", lift[key], fig_keys))
    return out


def _bounds(value: Any) -> tuple[Any, Any] | None:
    """(low, high) of a saved interval written as ``[lo, hi]`` or ``{low, high}``."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, Mapping):
        lo = next((value[k] for k in ("low", "lower", "lo", "ci_low") if k in value), None)
        hi = next((value[k] for k in ("high", "upper", "hi", "ci_high") if k in value), None)
        if lo is not None and hi is not None:
            return lo, hi
    return None


def _decimals(value: Any) -> int | None:
    """Decimals a saved number was written with (its shortest repr); None for integers (exact)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        exponent = Decimal(text).as_tuple().exponent
    except InvalidOperation:
        return None
    return max(0, -exponent) if isinstance(exponent, int) else None


def _as_number(value: Any) -> float | None:
    """A saved figure as a float (numbers and numeric text), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _matches(saved: Any, recomputed: Any) -> bool:
    """True when ``recomputed`` agrees with ``saved`` at the precision ``saved`` was written with."""
    if isinstance(saved, bool) or isinstance(recomputed, bool):
        return isinstance(saved, bool) and saved == recomputed
    s, r = _as_number(saved), _as_number(recomputed)
    if s is None or r is None:
        return False
    decimals = _decimals(saved)
    if decimals is None:
        return s == r if float(s).is_integer() and isinstance(recomputed, int) else abs(s - r) <= 0.5
    half = 0.5 * 10.0 ** (-decimals)
    return abs(r - s) <= half * (1 + 1e-9) + 1e-12 * max(1.0, abs(s))


_METHODS = {
    "absolute_ci": "Newcombe's interval",
    "relative_ci": "the score interval of the ratio",
    "absolute_ci_wald": "a Wald interval (unpooled standard error, too narrow with small counts)",
    "relative_ci_delta": "a delta-method interval (symmetric, it can go below -100%)",
    "relative_ci_fixed": "the Wald interval of the absolute lift divided by the control rate (it ignores the control "
    "rate's own noise)",
}
"""The replay's interval methods (the first two) and the older ones a saved result may have used, in words."""


def _method_note(f: _Saved, alt: str, values: Mapping[str, Any]) -> str:
    """Why a saved interval bound matched another method than the replay's, with the replay's interval."""
    own, other = f.keys[0].rsplit("_", 1)[0], alt.rsplit("_", 1)[0]
    name = re.sub(r"(\[[01]\]|_low|_high)$", "", f.name)
    return (
        f"saved {name} is {_METHODS[other]}; the replay reports {_METHODS[own]}: "
        f"{_fmt(values.get(own + '_low'))} to {_fmt(values.get(own + '_high'))}"
    )


def _compare(figures: Sequence[_Saved], values: Mapping[str, Any]) -> tuple[list[_Saved], list[str]]:
    """Saved figures the values do not reproduce, and notes on figures matched by another method (once per interval)."""
    failed: list[_Saved] = []
    notes: list[str] = []
    for f in figures:
        candidates = [values.get(k) for k in f.keys]
        if candidates and _matches(f.value, candidates[0]):
            continue
        alt = next((k for k, v in zip(f.keys[1:], candidates[1:]) if _matches(f.value, v)), None)
        if alt is not None:
            note = _method_note(f, alt, values)
            if note not in notes:
                notes.append(note)
            continue
        if f.keys[0].endswith(".rate") or f.keys[0] == "relative":
            r = _as_number(candidates[0])
            if r is not None and _matches(f.value, r * 100):
                notes.append(f"saved {f.name} is a percentage")
                continue
        failed.append(f)
    return failed, notes


def _fmt(value: Any) -> str:
    """A recomputed figure for a message."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def check_saved(replay: Replay, saved: Mapping[str, Any]) -> SavedCheck:
    """Compare every figure of the saved result with the replay; if one differs, find which filter explains it."""
    figures = _saved_figures(saved, replay)
    values = _figure_values(replay.variants, replay.lift, replay.alpha)
    failed, notes = _compare(figures, values)
    saved_metric = metric_name(saved.get("metric"))
    if saved_metric and saved_metric.lower() != replay.metric.name.lower():
        message = f"the saved result is for {saved_metric!r} but the replay computed {replay.metric.name!r}"
        return SavedCheck(False, (FigureMismatch("metric", saved_metric, replay.metric.name, message),), (), tuple(notes), None)
    if not figures:
        notes.append("the saved result has no figure the replay can recompute")
    if not failed:
        return SavedCheck(bool(figures), (), tuple(f.name for f in figures), tuple(notes), None)
    explanation = _explain(replay, figures, failed)
    mismatches = []
    for f in failed:
        recomputed = values.get(f.keys[0])
        d = _decimals(f.value)
        at = f" (compared at {d} decimals)" if d else ""
        message = f"saved {f.name} = {f.value!r} but the replay gives {_fmt(recomputed)}{at}"
        if f.keys[0] not in values:
            message = f"saved {f.name} has no counterpart in the replay (variants: {', '.join(v.name for v in replay.variants)})"
        if explanation:
            message += f"; most likely: {explanation}"
        mismatches.append(FigureMismatch(f.name, f.value, recomputed, message))
    return SavedCheck(False, tuple(mismatches), tuple(f.name for f in figures), tuple(notes), explanation)


def compare_saved(replay: Replay, saved: Mapping[str, Any]) -> tuple[bool, list[FigureMismatch]]:
    """(reproduced, mismatches): every saved figure compared at the precision it was written with."""
    check = check_saved(replay, saved)
    return check.reproduced, list(check.mismatches)


def _relaxations(replay: Replay) -> list[tuple[tuple[str, ...], Rule]]:
    """Filter relaxations worth trying (something to relax), single ones first, then pairs."""
    d = replay.diagnostics
    has = {
        "before_exposure": d.events_before_exposure > 0 or _any_bits(replay, BEFORE | SCHEMA_BEFORE),
        "window": d.events_outside_window > 0 or _any_bits(replay, AFTER | SCHEMA_AFTER),
        "schema": d.events_other_schema > 0,
        "duplicates": d.multi_variant_units > 0,
    }
    singles = [k for k in _RELAX_ORDER[:4] if has[k]]
    out: list[tuple[tuple[str, ...], Rule]] = [((k,), _rule((k,))) for k in singles]
    if d.qualifying_events:
        out.append((("distinct_units",), Rule(QUAL, events=True)))
    for i, a in enumerate(singles):
        for b in singles[i + 1 :]:
            out.append(((a, b), _rule((a, b))))
    if len(singles) >= 3:
        out.append((tuple(singles), _rule(tuple(singles))))
    return out


def _any_bits(replay: Replay, bits: int) -> bool:
    """True when some multi-variant unit has metric events of the classes in ``bits``."""
    return any(n for t in replay.tallies.values() for m, n in enumerate(t.multi_hist) if m & bits)


def _rule(names: Sequence[str]) -> Rule:
    """The rule with every filter in ``names`` relaxed (classes needing two relaxations included)."""
    relaxed = set(names)
    bits = QUAL
    if "before_exposure" in relaxed:
        bits |= BEFORE
    if "window" in relaxed:
        bits |= AFTER
    if "schema" in relaxed:
        bits |= SCHEMA_QUAL
        if "before_exposure" in relaxed:
            bits |= SCHEMA_BEFORE
        if "window" in relaxed:
            bits |= SCHEMA_AFTER
    return Rule(bits, duplicates="duplicates" in relaxed)


def _explain(replay: Replay, figures: Sequence[_Saved], failed: Sequence[_Saved]) -> str | None:
    """The relaxed filter(s) under which the saved figures reproduce (all of them, else the counts), in words.

    Single relaxations are tried before pairs; when several single ones reproduce the
    saved figures, the first (in :data:`_RELAX_ORDER`) is named and the others mentioned.
    """
    shares = {v.name: v.planned_share for v in replay.variants if v.planned_share is not None}
    counts_only = [f for f in figures if f.keys[0].endswith((".units", ".conversions"))]
    failed_counts = [f for f in failed if f in counts_only]
    full: list[str] = []
    partial: str | None = None
    for names, rule in _relaxations(replay):
        if full and len(names) > 1:
            break  # a single relaxation already explains it
        variants, lifts = compute_figures(count_units(replay.tallies, rule), shares, replay.control, replay.alpha)
        values = _figure_values(variants, lifts[0] if lifts else None, replay.alpha)
        if not _compare(figures, values)[0]:
            full.append(_words(replay, names, variants))
            if len(names) > 1:
                break
        elif partial is None and failed_counts and not _compare(counts_only, values)[0]:
            partial = _words(replay, names, variants) + " (the counts match; other figures still differ)"
    if full:
        others = f" (the saved figures are also reproduced if {'; or if '.join(full[1:])})" if len(full) > 1 else ""
        return full[0] + others
    return partial


def _plural(count: int, word: str) -> str:
    """``1 purchase event``, ``40 purchase events``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _words(replay: Replay, names: Sequence[str], variants: Sequence[VariantFigures]) -> str:
    """What relaxing ``names`` means for the saved figures, in words."""
    d, spec = replay.diagnostics, replay.metric
    event = f"{spec.event} event"
    extra = sum(v.conversions for v in variants) - sum(v.conversions for v in replay.variants)
    more = f" ({extra:+,} converting unit{'' if abs(extra) == 1 else 's'})" if extra and "distinct_units" not in names else ""
    parts = []
    for name in names:
        if name == "before_exposure":
            parts.append(f"saved conversions include {_plural(d.events_before_exposure, event)} before exposure")
        elif name == "window":
            days = f"{spec.window_days:g}-day " if spec.window_days is not None else ""
            parts.append(
                f"saved conversions include {_plural(d.events_outside_window, event)} at or after the end of the {days}window"
            )
        elif name == "schema":
            versions = ", ".join(version_label(k) for k in sorted(d.other_schema_versions))
            parts.append(
                f"saved conversions include {_plural(d.events_other_schema, event)} of schema version {versions} "
                f"(the recorded schema is {version_label(spec.schema_version or '')})"
            )
        elif name == "duplicates":
            parts.append(
                f"saved figures keep the {_plural(d.multi_variant_units, 'unit')} assigned to more than one variant "
                "(counted in each of their variants)"
            )
        elif name == "distinct_units":
            parts.append(f"saved conversions count {_plural(d.qualifying_events, event)}, not distinct converting units")
    return " and ".join(parts) + more


def saved_notes(check: SavedCheck | None) -> tuple[str, ...]:
    """What to tell the reader about a saved-result comparison: method notes, then why it differs."""
    if check is None:
        return ()
    return (*check.notes, *((f"the saved figures reproduce when {check.explanation}",) if check.explanation else ()))
