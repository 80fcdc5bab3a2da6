"""Corrections for testing several hypotheses at once, so "one of them looked real" is not luck."""

from __future__ import annotations

from collections.abc import Sequence


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, controls the family-wise error rate), in the input's order.

    Compare each adjusted p-value with the level itself (e.g. 0.05). Uses statsmodels'
    ``multipletests(method="holm")``; an empty list gives an empty list.
    """
    if not p_values:
        return []
    from statsmodels.stats.multitest import (
        multipletests,  # ~0.5 s to import: only when needed
    )

    return [float(p) for p in multipletests(list(p_values), method="holm")[1]]
