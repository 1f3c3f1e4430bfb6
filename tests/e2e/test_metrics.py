"""``GET /-/metrics``: what a Prometheus server scraping Tessera sees — exact storage gauges per
bucket, incomplete uploads by age, and request counts that add up across workers."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import oss2
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.conftest import start_server
from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

AGES = ["<1d", "1-7d", "7-30d", ">30d"]


@dataclass
class Scrape:
    worker: int
    samples: list[Sample]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called ``name`` whose labels include ``labels`` (0 if none)."""
        return sum(s.value for s in self.samples
                   if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))

    def requests(self, operation: str, status: str | None = None) -> float:
        labels = {"operation": operation} | ({"status": status} if status else {})
        return self.value("tessera_requests_total", **labels)


def scrape(server: TesseraServer, token: str | None = None) -> Scrape:
    request = urllib.request.Request(f"{server.endpoint}/-/metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
        text = response.read().decode()
        worker = int(response.headers["X-Tessera-Worker"])
    return Scrape(worker, [s for family in text_string_to_metric_families(text) for s in family.samples])


def scrape_status(server: TesseraServer, authorization: str | None) -> int:
    request = urllib.request.Request(f"{server.endpoint}/-/metrics")
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_storage_gauges_are_the_bucket_s_exact_usage(server: TesseraServer, clients: Clients,
                                                     bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.put_object("plain", b"s" * 1000)
    bucket.put_object("gone", b"g" * 24)
    bucket.delete_object("gone")
    bucket.put_object("cold", b"c" * 1024, headers={"x-oss-storage-class": "IA"})
    two_parts = bucket.init_multipart_upload("two-parts").upload_id
    bucket.upload_part("two-parts", two_parts, 1, b"1" * 100)
    bucket.upload_part("two-parts", two_parts, 2, b"2" * 200)
    bucket.init_multipart_upload("no-parts")
    cold_upload = bucket.init_multipart_upload("cold-upload", headers={"x-oss-storage-class": "IA"}).upload_id
    bucket.upload_part("cold-upload", cold_upload, 1, b"3" * 50)

    found = scrape(server)
    mine = {"bucket": bucket_name}
    # (storage class, kind): (count, real bytes, billed bytes) — an IA object is billed at least 64 KB.
    expected = {("Standard", "object"): (1, 1000, 1000), ("IA", "object"): (1, 1024, 65536),
                ("Standard", "part"): (2, 300, 300), ("IA", "part"): (1, 50, 50),
                ("Standard", "upload"): (2, None, None), ("IA", "upload"): (1, None, None)}
    for (storage_class, kind), (count, size, billed) in expected.items():
        labels = {**mine, "storage_class": storage_class, "kind": kind}
        assert found.value("tessera_stored_count", **labels) == count, labels
        if size is not None:
            assert found.value("tessera_stored_bytes", **labels) == size, labels
            assert found.value("tessera_billed_bytes", **labels) == billed, labels
    ages = {age: (found.value("tessera_incomplete_uploads", **mine, age=age),
                  found.value("tessera_incomplete_upload_parts", **mine, age=age),
                  found.value("tessera_incomplete_upload_bytes", **mine, age=age)) for age in AGES}
    assert ages == {"<1d": (3, 3, 350), "1-7d": (0, 0, 0), "7-30d": (0, 0, 0), ">30d": (0, 0, 0)}

    bucket.abort_multipart_upload("cold-upload", cold_upload)
    after = scrape(server)
    cold_parts = {**mine, "storage_class": "IA", "kind": "part"}
    assert after.value("tessera_stored_count", **cold_parts) == after.value("tessera_stored_bytes", **cold_parts) == 0
    assert after.value("tessera_incomplete_upload_bytes", **mine, age="<1d") == 300
    assert after.value("tessera_incomplete_uploads", **mine, age="<1d") == 2


def test_a_bucket_without_uploads_reports_zero_in_every_age_band(server: TesseraServer, bucket_name: str) -> None:
    found = scrape(server)
    assert [found.value("tessera_incomplete_uploads", bucket=bucket_name, age=age) for age in AGES] == [0, 0, 0, 0]
    assert {s.labels["age"] for s in found.samples
            if s.name == "tessera_incomplete_uploads" and s.labels["bucket"] == bucket_name} == set(AGES)


def test_requests_are_counted_per_operation_and_status(server: TesseraServer, clients: Clients,
                                                       bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    before = scrape(server)
    for number in range(3):
        bucket.put_object(f"k{number}", b"x" * 10)
    upload_id = bucket.init_multipart_upload("big").upload_id
    bucket.upload_part("big", upload_id, 1, b"p" * 10)
    bucket.upload_part("big", upload_id, 2, b"q" * 10)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("missing")
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch):
        clients.oss2_bucket(bucket_name, secret="not-the-secret").put_object("refused", b"r")
    not_allowed = raw.request(server, "PATCH", bucket_name, "k0")
    unsigned = raw.unsigned_request(server, "PATCH", f"/{bucket_name}/k0")
    assert (not_allowed.status, not_allowed.code, unsigned.status) == (405, "MethodNotAllowed", 403)
    after = scrape(server)

    def counted(operation: str, status: str | None = None) -> float:
        return after.requests(operation, status) - before.requests(operation, status)

    assert counted("PutObject", "200") == 3
    assert counted("InitiateMultipartUpload", "200") == 1
    assert counted("UploadPart", "200") == 2
    assert counted("GetObject", "404") == 1 and counted("GetObject") == 1
    assert counted("PutObject", "403") == 1  # refused at the gate, counted under what it asked for
    assert counted("Unknown", "405") == 1 and counted("Unknown", "403") == 1
    assert counted("Metrics", "200") == 1  # the first scrape; a scrape is counted after it answers
    timed = "tessera_request_duration_seconds_count"
    assert after.value(timed, operation="PutObject") - before.value(timed, operation="PutObject") == 4


def test_token_is_required_when_configured(tmp_path_factory: pytest.TempPathFactory,
                                           request: pytest.FixtureRequest) -> None:
    by_option = start_server(tmp_path_factory, request, "sqlite", extra_args=("--metrics-token", "opt-token"))
    by_env = start_server(tmp_path_factory, request, "sqlite", env={"TESSERA_METRICS_TOKEN": "env-token"})
    try:
        for server, token in ((by_option, "opt-token"), (by_env, "env-token")):
            assert scrape_status(server, None) == 401
            assert scrape_status(server, "Bearer wrong") == 401
            assert scrape_status(server, f"Basic {token}") == 401
            assert scrape_status(server, f"Bearer {token}") == 200
            assert scrape(server, token).requests("Metrics", "401") == 3
            with urllib.request.urlopen(f"{server.endpoint}/-/health", timeout=5) as health:
                assert health.status == 200  # only the metrics need the token
    finally:
        by_option.stop()
        by_env.stop()


def _scrapes_from_every_worker(server: TesseraServer, workers: set[int]) -> list[Scrape]:
    """Scrapes, one at a time on fresh connections, until each of ``workers`` has answered."""
    scrapes: list[Scrape] = []
    deadline = time.monotonic() + 30
    while {s.worker for s in scrapes} != workers and time.monotonic() < deadline:
        scrapes.append(scrape(server))
    assert {s.worker for s in scrapes} == workers
    return scrapes


def test_every_worker_reports_the_requests_of_all(two_workers: TesseraServer) -> None:
    clients = Clients(two_workers)
    name = f"metrics-workers-{os.getpid()}"
    clients.oss2_bucket(name).create_bucket()
    puts = 40
    baseline = scrape(two_workers)

    def put(number: int) -> None:
        # A fresh client each: a new connection, so the kernel spreads the requests over workers.
        clients.oss2_bucket(name).put_object(f"k{number}", b"w" * 100)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(puts)))
    scrapes = _scrapes_from_every_worker(two_workers, two_workers.worker_pids())
    for number, found in enumerate(scrapes):
        # Sequential scrapes: each one sees every earlier one, whichever worker answered it.
        assert found.requests("Metrics") - baseline.requests("Metrics") == number + 1, found.worker
        assert found.requests("PutObject", "200") - baseline.requests("PutObject", "200") == puts, found.worker
        assert found.value("tessera_stored_count", bucket=name, kind="object") == puts, found.worker


def test_a_replaced_worker_s_requests_still_count(two_workers: TesseraServer) -> None:
    clients = Clients(two_workers)
    name = f"metrics-replaced-{os.getpid()}"
    bucket = clients.oss2_bucket(name)
    bucket.create_bucket()
    for number in range(10):
        clients.oss2_bucket(name).put_object(f"k{number}", b"r")
    before = two_workers.worker_pids()
    counted = scrape(two_workers).requests("PutObject", "200")
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while (len(two_workers.worker_pids()) != 2 or victim in two_workers.worker_pids()) and time.monotonic() < deadline:
        time.sleep(0.1)
    now = two_workers.worker_pids()
    assert len(now) == 2 and victim not in now, (f"workers before {sorted(before)}, killed {victim}, "
                                                 f"now {sorted(now)}\n{two_workers.log_tail()}")
    for found in _scrapes_from_every_worker(two_workers, now):
        assert found.requests("PutObject", "200") == counted, found.worker


def test_the_metrics_directory_is_private_and_removed_at_exit(tmp_path_factory: pytest.TempPathFactory,
                                                              request: pytest.FixtureRequest) -> None:
    temp = tmp_path_factory.mktemp("server-tmp")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    orphan = temp / f"tessera-metrics-{dead}-abc"  # left by a server killed with SIGKILL
    orphan.mkdir()
    server = start_server(tmp_path_factory, request, "sqlite", workers=2, env={"TMPDIR": str(temp)})
    try:
        workers = server.worker_pids()
        _scrapes_from_every_worker(server, workers)
        [directory] = temp.glob("tessera-metrics-*")  # the orphan is gone
        assert directory.name.startswith(f"tessera-metrics-{server.process.pid}-")
        assert {f"counter_{pid}.db" for pid in workers} <= {p.name for p in directory.iterdir()}
    finally:
        server.stop()
    assert not directory.exists()
