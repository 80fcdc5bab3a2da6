"""Predictions rows gathered batch by batch into compact numpy arrays, with the bounds that keep a file cheap.

Memory grows by a few bytes a row (UTF-8 id bytes, a label code, a float score, a line number),
never by a Python object a row, and a file past :data:`MAX_ROWS` rows, :data:`MAX_CLASSES`
distinct labels or :data:`MAX_ID_BYTES` of ids stops being read the moment it crosses the bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..safeio import MAX_STREAM_LINES

MAX_ROWS = MAX_STREAM_LINES
"""Rows read from one file; a file with more is refused whole (a prefix would skew a comparison)."""
MAX_ID_CHARS = 1000
"""Longer ids are treated as unreadable rows (they are not ids, and would cost memory)."""
MAX_CLASSES = 10_000
"""Distinct label (or predicted class) values; more is not a set of classes."""
MAX_ID_BYTES = 192 * 1024 * 1024
"""Rows times the longest id (UTF-8 bytes): the memory the ids of one file may take."""
BATCH = 65_536
"""Rows converted to arrays at a time."""

REASONS: tuple[str, ...] = (
    "",
    "empty id",
    f"id longer than {MAX_ID_CHARS} characters",
    "empty label",
    "score is not a finite number",
    "empty predicted class",
    "predicted class is not 0/1 like the labels",
)
"""Why a row was skipped, by the code kept in :attr:`Rows.reasons` (0: the row is fine)."""
EMPTY_ID, LONG_ID, EMPTY_LABEL, BAD_SCORE, EMPTY_PREDICTED, PREDICTED_NOT_BINARY = range(1, 7)


class TooBig(Exception):
    """A predictions file crossed a bound; the message says which."""


@dataclass
class Rows:
    """A predictions file's rows so far, as arrays in batches (labels and predicted classes as token codes)."""

    columns: dict[str, str]
    row_word: str = "line"
    rows: int = 0
    ids: list[NDArray[np.bytes_]] = field(default_factory=list)
    lines: list[NDArray[np.int64]] = field(default_factory=list)
    labels: list[NDArray[np.int32]] = field(default_factory=list)
    label_tokens: dict[str, int] = field(default_factory=dict)
    scores: list[NDArray[np.float64]] = field(default_factory=list)
    predicted: list[NDArray[np.int32]] = field(default_factory=list)
    predicted_tokens: dict[str, int] = field(default_factory=dict)
    predicted_floats: list[NDArray[np.float64]] = field(default_factory=list)
    """The predicted column as numbers (nan where not one): it may hold probabilities."""
    predicted_overflow: bool = False
    """The predicted column had more than :data:`MAX_CLASSES` values: not classes (no codes kept)."""
    reasons: list[NDArray[np.uint8]] = field(default_factory=list)
    bad_lines: int = 0
    """Lines that were not rows at all (wrong field count, invalid JSON), besides ``reasons``."""
    first_bad: tuple[int, str] | None = None
    id_width: int = 0

    def bad(self, line: int, reason: str) -> None:
        """Count a line that could not be read as a row."""
        self.bad_lines += 1
        if self.first_bad is None or line < self.first_bad[0]:
            self.first_bad = (line, reason)

    def add(
        self,
        lines: Sequence[int],
        ids: Sequence[str],
        labels: Sequence[str],
        scores: Sequence[Any] | None,
        predicted: Sequence[str] | None,
    ) -> None:
        """Append one batch of raw cells (same length each); raises TooBig past a bound."""
        n = len(ids)
        if n == 0:
            return
        if self.rows + n > MAX_ROWS:
            raise TooBig(f"more than {MAX_ROWS:,} rows; predictions not read (the bound on rows held in memory)")
        reason = np.zeros(n, dtype=np.uint8)
        stripped = [s.strip() for s in ids]
        lengths = np.fromiter(map(len, stripped), dtype=np.int64, count=n)
        _mark(reason, lengths == 0, EMPTY_ID)
        too_long = lengths > MAX_ID_CHARS
        if too_long.any():
            _mark(reason, too_long, LONG_ID)
            for i in np.flatnonzero(too_long).tolist():
                stripped[i] = ""
        id_bytes = _utf8(stripped)
        self.id_width = max(self.id_width, id_bytes.dtype.itemsize)
        if (self.rows + n) * self.id_width > MAX_ID_BYTES:
            raise TooBig(
                f"ids of up to {self.id_width:,} bytes on {self.rows + n:,}+ rows would take over "
                f"{MAX_ID_BYTES // (1024 * 1024)} MiB; predictions not read"
            )
        label_codes = _codes([s.strip() for s in labels], self.label_tokens)
        if len(self.label_tokens) > MAX_CLASSES:
            raise TooBig(f"more than {MAX_CLASSES:,} distinct labels: not classes; predictions not read")
        if "" in self.label_tokens:
            _mark(reason, label_codes == self.label_tokens[""], EMPTY_LABEL)
        if scores is not None:
            score_arr = floats(scores)
            _mark(reason, ~np.isfinite(score_arr), BAD_SCORE)
            self.scores.append(score_arr)
        if predicted is not None:
            tokens = [s.strip() for s in predicted]
            _mark(reason, np.fromiter((not t for t in tokens), dtype=bool, count=n), EMPTY_PREDICTED)
            self.predicted_floats.append(floats(tokens))
            if not self.predicted_overflow:
                self.predicted.append(_codes(tokens, self.predicted_tokens))
                if len(self.predicted_tokens) > MAX_CLASSES:
                    self.predicted_overflow = True
                    self.predicted.clear()
                    self.predicted_tokens.clear()
        self.ids.append(id_bytes)
        self.lines.append(np.asarray(lines, dtype=np.int64))
        self.labels.append(label_codes)
        self.reasons.append(reason)
        self.rows += n


def _mark(reason: NDArray[np.uint8], where: NDArray[np.bool_], code: int) -> None:
    """Give rows in ``where`` the reason ``code`` unless they already have one (the first reason wins)."""
    reason[where & (reason == 0)] = code


def _utf8(ids: list[str]) -> NDArray[np.bytes_]:
    """Ids as an array of UTF-8 bytes: encoded in one call, split on NUL (which a text id cannot hold)."""
    parts = "\0".join(ids).encode("utf-8", "surrogatepass").split(b"\0")
    if len(parts) != len(ids):  # an id held a NUL (possible in JSON): one at a time
        parts = [s.encode("utf-8", "surrogatepass") for s in ids]
    return np.array(parts, dtype=np.bytes_)


_SHORT_TOKEN = 64
"""Tokens up to this long are coded with numpy (a fixed-width array of them stays small)."""


def _codes(tokens: Sequence[str], table: dict[str, int]) -> NDArray[np.int32]:
    """Codes of ``tokens`` into ``table`` (new tokens are added in order of first appearance)."""
    add = table.setdefault
    if tokens and max(map(len, tokens)) <= _SHORT_TOKEN:
        distinct, first, inverse = np.unique(np.array(tokens, dtype=np.str_), return_index=True, return_inverse=True)
        coded = np.empty(distinct.shape[0], dtype=np.int32)
        for k in np.argsort(first, kind="stable").tolist():  # in order of appearance, as the slow path
            coded[k] = add(str(distinct[k]), len(table))
        return coded[inverse.reshape(-1)]
    return np.fromiter((add(t, len(table)) for t in tokens), dtype=np.int32, count=len(tokens))


def floats(values: Sequence[Any]) -> NDArray[np.float64]:
    """Values as float64, nan where a value is not a number."""
    try:
        return np.fromiter(map(float, values), dtype=np.float64, count=len(values))
    except (ValueError, TypeError, OverflowError):
        out = np.empty(len(values), dtype=np.float64)
        for i, v in enumerate(values):
            try:
                out[i] = math.nan if isinstance(v, bool) else float(v)
            except (ValueError, TypeError, OverflowError):
                out[i] = math.nan
        return out
