"""The figures of an A/B replay: per-variant counts, lifts, the SRM check and what was excluded.

Counts come from the scan's per-unit event classes (:mod:`.abscan`) under a counting rule, so the
same tallies give the strict figures and each relaxed recount that :mod:`.abcheck` tries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .abscan import QUAL
from .abspec import MetricSpec, version_label
from .fmt import format_number
from .stats.proportions import (
    SMALL_COUNT,
    delta_relative_interval,
    newcombe_interval,
    pooled_z_test,
    ratio_score_interval,
    sample_ratio_test,
    small_counts,
    wald_difference_interval,
)

ALPHA = 0.05
"""Significance level when neither the analysis plan nor the saved result gives one."""
SRM_ALPHA = 0.001
"""Sample ratio mismatch is flagged below this chi-square p-value."""
RELATIVE_METHOD = "score interval of the ratio (Koopman), minus 1; it excludes 0 exactly when p < alpha"
ABSOLUTE_METHOD = "Newcombe hybrid score interval of the difference"
TEST_METHOD = "two-proportion z-test, pooled standard error, two-sided"
"""The methods of a :class:`Lift`, as written in the JSON document."""


@dataclass(frozen=True, slots=True)
class VariantFigures:
    """One variant's units, converting units and conversion rate."""

    name: str
    units: int
    conversions: int
    rate: float | None
    planned_share: float | None


@dataclass(frozen=True, slots=True)
class Lift:
    """Treatment vs control: absolute and relative lift with intervals at ``level``, z and the two-sided p-value.

    The relative lift's interval is the headline: it excludes 0 exactly when ``p_value`` is below
    ``1 - level`` (see :mod:`runsift.core.stats.proportions` for the methods and why). The Wald,
    delta-method and fixed-control intervals are there to recognise saved results computed with them.
    """

    control: str
    treatment: str
    absolute: float | None
    absolute_ci: tuple[float, float] | None
    """Newcombe's hybrid score interval of p_t - p_c."""
    relative: float | None
    """p_t / p_c - 1; None when the control has no conversions."""
    relative_ci: tuple[float, float] | None
    """Score interval of the ratio p_t / p_c, minus 1: never below -1; its high end is inf when the control has no conversions."""
    z: float | None
    """Pooled-SE two-proportion z statistic."""
    p_value: float | None
    level: float = 1 - ALPHA
    absolute_ci_wald: tuple[float, float] | None = None
    """Wald interval with the unpooled standard error."""
    relative_ci_delta: tuple[float, float] | None = None
    """Delta-method interval of p_t / p_c - 1."""
    relative_ci_fixed_control: tuple[float, float] | None = None
    """The Wald interval divided by the control rate (treats the control rate as known)."""
    warnings: tuple[str, ...] = ()
    """What to keep in mind reading these figures: small counts, no conversions, methods that disagree."""


@dataclass(frozen=True, slots=True)
class SRM:
    """Sample ratio mismatch check: chi-square goodness of fit of units per variant to the planned split."""

    p_value: float | None
    chi2: float | None
    flagged: bool
    message: str
    observed: Mapping[str, int] = field(default_factory=dict)
    expected: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """What the replay excluded and why; event counts are rows of the metric's event."""

    assignment_rows: int = 0
    other_experiment_rows: int = 0
    """Assignment rows of another experiment id."""
    unplanned_variant_rows: Mapping[str, int] = field(default_factory=dict)
    """Assignment rows of variants that are not analysed (holdout ...), by variant."""
    duplicate_assignment_rows: int = 0
    """Rows repeating a unit's assignment to the same variant (the earliest is the exposure)."""
    multi_variant_units: int = 0
    """Units assigned to more than one variant: excluded from every variant."""
    multi_variant_examples: tuple[str, ...] = ()
    bad_assignment_rows: int = 0
    event_rows: int = 0
    metric_events: int = 0
    qualifying_events: int = 0
    events_before_exposure: int = 0
    events_outside_window: int = 0
    """Events at or after the end of the window (end exclusive)."""
    events_other_schema: int = 0
    other_schema_versions: Mapping[str, int] = field(default_factory=dict)
    """Metric events of another schema version, by version as written in the log (``v5`` read as ``5``)."""
    near_miss_schema_versions: Mapping[str, int] = field(default_factory=dict)
    """Those of the other versions that are the recorded version written differently (``5.0``, ``V5``, `` 5``)."""
    events_unassigned: int = 0
    """Events of units not in the assignment log for this experiment."""
    events_unplanned_variant: int = 0
    """Events of units assigned only to a variant that is not analysed (holdout ...)."""
    events_multi_variant_units: int = 0
    events_bad_exposure: int = 0
    """Events of units whose exposure time could not be read."""
    bad_event_rows: int = 0
    near_miss_event_rows: int = 0
    """Event rows whose name differs from the metric's event only in case or spacing: not metric events."""
    near_miss_event_names: Mapping[str, int] = field(default_factory=dict)
    """The most frequent of those names, with their row counts."""

    def messages(self, spec: MetricSpec | None = None) -> list[str]:
        """The diagnostics as sentences, only those that are not zero."""
        event = (spec.event if spec and spec.event else "metric") + " events"
        out: list[str] = []
        if self.multi_variant_units:
            ex = ", ".join(self.multi_variant_examples)
            out.append(
                f"{self.multi_variant_units:,} unit(s) assigned to more than one variant (e.g. {ex}): "
                "excluded from every variant"
            )
        if self.duplicate_assignment_rows:
            out.append(f"{self.duplicate_assignment_rows:,} repeated assignment row(s) of the same unit and variant: counted once")
        if self.other_experiment_rows:
            out.append(f"{self.other_experiment_rows:,} assignment row(s) of other experiments ignored")
        for name, n in sorted(self.unplanned_variant_rows.items()):
            out.append(f"{n:,} assignment row(s) of variant {name!r}, which is not analysed, excluded")
        if self.events_before_exposure:
            out.append(f"{self.events_before_exposure:,} {event} before exposure excluded")
        if self.events_outside_window:
            days = f" {spec.window_days:g}-day" if spec and spec.window_days is not None else ""
            out.append(f"{self.events_outside_window:,} {event} at or after the end of the{days} window excluded")
        if self.near_miss_event_rows:
            names = ", ".join(f"{k!r}: {v:,}" for k, v in self.near_miss_event_names.items())
            more = ", ..." if sum(self.near_miss_event_names.values()) < self.near_miss_event_rows else ""
            want = f"the definition's event {spec.event!r}" if spec and spec.event else "the metric's event"
            out.append(
                f"{self.near_miss_event_rows:,} event row(s) named like {want} but not exactly ({names}{more}) not "
                "counted: event names must match the definition exactly"
            )
        if self.events_other_schema:
            versions = ", ".join(f"{version_label(k)}: {v:,}" for k, v in sorted(self.other_schema_versions.items()))
            want = f" (only {version_label(spec.schema_version)} counts)" if spec and spec.schema_version else ""
            out.append(f"{self.events_other_schema:,} {event} of another schema version excluded ({versions}){want}")
        if self.near_miss_schema_versions and spec and spec.schema_version:
            n = sum(self.near_miss_schema_versions.values())
            written = ", ".join(repr(k) for k in self.near_miss_schema_versions)
            out.append(
                f"{n:,} of them have schema version {written}: the recorded {version_label(spec.schema_version)} written "
                "differently, not counted: versions must match the definition exactly (only v5 and 5 are the same)"
            )
        if self.events_unassigned:
            out.append(f"{self.events_unassigned:,} {event} of units not in the assignment log excluded")
        if self.events_unplanned_variant:
            out.append(f"{self.events_unplanned_variant:,} {event} of holdout or other unanalysed units excluded")
        if self.events_multi_variant_units:
            out.append(f"{self.events_multi_variant_units:,} {event} of units assigned to several variants excluded")
        if self.events_bad_exposure:
            out.append(f"{self.events_bad_exposure:,} {event} of units whose exposure time is unreadable excluded")
        if self.bad_assignment_rows:
            out.append(f"{self.bad_assignment_rows:,} unreadable assignment row(s) skipped")
        if self.bad_event_rows:
            out.append(f"{self.bad_event_rows:,} unreadable event row(s) skipped")
        return out


@dataclass(frozen=True, slots=True)
class Tally:
    """One variant's units by which classes of metric events they have (bit masks), for relaxed recounts."""

    hist: tuple[int, ...]
    """hist[mask] = analysed units whose metric events fall in the classes of ``mask``."""
    multi_hist: tuple[int, ...]
    """The same for units also assigned to another variant (excluded unless duplicates are relaxed)."""
    qualifying_events: int


@dataclass(frozen=True, slots=True)
class Replay:
    """The recomputed analysis of an A/B kit's primary metric."""

    experiment_id: str | None
    metric: MetricSpec
    variants: tuple[VariantFigures, ...]
    control: str | None
    lifts: tuple[Lift, ...]
    """One per non-control variant, in plan order."""
    srm: SRM
    diagnostics: Diagnostics
    alpha: float
    notes: tuple[str, ...]
    tallies: Mapping[str, Tally] = field(default_factory=dict, repr=False)

    @property
    def lift(self) -> Lift | None:
        """The first treatment's lift over control."""
        return self.lifts[0] if self.lifts else None

    @property
    def p_value(self) -> float | None:
        """The first treatment's two-sided p-value."""
        return self.lifts[0].p_value if self.lifts else None

    def variant(self, name: str) -> VariantFigures | None:
        """Figures of the variant called ``name``."""
        return next((v for v in self.variants if v.name == name), None)


@dataclass(frozen=True, slots=True)
class Rule:
    """Which metric-event classes make a unit convert, and what else to relax."""

    bits: int
    duplicates: bool = False
    """Keep units assigned to several variants, in each of them."""
    events: bool = False
    """Count qualifying events instead of distinct converting units."""


STRICT = Rule(QUAL)


def count_units(tallies: Mapping[str, Tally], rule: Rule) -> list[tuple[str, int, int]]:
    """(variant, units, conversions) under ``rule``."""
    out = []
    for name, t in tallies.items():
        units = sum(t.hist)
        conv = sum(n for m, n in enumerate(t.hist) if m & rule.bits)
        if rule.events:
            conv = t.qualifying_events
        if rule.duplicates:
            units += sum(t.multi_hist)
            conv += sum(n for m, n in enumerate(t.multi_hist) if m & rule.bits)
        out.append((name, units, conv))
    return out


def compute_figures(
    counts: Sequence[tuple[str, int, int]], shares: Mapping[str, float], control: str | None, alpha: float = ALPHA
) -> tuple[tuple[VariantFigures, ...], tuple[Lift, ...]]:
    """Per-variant figures and each treatment's lift over control (intervals at level ``1 - alpha``)."""
    variants = tuple(VariantFigures(n, u, c, c / u if u else None, shares.get(n)) for n, u, c in counts)
    by_name = {v.name: v for v in variants}
    lifts = []
    if control is not None and control in by_name:
        for v in variants:
            if v.name != control:
                lifts.append(two_proportions(by_name[control], v, alpha))
    return variants, tuple(lifts)


def two_proportions(control: VariantFigures, treatment: VariantFigures, alpha: float = ALPHA) -> Lift:
    """Lift of ``treatment`` over ``control``: Newcombe and score-ratio intervals at ``1 - alpha``, pooled z-test."""
    x1, n1, x2, n2 = control.conversions, control.units, treatment.conversions, treatment.units
    names, level = (control.name, treatment.name), 1 - alpha
    if not n1 or not n2:
        empty = control.name if not n1 else treatment.name
        return Lift(*names, None, None, None, None, None, None, level, warnings=(f"{empty} has no units: no lift to measure",))
    p1, p2 = x1 / n1, x2 / n2
    diff = p2 - p1
    rel = diff / p1 if p1 else None
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):  # counts that are not proportions (events, not units): no test
        return Lift(*names, diff, None, rel, None, None, None, level)
    try:
        z, p = pooled_z_test(x1, n1, x2, n2)
        abs_ci = newcombe_interval(x1, n1, x2, n2, level)
        low, high = ratio_score_interval(x1, n1, x2, n2, level)
        wald = wald_difference_interval(x1, n1, x2, n2, level)
        delta = delta_relative_interval(x1, n1, x2, n2, level)
    except (ValueError, ArithmeticError, RuntimeError) as exc:  # a numerical failure is said, not raised
        return Lift(*names, diff, None, rel, None, None, None, level, warnings=(f"the test and intervals failed: {exc}",))
    return Lift(
        *names,
        absolute=diff,
        absolute_ci=abs_ci,
        relative=rel,
        relative_ci=(low - 1, high - 1),
        z=z,
        p_value=p,
        level=level,
        absolute_ci_wald=wald,
        relative_ci_delta=delta,
        relative_ci_fixed_control=(wald[0] / p1, wald[1] / p1) if p1 else None,
        warnings=_warnings(control, treatment, abs_ci, p, alpha),
    )


def _warnings(
    control: VariantFigures, treatment: VariantFigures, abs_ci: tuple[float, float], p: float, alpha: float
) -> tuple[str, ...]:
    """Small counts, no conversions, and an absolute-lift interval that disagrees with the test, in words."""
    out = []
    small = [v for v in (control, treatment) if small_counts(v.conversions, v.units)]
    if small:
        arms = ", ".join(f"{v.name} {v.conversions:,} of {v.units:,}" for v in small)
        out.append(
            f"small counts ({arms} converted; fewer than {SMALL_COUNT} conversions or {SMALL_COUNT} non-conversions "
            "in a variant): the p-value and intervals rest on a normal approximation that is rough here"
        )
    if not control.conversions and not treatment.conversions:
        out.append("no conversions in either variant: there is no lift to measure")
    elif not control.conversions:
        out.append(f"{control.name} has no conversions: the relative lift is undefined and its interval has no upper bound")
    excludes = abs_ci[0] > 0 or abs_ci[1] < 0
    if excludes != (p < alpha):
        level = f"{(1 - alpha) * 100:g}%"
        out.append(
            f"the absolute lift's {level} interval (Newcombe, {format_number(abs_ci[0])} to {format_number(abs_ci[1])}) "
            f"{'excludes' if excludes else 'includes'} 0 but the z-test gives p = {format_number(p)} "
            f"{'at or above' if excludes else 'below'} {alpha:g}: the methods disagree on this borderline table; the "
            "verdict follows the z-test, with which the relative lift's interval always agrees"
        )
    return tuple(out)


def srm_check(variants: Sequence[VariantFigures], shares: Mapping[str, float]) -> SRM:
    """Chi-square goodness of fit of units per variant to the planned split (positive finite shares only)."""
    unusable = [v.name for v in variants if v.name in shares and not math.isfinite(shares[v.name])]
    planned = [v for v in variants if v.name not in unusable and shares.get(v.name, 0) > 0]
    observed = {v.name: v.units for v in planned}
    total = sum(observed.values())
    if unusable or len(planned) < 2 or total == 0:
        why = "no planned traffic split" if len(planned) < 2 else "no units"
        if unusable:
            why = f"the planned share of {', '.join(repr(n) for n in unusable)} is not a finite number"
        return SRM(None, None, False, f"sample ratio mismatch not tested: {why}", observed, {})
    weight = sum(shares[v.name] for v in planned)
    expected = {v.name: total * shares[v.name] / weight for v in planned}
    chi2, p = sample_ratio_test(list(observed.values()), [shares[v.name] for v in planned])
    split = "/".join(f"{shares[v.name] / weight:.0%}" for v in planned)
    seen = ", ".join(f"{k} {n:,}" for k, n in observed.items())
    if p < SRM_ALPHA:
        message = (
            f"sample ratio mismatch: units {seen} do not fit the planned {split} split "
            f"(chi-square p = {p:.2g} < {SRM_ALPHA}); the metrics must not be trusted until the assignment is explained"
        )
        return SRM(p, chi2, True, message, observed, expected)
    return SRM(p, chi2, False, f"units {seen} fit the planned {split} split (chi-square p = {p:.3g})", observed, expected)
