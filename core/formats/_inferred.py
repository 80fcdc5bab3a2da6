"""Small helpers the Hydra, Sacred and DVCLive readers share: what a run's files let us infer.

Planned epochs from a config, the seed a config records, the tail of a traceback, UTC times as
local ones, a bounded look at the head and tail of a log, and a bounded listing of a sub-folder
the walk did not list (it lists run folders three levels deep).
"""

from __future__ import annotations

import math
import os
import re
import stat as statmod
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..safeio import ReadContext, Unreadable

TRACEBACK_LINES = 20
"""Lines of a traceback kept as a run's ``error`` (its end: where it failed and why)."""
LOG_PEEK_BYTES = 64 * 1024
"""Bytes read from each end of a log: enough for its first and last lines, never the whole file."""

_EPOCH_KEYS = ("epochs", "num_epochs", "max_epochs", "n_epochs")
_TRACEBACK_START = "Traceback (most recent call"
_SEED_KEY = re.compile(r"^(seed|random_seed|global_seed|.*_seed)$", re.IGNORECASE)


MAX_NESTING = 32
"""Deepest config mapping re-nested."""


def nest(config: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """Dotted keys (``optimizer.lr``, as trackers flatten configs) as nested mappings, at every level.

    Plain keys come first, then dotted ones, fewest dots first, then by name, so the result does
    not depend on the order keys were written: a key whose path runs into a value (``a`` beside
    ``a.b``), or lands on one already there, stays as written; two mappings at one place merge.
    Keys with an empty part (``a..b``, ``.a``) stay as written.
    """
    out: dict[str, Any] = {}
    dotted: list[tuple[str, Any]] = []
    for key, value in config.items():
        value = nest(value, depth + 1) if isinstance(value, Mapping) and depth < MAX_NESTING else value
        if isinstance(key, str) and "." in key and all(key.split(".")):
            dotted.append((key, value))
        else:
            out[key] = value
    for key, value in sorted(dotted, key=lambda kv: (kv[0].count("."), kv[0])):
        parts = key.split(".")
        parent: dict[str, Any] = out
        node: dict[str, Any] | None = out
        for part in parts[:-1]:
            child = parent.setdefault(part, {})
            if not isinstance(child, dict):
                node = None
                break
            parent = node = child
        if node is None or (parts[-1] in node and not (isinstance(node[parts[-1]], dict) and isinstance(value, dict))):
            out[key] = value
        elif parts[-1] in node:
            node[parts[-1]].update(value)
        else:
            node[parts[-1]] = value
    return out


def configured_epochs(config: Mapping[str, Any]) -> int | None:
    """Planned number of epochs, when the config says (``epochs``, ``training.epochs`` ...)."""
    for scope in (config, config.get("training"), config.get("train"), config.get("trainer")):
        if not isinstance(scope, Mapping):
            continue
        for key in _EPOCH_KEYS:
            value = scope.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def seeds_from_config(config: Mapping[str, Any], prefix: str = "", depth: int = 0) -> dict[str, int]:
    """Seeds a config records: integer values of keys named ``seed`` (or ``*_seed``), by dotted path."""
    out: dict[str, int] = {}
    if depth > 16:
        return out
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(seeds_from_config(value, path + ".", depth + 1))
        elif _SEED_KEY.match(str(key)) and not isinstance(value, bool):
            seed = _integer(value)
            if seed is not None:
                out[path] = seed
    return out


def _integer(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,19}\s*", value):
        return int(value)
    return None


def traceback_tail(text: str, keep: int = TRACEBACK_LINES) -> str | None:
    """The last ``keep`` lines of the last traceback in ``text`` (None without one)."""
    start = text.rfind(_TRACEBACK_START)
    if start < 0:
        return None
    lines = text[start:].rstrip().splitlines()
    return "\n".join(lines[-keep:])


def error_tail(text: str | None, keep: int = TRACEBACK_LINES) -> str | None:
    """The last traceback in ``text``, else its last ``keep`` non-blank lines: what broke, at the end of an error log."""
    if not text or not text.strip():
        return None
    return traceback_tail(text, keep) or "\n".join([line for line in text.splitlines() if line.strip()][-keep:])


def utc_time(value: Any) -> datetime | None:
    """A naive UTC ISO time (as Sacred writes them) as an aware datetime; None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def local_from_utc(value: Any) -> datetime | None:
    """A naive UTC ISO time as a naive local time, to the second; None when it is not one."""
    when = utc_time(value)
    return when.astimezone().replace(tzinfo=None, microsecond=0) if when is not None else None


def local_from_epoch(seconds: float) -> datetime | None:
    """Seconds since the epoch as a naive local time (None when out of range)."""
    try:
        return datetime.fromtimestamp(seconds).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return None


def log_head_and_tail(path: Path, ctx: ReadContext, peek: int = LOG_PEEK_BYTES) -> tuple[str, str] | None:
    """The first and last ``peek`` bytes of a (possibly huge) text log, decoded; None with a problem when unreadable."""
    try:
        size = ctx.check_file(path, None)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            head = os.read(fd, min(size, peek))
            if size > peek:
                os.lseek(fd, size - peek, os.SEEK_SET)
                tail = os.read(fd, peek)
            else:
                tail = head
        finally:
            os.close(fd)
    except Unreadable as exc:
        ctx.problem(path, exc.message, exc.line)
        return None
    except OSError as exc:
        ctx.problem(path, f"cannot read: {exc.strerror or exc}")
        return None
    if b"\x00" in head or b"\x00" in tail:
        ctx.problem(path, "binary data (NUL bytes), not text; not read")
        return None
    return head.decode("utf-8", "replace"), tail.decode("utf-8", "replace")


_LOG_TIME = re.compile(r"^\[?(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})(?:[,.](\d{1,6}))?")


def log_times(head: str, tail: str) -> tuple[datetime | None, datetime | None]:
    """Times of the first and last timestamped lines of a log (Python logging's ``asctime`` form, milliseconds kept)."""
    first = last = None
    for line in head.splitlines():
        first = _log_time(line)
        if first is not None:
            break
    for line in reversed(tail.splitlines()):
        last = _log_time(line)
        if last is not None:
            break
    return first, last


def _log_time(line: str) -> datetime | None:
    match = _LOG_TIME.match(line)
    if match is None:
        return None
    try:
        when = datetime.fromisoformat(match.group(1).replace("T", " "))
    except ValueError:
        return None
    fraction = match.group(2)
    return when.replace(microsecond=int(fraction.ljust(6, "0"))) if fraction else when


def list_tree(folder: Path, suffixes: tuple[str, ...], ctx: ReadContext, *, max_depth: int = 8, max_files: int = 2_000) -> list[Path]:
    """Files below ``folder`` ending in ``suffixes``, sorted; links and deeper levels are not followed.

    For a run's sub-folder the walk did not list in full. Stops (with a problem) after ``max_files``.
    """
    out: list[Path] = []
    stack: list[tuple[str, int]] = [(str(folder), 0)]
    while stack:
        current, depth = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            ctx.problem(current, f"cannot list folder: {exc.strerror or exc}")
            continue
        for entry in entries:
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if statmod.S_ISDIR(mode):
                if depth + 1 < max_depth:
                    stack.append((entry.path, depth + 1))
            elif statmod.S_ISREG(mode) and entry.name.endswith(suffixes):
                if len(out) >= max_files:
                    ctx.problem(folder, f"more than {max_files:,} files; only the first {max_files:,} were read")
                    return sorted(out)
                out.append(Path(entry.path))
    return sorted(out)
