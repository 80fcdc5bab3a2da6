"""Compare package versions the way pip does (PEP 440 via ``packaging``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from packaging.version import InvalidVersion, Version

Direction = Literal["upgraded", "downgraded", "same", "changed"]
Level = Literal["major", "minor", "patch", "pre", "local", "other"]


@dataclass(frozen=True, slots=True)
class VersionChange:
    """How version ``b`` relates to ``a``: direction and the most significant part that moved."""

    direction: Direction
    level: Level | None


def parse_version(text: str) -> Version | None:
    """A PEP 440 version, or None for things like ``file:///...`` or ``>=1.2``."""
    try:
        return Version(text.strip())
    except (InvalidVersion, TypeError):
        return None


def compare_versions(a: str, b: str) -> VersionChange:
    """Compare two version strings; unparseable ones are just 'changed' when they differ."""
    va, vb = parse_version(a), parse_version(b)
    if va is None or vb is None:
        return VersionChange("same" if a == b else "changed", None if a == b else "other")
    if va == vb:
        return VersionChange("same" if a == b else "changed", None if a == b else "other")
    direction: Direction = "upgraded" if vb > va else "downgraded"
    ra, rb = [*va.release, 0, 0, 0][:3], [*vb.release, 0, 0, 0][:3]
    if ra[0] != rb[0] or va.epoch != vb.epoch:
        level: Level = "major"
    elif ra[1] != rb[1]:
        level = "minor"
    elif ra[2] != rb[2] or va.release != vb.release:
        level = "patch"
    elif va.pre != vb.pre or va.dev != vb.dev or va.post != vb.post:
        level = "pre"
    elif va.local != vb.local:
        level = "local"
    else:  # pragma: no cover - every Version field compared above
        level = "other"
    if level == "local":
        direction = "changed"
    return VersionChange(direction, level)
