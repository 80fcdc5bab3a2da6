"""Explain a metric change between two runs: comparable or not, real or noise, and why.

The answer is built from evidence in the catalog, in the order a careful colleague would
check: (1) can the two numbers be compared at all (:mod:`.comparable`), (2) is the change
bigger than noise, and which noise (:mod:`.noise`), (3) which differences between the runs
other runs isolate, tested against that noise (:mod:`.causes`), (4) when the curves separated
and (5) which examples flipped (:mod:`.evidence`). A factor a run does not record is unknown,
never the same; the summary (:mod:`.words`) says only what the tests showed.
"""

from __future__ import annotations

import math
from typing import Any

from ..backend import Backend
from ..factors import run_factors, unrecorded
from ..goals import Goal, metric_goal
from ..query import parse_filter
from ..records import Run, Sweep
from . import words
from .causes import causes as find_causes
from .causes import unexplained as unexplained_by
from .comparable import UNFINISHED, comparability, eval_split_name
from .evidence import divergence, flips, predictions, recompute
from .model import (
    ALPHA,
    Cause,
    Direction,
    Evidence,
    ExplainError,
    Explanation,
    Issue,
    Noise,
    NoiseKind,
    Verdict,
)
from .noise import evaluation_test, noise_test, pooled_seed_noise, replicate_groups, replicates_of

MAX_PEERS = 5_000
"""Most runs of the same project(s) examined for replicates and isolating pairs."""

__all__ = [
    "ALPHA",
    "Cause",
    "Direction",
    "Evidence",
    "ExplainError",
    "Explanation",
    "Issue",
    "Noise",
    "NoiseKind",
    "Verdict",
    "comparability",
    "default_metric",
    "eval_split_name",
    "explain",
]


def explain(catalog: Backend, a_id: str, b_id: str, metric: str | None = None, *, resamples: int = 10_000) -> Explanation:
    """Explain how ``metric`` moved from run A to run B, with evidence from the whole catalog."""
    a, b = catalog.get(a_id), catalog.get(b_id)
    if not isinstance(a, Run) or not isinstance(b, Run):
        raise ExplainError("explain compares two runs")
    declared_metric, declared_goal = _sweep_metric(catalog, a, b)
    name = metric or default_metric(a, b, declared_metric)
    if name not in a.metrics.final or name not in b.metrics.final:
        lacking = [r.id for r in (a, b) if name not in r.metrics.final]
        shared = sorted(set(a.metrics.final) & set(b.metrics.final))
        raise ExplainError(f"metric {name!r} is not recorded in {', '.join(lacking)}; shared metrics: {', '.join(shared) or 'none'}")
    definition = b.metrics.definitions.get(name) or a.metrics.definitions.get(name)
    goal = metric_goal(name, definition, declared_goal if name == declared_metric else None)
    va, vb = float(a.metrics.final[name]), float(b.metrics.final[name])
    delta = vb - va
    relative = delta / abs(va) if va != 0.0 and math.isfinite(va) else None

    issues, warnings = comparability(a, b, name)
    preds = predictions(catalog.root, a, b, name)
    recomputed = recompute(name, preds) if preds is not None else None

    peers = _peers(catalog, a, b, name)
    factors = {r.id: run_factors(r, name) for r in peers}
    fa, fb = factors[a.id], factors[b.id]
    groups = replicate_groups(peers, factors)
    seed = pooled_seed_noise(groups, name)
    reps_a, reps_b = replicates_of(a, groups, factors), replicates_of(b, groups, factors)
    both_sides = len(reps_a) >= 2 and len(reps_b) >= 2  # Welch decides; the evaluation test is only reported
    noise, verdict = noise_test(a, b, name, reps_a, reps_b, evaluation_test(name, preds, resamples, interval=not both_sides))
    if issues:
        verdict = "incomparable"  # said first; the noise test's figures stay in the report

    found = find_causes(a, b, name, peers, factors, seed)
    rest = unexplained_by(delta, found)
    unknown = tuple(unrecorded(fa, fb))
    missing = words.unrecorded_words(unknown, fa, fb)
    direction = _direction(delta, goal, verdict)
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
        comparable=False if issues else None if warnings else True,
        comparability_issues=tuple(issues),
        comparability_warnings=tuple(warnings),
        verdict=verdict,
        noise=noise,
        causes=tuple(found),
        unexplained=rest,
        divergence_step=divergence(a, b, name, noise.sigma if noise.kind != "evaluation_sample" else seed.sigma),
        flips=flips(preds),
        recomputed=recomputed,
        suggestions=tuple(words.suggestions(a, b, found, reps_a, reps_b, verdict, noise, preds is not None, missing)),
        summary=words.summary(name, va, vb, relative, direction, verdict, issues, warnings, found, noise, recomputed, rest, delta, missing),
        unrecorded=unknown,
    )


def default_metric(a: Run, b: Run, declared: str | None = None) -> str:
    """The sweep's metric, else the first defined metric both share, else the first shared validation metric."""
    shared = [m for m in a.metrics.final if m in b.metrics.final]
    if not shared:
        raise ExplainError(f"{a.id} and {b.id} share no final metric")
    if declared is not None and declared in shared:
        return declared
    defined = [m for m in shared if m in a.metrics.definitions or m in b.metrics.definitions]
    for candidates in (defined, shared):
        for prefix in ("val", "test", "eval", ""):
            for m in candidates:
                if m.lower().startswith(prefix) and "loss" not in m.lower() and metric_goal(m) is not None:
                    return m
    return shared[0]


def _sweep_metric(catalog: Backend, a: Run, b: Run) -> tuple[str | None, Any]:
    for run in (b, a):
        if run.sweep:
            try:
                sweep = catalog.get(run.sweep)
            except Exception:
                continue
            if isinstance(sweep, Sweep) and sweep.metric:
                return sweep.metric, sweep.goal
    return None, None


def _peers(catalog: Backend, a: Run, b: Run, metric: str) -> list[Run]:
    """Runs of A's and B's projects that recorded the metric (A and B first).

    Other runs that failed or did not finish are left out: their values may be from mid-training, so
    they would pass for seed replicates or isolating runs and bend σ and the causes.
    """
    ids: list[str] = []
    for project in dict.fromkeys((a.project, b.project)):
        rows = catalog.list(  # the first MAX_PEERS by id are enough: A and B are at most two of them
            kind="run",
            filters=[parse_filter(f"project={project}"), parse_filter(f"metrics.{metric}>-1e308"),
                     *(parse_filter(f"status!={status}") for status in UNFINISHED)],
            limit=MAX_PEERS,
        )
        ids += [r.id for r in rows]
    ids = [i for i in dict.fromkeys(ids) if i not in (a.id, b.id)][: MAX_PEERS - 2]
    return [a, b, *(record for record in catalog.get_many(ids) if isinstance(record, Run))]


def _direction(delta: float, goal: Goal | None, verdict: Verdict) -> Direction:
    if delta == 0 or goal is None or verdict in ("noise", "incomparable"):
        return "none"
    better = delta > 0 if goal == "max" else delta < 0
    return "improvement" if better else "regression"
