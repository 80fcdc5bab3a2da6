"""TensorBoard event files: TFRecord framing, and the few ``tensorflow.Event`` fields runsift reads.

An event file is a sequence of TFRecords::

    uint64 length | uint32 masked CRC32C of the 8 length bytes | length bytes of data | uint32 masked CRC32C of the data

(little-endian), each record's data one serialized ``tensorflow.Event``. Only what a run needs
is decoded: the event's wall time, step and file version, its summary values that are scalars
(``simple_value``, or a one-element numeric tensor of the ``scalars`` plugin), text (the ``text``
plugin's string tensor) or hparams plugin data (its ``HParamsPluginData``, decoded by
:mod:`._tfhparams`), and a ``SessionLog`` status. Images, histograms, audio, graphs and
everything else are skipped by their length. The checksum is :mod:`._crc32c`'s; the messages are
parsed by the ``protobuf`` library from the schemas below (field numbers from TensorFlow's
``event.proto``, ``summary.proto``, ``tensor.proto`` and ``tensor_shape.proto``), built on the
first file read (:mod:`._protoschema`). Text fields are declared as bytes and read leniently: a
tag in bad UTF-8 costs its characters, not its event.

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

import functools
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple

from ._crc32c import masked_crc32c
from ._protoschema import (
    BOOL,
    BYTES,
    DOUBLE,
    FLOAT,
    INT32,
    INT64,
    MESSAGE,
    UINT32,
    UINT64,
    BadMessage,
    Schema,
    build,
    parse,
    text,
)

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


_SCHEMA: Schema = (
    ("Event", (
        ("wall_time", 1, DOUBLE), ("step", 2, INT64),
        ("file_version", 3, BYTES, None, False, "what"), ("summary", 5, MESSAGE, "Summary", False, "what"),
        ("session_log", 7, MESSAGE, "SessionLog", False, "what"),
    )),
    ("SessionLog", (("status", 1, INT32),)),
    ("Summary", (("value", 1, MESSAGE, "Value", True),)),
    ("Value", (
        ("tag", 1, BYTES), ("metadata", 9, MESSAGE, "SummaryMetadata"),
        ("simple_value", 2, FLOAT, None, False, "value"), ("tensor", 8, MESSAGE, "TensorProto", False, "value"),
    )),
    ("SummaryMetadata", (("plugin_data", 1, MESSAGE, "PluginData"), ("data_class", 4, INT32))),
    ("PluginData", (("plugin_name", 1, BYTES), ("content", 2, BYTES))),
    ("TensorProto", (
        ("dtype", 1, INT32), ("tensor_shape", 2, MESSAGE, "TensorShapeProto"), ("tensor_content", 4, BYTES),
        ("float_val", 5, FLOAT, None, True), ("double_val", 6, DOUBLE, None, True), ("int_val", 7, INT32, None, True),
        ("string_val", 8, BYTES, None, True), ("int64_val", 10, INT64, None, True), ("bool_val", 11, BOOL, None, True),
        ("half_val", 13, INT32, None, True), ("uint32_val", 16, UINT32, None, True), ("uint64_val", 17, UINT64, None, True),
    )),
    ("TensorShapeProto", (("dim", 2, MESSAGE, "Dim", True),)),
    ("Dim", (("size", 1, INT64),)),
)  # fmt: skip
_NUMBER_FIELDS = ("float_val", "double_val", "int_val", "int64_val", "bool_val", "half_val", "uint32_val", "uint64_val")


@functools.cache
def _event_class() -> Any:
    """TensorFlow's ``Event`` with the fields above, built on the first event file read (declared proto2,
    the same on the wire, so that an event without a wall time has none rather than 0)."""
    return build("runsift_tensorboard", _SCHEMA, syntax="proto2")["Event"]


@dataclass(slots=True)
class Decoder:
    """Decodes events, remembering each tag's plugin: TensorFlow 2 writes a tag's metadata only with its first value."""

    plugins: dict[str, str] = field(default_factory=dict)
    max_tags: int = 100_000

    def event(self, buf: bytes) -> Event:
        """The event in ``buf``; raises :class:`BadMessage`."""
        msg = parse(_event_class(), buf)
        kind = msg.WhichOneof("what")
        values: list[Value] = []
        if kind == "summary":
            for item in msg.summary.value:
                got = self._value(item)
                if got is not None:
                    values.append(got)
        wall_time = msg.wall_time if msg.HasField("wall_time") else None
        if wall_time is not None and not math.isfinite(wall_time):
            wall_time = None
        return Event(
            wall_time,
            msg.step,
            text(msg.file_version) if kind == "file_version" else None,
            tuple(values),
            msg.session_log.status if kind == "session_log" else None,
        )

    def _value(self, item: Any) -> Value | None:
        tag = text(item.tag)
        plugin: str | None = None
        content = b""
        data_class = 0
        if item.HasField("metadata"):
            meta = item.metadata
            plugin, content, data_class = text(meta.plugin_data.plugin_name), meta.plugin_data.content, meta.data_class
        if plugin is not None:
            if tag not in self.plugins and len(self.plugins) < self.max_tags:
                self.plugins[tag] = plugin
        else:
            plugin = self.plugins.get(tag)
        kind = item.WhichOneof("value")
        if kind == "simple_value":
            return Value(tag, "scalar", number=item.simple_value)
        if plugin == "hparams":
            return Value(tag, "hparams", content=content) if content else None
        if kind != "tensor":
            return None
        if plugin == "text":
            words = _tensor_text(item.tensor)
            return Value(tag, "text", text=words) if words is not None else None
        if plugin == "scalars" or data_class == 1 or not plugin:
            number = _tensor_number(item.tensor, require_scalar=plugin != "scalars" and data_class != 1)
            return Value(tag, "scalar", number=number) if number is not None else None
        return None


_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_UINT8, _DT_INT16, _DT_INT8, _DT_STRING = 1, 2, 3, 4, 5, 6, 7
_DT_INT64, _DT_BOOL, _DT_BFLOAT16, _DT_UINT16, _DT_HALF, _DT_UINT32, _DT_UINT64 = 9, 10, 14, 17, 19, 22, 23
_RAW_FORMATS = {
    _DT_FLOAT: "<f", _DT_DOUBLE: "<d", _DT_INT32: "<i", _DT_UINT8: "<B", _DT_INT16: "<h", _DT_INT8: "<b",
    _DT_INT64: "<q", _DT_BOOL: "<?", _DT_UINT16: "<H", _DT_HALF: "<e", _DT_UINT32: "<I", _DT_UINT64: "<Q",
}
_F32 = struct.Struct("<f")


def _tensor_number(tensor: Any, require_scalar: bool) -> float | None:
    """The one number a numeric ``TensorProto`` holds, else None (not numeric, or several values).

    ``require_scalar``: a tensor that is not the ``scalars`` plugin's must also have shape ``[]``
    to count (a histogram or an embedding is a numeric tensor too).
    """
    dtype = tensor.dtype
    dims = [d.size for d in tensor.tensor_shape.dim]
    if dtype == _DT_STRING or (require_scalar and dims):
        return None
    if any(d != 1 for d in dims):
        return None
    if tensor.tensor_content:
        raw = tensor.tensor_content
        fmt = _RAW_FORMATS.get(dtype)
        if dtype == _DT_BFLOAT16 and len(raw) == 2:
            return float(_F32.unpack(b"\x00\x00" + raw)[0])
        if fmt is None or struct.calcsize(fmt) != len(raw):
            return None
        return float(struct.unpack(fmt, raw)[0])
    numbers = [values for name in _NUMBER_FIELDS if (values := getattr(tensor, name))]
    if len(numbers) != 1 or len(numbers[0]) != 1:
        return None
    first = numbers[0][0]
    if dtype == _DT_HALF:
        return float(struct.unpack("<e", struct.pack("<H", int(first) & 0xFFFF))[0])
    if dtype == _DT_BFLOAT16:
        return float(_F32.unpack(struct.pack("<I", (int(first) & 0xFFFF) << 16))[0])
    return float(first)


def _tensor_text(tensor: Any) -> str | None:
    """The strings of a ``DT_STRING`` tensor, one a line; None for any other tensor."""
    if tensor.dtype != _DT_STRING:
        return None
    parts: list[str] = []
    size = 0
    for raw in tensor.string_val:
        if size > MAX_TEXT_CHARS:
            break
        part = text(raw)
        parts.append(part)
        size += len(part) + 1
    words = "\n".join(parts)
    if len(words) > MAX_TEXT_CHARS:
        words = words[:MAX_TEXT_CHARS] + "\n[... cut at 64 KiB]"
    return words


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
        except (BadMessage, struct.error) as exc:
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
