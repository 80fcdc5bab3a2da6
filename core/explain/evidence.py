"""Evidence from the runs' own files: per-example predictions, curves, and decisions that flipped."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import stats
from ..readers.predictions import Predictions, align, find_predictions, read_predictions
from ..records import Run
from ..safeio import ReadContext

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Aligned:
    """Both runs' scores on the examples they share, with each run's recorded threshold."""

    ids: NDArray[Any]
    labels: Any
    scores_a: Any
    scores_b: Any
    threshold_a: float | None
    threshold_b: float | None
    only_a: int
    only_b: int

    @property
    def threshold(self) -> float | None:
        """B's threshold, else A's: the one the newer run is judged at."""
        return self.threshold_b if self.threshold_b is not None else self.threshold_a


def predictions(root: Path, a: Run, b: Run, metric: str) -> Aligned | None:
    """Both runs' predictions for ``metric``'s split, aligned on shared ids; None when either has none."""
    pa, pb = _pick(root, a, metric), _pick(root, b, metric)
    if pa is None or pb is None or pa.scores is None or pb.scores is None:
        return None
    al = align(pa, pb)
    if len(al) == 0 or al.scores_a is None or al.scores_b is None or al.classes is not None:
        return None
    da, db = a.metrics.definitions.get(metric), b.metrics.definitions.get(metric)
    return Aligned(al.ids, al.labels, al.scores_a, al.scores_b, da.threshold if da else None, db.threshold if db else None, al.only_a, al.only_b)


def _pick(root: Path, run: Run, metric: str) -> Predictions | None:
    paths = find_predictions(Path(run.path))
    if not paths:
        return None
    split = metric.lower().split("_", 1)[0]
    path = next((p for p in paths if split in p.name.lower()), paths[0])
    try:
        return read_predictions(path, ReadContext(root))
    except Exception:
        return None


def recompute(metric: str, p: Aligned) -> dict[str, Any] | None:
    """The metric recomputed on the examples both runs predicted, under each run's definition."""
    out: dict[str, Any] = {"common_ids": len(p.ids), "only_a": p.only_a, "only_b": p.only_b, "by_threshold": []}
    for threshold in sorted({p.threshold_a, p.threshold_b}, key=lambda t: (t is None, t or 0.0)):
        ma = stats.compute_metric(metric, p.labels, p.scores_a, threshold)
        mb = stats.compute_metric(metric, p.labels, p.scores_b, threshold)
        if ma is None or mb is None:
            return None
        out["by_threshold"].append({"threshold": threshold, "a": ma, "b": mb, "delta": mb - ma})
    return out


def divergence(a: Run, b: Run, metric: str, sigma: float | None) -> float | None:
    """The step from which the curves stay apart by more than twice the noise."""
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
        wobble += [abs(x - y) for x, y in itertools.pairwise(tail)]
    return 2 * (sorted(wobble)[len(wobble) // 2] if wobble else 0.0)


def flips(p: Aligned | None) -> dict[str, Any] | None:
    """Which examples changed their predicted class at the recorded threshold (0.5 when none)."""
    if p is None:
        return None
    threshold = p.threshold if p.threshold is not None else 0.5
    f = stats.flips(p.ids, p.labels, p.scores_a, p.scores_b, threshold)
    return {
        "threshold": threshold,
        "positive_to_negative": f.positive_to_negative,
        "negative_to_positive": f.negative_to_positive,
        "fixed": f.fixed,
        "broken": f.broken,
        "mean_score_shift_of_flipped": f.mean_score_shift_of_flipped,
        "examples": f.examples,
    }
