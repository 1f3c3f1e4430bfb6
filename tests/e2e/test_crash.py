"""SIGKILL in the middle of a part upload and of a Complete: after a restart the state is the old
one or the new one, never half; the collector reclaims what the dead process left; nothing
owned is ever freed."""

from __future__ import annotations

import os
import threading
import time

import oss2
import pytest
from oss2.models import PartInfo

from tests.support import raw
from tests.support.checks import assert_consistent
from tests.support.clients import Clients
from tests.support.server import TesseraServer

PART = 100 * 1024


def test_kill_during_part_upload(crash_server: TesseraServer) -> None:
    clients = Clients(crash_server)
    bucket = clients.oss2_bucket("crash-part")
    bucket.create_bucket()
    upload_id = bucket.init_multipart_upload("k").upload_id
    bucket.upload_part("k", upload_id, 1, b"a" * PART)

    def slow_upload() -> None:
        try:
            raw.send_truncated(crash_server, "PUT", "crash-part", "k", declared=50_000_000, sent=b"b" * 5_000_000,
                               query={"partNumber": "2", "uploadId": upload_id})
        except OSError:
            pass

    sender = threading.Thread(target=slow_upload)
    sender.start()
    time.sleep(0.1)
    crash_server.kill()
    sender.join()
    crash_server.restart()
    parts = bucket.list_parts("k", upload_id).parts
    assert [p.part_number for p in parts] == [1]
    assert_consistent(crash_server)
    bucket.complete_multipart_upload("k", upload_id, [PartInfo(1, parts[0].etag)])
    assert bucket.get_object("k").read() == b"a" * PART


def test_kill_during_complete(crash_server: TesseraServer) -> None:
    clients = Clients(crash_server)
    bucket = clients.oss2_bucket("crash-complete")
    bucket.create_bucket()
    for attempt, delay in enumerate([0.0, 0.005, 0.02, 0.05]):
        key = f"k{attempt}"
        bucket.put_object(key, b"old object")
        upload_id = bucket.init_multipart_upload(key).upload_id
        chunks = [os.urandom(PART) for _ in range(3)] + [b"end"]
        parts = [PartInfo(n, bucket.upload_part(key, upload_id, n, c).etag) for n, c in enumerate(chunks, 1)]

        def complete() -> None:
            try:
                bucket.complete_multipart_upload(key, upload_id, parts)
            except Exception:
                pass

        finisher = threading.Thread(target=complete)
        finisher.start()
        time.sleep(delay)
        crash_server.kill()
        finisher.join()
        crash_server.restart()
        content = bucket.get_object(key).read()
        if content == b"old object":  # the old state: the upload is intact and can still complete
            assert len(bucket.list_parts(key, upload_id).parts) == 4
            bucket.complete_multipart_upload(key, upload_id, parts)
            content = bucket.get_object(key).read()
        assert content == b"".join(chunks)
        with pytest.raises(oss2.exceptions.NoSuchUpload):
            bucket.list_parts(key, upload_id)
        assert_consistent(crash_server)
