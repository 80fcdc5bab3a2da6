"""Reader for a run's data splits: id lists kept only as a count and a hash, re-read on demand.

Where splits are found (see :func:`read_splits`):

* ``splits/<name>_ids.txt`` or ``splits/<name>.txt``: one id per line;
* ``splits/<name>.csv`` (or ``.tsv``) with a header: ids from the id column
  (:data:`ID_COLUMNS`, else the first ``*_id`` column, else the first column);
  a CSV with a ``split`` column (:data:`SPLIT_COLUMNS`) holds one split per
  distinct value, named by that value;
* ``splits/splits.json`` and ``<run>/splits.json``: ``{"train": [ids], "val": [ids]}``
  (also ``{"splits": {...}}`` and ``{"train": {"ids": [...]}}``).

The hash (:func:`hash_ids`) is the sha256 of the ids stripped of surrounding
whitespace, blank ones dropped, sorted as Python strings (by code point), each
followed by ``\\n``, encoded as UTF-8. Duplicates are kept in count and hash.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from ..records import Split
from ..safeio import ReadContext, Unreadable, text_lines
from .split_text import (
    CSV_DELIMITERS,
    ID_COLUMNS,
    ID_NAME_SUFFIXES,
    JSON_ID_KEYS,
    SPLIT_COLUMNS,
    SPLITS_JSON,
    TEXT_SUFFIXES,
    UNSUPPORTED_SUFFIXES,
    Message,
    ParsedSplit,
    _csv_groups,
    _csv_splits,
    _digest,
    _ids_of_batches,
    _json_entry,
    _json_ids,
    _json_splits,
    _kind,
    _text_ids,
    hash_ids,
    normalise_ids,
    parse_split_text,
    split_name,
)

# The splits reader's API, defined here and in split_text.
__all__ = [
    "CSV_DELIMITERS",
    "ID_COLUMNS",
    "ID_NAME_SUFFIXES",
    "JSON_ID_KEYS",
    "SHARED_BYTES",
    "SPLITS_DIR",
    "SPLITS_JSON",
    "SPLIT_COLUMNS",
    "TEXT_SUFFIXES",
    "UNSUPPORTED_SUFFIXES",
    "Message",
    "ParsedSplit",
    "SplitSummary",
    "hash_ids",
    "load_split_ids",
    "normalise_ids",
    "parse_split_text",
    "read_splits",
    "split_name",
]

SPLITS_DIR = "splits"
"""Folder of a run holding the split files."""


_LINE_BATCH = 65_536
"""Lines of an id file handled together by :func:`_ids_of_batches` (bounds memory for huge files)."""


def read_splits(run_dir: Path, ctx: ReadContext) -> tuple[Split, ...]:
    """Splits of a run, from ``run_dir/splits/`` and ``run_dir/splits.json``, as count + hash records.

    Text and CSV files are streamed with ``ctx.iter_lines`` so huge id lists work;
    the ids are held only while one file is sorted and hashed. Problems (empty
    split, duplicate ids, binary or unreadable files, links leaving the root, a
    split name found twice) are recorded in ``ctx``; nothing is raised. When two
    files give the same split name the first (by file name; ``run_dir/splits.json``
    last) is kept.
    """
    found: list[Split] = []
    sources: dict[str, str] = {}
    for path in _split_files(run_dir, ctx):
        try:
            parsed, messages = _read_file(ctx, path)
        except Unreadable as exc:
            ctx.problem(path, exc.message, exc.line)
            continue
        for message, line in messages:
            ctx.problem(path, message, line)
        for split in parsed:
            record = _record(ctx, path, split)
            if record.name in sources:
                ctx.problem(path, f"split '{record.name}' already read from {sources[record.name]}; this one ignored")
                continue
            sources[record.name] = record.source
            found.append(record)
    return tuple(found)


def load_split_ids(root: Path, split: Split) -> list[str]:
    """The ids of ``split`` re-read from its source under ``root``, normalised and sorted like the hash.

    Raises :class:`Unreadable` when the source is outside ``root`` (also through
    links), missing or unreadable; callers show the message.
    """
    ctx = ReadContext(root)
    rel = PurePosixPath(split.source)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise Unreadable(f"split source {split.source!r} is not inside the root; not read")
    path = ctx.root.joinpath(*rel.parts)
    if not ctx.inside_root(path):
        raise Unreadable(f"split source {split.source!r} leads outside the root; not read")
    kind = _kind(path.name)
    if kind == "json":
        doc = ctx.load_structured(path)
        if doc is None:
            problem = ctx.problems[-1] if ctx.problems else None
            raise Unreadable(problem.message if problem else "not read", problem.line if problem else None)
        value = _lookup(doc, split.column) if split.column else _MISSING
        if value is _MISSING:
            value = _lookup(doc, split.name)
        items, _ = _json_entry(value, "")
        if items is None:
            raise Unreadable(f"no id list for split '{split.name}' in {split.source}")
        return normalise_ids(_json_ids(items)[0])
    if kind == "csv":
        delimiter = CSV_DELIMITERS[path.suffix.lower()]
        layout, groups, _ = _csv_groups(ctx.iter_lines(path), delimiter, split.column)
        if layout is not None and layout.split_col is not None:
            return normalise_ids(groups.get(split.name, []))
        return normalise_ids(groups.get(None, []))
    if kind == "text":
        return normalise_ids(_text_ids(ctx.iter_lines(path))[0])
    raise Unreadable(f"{split.source} is not a split file runsift can read")


def _split_files(run_dir: Path, ctx: ReadContext) -> Iterator[Path]:
    """Split files of a run in reading order; folder-level trouble becomes a problem."""
    folder = run_dir / SPLITS_DIR
    present, seen = _look(folder)
    if present:
        if not ctx.inside_root(folder):
            ctx.problem(folder, "splits folder is a link leading outside the root; not read")
        elif not _is_dir(folder, seen):
            ctx.problem(folder, "'splits' is not a folder; not read")
        else:
            try:
                entries = sorted(folder.iterdir(), key=lambda p: p.name)
            except OSError as exc:
                ctx.problem(folder, f"cannot list: {exc.strerror or exc}")
                entries = []
            for path in entries:
                kind = _kind(path.name)
                if kind == "ignore":
                    continue
                if kind == "unsupported":
                    ctx.problem(path, f"'{path.suffix}' split files are not supported; not read")
                    continue
                yield path
    top = run_dir / SPLITS_JSON
    if _look(top)[0]:
        yield top


def _look(path: Path) -> tuple[bool, os.stat_result | None]:
    """(``path.is_symlink() or path.exists()``, the ``lstat`` taken), with one system call in the usual cases."""
    try:
        seen = os.lstat(path)
    except FileNotFoundError:
        return False, None  # neither a link nor anything a link could lead to
    except (OSError, ValueError):
        return path.is_symlink() or path.exists(), None  # let pathlib decide which errors count
    return True, seen


def _is_dir(path: Path, seen: os.stat_result | None) -> bool:
    """``path.is_dir()``, answered from ``seen`` (its lstat) when that shows a folder, not a link."""
    if seen is not None and stat.S_ISDIR(seen.st_mode):
        return True
    return path.is_dir()


@dataclass(frozen=True, slots=True)
class SplitSummary:
    """What a run keeps of one split: count, hash and duplicates, without the ids."""

    name: str
    column: str | None
    count: int
    sha256: str
    duplicates: int


def _read_file(ctx: ReadContext, path: Path) -> tuple[list[SplitSummary], list[Message]]:
    """Parse and summarise one split file through ``ctx`` (streaming text and CSV); raises Unreadable."""
    kind = _kind(path.name)
    if kind == "json":
        doc = ctx.load_structured(path)
        parsed, messages = _json_splits(doc) if doc is not None else ([], [])
    elif kind == "csv":
        parsed, messages = _csv_splits(ctx.iter_lines(path), CSV_DELIMITERS[path.suffix.lower()], path.name)
    elif ctx.check_file(path, None) <= SHARED_BYTES:
        summary, shared_messages = _shared_text_summary(ctx.read_bytes(path, SHARED_BYTES), path.name)
        return [summary], list(shared_messages)
    else:
        ids, messages = _ids_of_batches(ctx.iter_line_batches(path, _LINE_BATCH))  # a failing file is dropped whole
        ids.sort()
        parsed = [ParsedSplit(split_name(path.name), None, ids)]
    return [_summary(split) for split in parsed], messages


SHARED_BYTES = 256 * 1024
"""Id files up to this size are summarised once per content: runs of one data version share them."""


@lru_cache(maxsize=32)
def _shared_text_summary(data: bytes, file_name: str) -> tuple[SplitSummary, tuple[Message, ...]]:
    """The summary of a one-id-per-line file from its bytes, remembered for the next run with the same file."""
    ids, messages = _ids_of_batches([(1, text_lines(data))])
    ids.sort()
    return _summary(ParsedSplit(split_name(file_name), None, ids)), tuple(messages)


def _summary(split: ParsedSplit) -> SplitSummary:
    """Count and hash one parsed split (ids sorted)."""
    ids = split.ids
    duplicates = len(ids) - len(set(ids))  # = equal neighbours in the sorted list
    return SplitSummary(split.name, split.column, len(ids), _digest(ids), duplicates)


def _record(ctx: ReadContext, path: Path, split: SplitSummary) -> Split:
    """The Split a run keeps, reporting emptiness and duplicates."""
    if not split.count:
        ctx.problem(path, f"split '{split.name}' is empty (no ids)")
    if split.duplicates:
        ctx.problem(path, f"split '{split.name}': {split.duplicates} duplicate ids")
    return Split(name=split.name, count=split.count, sha256=split.sha256, source=ctx.rel(path), column=split.column)


_MISSING = object()


def _lookup(node: Any, dotted: str) -> Any:
    """Value at a dotted key path in nested mappings (keys may themselves contain dots), else _MISSING."""
    if not isinstance(node, Mapping):
        return _MISSING
    if dotted in node:
        return node[dotted]
    for index, char in enumerate(dotted):
        if char == "." and dotted[:index] in node:
            found = _lookup(node[dotted[:index]], dotted[index + 1 :])
            if found is not _MISSING:
                return found
    return _MISSING
