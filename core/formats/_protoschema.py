"""Protobuf message classes built from schemas declared in code, and one way to parse with them.

The binary formats (W&B's ``wandb_internal.Record``, TensorBoard's ``Event`` and hparams plugin
data) are decoded by the ``protobuf`` library, from messages declared in our modules with only the
fields runsift reads: no generated ``_pb2`` files, no tracker installed. Each family gets a private
descriptor pool, so its classes never meet a tracker's own should both be loaded in one process.
``protobuf`` is imported when a family is first built (a file of its format is read), never at
start-up: importing it costs ~20 ms.

A schema is a tuple of ``(message name, fields)``; a field is ``(name, number, type, message type
or None, repeated, oneof or None)``, the last three optional, the type a ``FieldDescriptorProto``
type name (``TYPE_STRING`` ...). A map is declared as what it is on the wire: a repeated entry
message with ``key = 1`` and ``value = 2``.
"""

from __future__ import annotations

from typing import Any

Schema = tuple[tuple[str, tuple[tuple[Any, ...], ...]], ...]

STRING, BYTES, INT32, INT64, UINT32, UINT64, SINT64, DOUBLE, FLOAT, BOOL, MESSAGE = (
    "TYPE_STRING", "TYPE_BYTES", "TYPE_INT32", "TYPE_INT64", "TYPE_UINT32", "TYPE_UINT64", "TYPE_SINT64",
    "TYPE_DOUBLE", "TYPE_FLOAT", "TYPE_BOOL", "TYPE_MESSAGE",
)  # fmt: skip
"""Field types by their ``FieldDescriptorProto`` names, so a schema needs no protobuf import."""


class BadMessage(Exception):
    """A record's data is not the protobuf message it should be."""


def build(package: str, schema: Schema, syntax: str = "proto3") -> dict[str, Any]:
    """The message classes of ``schema`` by name, in a descriptor pool of their own (``package`` names it).

    ``proto2`` gives singular fields presence (``HasField``), for formats whose absent field is not its zero.
    """
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    kinds = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name=f"{package}.proto", package=package, syntax=syntax)
    for name, fields in schema:
        msg = fdp.message_type.add(name=name)
        oneofs: list[str] = []
        for spec in fields:
            fname, number, ftype = spec[:3]
            type_name = spec[3] if len(spec) > 3 else None
            repeated = spec[4] if len(spec) > 4 else False
            oneof = spec[5] if len(spec) > 5 else None
            label = kinds.LABEL_REPEATED if repeated else kinds.LABEL_OPTIONAL
            field = msg.field.add(name=fname, number=number, type=getattr(kinds, ftype), label=label)
            if type_name:
                field.type_name = f".{package}.{type_name}"
            if oneof:
                if oneof not in oneofs:
                    oneofs.append(oneof)
                    msg.oneof_decl.add(name=oneof)
                field.oneof_index = oneofs.index(oneof)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    out = {}
    get_class = getattr(message_factory, "GetMessageClass", None)
    for name, _fields in schema:
        desc = pool.FindMessageTypeByName(f"{package}.{name}")
        if get_class is not None:
            out[name] = get_class(desc)
        else:  # protobuf < 4.21 has no GetMessageClass; types-protobuf describes only the newer API
            out[name] = message_factory.MessageFactory(pool).GetPrototype(desc)  # type: ignore[attr-defined]  # old API
    return out


def parse(cls: Any, data: bytes) -> Any:
    """``data`` parsed as a ``cls`` message; raises :class:`BadMessage` for anything that is not one."""
    from google.protobuf.message import DecodeError

    try:
        return cls.FromString(data)
    except (DecodeError, RecursionError, RuntimeError, TypeError, ValueError) as exc:
        raise BadMessage(str(exc) or type(exc).__name__) from None


def text(raw: bytes) -> str:
    """A string field declared as bytes: read as UTF-8, bad bytes replaced (proto3 ``string`` would reject the whole message)."""
    return raw.decode("utf-8", errors="replace")
