"""What reading predictions gives: one run's per-example arrays, and two runs' arrays aligned on shared ids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True, eq=False)
class Predictions:
    """One run's per-example predictions, as read from one file (arrays are read-only)."""

    ids: NDArray[np.object_]
    """Example ids (str), in file order."""
    labels: NDArray[np.signedinteger[Any]]
    """0/1 (int8) for binary labels; else codes into ``classes`` (int8, int32 past 127 classes)."""
    scores: NDArray[np.float64] | None
    predicted: NDArray[np.signedinteger[Any]] | None
    """Predicted class: 0/1, or codes into ``classes``."""
    split: str | None
    source: str
    """The file, relative to the catalog root."""
    classes: tuple[str, ...] | None = None
    """None for binary 0/1 labels; else the class names that ``labels`` and ``predicted`` index."""
    columns: Mapping[str, str] = field(default_factory=dict)
    """Which header column gave what: keys id, label, score, predicted."""
    skipped: int = 0
    """Rows that could not be read."""

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def binary(self) -> bool:
        """True when labels are 0/1."""
        return self.classes is None

    def label_names(self) -> NDArray[np.object_]:
        """Labels as class names ("0"/"1" when binary)."""
        names: NDArray[np.object_] = class_names(self.classes)[self.labels]
        return names


@dataclass(frozen=True, slots=True, eq=False)
class Aligned:
    """Two runs' predictions on their common examples; unpacks as ``ids, labels, scores_a, scores_b``."""

    ids: NDArray[np.object_]
    labels: NDArray[np.signedinteger[Any]]
    scores_a: NDArray[np.float64] | None
    scores_b: NDArray[np.float64] | None
    predicted_a: NDArray[np.signedinteger[Any]] | None = None
    predicted_b: NDArray[np.signedinteger[Any]] | None = None
    classes: tuple[str, ...] | None = None
    """None when both runs have binary labels; else the union of both runs' classes."""
    n_a: int = 0
    """Distinct ids in A."""
    n_b: int = 0
    only_a: int = 0
    """Ids in A but not in B."""
    only_b: int = 0
    label_mismatches: int = 0
    """Common ids whose label differs between the two files; left out of the arrays."""
    mismatch_examples: tuple[str, ...] = ()
    """Up to 10 of those ids."""

    def __iter__(self) -> Iterator[Any]:
        return iter((self.ids, self.labels, self.scores_a, self.scores_b))

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def sort_classes(values: Iterable[str]) -> tuple[str, ...]:
    """Class names sorted numerically when all are numbers, else as strings."""
    values = list(values)
    try:
        return tuple(sorted(values, key=float))
    except ValueError:
        return tuple(sorted(values))


def class_names(classes: tuple[str, ...] | None) -> NDArray[np.object_]:
    """The names that label codes index: "0"/"1" for binary labels, else ``classes``."""
    out = np.empty(2 if classes is None else len(classes), dtype=object)
    out[:] = ("0", "1") if classes is None else classes
    return out
