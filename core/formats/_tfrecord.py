"""TensorBoard event files decoded by hand: TFRecord framing and the few ``tensorflow.Event`` fields runsift reads.

An event file is a sequence of TFRecords::

    uint64 length | uint32 masked CRC32C of the 8 length bytes | length bytes of data | uint32 masked CRC32C of the data

(little-endian), each record's data one serialized ``tensorflow.Event``. Only what a run needs
is decoded: the event's wall time, step and file version, its summary values that are scalars
(``simple_value``, or a one-element numeric tensor of the ``scalars`` plugin), text (the ``text``
plugin's string tensor) or hparams plugin data (its ``HParamsPluginData``, decoded by
:mod:`._tfhparams`), and a ``SessionLog`` status. Images, histograms, audio, graphs and
everything else are skipped by their length. The checksum is :mod:`._crc32c`'s and the protobuf
wire format :mod:`._protowire`'s.

Checksums. The length's checksum is always verified: a mismatch means the framing cannot be
trusted, so the rest of the file is not read. The data's checksum is verified for every record
of up to :data:`CHECKED_RECORD_BYTES` (every scalar, text and hparams record in practice) and for
any larger record a value is taken from; larger records runsift takes nothing from (images,
histograms, graph definitions) are not checksummed. The reason: Python has no built-in CRC32C,
and a table-driven one costs 100-500 ns a byte, so checking a run's images and graphs would cost
seconds per hundred megabytes and protect nothing runsift reads.

Nothing here raises for bad input: :func:`read_events` reports a file that ends mid-record (a
run still being written) as ``truncated`` and every other fault as a problem.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple

from ._crc32c import masked_crc32c
from ._protowire import _F32, _F64, BadMessage, _fields, _signed64, _text, _varint

MiB = 1024 * 1024

CHECKED_RECORD_BYTES = 4096
"""Records up to this size always have their data checksum verified (see the module's docstring)."""
MAX_RECORD_BYTES = 64 * MiB
"""Longer records are skipped without being read (a huge graph or image; nothing runsift reads)."""
MAX_TEXT_CHARS = 64 * 1024
"""A text summary longer than this is cut (with a note at the cut)."""

_HEADER = struct.Struct("<QI")
_U32 = struct.Struct("<I")


# -- framing -------------------------------------------------------------------------------


@dataclass(slots=True)
class Framing:
    """How reading a file's records ended."""

    records: int = 0
    """Whole records read (skipped ones included)."""
    truncated: bool = False
    """The file ends inside a record: it is still being written (or its writer died mid-write)."""
    broken: str | None = None
    """Why the rest of the file was not read (a length checksum that does not match), or None."""
    broken_at: int | None = None
    """Number (1-based) of the record whose framing is broken."""


def iter_records(fh: BinaryIO, framing: Framing) -> Iterator[tuple[int, bytes | None, int]]:
    """(record number from 1, data or None when skipped for its size, stored masked data CRC) of each whole record.

    ``framing`` says, once the iterator is exhausted, whether the file ended cleanly, mid-record
    or at a record whose length cannot be trusted.
    """
    number = 0
    while True:
        header = fh.read(12)
        if not header:
            return
        number += 1
        if len(header) < 12:
            framing.truncated = True
            return
        length, length_crc = _HEADER.unpack(header)
        if masked_crc32c(header[:8]) != length_crc:
            framing.broken = "length checksum does not match (not an event file, or corrupt); rest of the file not read"
            framing.broken_at = number
            return
        if length > MAX_RECORD_BYTES:
            fh.seek(length + 3, 1)
            if len(fh.read(1)) < 1:
                framing.truncated = True
                return
            framing.records = number
            yield number, None, 0
            continue
        body = fh.read(length + 4)
        if len(body) < length + 4:
            framing.truncated = True
            return
        framing.records = number
        yield number, body[:length], _U32.unpack_from(body, length)[0]


# -- events --------------------------------------------------------------------------------


class Value(NamedTuple):
    """One summary value runsift uses."""

    tag: str
    kind: str
    """``scalar``, ``text`` or ``hparams``."""
    number: float | None = None
    text: str | None = None
    content: bytes | None = None
    """The hparams plugin's data (a serialized ``HParamsPluginData``)."""


class Event(NamedTuple):
    """What runsift reads of one ``tensorflow.Event``."""

    wall_time: float | None
    step: int
    file_version: str | None
    values: tuple[Value, ...]
    session_log: int | None
    """``SessionLog.status``: 1 START, 2 STOP, 3 CHECKPOINT; None when the event has none."""


_SESSION_LOG_STATUS = 1


@dataclass(slots=True)
class Decoder:
    """Decodes events, remembering each tag's plugin: TensorFlow 2 writes a tag's metadata only with its first value."""

    plugins: dict[str, str] = field(default_factory=dict)
    max_tags: int = 100_000

    def event(self, buf: bytes) -> Event:
        """The event in ``buf``; raises :class:`BadMessage`."""
        end = len(buf)
        wall_time: float | None = None
        step = 0
        file_version = None
        values: list[Value] = []
        session_log = None
        for number, wire, value in _fields(buf, 0, end):
            if number == 1 and wire == 1:
                wall_time = _F64.unpack(value)[0]
            elif number == 2 and wire == 0:
                step = _signed64(value)
            elif number == 3 and wire == 2:
                file_version = _text(buf, value)
            elif number == 5 and wire == 2:
                for n, w, v in _fields(buf, *value):
                    if n == 1 and w == 2:
                        got = self._value(buf, v)
                        if got is not None:
                            values.append(got)
            elif number == 7 and wire == 2:
                session_log = 0
                for n, w, v in _fields(buf, *value):
                    if n == _SESSION_LOG_STATUS and w == 0:
                        session_log = v
        if wall_time is not None and not math.isfinite(wall_time):
            wall_time = None
        return Event(wall_time, step, file_version, tuple(values), session_log)

    def _value(self, buf: bytes, span: tuple[int, int]) -> Value | None:
        tag = ""
        simple: float | None = None
        tensor: tuple[int, int] | None = None
        plugin: str | None = None
        content = b""
        data_class = 0
        for number, wire, value in _fields(buf, *span):
            if number == 1 and wire == 2:
                tag = _text(buf, value)
            elif number == 2 and wire == 5:
                simple = _F32.unpack(value)[0]
            elif number == 8 and wire == 2:
                tensor = value
            elif number == 9 and wire == 2:
                plugin, content, data_class = _metadata(buf, value)
        if plugin is not None:
            if tag not in self.plugins and len(self.plugins) < self.max_tags:
                self.plugins[tag] = plugin
        else:
            plugin = self.plugins.get(tag)
        if simple is not None:
            return Value(tag, "scalar", number=simple)
        if plugin == "hparams":
            return Value(tag, "hparams", content=content) if content else None
        if tensor is None:
            return None
        if plugin == "text":
            text = _tensor_text(buf, tensor)
            return Value(tag, "text", text=text) if text is not None else None
        if plugin == "scalars" or data_class == 1 or not plugin:
            number = _tensor_number(buf, tensor, require_scalar=plugin != "scalars" and data_class != 1)
            return Value(tag, "scalar", number=number) if number is not None else None
        return None


def _metadata(buf: bytes, span: tuple[int, int]) -> tuple[str, bytes, int]:
    """(plugin name, plugin content, data class) of a ``SummaryMetadata``."""
    plugin = ""
    content = b""
    data_class = 0
    for number, wire, value in _fields(buf, *span):
        if number == 1 and wire == 2:
            for n, w, v in _fields(buf, *value):
                if n == 1 and w == 2:
                    plugin = _text(buf, v)
                elif n == 2 and w == 2:
                    content = buf[v[0] : v[1]]
        elif number == 4 and wire == 0:
            data_class = value
    return plugin, content, data_class


_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_UINT8, _DT_INT16, _DT_INT8, _DT_STRING = 1, 2, 3, 4, 5, 6, 7
_DT_INT64, _DT_BOOL, _DT_BFLOAT16, _DT_UINT16, _DT_HALF, _DT_UINT32, _DT_UINT64 = 9, 10, 14, 17, 19, 22, 23
_RAW_FORMATS = {
    _DT_FLOAT: "<f", _DT_DOUBLE: "<d", _DT_INT32: "<i", _DT_UINT8: "<B", _DT_INT16: "<h", _DT_INT8: "<b",
    _DT_INT64: "<q", _DT_BOOL: "<?", _DT_UINT16: "<H", _DT_HALF: "<e", _DT_UINT32: "<I", _DT_UINT64: "<Q",
}


def _tensor_number(buf: bytes, span: tuple[int, int], require_scalar: bool) -> float | None:
    """The one number a numeric ``TensorProto`` holds, else None (not numeric, or several values).

    ``require_scalar``: a tensor that is not the ``scalars`` plugin's must also have shape ``[]``
    to count (a histogram or an embedding is a numeric tensor too).
    """
    dtype = 0
    dims: list[int] = []
    raw: bytes | None = None
    first: float | None = None
    count = 0
    for number, wire, value in _fields(buf, *span):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 2 and wire == 2:
            for n, w, v in _fields(buf, *value):
                if n == 2 and w == 2:
                    size = 1
                    for dn, dw, dv in _fields(buf, *v):
                        if dn == 1 and dw == 0:
                            size = _signed64(dv)
                    dims.append(size)
        elif number == 4 and wire == 2:
            raw = buf[value[0] : value[1]]
        elif number in (5, 6, 7, 10, 11, 13, 16, 17):
            for item in _numbers(buf, number, wire, value):
                if count == 0:
                    first = item
                count += 1
    if dtype == _DT_STRING or (require_scalar and dims):
        return None
    if any(d != 1 for d in dims):
        return None
    if raw is not None:
        fmt = _RAW_FORMATS.get(dtype)
        if dtype == _DT_BFLOAT16 and len(raw) == 2:
            return float(_F32.unpack(b"\x00\x00" + raw)[0])
        if fmt is None or struct.calcsize(fmt) != len(raw):
            return None
        return float(struct.unpack(fmt, raw)[0])
    if count != 1 or first is None:
        return None
    if dtype == _DT_HALF:
        return float(struct.unpack("<e", struct.pack("<H", int(first) & 0xFFFF))[0])
    if dtype == _DT_BFLOAT16:
        return float(_F32.unpack(struct.pack("<I", (int(first) & 0xFFFF) << 16))[0])
    return first


def _numbers(buf: bytes, number: int, wire: int, value: Any) -> Iterator[float]:
    """The values of a repeated numeric ``TensorProto`` field, packed or not."""
    if number == 5:  # float_val
        if wire == 5:
            yield _F32.unpack(value)[0]
        elif wire == 2:
            for i in range(value[0], value[1] - 3, 4):
                yield _F32.unpack_from(buf, i)[0]
    elif number == 6:  # double_val
        if wire == 1:
            yield _F64.unpack(value)[0]
        elif wire == 2:
            for i in range(value[0], value[1] - 7, 8):
                yield _F64.unpack_from(buf, i)[0]
    else:  # int_val, int64_val, bool_val, half_val, uint32_val, uint64_val: varints
        signed = number in (7, 10)
        if wire == 0:
            yield float(_signed64(value) if signed else value)
        elif wire == 2:
            pos, end = value
            while pos < end:
                item, pos = _varint(buf, pos, end)
                yield float(_signed64(item) if signed else item)


def _tensor_text(buf: bytes, span: tuple[int, int]) -> str | None:
    """The strings of a ``DT_STRING`` tensor, one a line; None for any other tensor."""
    dtype = 0
    parts: list[str] = []
    size = 0
    for number, wire, value in _fields(buf, *span):
        if number == 1 and wire == 0:
            dtype = value
        elif number == 8 and wire == 2 and size <= MAX_TEXT_CHARS:
            part = _text(buf, value)
            parts.append(part)
            size += len(part) + 1
    if dtype != _DT_STRING:
        return None
    text = "\n".join(parts)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "\n[... cut at 64 KiB]"
    return text


# -- one file ----------------------------------------------------------------------------


@dataclass(slots=True)
class FileEvents:
    """Everything read from one event file."""

    events: list[Event] = field(default_factory=list)
    framing: Framing = field(default_factory=Framing)
    problems: list[tuple[str, int | None]] = field(default_factory=list)
    """(message, record number) of each fault; the record number stands where a line would."""
    capped: bool = False
    """Reading stopped at the record budget."""


MAX_PROBLEMS_PER_FILE = 20
"""Bad records reported one by one per file; the rest are counted in one more problem."""


def read_events(fh: BinaryIO, decoder: Decoder, max_records: int) -> FileEvents:
    """Every event of one file, up to ``max_records`` records; never raises for bad data."""
    out = FileEvents()
    bad = 0
    for number, data, stored_crc in iter_records(fh, out.framing):
        if number > max_records:
            out.capped = True
            break
        if data is None:
            continue  # a record too big to be anything runsift reads
        checked = len(data) <= CHECKED_RECORD_BYTES
        if checked and masked_crc32c(data) != stored_crc:
            bad += 1
            if bad <= MAX_PROBLEMS_PER_FILE:
                out.problems.append(("record's data checksum does not match (corrupt); record skipped", number))
            continue
        try:
            event = decoder.event(data)
        except (BadMessage, struct.error, RecursionError) as exc:
            bad += 1
            if bad <= MAX_PROBLEMS_PER_FILE:
                out.problems.append((f"record is not a valid event ({exc}); skipped", number))
            continue
        if event.values and not checked and masked_crc32c(data) != stored_crc:
            bad += 1
            if bad <= MAX_PROBLEMS_PER_FILE:
                out.problems.append(("record's data checksum does not match (corrupt); record skipped", number))
            continue
        out.events.append(event)
    if bad > MAX_PROBLEMS_PER_FILE:
        out.problems.append((f"{bad - MAX_PROBLEMS_PER_FILE} more bad record(s) skipped", None))
    if out.framing.broken is not None:
        out.problems.append((out.framing.broken, out.framing.broken_at))
    return out
