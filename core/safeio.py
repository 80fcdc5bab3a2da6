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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from .bignum import big_int_message, tame_int
from .fmt import format_size
from .places import is_inside
from .records import Problem
from .yamlload import TooBig, load_yaml

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
MAX_STREAM_BYTES = 128 * MiB
"""Largest file streamed line by line (split id lists, logs, prediction tables); checked before and while reading."""
MAX_STREAM_LINES = 2_000_000
"""Most lines streamed from one file: the rest is refused as a problem, keeping time and memory bounded."""
_STREAM_CHUNK = 1 * MiB
"""Bytes read (and searched for NUL bytes) at a time when streaming."""
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
        if b"\x00" in data:
            raise Unreadable("binary data (NUL bytes), not text; not read")
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.problem(path, f"not valid UTF-8 (byte {exc.start}); undecodable bytes replaced", line)
            return data.decode("utf-8", errors="replace")

    def iter_lines(
        self, path: Path, max_lines: int | None = None, max_bytes: int | None = None
    ) -> Iterator[tuple[int, str]]:
        """Stream (line number, text) of a possibly big text file, bounded by lines and bytes.

        Used for split id lists, logs and tables. Raises Unreadable for links outside the
        root, non-regular files, files over ``max_bytes`` (default MAX_STREAM_BYTES, checked
        before reading and while reading), binary data anywhere in the file (checked chunk
        by chunk, so a file of ids followed by gigabytes of NULs stops at the first NUL), and
        once more than ``max_lines`` (default MAX_STREAM_LINES) lines were given: the lines
        before the trouble have been yielded, so readers keep what they got and say why it stopped.
        """
        for start, lines in self._line_chunks(path, max_lines, max_bytes):
            yield from enumerate(lines, start=start)

    def iter_line_batches(
        self, path: Path, batch_size: int, max_lines: int | None = None, max_bytes: int | None = None
    ) -> Iterator[tuple[int, list[str]]]:
        """The lines of :meth:`iter_lines` in lists of up to ``batch_size``, each with the number of its first line.

        For readers that take many lines at once. Same lines, bounds and errors, but a read
        error part-way through a big file loses the lines of the unfinished list: use it only
        where a failing file is dropped whole.
        """
        pending: list[str] = []
        first = 1
        for start, lines in self._line_chunks(path, max_lines, max_bytes):
            if not pending:
                first = start
            pending += lines
            while len(pending) >= batch_size:
                yield first, pending[:batch_size]
                del pending[:batch_size]
                first += batch_size
        if pending:
            yield first, pending

    def _line_chunks(self, path: Path, max_lines: int | None, max_bytes: int | None) -> Iterator[tuple[int, list[str]]]:
        """Decoded lines of ``path`` in chunks, each with the number of its first line; see :meth:`iter_lines`."""
        max_lines = MAX_STREAM_LINES if max_lines is None else max_lines
        max_bytes = MAX_STREAM_BYTES if max_bytes is None else max_bytes
        size = self.check_file(path, max_bytes)
        try:
            whole = _small_file_lines(path, size)
            if whole is not None:
                if len(whole) > max_lines:
                    yield 1, whole[:max_lines]
                    raise _too_many_lines(max_lines)
                yield 1, whole
                return
            with open(path, "rb") as fh:
                yield from _stream_chunks(fh, max_lines, max_bytes)
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
            notes: list[tuple[str, int | None]] = []
            if path.suffix.lower() == ".json":
                doc = parse_json(text, notes)
            else:
                doc = parse_yaml(text, notes)
            for message, line in notes:
                self.problem(path, message, line)
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
    """Raise Unreadable when ``head`` (a whole small file) holds NUL bytes (binary, not text)."""
    if b"\x00" in head:
        raise Unreadable("binary data (NUL bytes), not text; not read")


def _too_many_lines(max_lines: int) -> Unreadable:
    return Unreadable(f"more than {max_lines:,} lines; the rest of the file not read", max_lines + 1)


def _stream_chunks(fh: BinaryIO, max_lines: int, max_bytes: int) -> Iterator[tuple[int, list[str]]]:
    """Lines of an open file read in chunks: NULs refused in every chunk, bytes and lines bounded.

    Each chunk is cut after its last newline and decoded at once (a newline byte never sits
    inside a UTF-8 sequence), the rest carried into the next chunk; a line with no newline in
    sight is carried whole, which the byte bound keeps finite.
    """
    carry: list[bytes] = []
    total = 0
    number = 1
    while True:
        chunk = fh.read(_STREAM_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise Unreadable(f"file is over the {format_size(max_bytes)} limit; the rest of the file not read", number)
        nul = chunk.find(b"\x00")
        if nul >= 0:
            line = number + sum(part.count(b"\n") for part in carry) + chunk.count(b"\n", 0, nul)
            raise Unreadable("binary data (NUL bytes), not text; the rest of the file not read", line)
        cut = chunk.rfind(b"\n")
        if cut < 0:
            carry.append(chunk)
            continue
        data = b"".join((*carry, chunk[: cut + 1])) if carry else chunk[: cut + 1]
        carry = [chunk[cut + 1 :]] if cut + 1 < len(chunk) else []
        lines = _decoded_lines(data)
        if number - 1 + len(lines) > max_lines:
            yield number, lines[: max_lines - number + 1]
            raise _too_many_lines(max_lines)
        yield number, lines
        number += len(lines)
    if carry:
        lines = _decoded_lines(b"".join(carry))
        if number > max_lines:
            raise _too_many_lines(max_lines)
        yield number, lines


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


def parse_json(text: str, notes: list[tuple[str, int | None]] | None = None) -> Any:
    """Parse JSON, allowing NaN and ±Infinity and bounding nesting; raise Unreadable.

    JSON has no aliases, so a document holds at most as many values as its text has
    characters: the file's size bound is its expansion bound, and no value count applies
    (a valid 15 MiB metrics file is read). An integer too large to be a number is kept
    as its text and said in ``notes`` (message, line) when given.
    """
    try:
        doc = json.loads(text, parse_int=_json_int(notes))
    except json.JSONDecodeError as exc:
        ends_early = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string") or _unclosed(text)
        hint = " (file ends early: truncated or still being written?)" if ends_early else ""
        raise Unreadable(f"invalid JSON: {exc.msg}{hint}", exc.lineno) from None
    except RecursionError:
        raise Unreadable(f"JSON nested deeper than {MAX_DEPTH} levels; not read") from None
    if text.count("[") + text.count("{") > MAX_DEPTH:
        check_bounds(doc, max_nodes=None)
    return doc


def _json_int(notes: list[tuple[str, int | None]] | None) -> Any:
    """``parse_int`` for json.loads: ints as usual, too-large ones as text (said in ``notes``)."""

    def parse(text: str) -> int | str:
        value = tame_int(text)
        if isinstance(value, str) and notes is not None:
            notes.append((big_int_message(text), None))
        return value

    return parse


_JSON_STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def _unclosed(text: str) -> bool:
    """True when more brackets open than close (outside strings): the file stops mid-document."""
    bare = _JSON_STRING.sub("", text)
    return bare.count("{") + bare.count("[") > bare.count("}") + bare.count("]")


def parse_yaml(text: str, notes: list[tuple[str, int | None]] | None = None) -> Any:
    """Parse YAML with the safe loader (no ``!!python`` objects), bounding nesting and expansion.

    Big documents are composed with a node count, so a huge one is refused while it is read
    (see :mod:`runsift.core.yamlload`); integers too large to be numbers are kept as text
    and said in ``notes`` (message, line) when given.
    """
    try:
        doc = load_yaml(text, notes, max_nodes=MAX_NODES, max_depth=MAX_DEPTH)
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
    except TooBig as exc:
        raise Unreadable(f"{exc}; not read", exc.line) from None
    check_bounds(doc)
    return doc


_CONTAINERS = (dict, list)


def check_bounds(doc: Any, max_nodes: int | None = MAX_NODES) -> None:
    """Raise Unreadable when ``doc`` expands to more than ``max_nodes`` values or MAX_DEPTH levels.

    Shared sub-objects (YAML aliases) are counted every time they appear, so an
    alias bomb is caught after at most ``max_nodes`` steps. None counts depth only
    (JSON, whose size bounds its values).
    """
    if _within_bounds(doc, max_nodes):
        return
    _find_bounds_violation(doc, max_nodes)


def _within_bounds(doc: Any, max_nodes: int | None) -> bool:
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
            if depth > MAX_DEPTH or (max_nodes is not None and nodes > max_nodes):
                return False
            below += [v for v in values if isinstance(v, _CONTAINERS)]
        level = below
    return True


def _find_bounds_violation(doc: Any, max_nodes: int | None) -> None:
    """Walk ``doc`` depth first and raise Unreadable at the first value past either bound."""
    budget = max_nodes
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        if budget is not None:
            budget -= 1
            if budget < 0:
                raise Unreadable(
                    f"document expands to more than {max_nodes:,} values (YAML alias bomb?); not read"
                )
        if depth > MAX_DEPTH:
            raise Unreadable(f"nested deeper than {MAX_DEPTH} levels; not read")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
