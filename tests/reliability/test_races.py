"""Races on one upload and on one object, on every configuration.

- Complete vs Abort vs UploadPart on one upload: exactly one of Complete and Abort wins, a part
  either lands before the winner or is refused, nothing is left behind.
- Two Completes of one upload: both succeed with the same ETag (a retried Complete whose first
  answer was lost is not told the upload vanished).
- A reader that got its answer receives every byte it was promised while the object is deleted
  or overwritten and its blobs are collected; copies reading a source being overwritten copy one
  whole version of it or fail cleanly — never a 5xx.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import threading
import time
from typing import Callable

import oss2
import pytest
from oss2.models import PartInfo

from tests.reliability.knobs import knob
from tests.support import raw
from tests.support.checks import assert_consistent
from tests.support.clients import Clients, multipart_object, oss_error
from tests.support.server import TesseraServer

PART = 100 * 1024
ROUNDS = knob("RACE_ROUNDS", ci=6, long=200)


def test_complete_abort_and_part_upload_on_one_upload(configured_server: TesseraServer,
                                                      summary: Callable[[str], None]) -> None:
    clients = Clients(configured_server)
    bucket = clients.oss2_bucket("races")
    bucket.create_bucket()
    outcomes: dict[str, int] = {}
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        for round_ in range(ROUNDS):
            key = f"upload-{round_}"
            upload_id = bucket.init_multipart_upload(key).upload_id
            first = os.urandom(PART)
            etag = bucket.upload_part(key, upload_id, 1, first).etag
            late = os.urandom(PART)
            start = threading.Barrier(3)

            def complete() -> object:
                start.wait()
                return oss_error(lambda: clients.oss2_bucket("races").complete_multipart_upload(
                    key, upload_id, [PartInfo(1, etag)]))

            def abort() -> object:
                start.wait()
                return oss_error(lambda: clients.oss2_bucket("races").abort_multipart_upload(key, upload_id))

            def part() -> object:
                start.wait()
                return oss_error(lambda: clients.oss2_bucket("races").upload_part(key, upload_id, 2, late))

            completed, aborted, uploaded = (f.result() for f in [pool.submit(complete), pool.submit(abort),
                                                                 pool.submit(part)])
            won = [name for name, result in (("complete", completed), ("abort", aborted))
                   if not isinstance(result, oss2.exceptions.OssError)]
            assert len(won) == 1, (completed, aborted)
            for result in (completed, aborted, uploaded):
                if isinstance(result, oss2.exceptions.OssError):
                    assert result.code == "NoSuchUpload", result
            if won == ["complete"]:
                assert bucket.get_object(key).read() == first  # a late part 2 is not part of it
            else:
                with pytest.raises(oss2.exceptions.NoSuchKey):
                    bucket.get_object(key)
            with pytest.raises(oss2.exceptions.NoSuchUpload):
                bucket.list_parts(key, upload_id)
            outcome = won[0] + ("+part" if not isinstance(uploaded, oss2.exceptions.OssError) else "")
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert_consistent(configured_server)
    summary(f"{ROUNDS} rounds: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


def test_two_completes_of_one_upload_agree(configured_server: TesseraServer) -> None:
    clients = Clients(configured_server)
    bucket = clients.oss2_bucket("completes")
    bucket.create_bucket()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for round_ in range(ROUNDS):
            key = f"twice-{round_}"
            upload_id = bucket.init_multipart_upload(key).upload_id
            parts = [PartInfo(n, bucket.upload_part(key, upload_id, n, os.urandom(PART)).etag) for n in (1, 2)]
            start = threading.Barrier(2)

            def complete() -> str:
                start.wait()
                return clients.oss2_bucket("completes").complete_multipart_upload(key, upload_id, parts).etag

            etags = {f.result() for f in [pool.submit(complete), pool.submit(complete)]}
            assert etags == {bucket.head_object(key).etag}
    assert_consistent(configured_server)


@pytest.mark.parametrize("writer", ["delete", "overwrite"])
def test_reader_receives_the_whole_object_while_it_is_replaced(configured_server: TesseraServer,
                                                               writer: str) -> None:
    clients = Clients(configured_server)
    bucket = clients.oss2_bucket("readers")
    bucket.create_bucket()
    data = multipart_object(bucket, "streamed", parts=4, part_size=4 * 1024 * 1024)
    sock, response = raw.slow_get(configured_server, "readers", "streamed")
    with sock:
        assert response.status == 200 and int(response.headers["Content-Length"]) == len(data)
        received = [response.read(64 * 1024)]
        if writer == "delete":
            bucket.delete_object("streamed")
        else:
            bucket.put_object("streamed", b"the new version")
        collected = configured_server.admin("gc", "--grace-seconds", "0")
        assert collected.returncode == 0, collected.stderr
        received.append(response.read())
    body = b"".join(received)
    assert len(body) == len(data) and hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    assert_consistent(configured_server)


def test_copies_of_a_source_being_overwritten(configured_server: TesseraServer,
                                              summary: Callable[[str], None]) -> None:
    """CopyObject and UploadPartCopy while the source is overwritten (single and multipart
    versions of different sizes) and deleted: each copy is one whole version, or NoSuchKey."""
    clients = Clients(configured_server)
    bucket = clients.oss2_bucket("copies")
    bucket.create_bucket()
    versions: dict[str, bytes] = {}
    lock = threading.Lock()

    def remember(data: bytes) -> None:
        with lock:
            versions[hashlib.md5(data).hexdigest()] = data

    remember(multipart_object(bucket, "source", parts=3, part_size=PART))
    stop = threading.Event()
    deadline = time.monotonic() + 60

    def overwrite() -> int:
        writes = 0
        own = clients.oss2_bucket("copies")
        while not stop.is_set() and time.monotonic() < deadline:
            if writes % 3 == 0:
                remember(multipart_object(own, "source", parts=2, part_size=PART + writes))
            elif writes % 7 == 0:
                own.delete_object("source")
            else:
                data = os.urandom(PART + writes)
                remember(data)
                own.put_object("source", data)
            writes += 1
        return writes

    copies = {"copied": 0, "NoSuchKey": 0}

    def copy(index: int) -> None:
        own = clients.oss2_bucket("copies")
        for n in range(ROUNDS * 4):
            target = f"copy-{index}-{n}"
            if n % 2:
                result = oss_error(lambda: own.copy_object("copies", "source", target))
            else:
                upload_id = own.init_multipart_upload(target).upload_id
                result = oss_error(lambda: own.upload_part_copy("copies", "source", None, target, upload_id, 1))
                if not isinstance(result, oss2.exceptions.OssError):
                    own.complete_multipart_upload(target, upload_id, [PartInfo(1, result.etag)])
                else:
                    own.abort_multipart_upload(target, upload_id)
            with lock:
                if isinstance(result, oss2.exceptions.OssError):
                    assert result.code == "NoSuchKey", result
                    copies["NoSuchKey"] += 1
                    continue
                copies["copied"] += 1
            body = own.get_object(target).read()
            with lock:
                assert hashlib.md5(body).hexdigest() in versions, "a copy mixed two versions"

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        writer = pool.submit(overwrite)
        copiers = [pool.submit(copy, i) for i in range(3)]
        for copier in copiers:
            copier.result()
        stop.set()
        writes = writer.result()
    assert "unexpected error" not in configured_server.log_text()
    assert_consistent(configured_server)
    summary(f"{copies['copied']} copies, {copies['NoSuchKey']} NoSuchKey, {writes} overwrites/deletes, 0 5xx")
