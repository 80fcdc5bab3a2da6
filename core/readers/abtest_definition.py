"""An A/B kit's experiment definition: its id, unit, dates, and variants with their planned shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from .sweep import _type_name

EXPERIMENT_ID_KEYS: tuple[str, ...] = ("experiment_id", "id", "name", "key")

UNIT_KEYS: tuple[str, ...] = ("unit", "exposure_unit", "unit_of_randomization", "randomization_unit")

START_KEYS: tuple[str, ...] = ("start", "start_time", "started_at", "start_date", "starts_at")

END_KEYS: tuple[str, ...] = ("end", "end_time", "ended_at", "end_date", "ends_at")

VARIANT_KEYS: tuple[str, ...] = ("variants", "arms", "variations")

SPLIT_KEYS: tuple[str, ...] = ("traffic_split", "traffic", "allocation", "split")

SHARE_KEYS: tuple[str, ...] = ("traffic", "weight", "share", "allocation", "percent", "fraction", "split")
"""Keys of a variant entry that may hold its traffic share."""

NAME_KEYS: tuple[str, ...] = ("name", "id", "key", "variant")


_SHARE_TOLERANCE = 0.01
"""Shares summing to within 1% of 1 (or of 100) are taken as summing to 1."""


# -- the definition -----------------------------------------------------------------
class DefinitionFacts(NamedTuple):
    """What :func:`parse_definition` understood of an experiment definition."""

    experiment_id: str | None
    variants: dict[str, float]
    unit: str | None
    start: datetime | None
    end: datetime | None
    issues: list[str]


def parse_definition(doc: Mapping[str, Any]) -> DefinitionFacts:
    """Experiment id, variant shares, unit, start and end of a parsed definition, plus messages.

    A definition wrapped in a top-level ``experiment:`` mapping is unwrapped.
    Variants are read by :func:`parse_variants`.
    """
    issues: list[str] = []
    body = _unwrap(doc)
    experiment_id = _first_scalar(body, EXPERIMENT_ID_KEYS)
    variants, variant_issues = parse_variants(body)
    issues.extend(variant_issues)
    unit = _first_scalar(body, UNIT_KEYS)
    if unit is None:
        for outer in ("exposure", "assignment", "randomization"):
            inner = body.get(outer)
            if isinstance(inner, Mapping):
                unit = _first_scalar(inner, UNIT_KEYS)
                if unit:
                    break
    start = _first_time(body, START_KEYS, issues)
    end = _first_time(body, END_KEYS, issues)
    if start is None or end is None:
        for outer in ("schedule", "dates", "window", "period"):
            inner = body.get(outer)
            if isinstance(inner, Mapping):
                start = start or _first_time(inner, START_KEYS, issues, prefix=f"{outer}.")
                end = end or _first_time(inner, END_KEYS, issues, prefix=f"{outer}.")
    if start is not None and end is not None and _comparable(start, end) and end < start:
        issues.append(f"end {end.isoformat()} is before start {start.isoformat()}")
    return DefinitionFacts(experiment_id, variants, unit, start, end, issues)


def _unwrap(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = doc.get("experiment")
    if isinstance(inner, Mapping) and not any(k in doc for k in VARIANT_KEYS + SPLIT_KEYS):
        merged = {k: v for k, v in doc.items() if k != "experiment"}
        merged.update(inner)
        return merged
    return doc


def _first_scalar(body: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = body.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def parse_variants(body: Mapping[str, Any]) -> tuple[dict[str, float], list[str]]:
    """Variant name -> traffic share (fractions summing to 1) from a definition, plus messages.

    Accepted shapes: ``variants: {control: 0.5, treatment: 0.5}`` (values may be
    fractions, percents, ``"50%"`` strings or mappings with a share key),
    ``variants: [{name, traffic|weight|share|allocation}]`` (or plain names), and
    ``traffic_split: {A: 50, B: 50}`` (also a list or ``"50/50"`` aligned with the
    variant names). Shares are divided by their total; a total not within 1% of 1
    or 100 (holdout included when a numeric ``holdout`` is given) is reported.
    Variants without any share are given an equal split, and that is reported.
    """
    issues: list[str] = []
    names: list[str] = []
    shares: dict[str, float] = {}
    marked_percent = False

    raw = next((body[k] for k in VARIANT_KEYS if k in body), None)
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            name = str(key)
            names.append(name)
            share, pct = _share_of(value)
            marked_percent |= pct
            if share is not None:
                shares[name] = share
    elif isinstance(raw, list):
        for i, item in enumerate(raw, start=1):
            item_name, value = _variant_item(item)
            if item_name is None:
                issues.append(f"variant {i} has no name; ignored")
                continue
            name = item_name
            names.append(name)
            share, pct = _share_of(value)
            marked_percent |= pct
            if share is not None:
                shares[name] = share
    elif raw is not None:
        issues.append(f"variants should be a mapping or a list, not {_type_name(raw)}")

    split_key = next((k for k in SPLIT_KEYS if k in body), None)
    if split_key is not None and not shares:
        split = body[split_key]
        if isinstance(split, str) and ("/" in split or ":" in split):  # "50/50" or "90:10"
            split = split.replace(":", "/").split("/")
        if isinstance(split, Mapping):
            known = list(names)
            for key, value in split.items():
                name = str(key)
                share, pct = _share_of(value)
                if share is None:
                    issues.append(f"{split_key}.{name}: {value!r} is not a share")
                    continue
                if known and name not in known:
                    issues.append(f"{split_key}.{name}: not one of the variants {known}; ignored")
                    continue
                if name not in names:
                    names.append(name)
                marked_percent |= pct
                shares[name] = share
        elif isinstance(split, list) and names and len(split) == len(names):
            for name, value in zip(names, split):
                share, pct = _share_of(value)
                marked_percent |= pct
                if share is None:
                    issues.append(f"{split_key}: {value!r} is not a share")
                else:
                    shares[name] = share
        else:
            issues.append(f"{split_key}: {split!r} could not be matched to variants {names}")

    if not names:
        issues.append("no variants found (expected variants or traffic_split)")
        return {}, issues
    negative = [n for n, s in shares.items() if s < 0]
    for name in negative:
        issues.append(f"variant {name!r} has a negative share; ignored")
        del shares[name]
    if not shares:
        issues.append(f"no traffic shares given for variants {names}; assumed an equal split")
        return {n: 1.0 / len(names) for n in names}, issues
    missing = [n for n in names if n not in shares]
    for name in missing:
        issues.append(f"variant {name!r} has no traffic share; left out of the split")
    total = sum(shares.values())
    if total <= 0:
        issues.append("variant shares sum to 0; cannot normalise")
        return dict.fromkeys(shares, 0.0), issues
    if marked_percent:
        total_fraction = total / 100
    else:
        total_fraction = total / 100 if abs(total - 100) <= 100 * _SHARE_TOLERANCE else total
    if abs(total_fraction - 1) > _SHARE_TOLERANCE:
        holdout = _holdout_share(body)
        explained = holdout is not None and any(
            abs(total + holdout - whole) <= whole * _SHARE_TOLERANCE for whole in (1.0, 100.0)
        )
        if not explained:
            written = f"{total:g}%" if marked_percent else f"{total:g}"
            issues.append(f"variant shares sum to {written}, not 1 or 100%; normalised to fractions summing to 1")
    return {n: s / total for n, s in shares.items()}, issues


def _variant_item(item: Any) -> tuple[str | None, Any]:
    if isinstance(item, (str, int)) and not isinstance(item, bool):
        return str(item), None
    if not isinstance(item, Mapping):
        return None, None
    for key in NAME_KEYS:
        if key in item and isinstance(item[key], (str, int)) and not isinstance(item[key], bool):
            return str(item[key]), item
    if len(item) == 1:  # "- control: 0.5"
        (key, value), = item.items()
        return str(key), value
    return None, None


def _share_of(value: Any) -> tuple[float | None, bool]:
    """(share as written, whether it was marked as a percent) of one variant's value."""
    if isinstance(value, Mapping):
        for key in SHARE_KEYS:
            if key in value:
                share, pct = _share_of(value[key])
                return share, pct or key == "percent"
        return None, False
    if isinstance(value, bool) or value is None:
        return None, False
    if isinstance(value, (int, float)):
        return (float(value), False) if value == value else (None, False)
    if isinstance(value, str):
        text = value.strip()
        pct = text.endswith("%")
        try:
            number = float(text.rstrip("%").strip())
        except ValueError:
            return None, False
        return (number, pct) if number == number else (None, False)
    return None, False


def _holdout_share(body: Mapping[str, Any]) -> float | None:
    for key in ("holdout", "holdout_share", "holdout_percent", "holdout_pct", "holdout_traffic"):
        if key in body:
            share, _ = _share_of(body[key])
            if share is not None:
                return share
    return None


# -- times ----------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """A datetime from an ISO string, a datetime, a date (midnight) or epoch seconds/ms; timezone kept."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        for candidate in (text, text.replace("/", "-")):
            try:
                return datetime.fromisoformat(candidate)
            except ValueError:
                continue
    return None


def _first_time(
    body: Mapping[str, Any], keys: Iterable[str], issues: list[str], prefix: str = ""
) -> datetime | None:
    for key in keys:
        if key in body and body[key] is not None:
            parsed = parse_time(body[key])
            if parsed is None:
                issues.append(f"{prefix}{key}: {body[key]!r} is not a date or time")
            return parsed
    return None


def _comparable(a: datetime, b: datetime) -> bool:
    return (a.tzinfo is None) == (b.tzinfo is None)
