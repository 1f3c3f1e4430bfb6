"""Concurrent steps on one upload: whichever commits first wins, and nothing is left behind.

The rule (see tessera.core.multipart): part uploads, Complete and Abort each lock the upload's
row; the first to commit wins and the others see the upload as it left it.
"""

from __future__ import annotations

import concurrent.futures
import os
import time

import oss2
import pytest
from oss2.models import PartInfo

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

PART = 100 * 1024


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def test_part_in_flight_when_abort_lands_leaves_nothing(server: TesseraServer, bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("late").upload_id
    before = raw.blob_files(server.data_dir)
    body = os.urandom(4 * PART)
    query = {"partNumber": "1", "uploadId": upload_id}
    sock = raw.start_request(server, "PUT", bucket.bucket_name, "late", declared=len(body), query=query)
    sock.sendall(body[: len(body) // 2])
    time.sleep(0.2)  # the server is now streaming this part to disk
    bucket.abort_multipart_upload("late", upload_id)
    sock.sendall(body[len(body) // 2 :])
    response = raw.read_response(sock, "PUT")
    assert (response.status, response.code) == (404, "NoSuchUpload")
    assert raw.settle(server.data_dir, before) == set()
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts("late", upload_id)


def test_part_after_complete_is_refused(bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("done").upload_id
    etag = bucket.upload_part("done", upload_id, 1, b"only part").etag
    bucket.complete_multipart_upload("done", upload_id, [PartInfo(1, etag)])
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.upload_part("done", upload_id, 2, b"too late")
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.abort_multipart_upload("done", upload_id)
    assert bucket.get_object("done").read() == b"only part"


def test_complete_racing_abort_has_exactly_one_winner(server: TesseraServer, bucket: oss2.Bucket) -> None:
    before = raw.blob_files(server.data_dir)
    for attempt in range(12):
        key = f"race-{attempt}"
        upload_id = bucket.init_multipart_upload(key).upload_id
        data = os.urandom(PART)
        etag = bucket.upload_part(key, upload_id, 1, data).etag
        first, second = clients_for(bucket), clients_for(bucket)

        def complete() -> str:
            try:
                first.complete_multipart_upload(key, upload_id, [PartInfo(1, etag)])
                return "completed"
            except oss2.exceptions.NoSuchUpload:
                return "lost"

        def abort() -> str:
            try:
                second.abort_multipart_upload(key, upload_id)
                return "aborted"
            except oss2.exceptions.NoSuchUpload:
                return "lost"

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = sorted(f.result() for f in [pool.submit(complete), pool.submit(abort)])
        assert results in (["completed", "lost"], ["aborted", "lost"]), results
        if "completed" in results:
            assert bucket.get_object(key).read() == data
            bucket.delete_object(key)
        else:
            assert not bucket.object_exists(key)
        with pytest.raises(oss2.exceptions.NoSuchUpload):
            bucket.list_parts(key, upload_id)
    assert raw.settle(server.data_dir, before) == set()


def clients_for(bucket: oss2.Bucket) -> oss2.Bucket:
    """Another client (its own connection pool) for the same bucket."""
    return oss2.Bucket(bucket.auth, bucket.endpoint, bucket.bucket_name)
