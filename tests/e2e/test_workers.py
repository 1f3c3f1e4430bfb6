"""``tessera serve --workers 2``: two processes share the port and the data, and an upload whose
parts arrive at different workers completes into one correct object."""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import os
import signal
import subprocess
import time
import urllib.request
from collections import Counter

import oss2
import pytest
from oss2.models import PartInfo

from tests.support.clients import Clients
from tests.support.server import TesseraServer

PART = 100 * 1024


def _answering_worker(server: TesseraServer) -> int:
    with urllib.request.urlopen(f"{server.endpoint}/-/health", timeout=5) as response:
        return int(response.headers["X-Tessera-Worker"])


def test_both_workers_answer(two_workers: TesseraServer) -> None:
    workers = two_workers.worker_pids()
    assert len(workers) == 2
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        seen = set(pool.map(lambda _: _answering_worker(two_workers), range(200)))
    assert seen == workers


def test_connections_opened_at_once_are_spread_over_the_workers(two_workers: TesseraServer) -> None:
    """A client pool opens its connections together; they must not all land on the worker that
    happened to wake first (each worker listens on a socket of its own: SO_REUSEPORT)."""
    connections = [http.client.HTTPConnection("127.0.0.1", two_workers.port, timeout=10) for _ in range(32)]
    try:
        for connection in connections:  # all open before any request is sent
            connection.connect()
        seen: Counter[int] = Counter()
        for connection in connections:
            connection.request("GET", "/-/health")
            response = connection.getresponse()
            response.read()
            seen[int(response.headers["X-Tessera-Worker"])] += 1
    finally:
        for connection in connections:
            connection.close()
    assert set(seen) == two_workers.worker_pids(), seen


def test_parts_through_both_workers_complete_into_one_object(two_workers: TesseraServer) -> None:
    clients = Clients(two_workers)
    bucket = clients.oss2_bucket(f"workers-{os.getpid()}")
    bucket.create_bucket()
    parts = [os.urandom(PART) for _ in range(16)]
    upload_id = bucket.init_multipart_upload("spread").upload_id

    def upload(number: int) -> PartInfo:
        # A fresh client per part: a new connection each, so the kernel spreads them over workers.
        own = clients.oss2_bucket(bucket.bucket_name)
        result = own.upload_part("spread", upload_id, number, parts[number - 1])
        return PartInfo(number, result.etag)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        infos = list(pool.map(upload, range(1, len(parts) + 1)))
    bucket.complete_multipart_upload("spread", upload_id, infos)
    assert bucket.get_object("spread").read() == b"".join(parts)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts("spread", upload_id)


def test_a_worker_that_dies_is_replaced(two_workers: TesseraServer) -> None:
    before = two_workers.worker_pids()
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = two_workers.worker_pids()
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.1)
    now = two_workers.worker_pids()
    assert len(now) == 2 and victim not in now, two_workers.log_tail()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        deadline = time.monotonic() + 20
        seen: set[int] = set()
        while seen != now and time.monotonic() < deadline:
            seen |= set(pool.map(lambda _: _answering_worker(two_workers), range(50)))
    assert seen == now


def test_a_delete_all_job_is_run_by_one_worker_and_followed_through_both(two_workers: TesseraServer) -> None:
    from tests.support.console import ConsoleApi

    bucket = Clients(two_workers).oss2_bucket(f"workers-job-{os.getpid()}")
    bucket.create_bucket()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: bucket.init_multipart_upload(f"k/{i:03d}").upload_id, range(40)))
    bucket.upload_part("k/000", ids[0], 1, b"x" * 10)
    api = ConsoleApi(two_workers)
    api.sign_in()
    job = api.post(f"/api/buckets/{bucket.bucket_name}/uploads/delete-all", json={}).json()["job"]
    deadline = time.monotonic() + 20
    with concurrent.futures.ThreadPoolExecutor(4) as pool:  # the progress asked of either worker
        while time.monotonic() < deadline:
            answers = list(pool.map(lambda _: api.get(f"/api/buckets/{bucket.bucket_name}/jobs/{job['job_id']}"),
                                    range(4)))
            assert all(a.status_code == 200 for a in answers)
            if all(a.json()["job"]["state"] == "done" for a in answers):
                break
            time.sleep(0.1)
    done = answers[0].json()["job"]
    assert done["freed"] == {"uploads": 40, "parts": 1, "bytes": 10, "exact": True}  # run once, not twice
    assert list(oss2.MultipartUploadIterator(bucket)) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_a_second_server_on_the_port_of_two_workers_is_refused(two_workers: TesseraServer, tmp_path,
                                                               workers: int) -> None:
    """The workers' sockets share the port (SO_REUSEPORT), which any process of the same user
    could join: another ``tessera serve`` there is refused all the same, in one line."""
    second = TesseraServer(tmp_path / "other", workers=workers)
    second.port = two_workers.port
    env = {**os.environ, "OSS_ACCESS_KEY_ID": second.access_key_id, "OSS_ACCESS_KEY_SECRET": second.access_key_secret}
    # In a session of its own: should it start after all, none of its workers outlives the test.
    process = subprocess.Popen(second.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == 1, out + err
    assert err == (f"tessera serve: cannot listen on 127.0.0.1:{two_workers.port}: "
                   "the address is already in use (another server listens there)\n")
    assert _answering_worker(two_workers) in two_workers.worker_pids()
