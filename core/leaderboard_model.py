"""A recomputed sweep leaderboard and its mismatches as values, and how the saved board's cells read."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .goals import Goal
from .records import Sweep

ALPHA = 0.05
"""Top two configurations whose difference has p >= ALPHA are flagged as not separable."""

NOT_SEPARABLE = "top two not separable"
"""The flag set when the top two configurations cannot be told apart from seed noise."""

GoalSource = Literal["sweep", "definition", "name", "board", "assumed"]

MismatchKind = Literal["value", "order", "missing_run", "missing_row", "metric", "duplicate_row"]


class LeaderboardError(ValueError):
    """The sweep gives no metric to rank by."""


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One run on the recomputed board: its own final metric, the parameters that vary, its status."""

    run_id: str
    """Catalog id of the run."""
    name: str
    """Run folder name (what leaderboard.csv files usually write)."""
    value: float | None
    """The run's final value of the sweep metric; None when it has none (failed runs)."""
    params: Mapping[str, Any]
    """Dotted config path -> value, for the parameters that vary across the sweep (seeds excluded)."""
    status: str
    status_source: str | None = None
    """``recorded``, ``guessed`` (inferred from how the run's files end; shown with ``~``) or None (``unknown``)."""


@dataclass(frozen=True, slots=True)
class ConfigGroup:
    """Runs that are seed replicates of each other (identical factors but seeds): one configuration."""

    run_ids: tuple[str, ...]
    names: tuple[str, ...]
    params: Mapping[str, Any]
    values: tuple[float, ...]
    mean: float
    std: float | None
    """Sample standard deviation (ddof=1); None for a single run."""

    @property
    def n(self) -> int:
        """Number of runs in the configuration."""
        return len(self.values)


@dataclass(frozen=True, slots=True)
class Separability:
    """Whether the best configuration is really better than the second, or within seed noise."""

    method: Literal["welch", "prediction_interval", "none"]
    """welch: both have 2+ runs; prediction_interval: one run against 2+ seeds of the other; none: too few replicates."""
    gap: float
    """|mean of the best - mean of the second|."""
    p_value: float | None
    statistic: float | None
    """Welch's t, or |t| = gap / (s * sqrt(1 + 1/k)) of the prediction interval."""
    sigma: float | None
    """The replicated configuration's standard deviation s (prediction interval only)."""
    separable: bool | None
    """True when p < ALPHA; None when it cannot be judged."""
    message: str
    df: float | None = None
    """Degrees of freedom of the t distribution used (Welch-Satterthwaite, or k - 1)."""


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """A sweep's runs ranked by their own final metric, with configurations and a noise check of the top two."""

    sweep: str
    metric: str
    """The metric as sweep.yaml names it."""
    run_metric: str | None
    """The same metric as the runs spell it (matched case-insensitively); None when no run has it."""
    goal: Goal
    goal_source: GoalSource
    varying: tuple[str, ...]
    """Config paths that vary across the sweep's runs."""
    rows: tuple[BoardRow, ...]
    groups: tuple[ConfigGroup, ...]
    separable: Separability | None
    flags: tuple[str, ...]

    @property
    def winner(self) -> BoardRow | None:
        """The best run with a value, or None."""
        return self.rows[0] if self.rows and self.rows[0].value is not None else None


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement between the saved leaderboard.csv and the runs."""

    kind: MismatchKind
    run_id: str | None
    """Catalog id of the run when known, else the id as written on the board."""
    message: str
    line: int | None
    """Line of leaderboard.csv (None for a run with no row, or the header)."""


def _board_column(sweep: Sweep, metric: str) -> str | None:
    """The board column holding ``metric`` (exact name first, then case-insensitive)."""
    if metric in sweep.leaderboard_columns:
        return metric
    return next((c for c in sweep.leaderboard_columns if c.lower() == metric.lower()), None)


def _cell_number(cell: str | None) -> float | None:
    """A board cell as a finite number, or None (blank, nan, text)."""
    if cell is None:
        return None
    try:
        value = float(cell.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None
