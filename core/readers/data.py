"""Reader for ``data_snapshot.txt`` (or ``.json``/``.yaml``): which dataset version and hash a run read.

Understands one-line descriptions such as ``dataset_v23 parquet hash=0x9af2...``
(name and version split from ``_vNN``/``-vNN``/``@NN``/``:NN`` suffixes, a format
word, ``key=value`` tokens), ``key: value`` lines (``dataset:``, ``version:``,
``sha256:``, ``rows: 1,204,331`` ...) and JSON/YAML mappings with the same keys,
including a nested ``hashes:`` mapping. Anything else recorded is kept in ``extra``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..bignum import big_int_message, tame_int
from ..records import DataSnapshot
from ..safeio import ReadContext, Unreadable, parse_json, parse_yaml
from ._text import (
    Issue,
    as_path,
    clip,
    literal_scalar,
    name_suffix,
    remembered,
    unquote,
)

"""A problem found while parsing: message and 1-based line number (None when unknown)."""

DATA_FILE_NAMES: tuple[str, ...] = (
    "data_snapshot.txt",
    "data_snapshot.json",
    "data_snapshot.yaml",
    "data_snapshot.yml",
)
"""File names recognised as data snapshot records, in order of preference."""

FORMATS: frozenset[str] = frozenset(
    ["parquet", "csv", "tsv", "tfrecord", "tfrecords", "jsonl", "ndjson", "json", "arrow", "feather", "delta",
     "orc", "avro", "hdf5", "h5", "npy", "npz", "lmdb", "webdataset", "zarr", "iceberg", "txt", "xlsx", "pickle"]
)
"""Words recognised as a dataset's storage format."""

_BARE_FORMATS = frozenset(["parquet", "csv", "tsv", "tfrecord", "tfrecords", "jsonl", "ndjson", "arrow", "feather",
                           "delta", "orc", "avro", "hdf5", "zarr", "iceberg", "lmdb", "webdataset"])
_NAME_KEYS = frozenset(["dataset", "name", "dataset_name", "data", "data_name", "table", "source_table", "snapshot"])
_VERSION_KEYS = frozenset(["version", "ver", "dataset_version", "data_version", "snapshot_version", "revision"])
_FORMAT_KEYS = frozenset(["format", "file_format", "fmt", "storage_format"])
_ROWS_KEYS = frozenset(["rows", "row_count", "num_rows", "n_rows", "nrows", "records", "num_records", "n_records",
                        "record_count", "count", "size_rows", "examples", "num_examples", "samples", "num_samples"])
_HASH_GROUP_KEYS = frozenset(["hashes", "checksums", "digests", "fingerprints"])
_HASH_WORD = re.compile(
    r"hash(?:es)?|(?:sha|crc|xxh|blake)\d*(?:sum)?|md5(?:sum)?|checksums?|digests?|etag|fingerprint"
)
_VERSION_SUFFIX = re.compile(r"(?P<name>.+?)(?:[_-](?P<v>[vV]\d+(?:\.\d+)*)|@(?P<at>[\w.-]+)|:(?P<colon>[\w.-]+))")
_KEY_VALUE = re.compile(r"(?P<key>[A-Za-z_][\w.-]*(?: [A-Za-z_][\w.-]*){0,2})\s*:(?!//)(?P<gap>\s*)(?P<value>.*)")
_ROWS_PHRASE = re.compile(r"(?i)(?<![\w=])(?P<n>\d[\d,_]*)\s+(?:rows|records|samples|examples)\b")
_HEXISH = re.compile(r"0x[0-9a-fA-F]+\S*|[0-9a-fA-F]{8,}(?:\.\.\.|\u2026)?")
_TRAILING_COMMENT = re.compile(r"(?<!\s)\s+#\s.*$")
_SPACED_EQUALS = re.compile(r"(?<!\s)\s*=\s*")
_NAME_TOKEN = re.compile(r"[A-Za-z][\w.@:-]*")
_VERSION_TOKEN = re.compile(r"[vV]\d+(?:\.\d+)*")
_WHITESPACE = re.compile(r"\s")
_HASH_PAIR = re.compile(r"([\w-]+)\s*[=:]\s*([^\s,;]+)")
_NAME_MARK = re.compile(r"[_@:\d]")
_KEY_PARTS = re.compile(r"[_.\-\s]+")
_COUNT_SEPARATORS = re.compile(r"[,_\s\u202f\u00a0']")
_COUNT_UNIT = re.compile(r"(?i)(rows|records|samples|examples)$")
_DIGITS = re.compile(r"\d+")


def parse_data(text: str, name: str = "data_snapshot.txt") -> tuple[DataSnapshot, list[Issue]]:
    """Parse a data snapshot file's text (JSON/YAML when ``name`` says so) into a DataSnapshot plus problems."""
    if not text.strip():
        return DataSnapshot(), [("empty file", None)]
    builder = _SnapshotBuilder()
    suffix = name_suffix(name)
    if suffix in (".json", ".yaml", ".yml"):
        try:
            doc = parse_json(text) if suffix == ".json" else parse_yaml(text)
        except Unreadable as exc:
            return DataSnapshot(), [(exc.message, exc.line)]
        if isinstance(doc, str):
            builder.tokens(doc, 1)
        elif isinstance(doc, dict):
            builder.document(doc, text, "")
        elif doc is None:
            return DataSnapshot(), [("empty document", None)]
        else:
            return DataSnapshot(), [(f"expected a mapping describing the dataset, found {type(doc).__name__}", None)]
    else:
        builder.text(text)
    return builder.build()


def read_data(path: Path, ctx: ReadContext) -> DataSnapshot:
    """Read a data snapshot file through ``ctx``; never raises, reports problems on ``ctx``."""
    path = as_path(path)
    text = ctx.read_text(path)
    if text is None:
        return DataSnapshot()
    snapshot, issues = _parse_data_shared(text, path.name)
    for message, line in issues:
        ctx.problem(path, message, line)
    return snapshot


_parse_data_shared = remembered(parse_data, entries=256, longest=16384)
"""Runs of one dataset version share their data snapshot file."""


def split_name_version(token: str) -> tuple[str, str | None]:
    """Split ``dataset_v23`` -> (``dataset``, ``v23``); ``name@3``, ``name:3`` and ``name-v2.1`` work too."""
    m = _VERSION_SUFFIX.fullmatch(token)
    if not m:
        return token, None
    return m["name"], m["v"] or m["at"] or m["colon"]


class _SnapshotBuilder:
    """Collects fields from lines or mappings; :meth:`build` resolves name/version and freezes."""

    def __init__(self) -> None:
        """Start with nothing known."""
        self.raw_name: str | None = None
        self.version: str | None = None
        self.format: str | None = None
        self.rows: int | None = None
        self.hashes: dict[str, str] = {}
        self.extra: dict[str, str] = {}
        self.issues: list[Issue] = []
        self.notes: list[str] = []
        self.first: tuple[int, str] | None = None

    # -- text ---------------------------------------------------------------------
    def text(self, text: str) -> None:
        """Lines of ``key: value`` and/or ``name format key=value`` tokens, with optional indented groups."""
        group: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            s = raw.strip()
            if not s or s.startswith(("#", "//")):
                continue
            s = _TRAILING_COMMENT.sub("", s)
            if self.first is None:
                self.first = (number, s)
            indented = raw[:1] in (" ", "\t")
            kv = _KEY_VALUE.fullmatch(s)
            if kv and kv["value"] and not kv["gap"] and not _is_known_key(_norm_key(kv["key"])):
                kv = None  # "fraud:7 jsonl": a name:version token, not a key
            if kv:
                key, value = _norm_key(kv["key"]), unquote(kv["value"].strip())
                if not value:
                    group = key
                    continue
                if group and indented:
                    self.grouped(group, key, value, number)
                else:
                    group = None
                    self.field(key, value, number)
                continue
            if group and indented and s.startswith("- "):
                self.grouped(group, "", s[2:].strip(), number)
                continue
            group = None
            self.tokens(s, number)

    def tokens(self, s: str, number: int | None) -> None:
        """A one-line description: ``dataset_v23 parquet hash=0x9af2 rows=1204331 s3://...``."""
        s = _SPACED_EQUALS.sub("=", s)
        rows = _ROWS_PHRASE.search(s)
        if rows:
            self.field("rows", rows["n"], number)
            s = s[: rows.start()] + s[rows.end():]
        tokens = [t.strip(",;()[]{}") for t in s.split()]
        tokens = [t for t in tokens if t]
        if _is_prose(tokens):
            self.notes.append(" ".join(tokens))
            return
        leftovers: list[str] = []
        for token in tokens:
            low = token.lower()
            if "=" in token and not token.startswith("="):
                key, value = token.split("=", 1)
                self.field(_norm_key(key), unquote(value), number)
            elif low in _BARE_FORMATS:
                self._set_format(low)
            elif ("://" in token or token.startswith(("/", "./", "~/"))) and "path" not in self.extra:
                self.extra["path"] = token
            elif self.raw_name is None and _NAME_TOKEN.fullmatch(token):
                self._set_name(token, number)
            elif self.version is None and _VERSION_TOKEN.fullmatch(token):
                self.version = token
            elif not self.hashes and _HEXISH.fullmatch(token):
                self.hashes["hash"] = token
            else:
                leftovers.append(token)
        if leftovers:
            self.notes.append(" ".join(leftovers))

    # -- mappings -------------------------------------------------------------------
    def document(self, doc: dict[Any, Any], text: str, prefix: str, depth: int = 0) -> None:
        """A JSON/YAML mapping with the same keys as the text form; ``dataset:`` may nest the rest."""
        for key, value in doc.items():
            k = _norm_key(str(key))
            if isinstance(value, dict) and not prefix and k in _HASH_GROUP_KEYS:
                for hk, hv in value.items():
                    self.hashes[_norm_key(str(hk))] = literal_scalar(hv, hk, text)
            elif isinstance(value, dict) and depth < 2 and k in (_NAME_KEYS | {"source", "snapshot"}):
                self.document(value, text, prefix, depth + 1)
            elif isinstance(value, (dict, list)):
                self.extra.setdefault(prefix + k, json.dumps(value, default=str, ensure_ascii=False, sort_keys=True))
            elif k in _ROWS_KEYS and isinstance(value, int) and not isinstance(value, bool):
                self.rows = value if self.rows is None else self.rows
            else:
                self.field(k, literal_scalar(value, key, text), _line_of(text, str(key)))

    # -- fields -------------------------------------------------------------------------
    def field(self, key: str, value: str, number: int | None) -> None:
        """Store one ``key``/``value`` pair in the right place."""
        if key in _NAME_KEYS:
            if _WHITESPACE.search(value):
                self.tokens(value, number)  # "dataset: fraud_tx_v3 parquet"
            else:
                self._set_name(value, number)
        elif key in _VERSION_KEYS:
            if self.version is None:
                self.version = value
        elif key in _FORMAT_KEYS:
            self._set_format(value.lower())
        elif key in _ROWS_KEYS:
            rows = _to_int(value)
            if rows is None:
                self.issues.append((f"{key} {value!r} is not a whole number", number))
                self.extra.setdefault(key, value)
            elif isinstance(rows, str):
                self.issues.append((f"{key}: {big_int_message(rows)}", number))
                self.extra.setdefault(key, clip(value))
            elif self.rows is None:
                self.rows = rows
        elif key in _HASH_GROUP_KEYS:
            pairs = _HASH_PAIR.findall(value)
            if pairs:
                for hk, hv in pairs:
                    self.hashes.setdefault(_norm_key(hk), hv)
            else:
                self.hashes.setdefault(key, value)
        elif _is_hash_key(key):
            self.hashes.setdefault(key, value)
        else:
            self.extra.setdefault(key, value)

    def grouped(self, group: str, key: str, value: str, number: int) -> None:
        """An indented line under a ``group:`` header (``hashes:``, ``source:`` ...)."""
        if group in _HASH_GROUP_KEYS:
            self.hashes.setdefault(key or f"{group}.{len(self.hashes)}", value)
        elif group in _NAME_KEYS and key:
            self.field(key, value, number)
        elif key:
            self.extra.setdefault(f"{group}.{key}", value)
        else:
            previous = self.extra.get(group)
            self.extra[group] = f"{previous}, {value}" if previous else value

    def _set_name(self, value: str, number: int | None) -> None:
        """Record the dataset name; a second, different one is reported and kept in ``extra``."""
        if self.raw_name is None:
            self.raw_name = value
        elif value != self.raw_name:
            self.issues.append((f"second dataset {value!r}; keeping {self.raw_name!r}", number))
            self.extra.setdefault("other_dataset", value)

    def _set_format(self, value: str) -> None:
        """Record the storage format; the first one found wins."""
        if self.format is None:
            self.format = value.strip().lstrip(".")

    # -- result -------------------------------------------------------------------------
    def build(self) -> tuple[DataSnapshot, list[Issue]]:
        """Resolve name/version from a suffix and freeze the record."""
        name = self.raw_name
        version = self.version
        if name is not None:
            stem, ext = _split_extension(name)
            if ext and self.format is None:
                self.format = ext
            base, suffix_version = split_name_version(stem)
            if version is None:
                name, version = base, suffix_version
                if suffix_version is None:
                    name = stem
            elif suffix_version is not None and suffix_version.lstrip("vV") == version.lstrip("vV"):
                name = base
            else:
                name = stem
        if self.notes:
            self.extra.setdefault("notes", "; ".join(self.notes))
        if name is None and version is None and not self.hashes:
            where = f"first line: {clip(self.first[1])!r}" if self.first else "no fields"
            self.issues.append(
                (f"no dataset name, version or hash found ({where})", self.first[0] if self.first else None)
            )
        snapshot = DataSnapshot(name, version, self.format, dict(self.hashes), self.rows, dict(self.extra))
        return snapshot, self.issues


# -- helpers ------------------------------------------------------------------------------
def _split_extension(name: str) -> tuple[str, str | None]:
    """``dataset_v23.parquet`` -> (``dataset_v23``, ``parquet``) for known format extensions."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext.lower() in FORMATS:
        return stem, ext.lower()
    return name, None


def _is_prose(tokens: list[str]) -> bool:
    """A sentence rather than a description: many plain words, no ``key=value``, no format, no versioned name."""
    if len(tokens) <= 3 or any("=" in t or t.lower() in _BARE_FORMATS for t in tokens):
        return False
    return not _NAME_MARK.search(tokens[0])


_KNOWN_KEYS = _NAME_KEYS | _VERSION_KEYS | _FORMAT_KEYS | _ROWS_KEYS | _HASH_GROUP_KEYS


def _is_known_key(key: str) -> bool:
    """True for keys this reader understands, so ``dataset:fraud`` (no space) still counts as a key."""
    return key in _KNOWN_KEYS or _is_hash_key(key)


@lru_cache(maxsize=1024)
def _is_hash_key(key: str) -> bool:
    """True for keys naming a hash (``sha256``, ``data_hash``, ``md5sum``), but not e.g. ``shards``."""
    return any(_HASH_WORD.fullmatch(part) for part in _KEY_PARTS.split(key) if part)


@lru_cache(maxsize=1024)
def _norm_key(key: str) -> str:
    """Lower-case a key and join its words with underscores so spellings compare equal."""
    return "_".join(key.strip().strip("\"'").lower().replace("-", "_").split())


def _to_int(value: str) -> int | str | None:
    """Parse a row count written with thousands separators (``1,204,331``); None when not a whole number.

    A count too large to be a number comes back as its digits.
    """
    cleaned = _COUNT_SEPARATORS.sub("", str(value))
    cleaned = _COUNT_UNIT.sub("", cleaned)
    return tame_int(cleaned) if _DIGITS.fullmatch(cleaned) else None



def _line_of(text: str, key: str) -> int | None:
    """Line where ``key`` is first written as a mapping key, if it can be found."""
    m = re.search(rf"(?<![\w.-])[\"']?{re.escape(key)}[\"']?\s*:", text)
    return text.count("\n", 0, m.start()) + 1 if m else None
