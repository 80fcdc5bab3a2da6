"""Is the change bigger than noise, and which noise: seed replicates, the evaluation sample, or both.

Seed noise is what another training seed does; it is measured by *replicates*, runs whose
recorded setup is the same and whose seeds differ. Evaluation-sample noise is what another draw
of evaluation examples does; DeLong's test, the paired bootstrap and McNemar's test measure it
from per-example predictions. A verdict names the noise it rules out (``Noise.kind``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import stats
from ..factors import SEEDS, Factor, setup_key, value
from ..records import Run
from .evidence import Aligned
from .model import ALPHA, Noise, NoiseKind, Verdict

MIN_PREDICTIONS = 30
"""Fewest shared examples for a test on predictions."""
BOOTSTRAP_WORK = 2_000_000_000
"""Examples x resamples one bootstrap may cost (~2 s): past it, fewer resamples (never under
:data:`BOOTSTRAP_MIN_RESAMPLES`), said in ``n_resamples``. Two 2M-row files took 22 s at 10,000."""
BOOTSTRAP_MIN_RESAMPLES = 1_000
BOOTSTRAP_AUC_MAX = 20_000
"""Above this many shared examples an AUC change is tested with DeLong alone (the bootstrap costs ~12 s at 100k)."""


@dataclass(frozen=True, slots=True)
class SeedNoise:
    """Seed σ pooled over every replicate group of the project, with its degrees of freedom."""

    sigma: float | None
    df: int
    floor: float


@dataclass(frozen=True, slots=True)
class EvalTest:
    """A test of the change on the examples both runs predicted: evaluation-sample noise only."""

    method: str
    p_value: float
    se: float | None
    """Standard error of Δ over evaluation samples (None for McNemar without a bootstrap)."""
    ci: tuple[float, float] | None
    detail: Mapping[str, Any] = field(default_factory=dict)


def replicate_groups(peers: Sequence[Run], factors: Mapping[str, Mapping[str, Factor]]) -> list[list[Run]]:
    """Runs with the same recorded setup, one run per distinct seeds; runs without positive evidence stand alone."""
    by_key: dict[Any, dict[str | None, Run]] = {}
    for run in peers:
        key = setup_key(factors[run.id])
        by_seeds = by_key.setdefault(key if key is not None else ("alone", run.id), {})
        by_seeds.setdefault(value(factors[run.id], SEEDS), run)
    return [list(group.values()) for group in by_key.values()]


def replicates_of(run: Run, groups: Sequence[list[Run]], factors: Mapping[str, Mapping[str, Factor]]) -> list[Run]:
    """``run`` first, then the runs of its group whose seeds differ from its own."""
    key = setup_key(factors[run.id])
    if key is None:
        return [run]
    seeds = value(factors[run.id], SEEDS)
    group = next((g for g in groups if g and setup_key(factors[g[0].id]) == key), [])
    return [run, *(r for r in group if value(factors[r.id], SEEDS) != seeds)]


def values(runs: Sequence[Run], metric: str) -> list[float]:
    """The finite final values of ``metric`` in ``runs``."""
    return [v for v in (float(r.metrics.final[metric]) for r in runs if metric in r.metrics.final) if math.isfinite(v)]


def pooled_seed_noise(groups: Sequence[list[Run]], metric: str) -> SeedNoise:
    """σ pooled over the replicate groups with two or more runs (floored at the recorded precision)."""
    value_lists = [values(group, metric) for group in groups]
    sigma, df = _pool(value_lists)
    floor = stats.precision_floor([v for vals in value_lists for v in vals])
    return SeedNoise(max(sigma, floor) if df else None, df, floor)


def evaluation_test(metric: str, preds: Aligned | None, resamples: int, *, interval: bool = True) -> EvalTest | str | None:
    """The evaluation-sample test on shared predictions; a reason string when it cannot be run; None without predictions.

    ``interval=False`` skips the paired bootstrap where DeLong's test answers alone (AUC): for a
    report beside a verdict that replicates decide, its interval is not worth ~1.7 s at 20k examples.
    """
    if preds is None:
        return None
    if len(preds.ids) < MIN_PREDICTIONS:
        return f"only {len(preds.ids)} shared examples (a test needs {MIN_PREDICTIONS})"
    m = stats.metric_for(metric, preds.threshold)
    if m is None:
        return None
    canonical = stats.canonical_metric(metric)
    detail: dict[str, Any] = {"common_ids": len(preds.ids)}
    try:
        if canonical == "auc":
            d = stats.delong_test(preds.labels, preds.scores_a, preds.scores_b)
            detail.update({"delong_p": d.p_value, "delong_z": d.z, "delong_se": d.se})
            if len(preds.ids) > BOOTSTRAP_AUC_MAX or not interval:
                detail["bootstrap"] = "skipped (large n)" if interval else "skipped (replicates decide)"
                return EvalTest("delong", d.p_value, d.se, (d.ci_low, d.ci_high), detail)
        affordable = max(BOOTSTRAP_MIN_RESAMPLES, BOOTSTRAP_WORK // len(preds.ids))
        boot = stats.paired_bootstrap(preds.labels, preds.scores_a, preds.scores_b, m, n_resamples=min(resamples, affordable), seed=0)
    except ValueError as exc:  # e.g. DeLong with fewer than 2 positives: say so, never guess
        return str(exc)
    detail.update({"bootstrap_p": boot.p_value, "n_resamples": boot.n_resamples})
    if canonical == "auc":
        return EvalTest("delong", detail["delong_p"], detail["delong_se"], (boot.ci_low, boot.ci_high), detail)
    if canonical == "accuracy" and preds.threshold is not None:
        mc = stats.mcnemar_test(preds.labels, preds.scores_a >= preds.threshold, preds.scores_b >= preds.threshold)
        detail["mcnemar_p"] = mc.p_value
        return EvalTest("mcnemar", mc.p_value, boot.se, (boot.ci_low, boot.ci_high), detail)
    return EvalTest("bootstrap", boot.p_value, boot.se, (boot.ci_low, boot.ci_high), detail)


def noise_test(a: Run, b: Run, metric: str, reps_a: list[Run], reps_b: list[Run], ev: EvalTest | str | None) -> tuple[Noise, Verdict]:
    """Replicates on both sides (Welch), on one side (prediction interval), predictions alone, else undetermined."""
    ids_a, ids_b = tuple(r.id for r in reps_a), tuple(r.id for r in reps_b)
    vals_a, vals_b = values(reps_a, metric), values(reps_b, metric)
    floor = stats.precision_floor([*vals_a, *vals_b])
    eval_detail = _eval_detail(ev)
    if b.id in ids_a:  # positive evidence that A and B differ only in seeds
        sigma = stats.seed_noise(vals_a) if len(vals_a) >= 2 else None
        return Noise("replicates", sigma, None, None, ids_a, ids_b, {"note": "A and B differ only in seeds", **eval_detail}, "seed"), "noise"
    if len(vals_a) >= 2 and len(vals_b) >= 2:
        w = stats.welch_test(vals_a, vals_b, floor=floor)
        detail = {"t": w.t, "df": w.df, "mean_a": w.mean_a, "mean_b": w.mean_b, "sigma_floor": floor, **eval_detail}
        return Noise("welch", _pooled(vals_a, vals_b), (w.ci_low, w.ci_high), w.p_value, ids_a, ids_b, detail, "seed"), _verdict(w.p_value)
    if len(vals_a) >= 2 or len(vals_b) >= 2:
        extra = ev.se**2 if isinstance(ev, EvalTest) and ev.se is not None else 0.0
        if len(vals_a) >= 2:
            r = stats.prediction_interval_test(float(b.metrics.final[metric]), vals_a, floor=floor, extra_var=extra)
            tested, ci = r.delta, (r.ci_low, r.ci_high)
        else:  # B's replicates against the single run A, turned back to B - A
            r = stats.prediction_interval_test(float(a.metrics.final[metric]), vals_b, floor=floor, extra_var=extra)
            tested, ci = -r.delta, (-r.ci_high, -r.ci_low)
        detail = {"t": r.t if len(vals_a) >= 2 else -r.t, "df": r.df, "delta_tested": tested, "k": max(len(vals_a), len(vals_b)), "sigma_floor": floor, **eval_detail}
        kind: NoiseKind = "both" if extra else "seed"
        return Noise("prediction_interval", _pooled(vals_a, vals_b), ci, r.p_value, ids_a, ids_b, detail, kind), _verdict(r.p_value)
    if isinstance(ev, EvalTest):
        return Noise(ev.method, None, ev.ci, ev.p_value, ids_a, ids_b, dict(ev.detail), "evaluation_sample"), _verdict(ev.p_value)
    reason = ev if isinstance(ev, str) else "no replicate runs with the same recorded setup and no shared predictions"
    return Noise("none", None, None, None, ids_a, ids_b, {"reason": reason}), "undetermined"


def _verdict(p: float) -> Verdict:
    return "real" if p < ALPHA else "noise"


def _eval_detail(ev: EvalTest | str | None) -> dict[str, Any]:
    """The evaluation-sample test, reported beside a seed-noise verdict."""
    if isinstance(ev, EvalTest):
        return {"evaluation_sample": {"method": ev.method, "p_value": ev.p_value, "se": ev.se, "ci": list(ev.ci) if ev.ci else None, **ev.detail}}
    if isinstance(ev, str):
        return {"evaluation_sample": {"method": "none", "reason": ev}}
    return {}


def _pooled(vals_a: Sequence[float], vals_b: Sequence[float]) -> float:
    """Seed standard deviation pooled over A's and B's replicates (nan when neither has two)."""
    sigma, df = _pool([vals_a, vals_b])
    return sigma if df else math.nan


def _pool(value_lists: Sequence[Sequence[float]]) -> tuple[float, int]:
    """(σ pooled over the lists with two or more values, its degrees of freedom); (0, 0) when none has two."""
    groups = [v for v in value_lists if len(v) >= 2]
    df = sum(len(v) - 1 for v in groups)
    num = math.fsum((len(v) - 1) * stats.seed_noise(v) ** 2 for v in groups)
    return (math.sqrt(num / df) if df else 0.0), df
