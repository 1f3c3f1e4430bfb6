"""CRC-64 checks end to end: the CRC of local bytes against the server's ``x-oss-hash-crc64ecma``
(CRC-64/XZ in decimal, which the v2 SDK compares as a string: docs/wire.md, CRC-64)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

from tessera.blobs.checksums import crc64

READ_SIZE = 4 * 1024 * 1024


class ChecksumMismatch(Exception):
    """The bytes at one end are not the bytes at the other."""


def verify_crc64(what: str, local: int, remote: str | None) -> None:
    """Raise unless the server's CRC (decimal text) is ``local``. A server that sends no CRC cannot
    be checked against, and is believed — Alibaba Cloud OSS and Tessera always send one."""
    if remote is None or remote == "":
        return
    try:
        matches = int(remote) == local
    except ValueError:
        matches = False
    if not matches:
        raise ChecksumMismatch(f"CRC-64 mismatch for {what}: local {local}, server {remote}")


def span_crc64(descriptor: int, offset: int, size: int) -> int:
    """The CRC-64 of ``size`` bytes of an open file from ``offset``."""
    crc = 0
    for chunk in _read_span(descriptor, offset, size):
        crc = crc64(chunk, crc)
    return crc


def span_md5_etag(descriptor: int, offset: int, size: int) -> str:
    """The ETag OSS gives a part of these bytes: their MD5, quoted upper-case hex."""
    digest = hashlib.md5()
    for chunk in _read_span(descriptor, offset, size):
        digest.update(chunk)
    return f'"{digest.hexdigest().upper()}"'


def _read_span(descriptor: int, offset: int, size: int) -> Iterator[bytes]:
    """The bytes of the span, fewer if the file ends first (then no checksum will match)."""
    end = offset + size
    while offset < end:
        chunk = os.pread(descriptor, min(READ_SIZE, end - offset), offset)
        if not chunk:
            return
        yield chunk
        offset += len(chunk)
