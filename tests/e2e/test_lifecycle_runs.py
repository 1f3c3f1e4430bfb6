"""Lifecycle runs as operations: the run log, one run at a time (the lease), the server's own
schedule, and a run killed half-way then run again."""

from __future__ import annotations

import asyncio
import datetime
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import oss2
import pytest
from oss2.models import AbortMultipartUpload, BucketLifecycle, LifecycleRule

from tests.conftest import BACKENDS, start_server
from tests.support.clients import Clients
from tests.support.server import TesseraServer
from tessera.meta import leases
from tessera.meta.database import Database, sqlite_url

TOMORROW = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=2)


def abort_everything_rule(bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(BucketLifecycle([LifecycleRule(
        "sweep", "", status=LifecycleRule.ENABLED,
        abort_multipart_upload=AbortMultipartUpload(created_before_date=TOMORROW))]))


def pending(bucket: oss2.Bucket) -> int:
    return sum(1 for _ in oss2.MultipartUploadIterator(bucket))


def metadata_url(server: TesseraServer) -> str:
    return server.metadata_url or sqlite_url(server.data_dir)


def test_run_log_records_each_run(server: TesseraServer, clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    abort_everything_rule(bucket)
    bucket.init_multipart_upload("a")
    preview = server.admin("lifecycle", "run", "--bucket", bucket_name, "--dry-run", "--json")
    done = server.admin("lifecycle", "run", "--bucket", bucket_name, "--json")
    assert preview.returncode == done.returncode == 0, preview.stderr + done.stderr
    ids = [json.loads(preview.stdout)["run_id"], json.loads(done.stdout)["run_id"]]
    logged = {r["run_id"]: r for r in json.loads(server.admin("lifecycle", "log", "--json").stdout)}
    dry, real = logged[ids[0]], logged[ids[1]]
    assert (dry["dry_run"], real["dry_run"], dry["trigger"], real["bucket"]) == (True, False, "admin", bucket_name)
    assert real["finished_ms"] >= real["started_ms"] and real["errors"] == []
    [logged_outcome] = real["outcomes"]
    assert [item["key"] for item in logged_outcome.pop("items")] == ["a"]
    assert logged_outcome == {"bucket": bucket_name, "rule_id": "sweep", "action": "AbortMultipartUpload",
                              "matched": 1, "parts": 0, "bytes": 0, "truncated": False}
    text = server.admin("lifecycle", "log", "--limit", "2").stdout
    assert f"run {ids[1]}: admin, bucket {bucket_name}" in text and f"run {ids[0]}: admin dry run" in text


def test_only_one_run_at_a_time(server: TesseraServer, clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    abort_everything_rule(bucket)
    bucket.init_multipart_upload("held")

    async def lease(take: bool) -> None:
        db = Database(metadata_url(server))
        try:
            async with db.write() as conn:
                if take:
                    now = int(time.time() * 1000)
                    assert await leases.acquire(conn, "lifecycle", "other-gateway:1", now_ms=now,
                                                expires_ms=now + 60_000) is None
                else:
                    await leases.release(conn, "lifecycle", "other-gateway:1")
        finally:
            await db.close()

    asyncio.run(lease(take=True))
    try:
        busy = server.admin("lifecycle", "run", "--bucket", bucket_name)
        assert busy.returncode == 1 and "in progress (other-gateway:1)" in busy.stderr
        assert server.admin("lifecycle", "run", "--bucket", bucket_name, "--dry-run").returncode == 0
        assert pending(bucket) == 1
    finally:
        asyncio.run(lease(take=False))
    assert server.admin("lifecycle", "run", "--bucket", bucket_name).returncode == 0
    assert pending(bucket) == 0


@pytest.fixture(params=BACKENDS)
def scheduled_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    server = start_server(tmp_path_factory, request, request.param,
                          extra_args=("--lifecycle-every", "0.5"))
    yield server
    server.stop()


def test_the_server_runs_rules_on_its_schedule(scheduled_server: TesseraServer) -> None:
    bucket = Clients(scheduled_server).oss2_bucket("scheduled")
    bucket.create_bucket()
    bucket.init_multipart_upload("forgotten")
    abort_everything_rule(bucket)
    deadline = time.monotonic() + 20
    while pending(bucket) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pending(bucket) == 0
    runs = json.loads(scheduled_server.admin("lifecycle", "log", "--json").stdout)
    assert any(r["trigger"] == "schedule" and r["outcomes"] and r["outcomes"][0]["matched"] == 1 for r in runs)


def test_a_run_killed_half_way_is_finished_by_the_next(server: TesseraServer, clients: Clients,
                                                        bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    for i in range(400):
        bucket.init_multipart_upload(f"k{i:03d}")
    abort_everything_rule(bucket)
    command = [sys.executable, "-m", "tessera", "admin", "lifecycle", "run", "--bucket", bucket_name,
               "--batch-size", "4", "--data-dir", str(server.data_dir)]
    if server.metadata_url:
        command += ["--metadata-url", server.metadata_url]
    runner = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while pending(bucket) == 400 and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    left = pending(bucket)
    assert 0 < left < 400, "the run was not caught half-way"

    runs = json.loads(server.admin("lifecycle", "log", "--json").stdout)
    assert runs[0]["finished_ms"] is None  # the killed run: interrupted, shown as such
    assert "INTERRUPTED" in server.admin("lifecycle", "log", "--limit", "1").stdout
    again = server.admin("lifecycle", "run", "--bucket", bucket_name, "--json")  # the dead holder's lease is taken over
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["outcomes"][0]["matched"] == left
    assert pending(bucket) == 0
    assert server.admin("fsck").returncode == 0


def test_bad_schedule_is_refused(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tessera", "serve", "--lifecycle-at", "25:00",
                           "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "expected HH:MM" in done.stderr
