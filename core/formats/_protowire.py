"""The protobuf wire format decoded by hand: varints, fields and strings, without generated classes.

A serialized message is a run of (field number, wire type, value); :func:`_fields` walks one and
leaves the caller to pick the few fields it knows, which is all event files need. Kept apart
from TFRecord framing and TensorBoard's messages because both the event decoder
(:mod:`._tfrecord`) and the hparams plugin's (:mod:`._tfhparams`) build on it. Nothing here
raises for bad input but :class:`BadMessage`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")


class BadMessage(Exception):
    """A record's data is not the protobuf message it should be."""


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise BadMessage("a number runs past the end of its message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise BadMessage("a number is longer than 10 bytes")


def _signed64(value: int) -> int:
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def _fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of the message in ``buf[pos:end]``.

    Varints come as ints, fixed64/fixed32 as their raw bytes, length-delimited fields as a
    (start, end) pair into ``buf``.
    """
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise BadMessage("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 2:
            size, pos = _varint(buf, pos, end)
            if size > end - pos:
                raise BadMessage("a field runs past the end of its message")
            value = (pos, pos + size)
            pos += size
        elif wire == 1:
            if pos + 8 > end:
                raise BadMessage("a field runs past the end of its message")
            value = buf[pos : pos + 8]
            pos += 8
        elif wire == 5:
            if pos + 4 > end:
                raise BadMessage("a field runs past the end of its message")
            value = buf[pos : pos + 4]
            pos += 4
        else:
            raise BadMessage(f"unsupported wire type {wire}")
        yield number, wire, value


def _text(buf: bytes, span: tuple[int, int]) -> str:
    return buf[span[0] : span[1]].decode("utf-8", errors="replace")
