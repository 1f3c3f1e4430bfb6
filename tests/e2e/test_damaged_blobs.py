"""A blob file shorter than its metadata says (damaged behind Tessera's back) fails the request
at once — an error before the answer, or an aborted connection once the body has started —
never a hang, and ``tessera admin fsck`` reports it."""

from __future__ import annotations

import http.client
import os
import time
from pathlib import Path

import oss2
import pytest

from tests.support import raw
from tests.support.clients import Clients, multipart_object
from tests.support.server import TesseraServer


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def new_blobs(server: TesseraServer, before: set[str]) -> list[Path]:
    """The blob files written since ``before``, oldest first."""
    added = [server.data_dir / name for name in raw.blob_files(server.data_dir) - before if name.startswith("blobs")]
    return sorted(added, key=lambda p: p.stat().st_mtime_ns)


def test_get_of_a_truncated_blob_fails_at_once_and_fsck_reports_it(server: TesseraServer,
                                                                   bucket: oss2.Bucket) -> None:
    before = raw.blob_files(server.data_dir)
    bucket.put_object("short", os.urandom(200_000))
    (blob,) = new_blobs(server, before)
    os.truncate(blob, 150_000)
    started = time.monotonic()
    answer = raw.request(server, "GET", bucket.bucket_name, "short")
    assert (answer.status, answer.code) == (500, "InternalError")
    assert time.monotonic() - started < 5
    ranged = raw.request(server, "GET", bucket.bucket_name, "short", headers={"Range": "bytes=0-99"})
    assert ranged.status == 206 and len(ranged.body) == 100  # the bytes still there are served
    checked = server.admin("fsck")
    assert checked.returncode != 0 and "should be 200000 bytes, its file has 150000" in checked.stdout
    bucket.delete_object("short")


def test_truncation_while_streaming_aborts_the_connection(server: TesseraServer, bucket: oss2.Bucket) -> None:
    before = raw.blob_files(server.data_dir)
    multipart_object(bucket, "streamed", parts=3, part_size=4 * 1024 * 1024)
    last = new_blobs(server, before)[-1]
    sock, response = raw.slow_get(server, bucket.bucket_name, "streamed")
    with sock:
        assert response.status == 200
        response.read(64 * 1024)
        os.truncate(last, 1024)
        started = time.monotonic()
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            response.read()
        assert time.monotonic() - started < 10
    bucket.delete_object("streamed")
