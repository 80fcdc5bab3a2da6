"""Reader for ``seeds.txt`` / ``seeds.json`` / ``seeds.yaml``: the random seeds a run was started with.

Understands ``global=1234, data_split=42`` (separated by commas, semicolons,
spaces or newlines), one ``name: value`` / ``name = value`` per line, a JSON or
YAML mapping, and a bare integer (taken as the ``global`` seed). Values that are
not integers are reported and skipped; the other seeds are kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..bignum import big_int_message, fits_float, tame_int
from ..safeio import ReadContext, Unreadable, parse_json, parse_yaml
from ._text import Issue, as_path, clip, name_suffix, remembered

"""A problem found while parsing: message and 1-based line number (None when unknown)."""

SEED_FILE_NAMES: tuple[str, ...] = (
    "seeds.txt",
    "seeds.json",
    "seeds.yaml",
    "seeds.yml",
    "seed.txt",
    "seed.json",
    "seed.yaml",
    "seed.yml",
)
"""File names recognised as seed records, in order of preference."""

GLOBAL_SEED = "global"
"""Name given to a seed written without a name (a bare integer)."""

_SEED_NAME = r"[A-Za-z_][\w.\-/]*"
_VALUE = rf"[^\s,;]+(?:[ \t]+(?![\"']?{_SEED_NAME}[\"']?\s*[:=])[^\s,;]+)*"
_PAIR = re.compile(rf"(?<![\w.\-/\"'])[\"']?(?P<name>{_SEED_NAME})[\"']?\s*(?P<sep>[:=])[ \t]*(?P<value>{_VALUE})?")
_ONE_PAIR = re.compile(r"[\"']?(?P<name>[A-Za-z_][\w.\-/]*(?: +[\w.\-/]+)*?)[\"']?\s*[:=]\s*(?P<value>[^:=]+)")
_NAME_SPACE_VALUE = re.compile(rf"(?P<name>{_SEED_NAME})\s+(?P<value>[-+]?\d[\d_]*)")
_INT = re.compile(r"[-+]?\d[\d_]*|[-+]?0[xX][0-9a-fA-F]+")
_COMMENT = re.compile(r"(?:^|\s)(?:#|//).*$")
_DECIMAL = re.compile(r"[-+]?\d[\d_]*")
_HEX = re.compile(r"[-+]?0[xX][0-9a-fA-F]+")
_WHOLE_FLOAT = re.compile(r"[-+]?\d+\.0*")
_SEPARATORS = " \t,;{}"
_WRAPPER_KEYS = frozenset(["seeds", "seed", "random_seeds", "random seeds", "rng", "randomness"])


def parse_seeds(text: str, name: str = "seeds.txt") -> tuple[dict[str, int], list[Issue]]:
    """Parse a seeds file's text (JSON/YAML when ``name`` says so) into name -> seed plus problems."""
    if not text.strip():
        return {}, [("empty file", None)]
    suffix = name_suffix(name)
    if suffix in (".json", ".yaml", ".yml"):
        try:
            doc = parse_json(text) if suffix == ".json" else parse_yaml(text)
        except Unreadable as exc:
            return {}, [(exc.message, exc.line)]
        return _from_document(doc, text)
    return _from_text(text)


def read_seeds(path: Path, ctx: ReadContext) -> dict[str, int]:
    """Read a seeds file through ``ctx``; never raises, reports problems on ``ctx``."""
    path = as_path(path)
    text = ctx.read_text(path)
    if text is None:
        return {}
    seeds, issues = _parse_seeds_shared(text, path.name)
    for message, line in issues:
        ctx.problem(path, message, line)
    return dict(seeds)  # the remembered dict is shared: the record gets its own


_parse_seeds_shared = remembered(parse_seeds, entries=256, longest=4096)
"""Seed files repeat from run to run (a few seeds, one split seed)."""


def _from_text(text: str) -> tuple[dict[str, int], list[Issue]]:
    """Free-form text: ``a=1, b=2``, ``a: 1`` per line, ``a 1``, or a bare integer."""
    seeds: dict[str, int] = {}
    issues: list[Issue] = []
    content = [(n, _COMMENT.sub("", raw).strip()) for n, raw in enumerate(text.splitlines(), start=1)]
    content = [(n, s) for n, s in content if s.strip(_SEPARATORS)]
    if not content:
        return {}, [("no seeds found (only comments)", None)]
    for number, s in content:
        bare = s.strip(_SEPARATORS)
        if _INT.fullmatch(bare):
            if GLOBAL_SEED in seeds:
                issues.append((f"unnamed seed {bare}; {GLOBAL_SEED!r} is already {seeds[GLOBAL_SEED]}", number))
            else:
                _add(seeds, issues, GLOBAL_SEED, bare, number)
            continue
        one = _ONE_PAIR.fullmatch(bare)
        if one and " " in one["name"].strip():  # "data split: 42" - a name with spaces, one per line
            _add(seeds, issues, " ".join(one["name"].split()), one["value"].strip(), number)
            continue
        pairs = list(_PAIR.finditer(bare))
        if not pairs:
            spaced = _NAME_SPACE_VALUE.fullmatch(bare)
            if spaced:
                _add(seeds, issues, spaced["name"], spaced["value"], number)
            else:
                issues.append((f"not understood: {clip(bare)!r}", number))
            continue
        leftovers: list[str] = []
        position = 0
        for pair in pairs:
            leftovers.append(bare[position : pair.start()])
            position = pair.end()
            value = (pair["value"] or "").strip()
            if not value:
                if pair["sep"] == ":" and len(pairs) == 1 and not bare[pair.end():].strip(_SEPARATORS):
                    break  # a "seeds:" header line
                issues.append((f"seed {pair['name']!r} has no value", number))
                continue
            _add(seeds, issues, pair["name"], value, number)
        leftovers.append(bare[position:])
        rest = " ".join(part.strip(_SEPARATORS) for part in leftovers).strip()
        if rest:
            issues.append((f"not understood: {clip(rest)!r}", number))
    return seeds, issues


def _from_document(doc: Any, text: str) -> tuple[dict[str, int], list[Issue]]:
    """A JSON/YAML document: a mapping of seeds (possibly under ``seeds:``), or a single integer."""
    seeds: dict[str, int] = {}
    issues: list[Issue] = []
    if doc is None:
        return {}, [("empty document", None)]
    if isinstance(doc, (int, str)) and not isinstance(doc, bool):
        _add(seeds, issues, GLOBAL_SEED, str(doc), 1)
        return seeds, issues
    if not isinstance(doc, dict):
        return {}, [(f"expected a mapping of seed names to integers, found {type(doc).__name__}", None)]
    if len(doc) == 1:
        (key, value), = doc.items()
        if str(key).lower() in _WRAPPER_KEYS and isinstance(value, dict):
            doc = value
    _flatten(doc, "", seeds, issues, text, 0)
    return seeds, issues


def _flatten(
    doc: dict[Any, Any], prefix: str, seeds: dict[str, int], issues: list[Issue], text: str, depth: int
) -> None:
    """Store each integer of a mapping, nested names joined with dots; report the rest."""
    for key, value in doc.items():
        name = f"{prefix}{key}"
        line = _line_of(text, str(key))
        if isinstance(value, dict) and depth < 4:
            _flatten(value, f"{name}.", seeds, issues, text, depth + 1)
        elif isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
            issues.append((f"seed {name!r} is not an integer: {_show(value)}", line))
        elif isinstance(value, float):
            if value.is_integer():
                _store(seeds, issues, name, int(value), line)
            else:
                issues.append((f"seed {name!r} is not an integer: {value!r}", line))
        elif isinstance(value, int):
            _store(seeds, issues, name, value, line)
        else:
            _add(seeds, issues, name, str(value), line)


def _add(seeds: dict[str, int], issues: list[Issue], name: str, value: str, line: int | None) -> None:
    """Convert ``value`` to an integer and store it, or report why not."""
    number = _to_int(value)
    if number is None:
        issues.append((f"seed {name!r} is not an integer: {clip(value)!r}", line))
    elif isinstance(number, str):
        issues.append((f"seed {name!r}: {big_int_message(number, 'not used')}", line))
    else:
        _store(seeds, issues, name, number, line)


def _store(seeds: dict[str, int], issues: list[Issue], name: str, value: int, line: int | None) -> None:
    """Store a seed; a second, different value for the same name is reported and ignored."""
    if not fits_float(value):
        issues.append((f"seed {name!r}: {big_int_message(str(value), 'not used')}", line))
        return
    if name in seeds and seeds[name] != value:
        issues.append((f"seed {name!r} given twice ({seeds[name]} and {value}); keeping {seeds[name]}", line))
        return
    seeds.setdefault(name, value)


def _to_int(value: str) -> int | str | None:
    """Parse a seed written as decimal (``1_000``), hex (``0x10``) or a whole float (``42.0``); else None.

    An integer too large to be a number comes back as its text.
    """
    value = value.strip().strip("\"'")
    try:
        if _DECIMAL.fullmatch(value):
            return tame_int(value.replace("_", ""))
        if _HEX.fullmatch(value):
            return tame_int(value, 16)
        if _WHOLE_FLOAT.fullmatch(value):
            return int(float(value))
    except ValueError:
        return None
    return None


def _line_of(text: str, key: str) -> int | None:
    """Line where ``key`` is first written as a mapping key, if it can be found."""
    m = re.search(rf"(?m)(?<![\w.-])[\"']?{re.escape(key)}[\"']?\s*:", text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _show(value: Any) -> str:
    """A value as it would be written in JSON/YAML, for problem messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return clip(repr(value))
