"""Which difference caused the change: each factor's isolating runs, tested against noise.

A factor's *isolating* runs are pairs of runs (other than A and B) that differ in that factor
and, on positive evidence, in nothing else but seeds. Their effect is compared with seed σ
(pooled over the project's replicates) by Student's t; without σ, with the spread of two or
more independent isolating groups; with a single group and no σ there is no test. Each
factor's p-value is Holm-corrected over all candidate factors, so a factor with no effect is
called "high" or "medium" at most 5% of the time however many differences the runs have.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .. import stats
from ..factors import (
    PACKAGE_PREFIX,
    SEEDS,
    Factor,
    Setup,
    describe,
    differing,
    setup_key,
    setup_parts,
    value,
)
from ..records import Run
from ..versions import compare_versions
from .model import ALPHA, Cause, Confidence, Evidence
from .noise import SeedNoise, values

NEAR_PAIR_LIMIT = 4_000
"""Most run pairs scanned for near-isolating evidence (one other factor differs); exact groups are always found."""
ORDER: dict[str, int] = {"high": 0, "medium": 1, "none": 2, "low": 3}
"""An isolated factor with no effect ranks below one nobody isolated: Δ is more likely there."""


@dataclass(frozen=True, slots=True)
class _Group:
    """Isolating runs that share everything else: the factor at A's value (xs) and at B's (ys)."""

    xs: tuple[Run, ...]
    ys: tuple[Run, ...]
    clean: bool
    other: tuple[str, ...] = ()

    def effect(self, metric: str) -> float:
        return math.fsum(values(self.ys, metric)) / len(self.ys) - math.fsum(values(self.xs, metric)) / len(self.xs)

    @property
    def weight(self) -> float:
        return 1.0 / (1.0 / len(self.xs) + 1.0 / len(self.ys))


def causes(
    a: Run, b: Run, metric: str, peers: Sequence[Run], factors: Mapping[str, Mapping[str, Factor]], seed: SeedNoise
) -> list[Cause]:
    """Every recorded difference between A and B with its isolating evidence, ranked by it."""
    fa, fb = factors[a.id], factors[b.id]
    others = [r for r in peers if r.id not in (a.id, b.id) and values([r], metric)]
    parts = {r.id: setup_parts(factors[r.id]) for r in others}  # once per run, not once per factor
    found = []
    for name in differing(fa, fb):
        groups = [] if name == SEEDS else _isolating(name, fa, fb, others, factors, parts)
        found.append((name, groups, _test(groups, metric, seed)))
    candidates = [(name, p) for name, _, (_, p, _) in found if name != SEEDS]
    adjusted = dict(zip((n for n, _ in candidates), stats.holm([p if p is not None else 1.0 for _, p in candidates])))
    out = []
    for name, groups, (effect, p, how) in found:
        section, path, va, vb = describe(name, fa, fb)
        evidence = tuple(Evidence(x.id, y.id, _delta(x, y, metric), g.other) for g in groups for x in g.xs for y in g.ys)
        if name == SEEDS:
            out.append(Cause(section, path, va, vb, evidence[:6], effect, "low", "seeds change results only by noise; replicates measure how much"))
            continue
        p_adj = adjusted[name] if p is not None else None
        confidence, note = _confidence(name, groups, effect, p_adj, how, metric, fa, fb)
        out.append(Cause(section, path, va, vb, evidence[:6], effect, confidence, note, p_adj))
    out.sort(key=lambda c: (c.section == "seeds", ORDER[c.confidence], -abs(c.estimated_effect or 0.0) if c.confidence in ("high", "medium") else 0.0, c.section, c.path))
    return out


def _isolating(
    name: str,
    fa: Mapping[str, Factor],
    fb: Mapping[str, Factor],
    runs: Sequence[Run],
    factors: Mapping[str, Mapping[str, Factor]],
    parts: Mapping[str, tuple[Setup, frozenset[str]]],
) -> list[_Group]:
    """Groups of runs that differ in ``name`` only (exact), else pairs that differ in one other factor (near)."""
    va, vb = value(fa, name), value(fb, name)
    side_a = [r for r in runs if value(factors[r.id], name) == va]
    side_b = [r for r in runs if value(factors[r.id], name) == vb]
    by_rest: dict[object, tuple[list[Run], list[Run]]] = {}
    for side, members in ((0, side_a), (1, side_b)):
        for run in members:
            key = setup_key(factors[run.id], need_seeds=False, given=name, parts=parts[run.id])
            if key is not None:
                by_rest.setdefault(key, ([], []))[side].append(run)
    exact = [_Group(tuple(xs), tuple(ys), True) for xs, ys in by_rest.values() if xs and ys]
    if exact or len(side_a) * len(side_b) > NEAR_PAIR_LIMIT:
        return exact
    near = []
    for x in side_a:
        for y in side_b:
            other = differing(factors[x.id], factors[y.id], ignore=frozenset({name, SEEDS}), unknown_differs=True)
            if len(other) <= 1:
                near.append(_Group((x,), (y,), False, tuple(other)))
    return near


def _test(groups: Sequence[_Group], metric: str, seed: SeedNoise) -> tuple[float | None, float | None, str]:
    """(effect, two-sided p, how it was tested) of a factor's isolating groups."""
    if not groups:
        return None, None, "none"
    effects = [g.effect(metric) for g in groups]
    weights = [g.weight for g in groups]
    effect = math.fsum(e * w for e, w in zip(effects, weights)) / math.fsum(weights)
    if seed.sigma is not None and seed.sigma > 0:
        r = stats.t_test(effect, [(seed.sigma**2 / math.fsum(weights), seed.df)])
        return effect, r.p_value, "sigma"
    if len(groups) >= 2:
        spread = stats.seed_noise(effects)
        floor = stats.precision_floor([v for g in groups for v in values((*g.xs, *g.ys), metric)])
        mean = math.fsum(effects) / len(effects)
        r = stats.t_test(mean, [(max(spread, floor) ** 2 / len(effects), len(effects) - 1)])
        return mean, r.p_value, "spread"
    return effect, None, "single"


def _confidence(
    name: str, groups: Sequence[_Group], effect: float | None, p: float | None, how: str, metric: str, fa: Mapping[str, Factor], fb: Mapping[str, Factor]
) -> tuple[Confidence, str]:
    if not groups or effect is None:
        note = "no run isolates this difference"
        if name.startswith(PACKAGE_PREFIX) and _patch_only(value(fa, name), value(fb, name)):
            return "none", note + "; patch-level upgrades rarely change results"
        return "none", note
    signs = {math.copysign(1.0, g.effect(metric)) for g in groups if g.effect(metric) != 0}
    clean = all(g.clean for g in groups)
    if p is None:
        return "low", "one isolating comparison and no seed replicates: its effect cannot be told from noise"
    if len(signs) > 1:
        return "low", "isolating runs disagree in sign"
    if p >= ALPHA:
        return "low", f"isolating runs show no effect beyond noise (p={p:.2g} after Holm's correction)"
    if how == "sigma" and clean:
        return "high", f"beyond seed noise (p={p:.2g} after Holm's correction)"
    why = "seed noise is not measured (judged by the spread of the isolating runs)" if how != "sigma" else "isolating runs also differ in one other factor"
    return "medium", f"p={p:.2g} after Holm's correction; {why}"


def _delta(x: Run, y: Run, metric: str) -> float:
    return float(y.metrics.final[metric]) - float(x.metrics.final[metric])


def _patch_only(va: str | None, vb: str | None) -> bool:
    if va is None or vb is None:
        return False
    return compare_versions(va, vb).level in ("patch", "local", "pre")


def unexplained(delta: float, found: Sequence[Cause]) -> float | None:
    """Δ minus the effects of the causes shown beyond noise (cleanly isolated ones add up; else the best one)."""
    high = [c.estimated_effect for c in found if c.confidence == "high" and c.estimated_effect is not None]
    if high:
        return delta - math.fsum(high)
    best = next((c for c in found if c.confidence == "medium" and c.estimated_effect is not None), None)
    return delta - best.estimated_effect if best is not None and best.estimated_effect is not None else None
