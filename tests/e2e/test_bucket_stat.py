"""GetBucketStat through oss2 and alibabacloud-oss-v2 after every kind of change, exact at once,
and still exact after 8 concurrent writers."""

from __future__ import annotations

import concurrent.futures
import os
import re

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import PartInfo

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

KB64 = 64 * 1024
PART = 100 * 1024


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def stat(server: TesseraServer, bucket: oss2.Bucket) -> dict[str, int]:
    """Every element of the raw BucketStat document (both SDKs model only some)."""
    body = raw.request(server, "GET", bucket.bucket_name, query={"stat": ""}).body.decode()
    return {name: int(value) for name, value in re.findall(r"<(\w+)>(\d+)</\1>", body)}


def test_every_kind_of_change(server: TesseraServer, clients: Clients, bucket: oss2.Bucket) -> None:
    empty = bucket.get_bucket_stat()
    assert (empty.storage_size_in_bytes, empty.object_count, empty.multi_part_upload_count) == (0, 0, 0)

    bucket.put_object("std", b"x" * 1000)
    bucket.put_object("ia", b"y" * 1024, headers={"x-oss-storage-class": "IA"})  # billed as 64 KB
    s = stat(server, bucket)
    assert (s["Storage"], s["ObjectCount"], s["StandardStorage"], s["StandardObjectCount"]) == (2024, 2, 1000, 1)
    assert (s["InfrequentAccessStorage"], s["InfrequentAccessRealStorage"]) == (KB64, 1024)

    upload_id = bucket.init_multipart_upload("mp", headers={"x-oss-storage-class": "Archive"}).upload_id
    bucket.upload_part("mp", upload_id, 1, b"a" * PART)
    bucket.upload_part("mp", upload_id, 2, b"b" * 10)
    bucket.upload_part("mp", upload_id, 2, b"c" * 20)  # replaces part 2
    s = stat(server, bucket)
    assert (s["MultipartUploadCount"], s["MultipartPartCount"], s["MultipartPartStorage"]) == (1, 2, PART + 20)
    assert (s["ArchiveMultipartPartCount"], s["ArchiveMultipartPartStorage"]) == (2, PART + 20)
    assert s["Storage"] == 2024 + PART + 20  # parts take space until completed or aborted

    etag = bucket.upload_part("mp", upload_id, 1, b"d" * PART).etag
    bucket.complete_multipart_upload("mp", upload_id, [PartInfo(1, etag)])  # part 2 left out: freed
    s = stat(server, bucket)
    assert (s["MultipartUploadCount"], s["MultipartPartCount"], s["MultipartPartStorage"]) == (0, 0, 0)
    assert (s["ArchiveObjectCount"], s["ArchiveRealStorage"], s["ArchiveStorage"]) == (1, PART, PART)
    assert (s["ObjectCount"], s["Storage"]) == (3, 2024 + PART)

    aborted = bucket.init_multipart_upload("gone").upload_id
    bucket.upload_part("gone", aborted, 1, b"z" * 5)
    bucket.abort_multipart_upload("gone", aborted)
    bucket.put_object("std", b"x" * 10)  # overwrite
    bucket.copy_object(bucket.bucket_name, "std", "std-copy", headers={"x-oss-storage-class": "ColdArchive",
                                                                         "x-oss-metadata-directive": "REPLACE"})
    bucket.delete_object("ia")
    s = stat(server, bucket)
    assert (s["MultipartUploadCount"], s["MultipartPartCount"]) == (0, 0)
    assert (s["StandardStorage"], s["InfrequentAccessObjectCount"], s["InfrequentAccessStorage"]) == (10, 0, 0)
    assert (s["ColdArchiveObjectCount"], s["ColdArchiveStorage"], s["ColdArchiveRealStorage"]) == (1, KB64, 10)
    assert (s["ObjectCount"], s["Storage"]) == (3, 10 + 10 + PART)

    v2 = clients.v2().get_bucket_stat(oss.GetBucketStatRequest(bucket=bucket.bucket_name))
    assert (v2.storage, v2.object_count, v2.multi_part_upload_count) == (10 + 10 + PART, 3, 0)
    assert (v2.cold_archive_storage, v2.cold_archive_real_storage, v2.archive_object_count) == (KB64, 10, 1)
    oss2_stat = bucket.get_bucket_stat()
    assert (oss2_stat.multipart_part_count, oss2_stat.standard_object_count) == (0, 1)

    bucket.batch_delete_objects(["std", "std-copy", "mp"])
    s = stat(server, bucket)
    assert all(value == 0 for name, value in s.items() if name != "LastModifiedTime"), s


def test_exact_under_concurrent_writers(server: TesseraServer, clients: Clients, bucket: oss2.Bucket) -> None:
    def writer(n: int) -> None:
        own = clients.oss2_bucket(bucket.bucket_name)
        for i in range(6):
            own.put_object(f"w{n}/same", os.urandom(100 + i))  # overwrites
            own.put_object(f"w{n}/k{i}", os.urandom(50))
        upload_id = own.init_multipart_upload(f"w{n}/mp").upload_id
        for number in (1, 2, 1):
            own.upload_part(f"w{n}/mp", upload_id, number, os.urandom(30 + number))
        own.delete_object(f"w{n}/k0")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))
    s = stat(server, bucket)
    listed = list(oss2.ObjectIterator(bucket))
    assert (s["ObjectCount"], s["StandardStorage"]) == (len(listed), sum(o.size for o in listed))
    assert (s["MultipartUploadCount"], s["MultipartPartCount"], s["MultipartPartStorage"]) == (8, 16, 8 * (31 + 32))


def test_lifecycle_actions_are_counted(server: TesseraServer, bucket: oss2.Bucket) -> None:
    from oss2.models import AbortMultipartUpload, BucketLifecycle, LifecycleRule, StorageTransition

    bucket.put_bucket_lifecycle(BucketLifecycle([
        LifecycleRule("parts", "tmp/", status=LifecycleRule.ENABLED,
                      abort_multipart_upload=AbortMultipartUpload(days=1)),
        LifecycleRule("cold", "data/", status=LifecycleRule.ENABLED,
                      storage_transitions=[StorageTransition(days=1, storage_class="IA")]),
    ]))
    upload_id = bucket.init_multipart_upload("tmp/x").upload_id
    bucket.upload_part("tmp/x", upload_id, 1, b"p" * 7)
    bucket.put_object("data/small", b"s" * 5)
    done = server.admin("lifecycle", "run", "--bucket", bucket.bucket_name, "--now", "2099-01-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    s = stat(server, bucket)
    assert (s["MultipartUploadCount"], s["MultipartPartCount"], s["MultipartPartStorage"]) == (0, 0, 0)
    assert (s["StandardObjectCount"], s["InfrequentAccessObjectCount"]) == (0, 1)
    assert (s["InfrequentAccessStorage"], s["InfrequentAccessRealStorage"], s["Storage"]) == (KB64, 5, 5)


def test_usage_report_from_the_ledger(server: TesseraServer, bucket: oss2.Bucket) -> None:
    import csv
    import io
    import json
    import time
    from datetime import datetime, timezone

    started = datetime.fromtimestamp(time.time() - 1, tz=timezone.utc).isoformat()
    bucket.put_object("kept", b"k" * 4096)
    upload_id = bucket.init_multipart_upload("pending").upload_id
    bucket.upload_part("pending", upload_id, 1, b"p" * 2048)
    time.sleep(1)
    ended = datetime.now(timezone.utc).isoformat()
    done = server.admin("usage", "report", "--bucket", bucket.bucket_name, "--from", started, "--to", ended,
                        "--format", "json")
    assert done.returncode == 0, done.stderr
    lines = {(x["kind"], x["storage_class"]): x for x in json.loads(done.stdout)["lines"]}
    assert set(lines) == {("object", "Standard"), ("part", "Standard")}  # parts on a line of their own
    seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
    assert 0 < lines[("object", "Standard")]["real_gb_hours"] <= 4096 * seconds / 3600 / 1024**3
    table = server.admin("usage", "report", "--bucket", bucket.bucket_name, "--from", started, "--to", ended)
    assert "kind 'part' = parts of incomplete uploads" in table.stdout and bucket.bucket_name in table.stdout
    rows = list(csv.DictReader(io.StringIO(server.admin("usage", "report", "--from", started, "--to", ended,
                                                        "--format", "csv").stdout)))
    assert {r["kind"] for r in rows if r["bucket"] == bucket.bucket_name} == {"object", "part"}
    bad = server.admin("usage", "report", "--from", ended, "--to", started)
    assert bad.returncode == 2


def test_usage_costs_at_the_operators_prices(server: TesseraServer, bucket: oss2.Bucket, tmp_path) -> None:
    import json
    import time
    from datetime import datetime, timezone

    started = datetime.fromtimestamp(time.time() - 1, tz=timezone.utc).isoformat()
    bucket.put_object("cold", b"c" * 100, headers={"x-oss-storage-class": "IA"})
    upload_id = bucket.init_multipart_upload("leak").upload_id
    bucket.upload_part("leak", upload_id, 1, b"p" * 3000)
    bucket.put_object("brief", b"b" * 10, headers={"x-oss-storage-class": "Archive"})
    bucket.delete_object("brief")  # 60 days of Archive storage, nearly all charged on deletion
    time.sleep(1)
    ended = datetime.now(timezone.utc).isoformat()
    prices = tmp_path / "prices.toml"
    prices.write_text('currency = "EUR"\n[storage]\nStandard = 2.0\nIA = 1.5\nArchive = 1\n'
                      'ColdArchive = 0.5\nDeepColdArchive = 0.25\n')
    done = server.admin("usage", "report", "--bucket", bucket.bucket_name, "--from", started, "--to", ended,
                        "--format", "json", "--prices", str(prices))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["currency"] == "EUR" and report["prices_per_gb_month"]["IA"] == 1.5
    month_hours = 30 * 24
    for line in report["lines"]:
        price = report["prices_per_gb_month"][line["storage_class"]]
        assert line["cost"] == pytest.approx(line["billed_gb_hours"] / month_hours * price)
    assert report["total_cost"] == pytest.approx(sum(x["cost"] for x in report["lines"])) and report["total_cost"] > 0
    [share] = report["uploads"]
    assert (share["upload_id"], share["key"], share["initiator"]) == (upload_id, "leak", server.access_key_id)
    part_line = next(x for x in report["lines"] if x["kind"] == "part")
    early = next(x for x in report["lines"] if x["kind"] == "early-deletion")
    assert early["storage_class"] == "Archive" and early["billed_gb_hours"] == pytest.approx(
        65536 / 1024**3 * 60 * 24, rel=0.001)
    [charge] = report["early_deletions"]
    assert (charge["key"], charge["bytes"], charge["billed_bytes"]) == ("brief", 10, 65536)
    assert charge["charged_days"] == pytest.approx(60, abs=0.01) and charge["cost"] == pytest.approx(early["cost"])
    # The only upload holds all the window's part storage (its part is stamped when received,
    # the ledger at commit: milliseconds apart, or a few hundred on a loaded machine).
    assert share["billed_gb_hours"] == pytest.approx(part_line["billed_gb_hours"], abs=3000 / 1024**3 * 0.3 / 3600)
    uploads = json.loads(server.admin("usage", "uploads", "--bucket", bucket.bucket_name, "--json",
                                      "--prices", str(prices)).stdout)
    assert uploads["uploads"][0]["monthly_cost"] == pytest.approx(3000 / 1024**3 * 2.0)
    assert uploads["ages"][0]["bands"][0]["monthly_cost"] == pytest.approx(3000 / 1024**3 * 2.0)
    assert "EUR/month" in server.admin("usage", "uploads", "--bucket", bucket.bucket_name, "--prices",
                                       str(prices)).stdout

    prices.write_text('currency = "EUR"\n[storage]\nStandard = 2.0\n')
    refused = server.admin("usage", "report", "--from", started, "--to", ended, "--prices", str(prices))
    assert refused.returncode == 2 and "no price for IA, Archive, ColdArchive, DeepColdArchive" in refused.stderr


def test_incomplete_uploads_report(server: TesseraServer, bucket: oss2.Bucket) -> None:
    import json

    upload_id = bucket.init_multipart_upload("leaking").upload_id
    bucket.upload_part("leaking", upload_id, 1, b"l" * 3000)
    done = server.admin("usage", "uploads", "--bucket", bucket.bucket_name, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(u["upload_id"], u["key"], u["initiator"], u["parts"], u["bytes"]) for u in report["uploads"]] == [
        (upload_id, "leaking", server.access_key_id, 1, 3000)]
    assert report["ages"][0]["bands"][0] == {"label": "< 1 day", "uploads": 1, "parts": 1, "bytes": 3000,
                                             "monthly_cost": pytest.approx(3000 / 1024**3 * 0.12)}
    assert report["currency"] == "CNY"  # the built-in OSS list prices
    text = server.admin("usage", "uploads", "--bucket", bucket.bucket_name).stdout
    assert "incomplete uploads by age" in text and upload_id in text
