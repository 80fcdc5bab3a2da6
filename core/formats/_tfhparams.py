"""TensorBoard's hparams plugin data (``HParamsPluginData``) decoded by hand: an experiment, a session's start or end.

The plugin stores its records as the content of a summary value's metadata (a
:class:`._tfrecord.Value` of kind ``hparams``); :func:`decode_hparams` turns one into the
hyper-parameters, times, status and experiment name a run takes. Kept apart from the event
decoding because it is a message family of its own, with its own bounds: hyper-parameters are
``google.protobuf.Value`` items that may nest lists and structs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ._protowire import _F64, BadMessage, _fields, _text

MAX_NESTING = 32
"""Deepest nesting of protobuf messages decoded (hparams values may nest lists and structs)."""
MAX_HPARAMS = 10_000
"""Most hyper-parameters (and list or struct items in them) decoded from one session start."""


@dataclass(slots=True)
class HParamsData:
    """What one hparams plugin value says: an experiment, a session start or a session end."""

    kind: str
    """``experiment``, ``session_start``, ``session_end`` or ``unknown``."""
    hparams: dict[str, Any] = field(default_factory=dict)
    start_time: float | None = None
    group_name: str | None = None
    model_uri: str | None = None
    status: int | None = None
    """``SessionEndInfo.status``: 0 unknown, 1 success, 2 failure, 3 running."""
    end_time: float | None = None
    name: str | None = None
    description: str | None = None
    user: str | None = None
    time_created: float | None = None


def decode_hparams(content: bytes) -> HParamsData:
    """A serialized ``HParamsPluginData``; raises :class:`BadMessage`."""
    end = len(content)
    for number, wire, value in _fields(content, 0, end):
        if number == 2 and wire == 2:
            return _experiment(content, value)
        if number == 3 and wire == 2:
            return _session_start(content, value)
        if number == 4 and wire == 2:
            out = HParamsData("session_end")
            for n, w, v in _fields(content, *value):
                if n == 1 and w == 0:
                    out.status = v
                elif n == 2 and w == 1:
                    out.end_time = _finite(_F64.unpack(v)[0])
            return out
    return HParamsData("unknown")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) and value > 0 else None


def _experiment(buf: bytes, span: tuple[int, int]) -> HParamsData:
    out = HParamsData("experiment")
    for number, wire, value in _fields(buf, *span):
        if number == 6 and wire == 2:
            out.name = _text(buf, value) or None
        elif number == 1 and wire == 2:
            out.description = _text(buf, value) or None
        elif number == 2 and wire == 2:
            out.user = _text(buf, value) or None
        elif number == 3 and wire == 1:
            out.time_created = _finite(_F64.unpack(value)[0])
    return out


def _session_start(buf: bytes, span: tuple[int, int]) -> HParamsData:
    out = HParamsData("session_start")
    budget = [MAX_HPARAMS]
    for number, wire, value in _fields(buf, *span):
        if number == 1 and wire == 2:  # map<string, google.protobuf.Value> entry
            key, item = "", None
            for n, w, v in _fields(buf, *value):
                if n == 1 and w == 2:
                    key = _text(buf, v)
                elif n == 2 and w == 2:
                    item = _struct_value(buf, v, 0, budget)
            if budget[0] > 0:
                out.hparams[key] = item
        elif number == 2 and wire == 2:
            out.model_uri = _text(buf, value) or None
        elif number == 4 and wire == 2:
            out.group_name = _text(buf, value) or None
        elif number == 5 and wire == 1:
            out.start_time = _finite(_F64.unpack(value)[0])
    return out


def _struct_value(buf: bytes, span: tuple[int, int], depth: int, budget: list[int]) -> Any:
    """A ``google.protobuf.Value``: None, a float, a string, a bool, a dict or a list."""
    budget[0] -= 1
    if depth > MAX_NESTING or budget[0] < 0:
        raise BadMessage(f"hyper-parameters nested deeper than {MAX_NESTING} levels or more than {MAX_HPARAMS:,} values")
    result: Any = None
    for number, wire, value in _fields(buf, *span):
        if number == 1:
            result = None
        elif number == 2 and wire == 1:
            result = _F64.unpack(value)[0]
        elif number == 3 and wire == 2:
            result = _text(buf, value)
        elif number == 4 and wire == 0:
            result = bool(value)
        elif number == 5 and wire == 2:  # Struct: map<string, Value> fields = 1
            result = {}
            for n, w, v in _fields(buf, *value):
                if n == 1 and w == 2:
                    key, item = "", None
                    for kn, kw, kv in _fields(buf, *v):
                        if kn == 1 and kw == 2:
                            key = _text(buf, kv)
                        elif kn == 2 and kw == 2:
                            item = _struct_value(buf, kv, depth + 1, budget)
                    result[key] = item
        elif number == 6 and wire == 2:  # ListValue: repeated Value values = 1
            result = [
                _struct_value(buf, v, depth + 1, budget) for n, w, v in _fields(buf, *value) if n == 1 and w == 2
            ]
    return result
