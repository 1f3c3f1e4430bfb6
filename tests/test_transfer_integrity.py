"""CRC-64 verification of transfers, and the request body that computes it while it is sent."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from tessera.blobs.checksums import combine_crcs, crc64
from tessera.client.transfer.integrity import ChecksumMismatch, span_crc64, span_md5_etag, verify_crc64
from tessera.client.transfer.parallel import Cancelled
from tessera.client.transfer.reader import SourceChanged, SpanReader


def test_verification_accepts_the_server_s_decimal_crc() -> None:
    verify_crc64("oss://b/k", crc64(b"hello"), str(crc64(b"hello")))


@pytest.mark.parametrize("remote", ["1", "0x12", "-5", "not a number"])
def test_verification_refuses_any_other_crc(remote: str) -> None:
    with pytest.raises(ChecksumMismatch, match="CRC-64 mismatch for oss://b/k"):
        verify_crc64("oss://b/k", crc64(b"hello"), remote)


def test_a_server_that_sends_no_crc_is_believed() -> None:
    verify_crc64("oss://b/k", 123, None)


def test_span_checksums_read_the_file_itself(tmp_path: Path) -> None:
    data = os.urandom(9 * 1024 * 1024 + 7)
    path = tmp_path / "f"
    path.write_bytes(data)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        assert span_crc64(descriptor, 0, len(data)) == crc64(data)
        assert span_crc64(descriptor, 5 * 1024 * 1024, 100) == crc64(data[5 * 1024 * 1024:5 * 1024 * 1024 + 100])
        assert span_crc64(descriptor, len(data) - 3, 10) == crc64(data[-3:])  # short: matches no server CRC
        assert span_md5_etag(descriptor, 0, 4).strip('"') == hashlib.md5(data[:4]).hexdigest().upper()
    finally:
        os.close(descriptor)


def test_parts_combine_into_the_whole_crc() -> None:
    data = os.urandom(300_001)
    parts = [data[:100_000], data[100_000:250_000], data[250_000:]]
    assert combine_crcs((crc64(part), len(part)) for part in parts) == crc64(data)


def _reader(tmp_path: Path, data: bytes, offset: int, size: int, **kwargs) -> tuple[SpanReader, list[int]]:
    path = tmp_path / "body"
    path.write_bytes(data)
    reported: list[int] = []
    descriptor = os.open(path, os.O_RDONLY)
    return SpanReader(descriptor, offset, size, reported.append, **kwargs), reported


def test_a_retried_body_is_checksummed_and_counted_once(tmp_path: Path) -> None:
    data = os.urandom(100_000)
    reader, reported = _reader(tmp_path, data, 1000, 50_000)
    assert len(reader) == 50_000
    first = reader.read(30_000)
    reader.seek(0)  # the SDK retrying the request
    again = reader.read(16_384) + reader.read(16_384) + reader.read()
    assert first == data[1000:31_000] and again == data[1000:51_000]
    assert reader.complete and reader.crc == crc64(data[1000:51_000])
    assert sum(reported) == 50_000
    assert reader.read(10) == b""
    os.close(reader.descriptor)


def test_a_file_that_shrinks_under_the_reader_is_noticed(tmp_path: Path) -> None:
    reader, _ = _reader(tmp_path, b"x" * 1000, 0, 2000)
    with pytest.raises(SourceChanged):
        reader.read()
    os.close(reader.descriptor)


def test_a_cancelled_body_stops_at_the_next_read(tmp_path: Path) -> None:
    cancelled = threading.Event()
    reader, _ = _reader(tmp_path, b"y" * 1000, 0, 1000, cancelled=cancelled)
    reader.read(10)
    cancelled.set()
    with pytest.raises(Cancelled):
        reader.read(10)
    os.close(reader.descriptor)
