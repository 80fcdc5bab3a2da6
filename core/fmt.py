"""One way to turn values into short human text, shared by the CLI, Markdown and the app."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any


def format_number(value: Any, digits: int = 4) -> str:
    """Compact number: 0.9134, 1.2e-05, 12,345, nan, inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return format_value(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-4:
        return f"{value:.{max(digits - 1, 1)}e}"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.{digits}g}" if abs(value) >= 1 else f"{value:.{digits}f}".rstrip("0").rstrip(".") or "0"


MAX_DECIMALS = 6
"""Most decimals a recorded number shows (a float's shortest repr can have 17)."""


def recorded_decimals(value: object) -> int | None:
    """Decimals ``value`` was recorded with (``0.9264`` -> 4), or None when it reads better in exponent form."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int):
        return 0
    if not math.isfinite(value) or value == 0:
        return 0
    if not 1e-4 <= abs(value) < 1e6:
        return None
    text = repr(value)
    if "e" in text or "E" in text:
        return None
    return min(len(text.split(".", 1)[1].rstrip("0")) if "." in text else 0, MAX_DECIMALS)


def common_decimals(values: Iterable[object]) -> int | None:
    """The decimals a column of numbers shows: the most any value was recorded with (None: no plain number)."""
    found = [d for d in map(recorded_decimals, values) if d is not None]
    return max(found) if found else None


def format_recorded(value: object, decimals: int | None) -> str:
    """A number with the column's ``decimals`` (``0.926400`` beside ``0.926045``); NaN reads NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if decimals is None or recorded_decimals(value) is None:
        return f"{value:.3e}" if isinstance(value, float) else f"{value:,}"
    if isinstance(value, int) and decimals == 0:
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return f"{value:,.{decimals}f}" if abs(value) >= 10_000 else f"{value:.{decimals}f}"


def format_measured(value: object) -> str:
    """A recorded number with the decimals it was recorded with (``0.926410`` stays ``0.92641``, not ``0.9264``)."""
    return format_recorded(value, recorded_decimals(value))


def format_pair(a: object, b: object) -> tuple[str, str]:
    """Two recorded values at the decimals of the more precise one (``0.926045`` and ``0.927100``, not ``0.926`` and ``0.9271``).

    The same rule as a column of the runs table, so a number reads the same in ``ls``, the app and ``explain``.
    """
    places = common_decimals((a, b))
    return format_recorded(a, places), format_recorded(b, places)


def format_delta(delta: float | None, relative: float | None = None) -> str:
    """Signed change with relative change: ``+0.0031 (+0.34%)``."""
    if delta is None:
        return ""
    text = ("+" if delta > 0 else "") + format_number(delta)
    if relative is not None and math.isfinite(relative):
        text += f" ({relative * 100:+.2f}%)"
    return text


def format_value(value: Any) -> str:
    """Any config/record value as one line of text (None -> '—')."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def clip(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters, ending in an ellipsis when it was longer."""
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_size(size: int) -> str:
    """Bytes as 812 B, 3.4 KiB, 1.2 MiB."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def format_duration(seconds: float | None) -> str:
    """Seconds as 42 s, 3 min 5 s, 2 h 14 min, 3 d 4 h; empty for None or a negative or non-finite value."""
    if seconds is None or not seconds >= 0 or seconds == float("inf"):
        return ""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
