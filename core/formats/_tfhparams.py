"""TensorBoard's hparams plugin data (``HParamsPluginData``): an experiment, a session's start or end.

The plugin stores its records as the content of a summary value's metadata (a
:class:`._tfrecord.Value` of kind ``hparams``); :func:`decode_hparams` turns one into the
hyper-parameters, times, status and experiment name a run takes. Kept apart from the event
decoding because it is a message family of its own, with its own bounds: hyper-parameters are
``google.protobuf.Value`` items that may nest lists and structs. The messages are declared below
(field numbers from TensorBoard's ``plugin_data.proto`` and protobuf's ``struct.proto``; maps as
their repeated entries on the wire) and parsed by the ``protobuf`` library (:mod:`._protoschema`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

from ._protoschema import (
    BOOL,
    BYTES,
    DOUBLE,
    INT32,
    MESSAGE,
    BadMessage,
    Schema,
    build,
    parse,
    text,
)

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


_SCHEMA: Schema = (
    ("HParamsPluginData", (
        ("version", 1, INT32), ("experiment", 2, MESSAGE, "Experiment", False, "data"),
        ("session_start_info", 3, MESSAGE, "SessionStartInfo", False, "data"),
        ("session_end_info", 4, MESSAGE, "SessionEndInfo", False, "data"),
    )),
    ("Experiment", (("name", 6, BYTES), ("description", 1, BYTES), ("user", 2, BYTES), ("time_created_secs", 3, DOUBLE))),
    ("SessionStartInfo", (
        ("hparams", 1, MESSAGE, "Entry", True), ("model_uri", 2, BYTES), ("group_name", 4, BYTES), ("start_time_secs", 5, DOUBLE),
    )),
    ("SessionEndInfo", (("status", 1, INT32), ("end_time_secs", 2, DOUBLE))),
    ("Entry", (("key", 1, BYTES), ("value", 2, MESSAGE, "Value"))),
    ("Value", (
        ("null_value", 1, INT32, None, False, "kind"), ("number_value", 2, DOUBLE, None, False, "kind"),
        ("string_value", 3, BYTES, None, False, "kind"), ("bool_value", 4, BOOL, None, False, "kind"),
        ("struct_value", 5, MESSAGE, "Struct", False, "kind"), ("list_value", 6, MESSAGE, "ListValue", False, "kind"),
    )),
    ("Struct", (("fields", 1, MESSAGE, "Entry", True),)),
    ("ListValue", (("values", 1, MESSAGE, "Value", True),)),
)  # fmt: skip


@functools.cache
def _plugin_data_class() -> Any:
    """``HParamsPluginData`` with the fields above, built on the first hparams value read."""
    return build("runsift_tensorboard_hparams", _SCHEMA)["HParamsPluginData"]


def decode_hparams(content: bytes) -> HParamsData:
    """A serialized ``HParamsPluginData``; raises :class:`BadMessage`."""
    msg = parse(_plugin_data_class(), content)
    kind = msg.WhichOneof("data")
    if kind == "experiment":
        e = msg.experiment
        return HParamsData(
            "experiment",
            name=text(e.name) or None,
            description=text(e.description) or None,
            user=text(e.user) or None,
            time_created=_finite(e.time_created_secs),
        )
    if kind == "session_start_info":
        start = msg.session_start_info
        out = HParamsData(
            "session_start",
            model_uri=text(start.model_uri) or None,
            group_name=text(start.group_name) or None,
            start_time=_finite(start.start_time_secs),
        )
        budget = [MAX_HPARAMS]
        for entry in start.hparams:
            item = _struct_value(entry.value, 0, budget)
            if budget[0] > 0:
                out.hparams[text(entry.key)] = item
        return out
    if kind == "session_end_info":
        end = msg.session_end_info
        return HParamsData("session_end", status=end.status, end_time=_finite(end.end_time_secs))
    return HParamsData("unknown")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) and value > 0 else None


def _struct_value(value: Any, depth: int, budget: list[int]) -> Any:
    """A ``google.protobuf.Value``: None, a float, a string, a bool, a dict or a list."""
    budget[0] -= 1
    if depth > MAX_NESTING or budget[0] < 0:
        raise BadMessage(f"hyper-parameters nested deeper than {MAX_NESTING} levels or more than {MAX_HPARAMS:,} values")
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return value.number_value
    if kind == "string_value":
        return text(value.string_value)
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return {text(e.key): _struct_value(e.value, depth + 1, budget) for e in value.struct_value.fields}
    if kind == "list_value":
        return [_struct_value(v, depth + 1, budget) for v in value.list_value.values]
    return None
