"""Explain a metric change between two runs: comparable or not, real or noise, and why.

The answer is built from evidence in the catalog, in the order a careful colleague
would check: (1) can the two numbers be compared at all, (2) is the change bigger
than seed noise, (3) which differences between the runs are supported by other
runs that isolate them, (4) when the curves separated, (5) which examples flipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import stats
from .catalog import Catalog
from .factors import PACKAGES, SEEDS, Factor, describe, differing, run_factors
from .fmt import clip, format_number
from .goals import Goal, metric_goal
from .query import parse_filter
from .readers.predictions import Predictions, align, find_predictions, read_predictions
from .records import Run, Sweep
from .safeio import ReadContext
from .versions import compare_versions

Verdict = Literal["real", "noise", "undetermined", "incomparable"]
Direction = Literal["improvement", "regression", "none"]

ALPHA = 0.05
"""Significance level for calling a change real."""
MAX_PEERS = 5_000
NEAR_PAIR_LIMIT = 4_000
"""Most run pairs scanned for near-isolating evidence (one other factor differs); ~0.1 s of work. Exact
pairs are always found, at any catalog size."""
"""Most runs of the same project(s) examined for replicates and isolating pairs."""
BOOTSTRAP_AUC_MAX = 20_000
"""Above this many shared examples an AUC change is tested with DeLong alone (see _noise)."""
EVAL_SPLITS = ("val", "valid", "validation", "dev", "eval", "test")


class ExplainError(ValueError):
    """The question cannot be asked (no shared metric, not runs ...); the message says why."""


@dataclass(frozen=True, slots=True)
class Issue:
    """Something that makes the two numbers not directly comparable."""

    section: str
    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Noise:
    """How the change compares with run-to-run noise."""

    method: str
    """welch | singleton | bootstrap | delong | mcnemar | none"""
    sigma: float | None = None
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    replicates_a: tuple[str, ...] = ()
    replicates_b: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A pair of runs that differ in one factor (and little else) and the metric change they show."""

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
    confidence: Literal["high", "medium", "low", "none"] = "none"
    note: str = ""


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
    comparable: bool
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


# -- entry point ------------------------------------------------------------------------


def explain(catalog: Catalog, a_id: str, b_id: str, metric: str | None = None, *, resamples: int = 10_000) -> Explanation:
    """Explain how ``metric`` moved from run A to run B, with evidence from the whole catalog."""
    a, b = catalog.get(a_id), catalog.get(b_id)
    if not isinstance(a, Run) or not isinstance(b, Run):
        raise ExplainError("explain compares two runs")
    declared_metric, declared_goal = _sweep_metric(catalog, a, b)
    name = metric or default_metric(a, b, declared_metric)
    if name not in a.metrics.final or name not in b.metrics.final:
        missing = [r.id for r in (a, b) if name not in r.metrics.final]
        shared = sorted(set(a.metrics.final) & set(b.metrics.final))
        raise ExplainError(f"metric {name!r} is not recorded in {', '.join(missing)}; shared metrics: {', '.join(shared) or 'none'}")
    definition = b.metrics.definitions.get(name) or a.metrics.definitions.get(name)
    goal = metric_goal(name, definition, declared_goal if name == declared_metric else None)
    va, vb = float(a.metrics.final[name]), float(b.metrics.final[name])
    delta = vb - va
    relative = delta / abs(va) if va not in (0.0,) and math.isfinite(va) else None

    issues = comparability(a, b, name)
    preds = _predictions(catalog.root, a, b, name)
    recomputed = _recompute(a, b, name, preds) if preds is not None else None

    peers = _peers(catalog, a, b, name)
    factors = {r.id: run_factors(r, name) for r in peers}
    fa, fb = factors[a.id], factors[b.id]
    reps_a = _replicates(a, peers, factors, name)
    reps_b = _replicates(b, peers, factors, name)
    noise, verdict = _noise(a, b, name, delta, reps_a, reps_b, preds, resamples)
    if issues:
        verdict = "incomparable"  # say so first; the noise test and the recomputation stay in the report

    sigma = noise.sigma
    causes = _causes(a, b, name, fa, fb, peers, factors, sigma, delta)
    unexplained = _unexplained(delta, causes)
    div = _divergence(a, b, name, sigma)
    flip = _flips(a, b, name, preds)
    suggestions = _suggestions(a, b, name, causes, reps_a, reps_b, verdict, preds)
    direction = _direction(delta, goal, verdict)
    summary = _summary(name, va, vb, delta, relative, direction, verdict, issues, causes, noise, recomputed)
    return Explanation(
        metric=name,
        goal=goal,
        a=a.id,
        b=b.id,
        value_a=va,
        value_b=vb,
        delta=delta,
        relative_delta=relative,
        direction=direction,
        comparable=not issues,
        comparability_issues=tuple(issues),
        verdict=verdict,
        noise=noise,
        causes=tuple(causes),
        unexplained=unexplained,
        divergence_step=div,
        flips=flip,
        recomputed=recomputed,
        suggestions=tuple(suggestions),
        summary=summary,
    )


def default_metric(a: Run, b: Run, declared: str | None = None) -> str:
    """The sweep's metric, else the first defined metric both share, else the first shared validation metric."""
    shared = [m for m in a.metrics.final if m in b.metrics.final]
    if not shared:
        raise ExplainError(f"{a.id} and {b.id} share no final metric")
    if declared in shared:
        return declared  # type: ignore[return-value]
    defined = [m for m in shared if m in a.metrics.definitions or m in b.metrics.definitions]
    for candidates in (defined, shared):
        for prefix in ("val", "test", "eval", ""):
            for m in candidates:
                if m.lower().startswith(prefix) and "loss" not in m.lower() and metric_goal(m) is not None:
                    return m
    return shared[0]


def _sweep_metric(catalog: Catalog, a: Run, b: Run) -> tuple[str | None, Any]:
    for run in (b, a):
        if run.sweep:
            try:
                sweep = catalog.get(run.sweep)
            except Exception:  # noqa: BLE001 - a missing sweep only loses a default
                continue
            if isinstance(sweep, Sweep) and sweep.metric:
                return sweep.metric, sweep.goal
    return None, None


# -- (1) comparability ----------------------------------------------------------------------


def comparability(a: Run, b: Run, metric: str) -> list[Issue]:
    """Reasons the two values of ``metric`` cannot be compared directly."""
    issues: list[Issue] = []
    da, db = a.metrics.definitions.get(metric), b.metrics.definitions.get(metric)
    if da is not None and db is not None:
        if da.version != db.version and (da.version or db.version):
            issues.append(Issue("metric_definition", f"{metric}.version", f"metric definition changed: version {da.version} → {db.version}"))
        if da.threshold != db.threshold:
            issues.append(Issue("metric_definition", f"{metric}.threshold", f"threshold changed: {format_number(da.threshold)} → {format_number(db.threshold)}"))
        elif da.text and db.text and da.text.strip() != db.text.strip() and da.version == db.version:
            issues.append(Issue("metric_definition", f"{metric}.text", "definition text differs although the version is the same"))
    split = eval_split_name(a, b, metric)
    if split is not None:
        sa, sb = a.split(split), b.split(split)
        if sa is not None and sb is not None and sa.sha256 != sb.sha256:
            issues.append(Issue("splits", split, f"evaluated on different {split} ids ({sa.count:,} vs {sb.count:,}, different hash)"))
    data_a = (a.data.name, a.data.version, tuple(sorted(a.data.hashes.items())))
    data_b = (b.data.name, b.data.version, tuple(sorted(b.data.hashes.items())))
    if any(x for x in data_a) and any(x for x in data_b) and data_a != data_b:
        va = " ".join(str(x) for x in (a.data.name, a.data.version) if x) or "snapshot A"
        vb = " ".join(str(x) for x in (b.data.name, b.data.version) if x) or "snapshot B"
        issues.append(Issue("data", "snapshot", f"evaluation data snapshot differs: {va} → {vb}"))
    return issues


def eval_split_name(a: Run, b: Run, metric: str) -> str | None:
    """The split the metric was computed on: the metric's prefix (``val_auc`` → val), else the usual names."""
    names = {s.name for s in a.splits} & {s.name for s in b.splits}
    prefix = metric.lower().split("_", 1)[0].split(".", 1)[0]
    if prefix in names:
        return prefix
    for name in EVAL_SPLITS:
        if name in names and (prefix == name or prefix in ("val", "valid", "validation", "dev") and name in ("val", "valid", "validation", "dev")):
            return name
    return next((n for n in EVAL_SPLITS if n in names), None)


# -- predictions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Aligned:
    ids: Sequence[str]
    labels: Any
    scores_a: Any
    scores_b: Any
    threshold_a: float | None
    threshold_b: float | None
    only_a: int
    only_b: int


def _predictions(root: Path, a: Run, b: Run, metric: str) -> _Aligned | None:
    pa, pb = _pick_predictions(root, a, metric), _pick_predictions(root, b, metric)
    if pa is None or pb is None or pa.scores is None or pb.scores is None:
        return None
    al = align(pa, pb)
    if len(al) == 0 or al.scores_a is None or al.scores_b is None or al.classes is not None:
        return None
    da, db = a.metrics.definitions.get(metric), b.metrics.definitions.get(metric)
    return _Aligned(al.ids, al.labels, al.scores_a, al.scores_b, da.threshold if da else None, db.threshold if db else None, al.only_a, al.only_b)


def _pick_predictions(root: Path, run: Run, metric: str) -> Predictions | None:
    paths = find_predictions(Path(run.path))
    if not paths:
        return None
    split = metric.lower().split("_", 1)[0]
    path = next((p for p in paths if split in p.name.lower()), paths[0])
    ctx = ReadContext(root)
    try:
        return read_predictions(path, ctx)
    except Exception:  # noqa: BLE001 - unreadable predictions only lose this evidence
        return None


def _recompute(a: Run, b: Run, metric: str, p: _Aligned) -> dict[str, Any] | None:
    """The metric recomputed on the examples both runs predicted, under each run's definition."""
    thresholds = {t for t in (p.threshold_a, p.threshold_b)}
    out: dict[str, Any] = {"common_ids": len(p.ids), "only_a": p.only_a, "only_b": p.only_b, "by_threshold": []}
    for threshold in sorted(thresholds, key=lambda t: (t is None, t or 0.0)):
        ma = stats.compute_metric(metric, p.labels, p.scores_a, threshold)
        mb = stats.compute_metric(metric, p.labels, p.scores_b, threshold)
        if ma is None or mb is None:
            return None
        out["by_threshold"].append({"threshold": threshold, "a": ma, "b": mb, "delta": mb - ma})
    return out


# -- (2) noise -------------------------------------------------------------------------------


def _peers(catalog: Catalog, a: Run, b: Run, metric: str) -> list[Run]:
    """Runs of A's and B's projects that recorded the metric (A and B first)."""
    ids: list[str] = []
    for project in dict.fromkeys((a.project, b.project)):
        ids += catalog.ids(kind="run", filters=[parse_filter(f"project={project}"), parse_filter(f"metrics.{metric}>-1e308")])
    ids = [i for i in dict.fromkeys(ids) if i not in (a.id, b.id)][: MAX_PEERS - 2]
    out: list[Run] = [a, b]
    for rid in ids:
        record = catalog.get(rid)
        if isinstance(record, Run):
            out.append(record)
    return out


def _replicates(run: Run, peers: Sequence[Run], factors: Mapping[str, Mapping[str, Factor]], metric: str) -> list[Run]:
    """Runs identical to ``run`` in everything but seeds (``run`` itself first)."""
    mine = factors[run.id]
    same = [run]
    for peer in peers:
        if peer.id != run.id and metric in peer.metrics.final and not differing(mine, factors[peer.id], ignore=frozenset({SEEDS})):
            same.append(peer)
    return same


def _values(runs: Iterable[Run], metric: str) -> list[float]:
    return [float(r.metrics.final[metric]) for r in runs if math.isfinite(float(r.metrics.final[metric]))]


def _noise(
    a: Run, b: Run, metric: str, delta: float, reps_a: list[Run], reps_b: list[Run], preds: _Aligned | None, resamples: int
) -> tuple[Noise, Verdict]:
    """Seed replicates first; else predictions on the same examples; else undetermined."""
    ids_a = tuple(r.id for r in reps_a)
    ids_b = tuple(r.id for r in reps_b)
    same_setting = a.id in ids_b
    vals_a, vals_b = _values(reps_a, metric), _values(reps_b, metric)
    if same_setting:  # A and B are replicates of each other: the difference is seed noise by construction
        values = vals_a
        sigma = stats.seed_noise(values) if len(values) >= 2 else None
        p = stats.singleton_check(delta, sigma).p_value if sigma else None
        return Noise("replicates", sigma, None, p, ids_a, ids_b, {"note": "A and B differ only in seeds"}), "noise"
    if len(vals_a) >= 2 and len(vals_b) >= 2:
        w = stats.welch_test(vals_a, vals_b)
        sigma = _pooled_sigma(vals_a, vals_b)
        verdict: Verdict = "real" if w.p_value < ALPHA else "noise"
        return Noise("welch", sigma, None, w.p_value, ids_a, ids_b, {"t": w.t, "df": w.df, "mean_a": w.mean_a, "mean_b": w.mean_b}), verdict
    if len(vals_a) >= 2 or len(vals_b) >= 2:
        sigma = _pooled_sigma(vals_a, vals_b)
        s = stats.singleton_check(delta, sigma)
        verdict = "real" if s.p_value < ALPHA else "noise"
        return Noise("singleton", sigma, None, s.p_value, ids_a, ids_b, {"z": s.z, "band": 2 * math.sqrt(2) * sigma}), verdict
    if preds is not None and len(preds.ids) >= 30:
        threshold = preds.threshold_b if preds.threshold_b is not None else preds.threshold_a
        m = stats.metric_for(metric, threshold)
        canonical = stats.canonical_metric(metric)
        if m is not None and canonical == "auc" and len(preds.ids) > BOOTSTRAP_AUC_MAX:
            # A 10,000-resample AUC bootstrap costs ~12 CPU-seconds at 100k examples; DeLong's test
            # answers the same question exactly in a tenth of a second, so it stands alone here.
            d = stats.delong_test(preds.labels, preds.scores_a, preds.scores_b)
            detail = {"delong_p": d.p_value, "delong_z": d.z, "common_ids": len(preds.ids), "bootstrap": "skipped (large n)"}
            return Noise("delong", None, (d.ci_low, d.ci_high), d.p_value, ids_a, ids_b, detail), "real" if d.p_value < ALPHA else "noise"
        if m is not None:
            boot = stats.paired_bootstrap(preds.labels, preds.scores_a, preds.scores_b, m, n_resamples=resamples, seed=0)
            detail: dict[str, Any] = {"bootstrap_p": boot.p_value, "n_resamples": boot.n_resamples, "common_ids": len(preds.ids)}
            method, p = "bootstrap", boot.p_value
            if canonical == "auc":
                d = stats.delong_test(preds.labels, preds.scores_a, preds.scores_b)
                detail.update({"delong_p": d.p_value, "delong_z": d.z})
                method, p = "delong", d.p_value
            elif stats.canonical_metric(metric) in ("accuracy",) and threshold is not None:
                mc = stats.mcnemar_test(preds.labels, preds.scores_a >= threshold, preds.scores_b >= threshold)
                detail.update({"mcnemar_p": mc.p_value})
                method, p = "mcnemar", mc.p_value
            verdict = "real" if p < ALPHA else "noise"
            return Noise(method, None, (boot.ci_low, boot.ci_high), p, ids_a, ids_b, detail), verdict
    return Noise("none", None, None, None, ids_a, ids_b), "undetermined"


def _pooled_sigma(vals_a: Sequence[float], vals_b: Sequence[float]) -> float:
    """Seed standard deviation pooled over the replicate groups that have two or more runs."""
    groups = [v for v in (vals_a, vals_b) if len(v) >= 2]
    num = sum((len(v) - 1) * stats.seed_noise(v) ** 2 for v in groups)
    den = sum(len(v) - 1 for v in groups)
    return math.sqrt(num / den) if den else float("nan")


# -- (3) causes ----------------------------------------------------------------------------


def _causes(
    a: Run,
    b: Run,
    metric: str,
    fa: Mapping[str, Factor],
    fb: Mapping[str, Factor],
    peers: Sequence[Run],
    factors: Mapping[str, Mapping[str, Factor]],
    sigma: float | None,
    delta: float,
) -> list[Cause]:
    """Every differing factor with the pairs of runs that isolate it, ranked by the evidence.

    The pair (A, B) itself is not evidence for its own explanation.
    """
    names = differing(fa, fb)
    causes: list[Cause] = []
    for name in names:
        section, path, va, vb = describe(name, fa, fb)
        evidence = [e for e in _isolating_pairs(name, fa, fb, peers, factors, metric) if (e.run_a, e.run_b) != (a.id, b.id)]
        effect = sum(e.delta for e in evidence) / len(evidence) if evidence else None
        confidence, note = _confidence(name, evidence, effect, sigma, fa, fb)
        causes.append(Cause(section, path, va, vb, tuple(evidence[:6]), effect, confidence, note))
    order = {"high": 0, "medium": 1, "low": 2, "none": 3}
    causes.sort(key=lambda c: (order[c.confidence], -(abs(c.estimated_effect) if c.estimated_effect is not None else 0.0), c.section == "seeds", c.path))
    return causes


def _isolating_pairs(
    name: str,
    fa: Mapping[str, Factor],
    fb: Mapping[str, Factor],
    peers: Sequence[Run],
    factors: Mapping[str, Mapping[str, Factor]],
    metric: str,
) -> list[Evidence]:
    """Pairs (X like A, Y like B in this factor) that differ in nothing else but seeds, else in one other factor.

    Exact pairs are found by grouping runs on all their other factors (linear in the
    number of runs); the pairwise scan for near pairs runs only when there is none.
    """
    value_a = fa[name].value if name in fa else None
    value_b = fb[name].value if name in fb else None
    side_a = [r for r in peers if _val(factors[r.id], name) == value_a]
    side_b = [r for r in peers if _val(factors[r.id], name) == value_b]
    ignore = frozenset({name, SEEDS}) if name != SEEDS else frozenset({SEEDS})
    names = sorted({n for r in (*side_a, *side_b) for n in factors[r.id]} - ignore)

    def rest(run: Run) -> tuple[str | None, ...]:
        return tuple(_val(factors[run.id], n) for n in names)

    by_rest: dict[tuple[str | None, ...], list[Run]] = {}
    for x in side_a:
        by_rest.setdefault(rest(x), []).append(x)
    exact = [
        Evidence(x.id, y.id, _delta(x, y, metric))
        for y in side_b
        for x in by_rest.get(rest(y), ())
        if x.id != y.id  # equal tuples: every other factor matches (or is unrecorded in both)
    ]
    if exact or name == SEEDS:  # a seed effect is measured only between otherwise identical runs
        return exact
    if len(side_a) * len(side_b) > NEAR_PAIR_LIMIT:
        return []
    near = []
    for x in side_a:
        for y in side_b:
            if x.id != y.id:
                others = differing(factors[x.id], factors[y.id], ignore=ignore, unknown_differs=True)
                if len(others) <= 1:
                    near.append(Evidence(x.id, y.id, _delta(x, y, metric), tuple(others)))
    return near


def _delta(x: Run, y: Run, metric: str) -> float:
    return float(y.metrics.final[metric]) - float(x.metrics.final[metric])


def _val(factors: Mapping[str, Factor], name: str) -> str | None:
    f = factors.get(name)
    return f.value if f else None


def _confidence(
    name: str, evidence: Sequence[Evidence], effect: float | None, sigma: float | None, fa: Mapping[str, Factor], fb: Mapping[str, Factor]
) -> tuple[Literal["high", "medium", "low", "none"], str]:
    if name == SEEDS:
        if effect is not None and sigma:
            return "low", "seed-only pairs show run-to-run noise of this size"
        return "low", "seeds change results only by noise; replicates measure how much"
    if not evidence or effect is None:
        note = "no run isolates this difference"
        if name == PACKAGES and _patch_only(fa, fb):
            return "low", note + "; patch-level upgrades rarely change results"
        return "none", note
    clean = all(not e.other_differences for e in evidence)
    band = 2 * math.sqrt(2) * sigma if sigma and math.isfinite(sigma) else None
    if band is not None and abs(effect) <= band:
        return "low", f"isolating runs show an effect within seed noise (±{format_number(band)})"
    if clean and (len(evidence) >= 2 or band is not None):
        return "high", ""
    return "medium", "" if clean else "isolating runs also differ in one other factor"


def _patch_only(fa: Mapping[str, Factor], fb: Mapping[str, Factor]) -> bool:
    import json

    pa = json.loads(fa[PACKAGES].value) if fa.get(PACKAGES) and fa[PACKAGES].value else {}
    pb = json.loads(fb[PACKAGES].value) if fb.get(PACKAGES) and fb[PACKAGES].value else {}
    changed = [k for k in set(pa) | set(pb) if pa.get(k) != pb.get(k)]
    return bool(changed) and all(k in pa and k in pb and compare_versions(pa[k], pb[k]).level in ("patch", "local", "pre") for k in changed)


def _unexplained(delta: float, causes: Sequence[Cause]) -> float | None:
    """Δ minus the effects of cleanly isolated causes (or of the single best-supported one).

    Causes supported only by pairs that also differ elsewhere are confounded with
    each other, so their effects are not added up.
    """
    clean = [c.estimated_effect for c in causes if c.confidence == "high" and c.estimated_effect is not None]
    if clean:
        return delta - sum(clean)
    best = next((c for c in causes if c.confidence == "medium" and c.estimated_effect is not None), None)
    return delta - best.estimated_effect if best is not None and best.estimated_effect is not None else None


# -- (4) when, (5) which examples ------------------------------------------------------------------


def _divergence(a: Run, b: Run, metric: str, sigma: float | None) -> float | None:
    sa, sb = a.metrics.series.get(metric), b.metrics.series.get(metric)
    if not sa or not sb:
        return None
    band = 2 * sigma if sigma and math.isfinite(sigma) else _series_band(sa, sb)
    return stats.divergence_step(sa, sb, band)


def _series_band(sa: Sequence[tuple[float, float]], sb: Sequence[tuple[float, float]]) -> float:
    """Without replicates: twice the typical step-to-step wobble of the curves' last third."""
    wobble = []
    for s in (sa, sb):
        tail = [v for _, v in s[len(s) * 2 // 3 :] if math.isfinite(v)]
        wobble += [abs(x - y) for x, y in zip(tail, tail[1:])]
    return 2 * (sorted(wobble)[len(wobble) // 2] if wobble else 0.0)


def _flips(a: Run, b: Run, metric: str, preds: _Aligned | None) -> dict[str, Any] | None:
    if preds is None:
        return None
    threshold = preds.threshold_b if preds.threshold_b is not None else preds.threshold_a
    if threshold is None:
        threshold = 0.5
    f = stats.flips(preds.ids, preds.labels, preds.scores_a, preds.scores_b, threshold)
    return {
        "threshold": threshold,
        "positive_to_negative": f.positive_to_negative,
        "negative_to_positive": f.negative_to_positive,
        "fixed": f.fixed,
        "broken": f.broken,
        "mean_score_shift_of_flipped": f.mean_score_shift_of_flipped,
        "examples": f.examples,
    }


# -- wording --------------------------------------------------------------------------------------


def _direction(delta: float, goal: Goal | None, verdict: Verdict) -> Direction:
    if delta == 0 or goal is None or verdict in ("noise",):
        return "none"
    better = delta > 0 if goal == "max" else delta < 0
    return "improvement" if better else "regression"


def _suggestions(a: Run, b: Run, metric: str, causes: Sequence[Cause], reps_a: Sequence[Run], reps_b: Sequence[Run], verdict: Verdict, preds: _Aligned | None) -> list[str]:
    out: list[str] = []
    if verdict == "undetermined":
        if len(reps_a) < 3:
            out.append(f"Run {3 - len(reps_a)} more seed{'s' if 3 - len(reps_a) != 1 else ''} of A ({a.name}) to measure seed noise.")
        if len(reps_b) < 2:
            out.append(f"Run 1 more seed of B ({b.name}).")
        if preds is None:
            out.append("Save per-example predictions (id, label, score) in both runs to test the change on the same examples.")
    for cause in causes:
        if cause.confidence == "none" and cause.section != "seeds":
            out.append(f"To isolate {cause.section} {cause.path}: run A's setup with only {cause.path} set to B's value ({_short(cause.b)}), 2 seeds.")
    return out


def _short(value: Any) -> str:
    return clip(str(value), 40)


def _summary(
    metric: str,
    va: float,
    vb: float,
    delta: float,
    relative: float | None,
    direction: Direction,
    verdict: Verdict,
    issues: Sequence[Issue],
    causes: Sequence[Cause],
    noise: Noise,
    recomputed: Mapping[str, Any] | None = None,
) -> str:
    recomputed_words = _recomputed_words(metric, recomputed)
    rel = f" ({relative * 100:+.2f}%)" if relative is not None else ""
    move = f"{metric} went from {format_number(va)} to {format_number(vb)}{rel}"
    if verdict == "incomparable":
        text = f"{move}, but the two numbers are not comparable: {'; '.join(i.message for i in issues)}"
        return text + (f". {recomputed_words}" if recomputed_words else ".")
    if verdict == "noise":
        return f"{move}: within run-to-run noise ({_noise_words(noise)}), not a real change."
    if verdict == "undetermined":
        return f"{move}; noise cannot be ruled out: no replicate runs and no shared predictions."
    top = next((c for c in causes if c.confidence in ("high", "medium")), None)
    kind = "a real regression" if direction == "regression" else "a real improvement" if direction == "improvement" else "a real change"
    why = ""
    if top is not None and top.estimated_effect is not None:
        why = f"; most likely cause: {top.section} {top.path} ({_short(top.a)} → {_short(top.b)}), which alone moves it by {format_number(top.estimated_effect)} in other runs"
    return f"{move}: {kind} ({_noise_words(noise)}){why}."


def _recomputed_words(metric: str, recomputed: Mapping[str, Any] | None) -> str:
    """``Under one definition, on the 3,000 common examples: Δ 0 at threshold 0.4 ...``."""
    if not recomputed or not recomputed.get("by_threshold"):
        return ""
    parts = []
    for r in recomputed["by_threshold"]:
        at = f" at threshold {format_number(r['threshold'])}" if r["threshold"] is not None else ""
        parts.append(f"Δ {format_number(r['delta'])}{at}")
    same = all(abs(r["delta"]) < 1e-12 for r in recomputed["by_threshold"])
    tail = " — the change comes from how the metric was computed, not from the model" if same else ""
    return f"Recomputed under one definition on the {recomputed['common_ids']:,} examples both runs predicted: {', '.join(parts)}{tail}"


def _noise_words(noise: Noise) -> str:
    p = f"p={noise.p_value:.3g}" if noise.p_value is not None else ""
    if noise.method == "welch":
        return f"Welch's t-test over {len(noise.replicates_a)}+{len(noise.replicates_b)} seed replicates, {p}"
    if noise.method == "singleton":
        return f"seed σ={format_number(noise.sigma)} from replicates, {p}"
    if noise.method in ("bootstrap", "delong", "mcnemar"):
        name = {"bootstrap": "paired bootstrap", "delong": "DeLong's test", "mcnemar": "McNemar's test"}[noise.method]
        return f"{name} on the same examples, {p}"
    if noise.method == "replicates":
        return "A and B differ only in seeds"
    return "no noise estimate"
