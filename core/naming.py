"""What run folder names say: start time and run number.

People name run folders ``2025-01-07_14-32-11_run-023``, ``20250107-143211-a1b2c3``,
``2025-01-07_sweep-07`` or ``run-101``. This module reads what it can from them.
"""

from __future__ import annotations

import re
from datetime import datetime

_DASHED = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[_T ](?P<h>\d{2})[-:](?P<mi>\d{2})(?:[-:](?P<s>\d{2}))?)?"
)
_COMPACT = re.compile(r"(?<!\d)(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})(?:[-_T](?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})?)?(?!\d)")
_RUN_NUMBER = re.compile(r"(?:^|[_\-.])(?:run|trial|exp)[_\-]?(?P<n>\d+)(?:$|[_\-.])", re.IGNORECASE)


def started_from_name(name: str) -> datetime | None:
    """Start time encoded in a folder name, or None."""
    for pattern in (_DASHED, _COMPACT):
        match = pattern.search(name)
        if not match:
            continue
        parts = match.groupdict()
        try:
            return datetime(
                int(parts["y"]),
                int(parts["mo"]),
                int(parts["d"]),
                int(parts["h"] or 0),
                int(parts["mi"] or 0),
                int(parts["s"] or 0),
            )
        except ValueError:  # 2025-13-45 is not a date
            continue
    return None


MAX_RUN_NUMBER = 2**63 - 1
"""Largest run number kept: the catalog stores it as a 64-bit integer, and no one numbers runs past it."""


def run_number_from_name(name: str) -> int | None:
    """Run number encoded in a folder name (``run-023`` -> 23), or None (also when past MAX_RUN_NUMBER)."""
    match = _RUN_NUMBER.search(name)
    if not match:
        return None
    digits = match.group("n").lstrip("0")
    if len(digits) > len(str(MAX_RUN_NUMBER)):
        return None  # also spares int() a number of thousands of digits, which it refuses
    number = int(digits or "0")
    return number if number <= MAX_RUN_NUMBER else None


def run_number_problem(name: str) -> str | None:
    """Why a run number written in a folder name is not used, or None when there is none or it is used."""
    match = _RUN_NUMBER.search(name)
    if match is None or run_number_from_name(name) is not None:
        return None
    return f"run number in the folder name has {len(match.group('n')):,} digits, past {MAX_RUN_NUMBER:,}; not used"


_PREFIX = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}(?:[_T ]\d{2}[-:]\d{2}(?:[-:]\d{2})?)?|\d{8}(?:[-_T]\d{4,6})?)[_\-. ]+(?=\S)"
)


def short_name(name: str) -> str:
    """Folder name without a leading date-time (``2025-01-07_14-32-11_run-023`` -> ``run-023``).

    The start time is shown in its own column, so lists show the readable part.
    """
    rest = _PREFIX.sub("", name, count=1)
    return name if not rest or rest.isdigit() else rest  # a bare date-time: its seconds are no name


def display_name(name: str, sweep: str | None = None) -> str:
    """What a list shows for a record: short name, prefixed by its sweep's short name."""
    short = short_name(name)
    if sweep:
        return f"{short_name(sweep.rsplit('/', 1)[-1])}/{short}"
    return short
