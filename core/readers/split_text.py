"""One split file's text (ids one per line, a CSV with id and split columns, ``splits.json``) as named id lists, and their hash."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any, NamedTuple

from ..safeio import Unreadable, parse_json

SPLITS_JSON = "splits.json"
"""Name of the one JSON file of splits, read in the splits folder and in the run folder."""

TEXT_SUFFIXES: tuple[str, ...] = (".txt",)

CSV_DELIMITERS: Mapping[str, str] = {".csv": ",", ".tsv": "\t"}

ID_NAME_SUFFIXES: tuple[str, ...] = ("_ids", "-ids", "_indices", "_idx")
"""Removed from a file stem to get the split name: ``val_ids.txt`` -> ``val``."""

ID_COLUMNS: tuple[str, ...] = ("id", "example_id", "row_id", "sample_id", "record_id")
"""CSV id columns in order of preference (case-insensitive); then the first ``*_id``, then the first column."""

SPLIT_COLUMNS: tuple[str, ...] = ("split", "subset", "partition")
"""A CSV column naming each row's split, turning one file into several splits."""

JSON_ID_KEYS: tuple[str, ...] = ("ids", "indices")
"""Keys holding the id list when a splits.json entry is a mapping."""

UNSUPPORTED_SUFFIXES: tuple[str, ...] = (".npy", ".npz", ".parquet", ".pkl", ".pickle", ".feather", ".arrow", ".h5", ".hdf5")
"""Split files we recognise but cannot read; reported so a missing split is explained."""

_HASH_CHUNK = 65_536


Message = tuple[str, "int | None"]


class ParsedSplit(NamedTuple):
    """One split as parsed from a file, ids included (sorted); never stored in a record."""

    name: str
    column: str | None
    ids: list[str]


def normalise_ids(raw: Iterable[str]) -> list[str]:
    """Ids stripped, blanks dropped and sorted as strings: the canonical form that is hashed."""
    ids = [s for s in (r.strip() for r in raw) if s]
    ids.sort()
    return ids


def hash_ids(ids: Iterable[str]) -> str:
    """sha256 hex of the normalised ids, each followed by ``\\n`` (order and blank lines do not matter)."""
    return _digest(normalise_ids(ids))


def _digest(sorted_ids: list[str]) -> str:
    """sha256 of already normalised, sorted ids, hashed in chunks so huge splits need no second copy."""
    h = hashlib.sha256()
    for start in range(0, len(sorted_ids), _HASH_CHUNK):
        chunk = sorted_ids[start : start + _HASH_CHUNK]
        h.update(("\n".join(chunk) + "\n").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@lru_cache(maxsize=1024)
def split_name(file_name: str) -> str:
    """Split name from a file name: the stem minus ``_ids`` (``val_ids.txt`` -> ``val``)."""
    stem = PurePosixPath(file_name).stem
    lowered = stem.lower()
    for suffix in ID_NAME_SUFFIXES:
        if lowered.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def parse_split_text(text: str, file_name: str) -> tuple[list[ParsedSplit], list[Message]]:
    """Splits in the text of one split file, its format chosen from ``file_name``; for tests and previews.

    Raises nothing: an unreadable file gives no splits and a message.
    """
    lines = list(enumerate(text.splitlines(), start=1))
    try:
        kind = _kind(file_name)
        if kind == "json":
            if not text.strip():
                raise Unreadable("empty file (still being written?)")
            return _json_splits(parse_json(text))
        if kind == "csv":
            return _csv_splits(iter(lines), CSV_DELIMITERS[PurePosixPath(file_name).suffix.lower()], file_name)
        if kind == "text":
            ids, messages = _text_ids(iter(lines))
            return [ParsedSplit(split_name(file_name), None, normalise_ids(ids))], messages
    except Unreadable as exc:
        return [], [(exc.message, exc.line)]
    return [], [("not a split file name", None)]


@lru_cache(maxsize=1024)
def _kind(file_name: str) -> str:
    """text, csv, json, unsupported or ignore, from a file name in a splits folder."""
    lowered = file_name.lower()
    suffix = PurePosixPath(lowered).suffix
    if lowered.startswith((".", "readme")):
        return "ignore"
    if lowered == SPLITS_JSON:
        return "json"
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in CSV_DELIMITERS:
        return "csv"
    if suffix in UNSUPPORTED_SUFFIXES:
        return "unsupported"
    return "ignore"


def _text_ids(lines: Iterator[tuple[int, str]]) -> tuple[list[str], list[Message]]:
    """Ids of a one-id-per-line file (stripped, blanks dropped, unsorted), streaming the lines."""
    ids: list[str] = []
    replaced: int | None = None
    for number, text in lines:
        if number == 1:
            text = text.removeprefix("\ufeff")
        stripped = text.strip()
        if stripped:
            ids.append(stripped)
            if replaced is None and "\ufffd" in stripped:
                replaced = number
    return ids, _replaced_messages(replaced)


def _ids_of_batches(batches: Iterable[tuple[int, list[str]]]) -> tuple[list[str], list[Message]]:
    """:func:`_text_ids` for lines given in lists of consecutive lines, each with its first line's number.

    Works a list at a time (comprehensions instead of a Python step per line):
    split files hold many ids.
    """
    ids: list[str] = []
    replaced: int | None = None
    for first, texts in batches:
        if first == 1 and texts and texts[0].startswith("\ufeff"):
            texts = [texts[0].removeprefix("\ufeff"), *texts[1:]]
        stripped = [text.strip() for text in texts]
        ids += filter(None, stripped)
        if replaced is None and "\ufffd" in "".join(stripped):
            replaced = first + next(i for i, text in enumerate(stripped) if "\ufffd" in text)
    return ids, _replaced_messages(replaced)


def _replaced_messages(replaced: int | None) -> list[Message]:
    """The problem for an id file with undecodable bytes (first such line ``replaced``), if any."""
    if replaced is None:
        return []
    return [("not valid UTF-8: undecodable bytes replaced, ids may not match the data", replaced)]


class _CsvLayout(NamedTuple):
    """Which columns of a split CSV hold the ids and the split names."""

    id_col: int
    id_name: str | None
    split_col: int | None
    has_header: bool
    several_columns: bool


def _csv_layout(first: list[str], column: str | None) -> _CsvLayout:
    """Choose the id (and split) column from the first row; a row of numbers only means there is no header."""
    cells = [c.strip().removeprefix("\ufeff") for c in first]
    several = len(cells) > 1
    if all(_is_number(c) for c in cells if c) and any(cells):
        if column is not None:
            raise Unreadable(f"column '{column}' not found: the file has no header")
        return _CsvLayout(0, None, None, False, several)
    lowered = [c.lower() for c in cells]
    if column is not None:
        if column not in cells:
            raise Unreadable(f"column '{column}' not in the header")
        id_col = cells.index(column)
    else:
        id_col = next((lowered.index(c) for c in ID_COLUMNS if c in lowered), -1)
        if id_col < 0:
            id_col = next((i for i, c in enumerate(lowered) if c.endswith("_id")), 0)
    split_col = next((lowered.index(c) for c in SPLIT_COLUMNS if c in lowered and lowered.index(c) != id_col), None)
    return _CsvLayout(id_col, cells[id_col] or None, split_col, True, several)


def _csv_rows(lines: Iterator[tuple[int, str]], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of a CSV stream, blank rows skipped; a malformed file raises Unreadable with its line."""
    where = [0]

    def texts() -> Iterator[str]:
        for number, text in lines:
            where[0] = number
            yield text

    reader = csv.reader(texts(), delimiter=delimiter)
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                yield where[0], row
    except csv.Error as exc:
        raise Unreadable(f"unreadable CSV: {exc}", where[0]) from None


def _csv_groups(
    lines: Iterator[tuple[int, str]], delimiter: str, column: str | None = None
) -> tuple[_CsvLayout | None, dict[str | None, list[str]], list[Message]]:
    """Ids of a split CSV grouped by split value (key None without a split column), unsorted."""
    rows = _csv_rows(lines, delimiter)
    first = next(rows, None)
    if first is None:
        return None, {}, []
    layout = _csv_layout(first[1], column)
    groups: dict[str | None, list[str]] = {}
    no_id: list[int] = []
    no_split: list[int] = []
    data = rows if layout.has_header else _chain_first(first, rows)
    for number, row in data:
        value = row[layout.id_col].strip() if layout.id_col < len(row) else ""
        if number == 1:
            value = value.removeprefix("\ufeff").strip()
        if not value:
            _tally(no_id, number)
            continue
        key: str | None = None
        if layout.split_col is not None:
            key = row[layout.split_col].strip() if layout.split_col < len(row) else ""
            if not key:
                _tally(no_split, number)
                continue
        groups.setdefault(key, []).append(value)
    messages: list[Message] = []
    if no_id:
        messages.append((f"{no_id[1]} row(s) without an id skipped", no_id[0]))
    if no_split:
        messages.append((f"{no_split[1]} row(s) without a split name skipped", no_split[0]))
    return layout, groups, messages


def _csv_splits(lines: Iterator[tuple[int, str]], delimiter: str, file_name: str) -> tuple[list[ParsedSplit], list[Message]]:
    """Splits of one CSV: a single split named after the file, or one per value of its split column."""
    layout, groups, messages = _csv_groups(lines, delimiter)
    if layout is None:
        return [ParsedSplit(split_name(file_name), None, [])], messages
    column = layout.id_name if layout.several_columns or layout.split_col is not None else None
    if layout.split_col is None:
        ids = groups.get(None, [])
        ids.sort()
        return [ParsedSplit(split_name(file_name), column, ids)], messages
    out = []
    for name in sorted(key for key in groups if key is not None):  # every row has a split here
        ids = groups[name]
        ids.sort()
        out.append(ParsedSplit(str(name), column, ids))
    if not out:
        messages.append(("no rows with a split name", None))
    return out, messages


def _json_splits(doc: Any) -> tuple[list[ParsedSplit], list[Message]]:
    """Splits of a splits.json document: name -> id list (or -> {"ids": [...]}), other entries ignored as metadata."""
    if not isinstance(doc, Mapping):
        return [], [(f"splits.json holds a {type(doc).__name__}; expected split name -> list of ids", None)]
    base, prefix = doc, ""
    if isinstance(doc.get("splits"), Mapping):
        base, prefix = doc["splits"], "splits."
    out: list[ParsedSplit] = []
    messages: list[Message] = []
    for raw_key, value in base.items():
        key = str(raw_key)
        items, column = _json_entry(value, prefix + key)
        if items is None:
            continue
        ids, bad = _json_ids(items)
        if bad:
            messages.append((f"split '{key}': {bad} item(s) not text or integers skipped", None))
        ids.sort()
        out.append(ParsedSplit(key, column, ids))
    if not out:
        messages.append(('no id lists found; expected {"train": [ids], "val": [ids]}', None))
    return out, messages


def _json_entry(value: Any, column: str) -> tuple[list[Any] | None, str]:
    """The id list of one splits.json entry and its dotted key, or None when the entry is metadata."""
    if isinstance(value, list):
        return value, column
    if isinstance(value, Mapping):
        for k in JSON_ID_KEYS:
            if isinstance(value.get(k), list):
                return value[k], f"{column}.{k}"
    return None, column


def _json_ids(items: list[Any]) -> tuple[list[str], int]:
    """Ids of a JSON list as text (integers as digits), stripped and de-blanked; count of unusable items."""
    ids: list[str] = []
    bad = 0
    for item in items:
        if isinstance(item, str):
            text = item.strip()
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            text = str(item)
        else:
            bad += 1
            continue
        if text:
            ids.append(text)
    return ids, bad


def _chain_first(first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """``first`` then the rest: puts back a header-less CSV's first row."""
    yield first
    yield from rest


def _tally(slot: list[int], line: int) -> None:
    """Count into ``[first line, count]``, remembering the first line."""
    if slot:
        slot[1] += 1
    else:
        slot.extend((line, 1))


def _is_number(text: str) -> bool:
    """True for text that parses as a number (header-less CSV detection)."""
    try:
        float(text)
    except ValueError:
        return False
    return True
