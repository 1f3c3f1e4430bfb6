"""CRC-64/XZ (OSS's ``x-oss-hash-crc64ecma``) and multipart ETags (docs/wire.md: CRC-64, ETags)."""

from __future__ import annotations

import hashlib
from typing import Iterable

import anycrc

_CRC64 = anycrc.Model("CRC64-XZ")


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC of ``data``, continuing from ``crc`` (the CRC of what came before)."""
    return _CRC64.calc(data, crc) if crc else _CRC64.calc(data)


def crc64_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC of A‖B from crc(A), crc(B) and len(B) — without the bytes."""
    return _CRC64.combine(crc1, crc2, len2) if len2 else crc1


def combine_crcs(parts: Iterable[tuple[int, int]]) -> int:
    """The whole CRC from (crc, size) pairs in order: how a multipart object's CRC is made."""
    whole = 0
    for crc, size in parts:
        whole = crc64_combine(whole, crc, size)
    return whole


def multipart_etag(part_md5s: list[bytes]) -> str:
    """MD5 of the concatenated binary part MD5s, upper-case hex, then ``-N`` (the S3 recipe)."""
    return f"{hashlib.md5(b''.join(part_md5s)).hexdigest().upper()}-{len(part_md5s)}"
