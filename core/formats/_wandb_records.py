"""W&B's transaction log, ``run-<id>.wandb``: its framing and the few record fields runsift reads.

The file starts with a 7-byte header (``:W&B``, the magic 0xBEE1 little-endian, version 0), then
LevelDB-log framing in 32 KiB blocks counted from the start of the file: each chunk is a CRC32
(zlib's, seeded with the CRC of the chunk's type byte), a little-endian u16 length and a type
(FULL, or FIRST/MIDDLE/LAST for a record split across blocks); fewer than 7 bytes left in a
block are zero padding. Each record is a ``wandb_internal.Record`` protobuf.

A chunk never crosses a block, so a damaged chunk costs at most the rest of its block: the
scan reports it and starts again at the next block, skipping the tail of a record it joined in
the middle. A file that stops inside a record (a killed run, a log still being written) keeps
every record before. wandb-core (0.2x and later) writes whole 32 KiB blocks, so a run killed
mid-training leaves only the blocks flushed before the kill.

The message schemas are declared here (field numbers from wandb's ``wandb_internal.proto``,
the same in 0.12 through 0.31), with only the fields read, in a private descriptor pool so
they never meet wandb's own classes should both be loaded in one process.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from ._protoschema import (
    BOOL,
    DOUBLE,
    INT32,
    INT64,
    MESSAGE,
    SINT64,
    STRING,
    UINT32,
    Schema,
    build,
)

HEADER_IDENT = b":W&B"
HEADER_MAGIC = 0xBEE1
HEADER_LEN = 7
BLOCK = 32768
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4

MAX_LOG_BYTES = 64 * 1024 * 1024
"""A log up to this size is read whole; a bigger one is read at its start and end (:data:`HEAD_BYTES`)."""
HEAD_BYTES = 8 * 1024 * 1024
"""Of a log over :data:`MAX_LOG_BYTES`, the bytes read from its start (the run record, the config);
the rest of the budget goes to its end (the summary, the exit record)."""
MAX_RECORD_BYTES = 16 * 1024 * 1024
"""Largest record assembled from chunks; a bigger one is skipped (wandb's own records are small)."""
MAX_PROBLEMS = 20
"""Problems reported per log; past that, one more says how many were left out."""

_CRC_SEED = [zlib.crc32(bytes([t])) for t in range(256)]
_CHUNK = struct.Struct("<IHB")

# -- message schemas -------------------------------------------------------------------

_STRING, _INT32, _INT64, _UINT32, _SINT64, _DOUBLE, _BOOL, _MESSAGE = STRING, INT32, INT64, UINT32, SINT64, DOUBLE, BOOL, MESSAGE

# (message, ((field name, number, type, message type or None, repeated, oneof or None), ...))
_ITEM = (("key", 1, _STRING), ("nested_key", 2, _STRING, None, True), ("value_json", 16, _STRING))
_SCHEMA: Schema = (
    ("Timestamp", (("seconds", 1, _INT64), ("nanos", 2, _INT32))),
    ("ConfigItem", _ITEM),
    ("SummaryItem", _ITEM),
    ("HistoryItem", (
        *_ITEM,
        # 0.2x and later may carry a value typed instead of as JSON
        ("boolean", 4, _BOOL, None, False, "value"), ("integer", 5, _SINT64, None, False, "value"),
        ("number", 6, _DOUBLE, None, False, "value"), ("text", 7, _STRING, None, False, "value"),
        ("json", 8, _STRING, None, False, "value"),
    )),
    ("ConfigRecord", (("update", 1, _MESSAGE, "ConfigItem", True), ("remove", 2, _MESSAGE, "ConfigItem", True))),
    ("SummaryRecord", (("update", 1, _MESSAGE, "SummaryItem", True), ("remove", 2, _MESSAGE, "SummaryItem", True))),
    ("HistoryStep", (("num", 1, _INT64),)),
    ("HistoryRecord", (("item", 1, _MESSAGE, "HistoryItem", True), ("step", 2, _MESSAGE, "HistoryStep"))),
    ("OutputRecord", (("output_type", 1, _INT32), ("timestamp", 2, _MESSAGE, "Timestamp"), ("line", 3, _STRING))),
    ("GitRepoRecord", (("remote_url", 1, _STRING), ("commit", 2, _STRING))),
    ("TelemetryRecord", (("python_version", 4, _STRING), ("cli_version", 5, _STRING))),
    ("RunRecord", (
        ("run_id", 1, _STRING), ("entity", 2, _STRING), ("project", 3, _STRING),
        ("config", 4, _MESSAGE, "ConfigRecord"), ("summary", 5, _MESSAGE, "SummaryRecord"),
        ("run_group", 6, _STRING), ("job_type", 7, _STRING), ("display_name", 8, _STRING),
        ("notes", 9, _STRING), ("tags", 10, _STRING, None, True), ("sweep_id", 12, _STRING),
        ("host", 13, _STRING), ("start_time", 17, _MESSAGE, "Timestamp"),
        ("telemetry", 19, _MESSAGE, "TelemetryRecord"), ("runtime", 20, _INT32),
        ("git", 21, _MESSAGE, "GitRepoRecord"),
    )),
    ("RunExitRecord", (("exit_code", 1, _INT32), ("runtime", 2, _INT32), ("not_complete", 3, _BOOL))),
    ("VersionInfo", (("producer", 1, _STRING), ("min_consumer", 2, _STRING))),
    ("HeaderRecord", (("version_info", 1, _MESSAGE, "VersionInfo"),)),
    ("RunPreemptingRecord", ()),
    ("EnvironmentRecord", (
        ("os", 1, _STRING), ("python", 2, _STRING), ("started_at", 3, _MESSAGE, "Timestamp"),
        ("program", 6, _STRING), ("code_path", 7, _STRING), ("git", 9, _MESSAGE, "GitRepoRecord"),
        ("host", 12, _STRING), ("username", 13, _STRING), ("cpu_count", 16, _UINT32),
        ("cpu_count_logical", 17, _UINT32), ("gpu_type", 18, _STRING), ("gpu_count", 19, _UINT32),
        ("cuda_version", 25, _STRING),
    )),
    ("Record", (
        ("num", 1, _INT64),
        ("history", 2, _MESSAGE, "HistoryRecord", False, "record_type"),
        ("summary", 3, _MESSAGE, "SummaryRecord", False, "record_type"),
        ("output", 4, _MESSAGE, "OutputRecord", False, "record_type"),
        ("config", 5, _MESSAGE, "ConfigRecord", False, "record_type"),
        ("telemetry", 11, _MESSAGE, "TelemetryRecord", False, "record_type"),
        ("output_raw", 13, _MESSAGE, "OutputRecord", False, "record_type"),
        ("run", 17, _MESSAGE, "RunRecord", False, "record_type"),
        ("exit", 18, _MESSAGE, "RunExitRecord", False, "record_type"),
        ("header", 21, _MESSAGE, "HeaderRecord", False, "record_type"),
        ("preempting", 23, _MESSAGE, "RunPreemptingRecord", False, "record_type"),
        ("environment", 26, _MESSAGE, "EnvironmentRecord", False, "record_type"),
    )),
)
_PACKAGE = "runsift_wandb"


@functools.cache
def _message_classes() -> dict[str, Any]:
    """The message classes of :data:`_SCHEMA`, built once, on the first log read (protobuf costs ~20 ms to import)."""
    return build(_PACKAGE, _SCHEMA)


def __getattr__(name: str) -> Any:
    """``Record``: ``wandb_internal.Record`` with the fields above (``WhichOneof("record_type")`` names its kind), built on first use."""
    if name == "Record":
        return _message_classes()["Record"]
    raise AttributeError(name)

STDERR = 0
"""``OutputRecord.output_type`` of standard error (the default, so absent on the wire)."""


# -- framing ------------------------------------------------------------------------------


class LogProblems:
    """Problems met in one log, each with the byte offset where it was met; bounded in number."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.left_out = 0

    def add(self, offset: int, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(f"byte {offset}: {message}")
        else:
            self.left_out += 1

    def messages(self) -> list[str]:
        extra = [f"... and {self.left_out} more problems in this log"] if self.left_out else []
        return self.items + extra


def check_header(head: bytes) -> str | None:
    """None when ``head`` starts a W&B log this reader knows; else why not."""
    if len(head) < HEADER_LEN:
        return "file ends inside its 7-byte header (empty, or still being written?)"
    ident, magic, version = struct.unpack_from("<4sHB", head)
    if ident != HEADER_IDENT or magic != HEADER_MAGIC:
        return "not a W&B transaction log (its header is not ':W&B' and 0xBEE1)"
    if version != 0:
        return f"W&B log format version {version}, this reader knows version 0"
    return None


def read_ranges(size: int) -> list[tuple[int, int]]:
    """Byte ranges (start, end) of a log of ``size`` bytes to scan, block-aligned past the header."""
    if size <= MAX_LOG_BYTES:
        return [(0, size)]
    head_end = HEAD_BYTES
    tail_start = size - (MAX_LOG_BYTES - HEAD_BYTES)
    tail_start -= tail_start % BLOCK
    return [(0, head_end), (tail_start, size)]


def scan_chunks(fh: BinaryIO, size: int, problems: LogProblems) -> Iterator[tuple[int, bytes]]:
    """(offset, record bytes) of every whole record in the log open (binary) as ``fh``, in order.

    Reads at most :data:`MAX_LOG_BYTES` (see :func:`read_ranges`); a damaged chunk is reported and
    the scan goes on at the next block. Never raises for bad data (OSError escapes).
    """
    pending: list[bytes] | None = None
    pending_at = 0
    pending_size = 0
    ranges = read_ranges(size)
    for index, (start, end) in enumerate(ranges):
        if index:
            pending = None  # a record in progress at the gap is lost with the gap
            problems.add(ranges[index - 1][1], f"log is {size:,} bytes; bytes {ranges[index - 1][1]:,} to {start:,} "
                         "(history in the middle of the run) were not read")
        resync = index > 0
        block_start = start
        while block_start < end:
            fh.seek(block_start)
            block = fh.read(min(BLOCK, end - block_start))
            if not block:
                break
            pos = HEADER_LEN if block_start == 0 else 0
            last_block = block_start + len(block) >= size
            while pos + CHUNK_HEADER <= len(block):
                at = block_start + pos
                crc, length, kind = _CHUNK.unpack_from(block, pos)
                if kind == 0 and crc == 0 and length == 0 and not any(block[pos:]):
                    break  # zero padding (a preallocated or block-aligned end)
                if kind not in (FULL, FIRST, MIDDLE, LAST):
                    problems.add(at, f"damaged chunk (type {kind}); the rest of this 32 KiB block was skipped")
                    pending, resync = None, True
                    break
                data_end = pos + CHUNK_HEADER + length
                if data_end > len(block):
                    if last_block and block_start + len(block) == size and len(block) < BLOCK:
                        problems.add(at, "log ends inside a record (the run was stopped while writing, or is still being written)")
                        pending = None
                    else:
                        problems.add(at, "damaged chunk (its length runs past its block); the rest of this 32 KiB block was skipped")
                        pending, resync = None, True
                    break
                data = block[pos + CHUNK_HEADER : data_end]
                if zlib.crc32(data, _CRC_SEED[kind]) != crc:
                    problems.add(at, "damaged chunk (checksum mismatch); the rest of this 32 KiB block was skipped")
                    pending, resync = None, True
                    break
                pos = data_end
                if kind == FULL:
                    if pending is not None:
                        problems.add(pending_at, "a record split across blocks is missing its end; skipped")
                    pending, resync = None, False
                    yield at, data
                elif kind == FIRST:
                    if pending is not None:
                        problems.add(pending_at, "a record split across blocks is missing its end; skipped")
                    pending, pending_at, pending_size, resync = [data], at, len(data), False
                elif pending is None:
                    if not resync:
                        problems.add(at, "the middle of a record whose start is missing; skipped")
                    if kind == LAST:
                        resync = False
                else:
                    pending.append(data)
                    pending_size += len(data)
                    if pending_size > MAX_RECORD_BYTES:
                        problems.add(pending_at, f"a record over {MAX_RECORD_BYTES // (1024 * 1024)} MiB; skipped")
                        pending, resync = None, True
                    elif kind == LAST:
                        whole = b"".join(pending)
                        pending = None
                        yield pending_at, whole
            else:
                if block_start + len(block) == size and pos < len(block) and len(block) < BLOCK:
                    problems.add(block_start + pos, "log ends inside a chunk header (the run was stopped while writing?)")
            block_start += len(block)
    if pending is not None:
        problems.add(pending_at, "log ends inside a record split across blocks (the run was stopped while writing, or is still being written)")


def parse(data: bytes) -> Any:
    """The Record in ``data``; raises ValueError when it is not one."""
    from google.protobuf.message import DecodeError

    try:
        return _message_classes()["Record"].FromString(data)
    except (DecodeError, RecursionError, RuntimeError, TypeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
