"""CRC32C (Castagnoli) and the masked form of it TFRecord stores, table-driven in pure Python.

TensorBoard's event files checksum each record's length and data with it. Python has no built-in
CRC32C (zlib's CRC32 is another polynomial), so it is computed here from a 256-entry table, at
100-500 ns a byte: :mod:`._tfrecord` says which records are worth that cost. Kept on its own as
the one piece of event-file reading that knows nothing of records or messages.
"""

from __future__ import annotations

_MASK_DELTA = 0xA282EAD8


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC32C of ``data`` (``crc32c(b"123456789") == 0xE3069283``)."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The masked CRC32C TFRecord stores: rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF
