"""Integers too large to be numbers: kept as their text, so one value cannot break a whole root.

Sorting, statistics and the catalog turn numbers into floats; an integer past ±1.8e308
cannot be one (OverflowError), and Python refuses to turn more than 4,300 decimal digits
into an int at all (ValueError). Readers keep such a value as text and report it.
"""

from __future__ import annotations

BIG_INT_DIGITS = 310
"""Decimal digits from which an integer is surely beyond a float's range (±1.8e308)."""


def tame_int(value: int | str, base: int = 10) -> int | str:
    """``value`` (an int, or digits in ``base``) as an int when it can also be a float, else as text.

    Text that is no integer in ``base`` is returned unchanged too; callers that need to tell
    the two apart check the text first.
    """
    if isinstance(value, str):
        digits = value.strip().lstrip("+-").replace("_", "")
        if base == 10 and len(digits) > BIG_INT_DIGITS:
            return value
        try:
            number = int(value, base)
        except ValueError:
            return value
    else:
        number = value
    if fits_float(number):
        return number
    return value if isinstance(value, str) else str(value)


def fits_float(number: int) -> bool:
    """True when ``number`` converts to a float (within ±1.8e308)."""
    try:
        float(number)
    except OverflowError:
        return False
    return True


def big_int_message(text: str, fate: str = "kept as text") -> str:
    """The problem said for an integer too large to be a number, and what became of it."""
    shown = text if len(text) <= 16 else f"{text[:12]}…"
    return f"integer {shown} ({len(text):,} characters) is too large to use as a number; {fate}"
