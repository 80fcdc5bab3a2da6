"""Bounded, root-confined reading of untrusted files.

Every reader goes through a :class:`ReadContext`: it refuses links that leave the
catalog root, bounds file sizes and nesting depth, loads YAML with a safe loader,
accepts NaN/Infinity in JSON, and turns every failure into a :class:`Problem`
instead of an exception. Nothing here writes to disk.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

import yaml

from .fmt import format_size
from .places import is_inside
from .records import Problem
from .yamlload import load_yaml

KiB = 1024
MiB = 1024 * KiB

MAX_STRUCTURED_BYTES = 16 * MiB
"""Largest config/metrics/definition file parsed as JSON or YAML."""
MAX_TEXT_BYTES = 4 * MiB
"""Largest plain-text file (env, seeds, notes ...) read whole."""
MAX_NODES = 200_000
"""Largest number of values a parsed document may expand to (defeats YAML alias bombs)."""
MAX_DEPTH = 64
"""Deepest nesting accepted in a parsed document."""
WHOLE_FILE_LINES_BYTES = 1 * MiB
"""Files up to this size are split into lines in memory by :meth:`ReadContext.iter_lines` instead of streamed."""
_BINARY_SNIFF_BYTES = 65536
"""How much of a file is searched for NUL bytes to tell binary from text."""
_READ_CHUNK = 65536
"""Bytes asked for per read once a file turns out longer than stat said."""


class Unreadable(Exception):
    """A file could not be read; the message is meant for the user."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class ReadContext:
    """Where reading happens (the catalog root) and where problems are collected."""

    root: Path
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(os.path.realpath(self.root))

    # -- paths --------------------------------------------------------------
    def rel(self, path: Path | str) -> str:
        """``path`` relative to the root with POSIX separators (as given, links not resolved)."""
        absolute = os.path.abspath(path)
        root = str(self.root)
        if os.sep == "/" and isinstance(absolute, str) and absolute.startswith(root + "/") and root != "/":
            # abspath and realpath give normalised text (no "//", "." or trailing "/"),
            # so the text after the root is what relative_to().as_posix() gives.
            return absolute[len(root) + 1 :]
        p = Path(absolute)
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return p.as_posix()

    def problem(self, path: Path | str, message: str, line: int | None = None) -> None:
        """Record a problem about ``path``."""
        self.problems.append(Problem(self.rel(path), message, line))

    def inside_root(self, path: Path | str) -> bool:
        """True when ``path``, links resolved, stays inside the root."""
        return is_inside(path, self.root, root_resolved=True)

    def check_file(self, path: Path, max_bytes: int | None) -> int:
        """Check that ``path`` is a regular file we may read; return its size or raise Unreadable."""
        try:
            st = os.lstat(path)
        except (OSError, ValueError):
            return self._check_link_or_missing(path, max_bytes)
        if stat.S_ISLNK(st.st_mode):
            return self._check_link_or_missing(path, max_bytes)
        # Not a link: lstat and stat describe the same file, so one system call is enough.
        return _checked_size(st, max_bytes)

    def _check_link_or_missing(self, path: Path, max_bytes: int | None) -> int:
        """:meth:`check_file` for links and for paths lstat cannot see (missing, bad name ...)."""
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                raise Unreadable("broken or looping symbolic link; not read") from None
            if not self.inside_root(target):
                raise Unreadable("symbolic link points outside the root; not read")
        try:
            st = path.stat()
        except OSError as exc:
            raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
        return _checked_size(st, max_bytes)

    # -- reading --------------------------------------------------------------
    def read_bytes(self, path: Path, max_bytes: int = MAX_TEXT_BYTES) -> bytes:
        """Bytes of a checked file, or raise Unreadable."""
        size = self.check_file(path, max_bytes)
        try:
            data = _read_head(path, size, max_bytes + 1)
        except OSError as exc:
            raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
        if len(data) > max_bytes:  # grew while we looked
            raise Unreadable(f"file is over the {format_size(max_bytes)} limit; not read")
        return data

    def read_text(self, path: Path, max_bytes: int = MAX_TEXT_BYTES) -> str | None:
        """Text of ``path`` decoded as UTF-8, or None with a problem recorded.

        Binary files (NUL bytes) are refused. Invalid UTF-8 is decoded with
        replacement characters and reported, so the rest of the file still counts.
        """
        try:
            return self._text(path, max_bytes)
        except Unreadable as exc:
            self.problem(path, exc.message, exc.line)
            return None

    def _text(self, path: Path, max_bytes: int) -> str:
        data = self.read_bytes(path, max_bytes)
        if b"\x00" in data[:65536]:
            raise Unreadable("binary data (NUL bytes), not text; not read")
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.problem(path, f"not valid UTF-8 (byte {exc.start}); undecodable bytes replaced", line)
            return data.decode("utf-8", errors="replace")

    def iter_lines(self, path: Path) -> Iterator[tuple[int, str]]:
        """Stream (line number, text) of a possibly huge text file, without a size limit.

        Used for split id lists and logs. Raises Unreadable for links outside the
        root, non-regular or binary files.
        """
        size = self.check_file(path, None)
        try:
            whole = _small_file_lines(path, size)
            if whole is not None:
                yield from enumerate(whole, start=1)
                return
            with open(path, "rb") as fh:
                _refuse_binary(fh.read(_BINARY_SNIFF_BYTES))
                fh.seek(0)
                for number, raw in enumerate(fh, start=1):
                    yield number, raw.decode("utf-8", errors="replace").rstrip("\r\n")
        except OSError as exc:
            raise Unreadable(f"cannot read: {exc.strerror or exc}") from None

    def iter_line_batches(self, path: Path, batch_size: int) -> Iterator[tuple[int, list[str]]]:
        """The lines of :meth:`iter_lines` in lists of up to ``batch_size``, each with the number of its first line.

        For readers that take many lines at once. Same lines and errors, but a read
        error part-way through a big file loses the lines of the unfinished list: use
        it only where a failing file is dropped whole.
        """
        size = self.check_file(path, None)
        try:
            whole = _small_file_lines(path, size)
            if whole is not None:
                for start in range(0, len(whole), batch_size):
                    yield start + 1, whole[start : start + batch_size]
                return
            with open(path, "rb") as fh:
                _refuse_binary(fh.read(_BINARY_SNIFF_BYTES))
                fh.seek(0)
                number = 1
                while batch := list(islice(fh, batch_size)):
                    yield number, [raw.decode("utf-8", errors="replace").rstrip("\r\n") for raw in batch]
                    number += len(batch)
        except OSError as exc:
            raise Unreadable(f"cannot read: {exc.strerror or exc}") from None

    def load_structured(self, path: Path, max_bytes: int = MAX_STRUCTURED_BYTES) -> Any:
        """Parse a JSON or YAML file (by suffix; ``.json`` is JSON, anything else YAML).

        Returns the document, or None with a problem recorded. An empty file is a
        problem ("empty file") and returns None.
        """
        try:
            text = self._text(path, max_bytes)
            if not text.strip():
                raise Unreadable("empty file (still being written?)")
            if path.suffix.lower() == ".json":
                doc = parse_json(text)
            else:
                doc = parse_yaml(text)
            return doc
        except Unreadable as exc:
            self.problem(path, exc.message, exc.line)
            return None


def _checked_size(st: os.stat_result, max_bytes: int | None) -> int:
    """Size of a stat'ed file, or raise Unreadable when it is not a regular file or over ``max_bytes``."""
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable("not a regular file; not read")
    if max_bytes is not None and st.st_size > max_bytes:
        raise Unreadable(
            f"file is {format_size(st.st_size)}, over the {format_size(max_bytes)} limit; not read"
        )
    return st.st_size


def _read_head(path: Path, expected: int, limit: int) -> bytes:
    """The first ``limit`` bytes of ``path`` (all of it when shorter); raises OSError.

    Plain os calls cost less than a buffered file object for the small files read
    here. The first read asks for the ``expected`` size (as stat gave it) plus one,
    so a small file needs no buffer of the limit's size; later reads only happen
    when the file is longer than expected. A first read that stops at exactly the
    expected size is the end of the file: no second system call to see it.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        parts: list[bytes] = []
        total = 0
        ask = min(expected + 1, limit)
        while total < limit:
            chunk = os.read(fd, ask)
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
            if total == expected and len(chunk) < ask:
                break  # the size stat gave, and the file ended there
            ask = min(limit - total, _READ_CHUNK)
        return b"".join(parts)
    finally:
        os.close(fd)


def _refuse_binary(head: bytes) -> None:
    """Raise Unreadable when the start of a file holds NUL bytes (binary, not text)."""
    if b"\x00" in head[:_BINARY_SNIFF_BYTES]:
        raise Unreadable("binary data (NUL bytes), not text; not read")


def _small_file_lines(path: Path, size: int) -> list[str] | None:
    """The lines of a file of ``size`` bytes read whole, or None to stream it (big, or grew since stat).

    Raises Unreadable for binary data, OSError when the file cannot be read.
    """
    if size > WHOLE_FILE_LINES_BYTES:
        return None
    data = _read_head(path, size, size + 1)
    if len(data) > size:
        return None
    _refuse_binary(data)
    return _decoded_lines(data)


def text_lines(data: bytes) -> list[str]:
    """The lines :meth:`ReadContext.iter_lines` gives for a whole file's bytes; raises Unreadable for binary data."""
    _refuse_binary(data)
    return _decoded_lines(data)


def _decoded_lines(data: bytes) -> list[str]:
    """The lines :meth:`ReadContext.iter_lines` streams, from the whole file's bytes at once.

    Same result as decoding each ``\\n``-terminated line on its own: a newline byte never
    sits inside a UTF-8 sequence, so decoding with replacement does not cross lines.
    """
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # a final newline ends the last line rather than starting another
    if "\r" not in text:
        return lines  # nothing for rstrip to remove
    return [line.rstrip("\r\n") for line in lines]


def parse_json(text: str) -> Any:
    """Parse JSON, allowing NaN and ±Infinity, bounding nesting and size; raise Unreadable."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        ends_early = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string") or _unclosed(text)
        hint = " (file ends early: truncated or still being written?)" if ends_early else ""
        raise Unreadable(f"invalid JSON: {exc.msg}{hint}", exc.lineno) from None
    except RecursionError:
        raise Unreadable(f"JSON nested deeper than {MAX_DEPTH} levels; not read") from None
    if not _json_within_bounds(text):
        check_bounds(doc)
    return doc


def _json_within_bounds(text: str) -> bool:
    """True when JSON ``text`` cannot break :func:`check_bounds`, so its document need not be walked.

    Every JSON value starts at a character of its own (JSON has no aliases), so the
    text holds at most ``len(text)`` values; and every level of nesting needs an
    opening bracket of its own, so the document is no deeper than the brackets
    counted (brackets inside strings only make the count larger).
    """
    return len(text) <= MAX_NODES and text.count("[") + text.count("{") <= MAX_DEPTH


_JSON_STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def _unclosed(text: str) -> bool:
    """True when more brackets open than close (outside strings): the file stops mid-document."""
    bare = _JSON_STRING.sub("", text)
    return bare.count("{") + bare.count("[") > bare.count("}") + bare.count("]")


def parse_yaml(text: str) -> Any:
    """Parse YAML with the safe loader (no ``!!python`` objects), bounding nesting and expansion."""
    try:
        doc = load_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or str(exc).splitlines()[0]
        if "python/" in str(exc):
            what = "unsafe YAML tag (e.g. !!python/...) refused"
        raise Unreadable(f"invalid YAML: {what}", line) from None
    except yaml.YAMLError as exc:
        raise Unreadable(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise Unreadable(f"YAML nested deeper than {MAX_DEPTH} levels; not read") from None
    check_bounds(doc)
    return doc


_CONTAINERS = (dict, list)


def check_bounds(doc: Any) -> None:
    """Raise Unreadable when ``doc`` expands to more than MAX_NODES values or MAX_DEPTH levels.

    Shared sub-objects (YAML aliases) are counted every time they appear, so an
    alias bomb is caught after at most MAX_NODES steps.
    """
    if _within_bounds(doc):
        return
    _find_bounds_violation(doc)


def _within_bounds(doc: Any) -> bool:
    """True when ``doc`` surely passes :func:`check_bounds`; a cheap level-by-level count of the same values.

    Counts exactly what :func:`_find_bounds_violation` counts (every value, shared ones
    each time) and stops as soon as either bound is passed, so alias bombs and
    cycles stay cheap. False sends the document to the exact walk, which raises
    with the message the first violation in its order deserves.
    """
    nodes = 1
    depth = 0
    level = [doc] if isinstance(doc, _CONTAINERS) else []
    while level:
        depth += 1  # depth of the values inside this level's containers
        below: list[Any] = []
        for node in level:
            values = node.values() if isinstance(node, dict) else node
            if not values:
                continue
            nodes += len(values)
            if depth > MAX_DEPTH or nodes > MAX_NODES:
                return False
            below += [v for v in values if isinstance(v, _CONTAINERS)]
        level = below
    return True


def _find_bounds_violation(doc: Any) -> None:
    """Walk ``doc`` depth first and raise Unreadable at the first value past either bound."""
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise Unreadable(
                f"document expands to more than {MAX_NODES:,} values (YAML alias bomb?); not read"
            )
        if depth > MAX_DEPTH:
            raise Unreadable(f"nested deeper than {MAX_DEPTH} levels; not read")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
