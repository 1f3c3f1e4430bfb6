"""Running lifecycle rules with ``tessera admin lifecycle run --now …`` against a live server:
rules set through the SDKs, time moved forward by --now, results checked through the SDKs."""

from __future__ import annotations

import datetime
import email.utils
import json
import os
import time
from typing import Any

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import (
    AbortMultipartUpload,
    BucketLifecycle,
    FilterNot,
    FilterNotTag,
    LifecycleExpiration,
    LifecycleFilter,
    LifecycleRule,
    StorageTransition,
    Tagging,
    TaggingRule,
)

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

DAY = 86_400
PART = 100 * 1024


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def instant(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).isoformat()


def run(server: TesseraServer, bucket: str, at: float, *extra: str) -> dict[str, Any]:
    done = server.admin("lifecycle", "run", "--bucket", bucket, "--now", instant(at), "--json", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def outcome(report: dict[str, Any], rule: str, action: str) -> dict[str, Any]:
    return next(o for o in report["outcomes"] if o["rule_id"] == rule and o["action"] == action)


def rules(*items: LifecycleRule) -> BucketLifecycle:
    return BucketLifecycle(list(items))


def upload_ids(bucket: oss2.Bucket) -> dict[str, str]:
    return {u.key: u.upload_id for u in oss2.MultipartUploadIterator(bucket)}


def test_abort_by_days_counts_from_the_last_update(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(rules(LifecycleRule("parts", "tmp/", status=LifecycleRule.ENABLED,
                                                    abort_multipart_upload=AbortMultipartUpload(days=3))))
    started = time.time()
    busy = bucket.init_multipart_upload("tmp/busy").upload_id
    idle = bucket.init_multipart_upload("tmp/idle").upload_id
    kept = bucket.init_multipart_upload("keep/other").upload_id
    time.sleep(3)
    bucket.upload_part("tmp/busy", busy, 1, os.urandom(PART))
    bucket.upload_part("tmp/busy", busy, 2, os.urandom(10))
    bucket.upload_part("keep/other", kept, 1, b"x")

    assert outcome(run(server, bucket.bucket_name, started + 2 * DAY), "parts", "AbortMultipartUpload")["matched"] == 0
    # Three days after initiation, but not after busy's latest part: only idle goes.
    at = started + 3 * DAY + 1.5
    report = run(server, bucket.bucket_name, at)
    aborted = outcome(report, "parts", "AbortMultipartUpload")
    [named] = aborted.pop("items")
    assert aborted == {"bucket": bucket.bucket_name, "rule_id": "parts", "action": "AbortMultipartUpload",
                       "matched": 1, "parts": 0, "bytes": 0, "truncated": False}
    assert (named["key"], named["upload_id"], named["parts"], named["bytes"]) == ("tmp/idle", idle, 0, 0)
    assert abs(named["age_ms"] - (at - started) * 1000) < 2000  # since initiation: it has no part
    assert set(upload_ids(bucket)) == {"tmp/busy", "keep/other"}
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts("tmp/idle", idle)

    before = raw.blob_files(server.data_dir)
    preview = run(server, bucket.bucket_name, started + 4 * DAY, "--dry-run")
    assert preview["dry_run"] is True
    previewed = outcome(preview, "parts", "AbortMultipartUpload")
    assert (previewed["matched"], previewed["parts"], previewed["bytes"]) == (1, 2, PART + 10)
    assert set(upload_ids(bucket)) == {"tmp/busy", "keep/other"}  # a dry run changes nothing
    assert raw.blob_files(server.data_dir) == before

    done = outcome(run(server, bucket.bucket_name, started + 4 * DAY), "parts", "AbortMultipartUpload")
    assert (done["matched"], done["parts"], done["bytes"]) == (1, 2, PART + 10)
    assert set(upload_ids(bucket)) == {"keep/other"}
    assert len(raw.blob_files(server.data_dir)) == len(before) - 2  # the parts' bytes are gone
    again = outcome(run(server, bucket.bucket_name, started + 4 * DAY), "parts", "AbortMultipartUpload")
    assert again["matched"] == 0  # idempotent


def test_abort_by_created_before_date(clients: Clients, server: TesseraServer, bucket: oss2.Bucket) -> None:
    today = datetime.datetime.now(datetime.timezone.utc).date()
    client = clients.v2()
    client.put_bucket_lifecycle(oss.PutBucketLifecycleRequest(
        bucket=bucket.bucket_name,
        lifecycle_configuration=oss.LifecycleConfiguration(rules=[
            oss.LifecycleRule(id="before-today", prefix="a/", status="Enabled",
                              abort_multipart_upload=oss.LifecycleRuleAbortMultipartUpload(
                                  created_before_date=datetime.datetime.combine(
                                      today, datetime.time(), datetime.timezone.utc))),
            oss.LifecycleRule(id="before-tomorrow", prefix="b/", status="Enabled",
                              abort_multipart_upload=oss.LifecycleRuleAbortMultipartUpload(
                                  created_before_date=datetime.datetime.combine(
                                      today + datetime.timedelta(days=1), datetime.time(), datetime.timezone.utc))),
        ])))
    bucket.init_multipart_upload("a/today")
    bucket.init_multipart_upload("b/today")
    report = run(server, bucket.bucket_name, time.time())
    assert outcome(report, "before-today", "AbortMultipartUpload")["matched"] == 0
    assert outcome(report, "before-tomorrow", "AbortMultipartUpload")["matched"] == 1
    assert set(upload_ids(bucket)) == {"a/today"}


def test_expiration_with_prefix_not_and_size_filters(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(rules(LifecycleRule(
        "logs", "logs/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1),
        filter=LifecycleFilter([FilterNot("logs/keep/")], object_size_less_than=1000))))
    started = time.time()
    for key, size in [("logs/a", 10), ("logs/b", 999), ("logs/keep/c", 10), ("logs/big", 1000), ("other/d", 10)]:
        bucket.put_object(key, b"x" * size)
    assert outcome(run(server, bucket.bucket_name, started + 0.5 * DAY), "logs", "Expiration")["matched"] == 0
    report = run(server, bucket.bucket_name, started + DAY + 5, "--batch-size", "1")  # page by page
    expired = outcome(report, "logs", "Expiration")
    assert (expired["matched"], expired["bytes"]) == (2, 1009)
    assert sorted(o.key for o in oss2.ObjectIterator(bucket)) == ["logs/big", "logs/keep/c", "other/d"]


def test_expiration_of_multipart_objects_frees_their_parts(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(rules(LifecycleRule("all", "", status=LifecycleRule.ENABLED,
                                                    expiration=LifecycleExpiration(days=7))))
    started = time.time()
    before = raw.blob_files(server.data_dir)
    upload_id = bucket.init_multipart_upload("assembled").upload_id
    parts = [oss2.models.PartInfo(n, bucket.upload_part("assembled", upload_id, n, os.urandom(PART)).etag)
             for n in (1, 2)]
    bucket.complete_multipart_upload("assembled", upload_id, parts)
    assert outcome(run(server, bucket.bucket_name, started + 8 * DAY), "all", "Expiration")["bytes"] == 2 * PART
    assert not bucket.object_exists("assembled")
    assert raw.settle(server.data_dir, before) == set()


def test_disabled_rules_do_nothing(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(rules(
        LifecycleRule("off", "off/", status=LifecycleRule.DISABLED, expiration=LifecycleExpiration(days=1))))
    started = time.time()
    bucket.put_object("off/x", b"x")
    assert run(server, bucket.bucket_name, started + 30 * DAY)["outcomes"] == []
    assert bucket.object_exists("off/x")


def test_tag_filters_and_tagged_exclusions(server: TesseraServer, bucket: oss2.Bucket) -> None:
    tags = TaggingRule()
    tags.add("team", "ops")
    bucket.put_bucket_lifecycle(rules(
        LifecycleRule("tagged", "tag/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1),
                      tagging=Tagging(tags)),
        LifecycleRule("keep-tagged", "n/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1),
                      filter=LifecycleFilter([FilterNot("n/keep/", FilterNotTag("keep", "yes"))])),
    ))
    started = time.time()
    bucket.put_object("tag/ops", b"1", headers={"x-oss-tagging": "team=ops&other=1"})
    bucket.put_object("tag/dev", b"2", headers={"x-oss-tagging": "team=dev"})
    bucket.put_object("tag/none", b"3")
    bucket.put_object("n/keep/tagged", b"4", headers={"x-oss-tagging": "keep=yes"})
    bucket.put_object("n/keep/untagged", b"5")
    bucket.put_object("n/other", b"6", headers={"x-oss-tagging": "keep=yes"})  # outside the Not prefix
    report = run(server, bucket.bucket_name, started + 2 * DAY, "--batch-size", "2")
    assert outcome(report, "tagged", "Expiration")["matched"] == 1
    assert outcome(report, "keep-tagged", "Expiration")["matched"] == 2
    assert sorted(o.key for o in oss2.ObjectIterator(bucket)) == ["n/keep/tagged", "tag/dev", "tag/none"]


def test_transitions_go_colder_with_age(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(rules(LifecycleRule("cool", "cold/", status=LifecycleRule.ENABLED, storage_transitions=[
        StorageTransition(days=1, storage_class=oss2.BUCKET_STORAGE_CLASS_IA),
        StorageTransition(days=5, storage_class=oss2.BUCKET_STORAGE_CLASS_ARCHIVE)])))
    started = time.time()
    bucket.put_object("cold/a", b"a")
    bucket.put_object("cold/b", b"b", headers={"x-oss-storage-class": "ColdArchive"})

    def storage_class(key: str) -> str:
        return bucket.head_object(key).headers["x-oss-storage-class"]

    report = run(server, bucket.bucket_name, started + 2 * DAY)
    assert outcome(report, "cool", "Transition:IA")["matched"] == 1
    assert (storage_class("cold/a"), storage_class("cold/b")) == ("IA", "ColdArchive")  # never warmer
    report = run(server, bucket.bucket_name, started + 6 * DAY)
    assert outcome(report, "cool", "Transition:Archive")["matched"] == 1
    assert storage_class("cold/a") == "Archive"
    # Frozen now, as every Archive object, its bytes kept (restoring and reading them: test_restore.py).
    with pytest.raises(oss2.exceptions.ServerError) as frozen:
        bucket.get_object("cold/a")
    assert (frozen.value.status, frozen.value.code) == (403, "InvalidObjectState")
    assert bucket.head_object("cold/a").content_length == 1


def test_cold_archive_reports_when_a_rule_moved_it(server: TesseraServer, clients: Clients,
                                                   bucket: oss2.Bucket) -> None:
    import alibabacloud_oss_v2 as oss

    bucket.put_bucket_lifecycle(rules(LifecycleRule("freeze", "ice/", status=LifecycleRule.ENABLED,
                                                    storage_transitions=[StorageTransition(
                                                        days=1, storage_class="ColdArchive")])))
    started = time.time()
    bucket.put_object("ice/a", b"a")
    bucket.put_object("warm", b"w")
    moved_at = time.time()
    assert outcome(run(server, bucket.bucket_name, started + 2 * DAY), "freeze", "Transition:ColdArchive")[
        "matched"] == 1
    client = clients.v2()
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket.bucket_name, key="ice/a"))
    assert head.storage_class == "ColdArchive" and head.transition_time is not None
    transitioned = email.utils.parsedate_to_datetime(head.transition_time).timestamp()
    assert moved_at - 1 <= transitioned <= time.time() + 1  # when it happened, not the --now evaluated
    meta = client.get_object_meta(oss.GetObjectMetaRequest(bucket=bucket.bucket_name, key="ice/a"))
    assert meta.transition_time == head.transition_time
    assert client.head_object(oss.HeadObjectRequest(bucket=bucket.bucket_name, key="warm")).transition_time is None


def test_expiration_by_created_before_date(server: TesseraServer, bucket: oss2.Bucket) -> None:
    tomorrow = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)
    bucket.put_bucket_lifecycle(rules(LifecycleRule("dated", "d/", status=LifecycleRule.ENABLED,
                                                    expiration=LifecycleExpiration(created_before_date=tomorrow))))
    bucket.put_object("d/old", b"x")
    assert outcome(run(server, bucket.bucket_name, time.time()), "dated", "Expiration")["matched"] == 1
    assert not bucket.object_exists("d/old")


def test_human_readable_report(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(rules(LifecycleRule("parts", "", status=LifecycleRule.ENABLED,
                                                    abort_multipart_upload=AbortMultipartUpload(days=1))))
    bucket.init_multipart_upload("k")
    done = server.admin("lifecycle", "run", "--bucket", bucket.bucket_name, "--dry-run",
                        "--now", instant(time.time() + 2 * DAY))
    assert done.returncode == 0, done.stderr
    assert "(dry run)" in done.stdout and "would act on 1 upload(s)/object(s)" in done.stdout
    bad = server.admin("lifecycle", "run", "--now", "next tuesday")
    assert bad.returncode != 0 and "ISO 8601" in bad.stderr


def test_a_part_in_flight_when_the_rule_aborts_leaves_nothing(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(rules(LifecycleRule("parts", "", status=LifecycleRule.ENABLED,
                                                    abort_multipart_upload=AbortMultipartUpload(days=1))))
    upload_id = bucket.init_multipart_upload("late").upload_id
    before = raw.blob_files(server.data_dir)
    body = os.urandom(4 * PART)
    sock = raw.start_request(server, "PUT", bucket.bucket_name, "late", declared=len(body),
                             query={"partNumber": "1", "uploadId": upload_id})
    sock.sendall(body[: len(body) // 2])
    time.sleep(0.2)  # the part is being streamed to disk when the rule aborts its upload
    done = outcome(run(server, bucket.bucket_name, time.time() + 2 * DAY), "parts", "AbortMultipartUpload")
    assert done["matched"] == 1
    sock.sendall(body[len(body) // 2 :])
    response = raw.read_response(sock, "PUT")
    assert (response.status, response.code) == (404, "NoSuchUpload")
    assert raw.settle(server.data_dir, before) == set()


def test_dry_run_names_the_uploads_and_objects_it_would_act_on(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(rules(
        LifecycleRule("parts", "tmp/", status=LifecycleRule.ENABLED, abort_multipart_upload=AbortMultipartUpload(days=1)),
        LifecycleRule("logs", "logs/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1))))
    started = time.time()
    stale = {key: bucket.init_multipart_upload(key).upload_id for key in ("tmp/a", "tmp/b", "tmp/c")}
    bucket.upload_part("tmp/b", stale["tmp/b"], 1, b"12345")
    bucket.upload_part("tmp/b", stale["tmp/b"], 2, b"678")
    bucket.put_object("logs/old", b"x" * 7)
    stale_by = time.time()
    fresh = bucket.init_multipart_upload("tmp/fresh").upload_id
    time.sleep(1.5)
    bucket.upload_part("tmp/fresh", fresh, 1, b"new")  # its last update is after the cutoff
    at = stale_by + DAY + 0.5

    report = run(server, bucket.bucket_name, at, "--dry-run", "--limit", "2")
    uploads = outcome(report, "parts", "AbortMultipartUpload")
    assert (uploads["matched"], uploads["parts"], uploads["bytes"], uploads["truncated"]) == (3, 2, 8, True)
    named = {item["key"]: item for item in uploads["items"]}
    assert len(named) == 2 and set(named) < set(stale) and "tmp/fresh" not in named
    for key, item in named.items():
        last_update_ms = at * 1000 - item["age_ms"]
        assert item["upload_id"] == stale[key] and started * 1000 - 2 <= last_update_ms <= stale_by * 1000 + 2
    logs = outcome(report, "logs", "Expiration")
    assert logs["items"] == [{"key": "logs/old", "upload_id": None, "parts": None, "bytes": 7,
                              "age_ms": logs["items"][0]["age_ms"]}] and logs["truncated"] is False
    assert len(upload_ids(bucket)) == 4  # a dry run changes nothing

    text = server.admin("lifecycle", "run", "--bucket", bucket.bucket_name, "--dry-run", "--limit", "2",
                        "--now", instant(at)).stdout
    assert f"bucket {bucket.bucket_name}, rule parts, AbortMultipartUpload: 3 upload(s), 2 part(s), 8 bytes" in text
    first = next(line for line in text.splitlines() if line.endswith(f" {uploads['items'][0]['key']}"))
    assert uploads["items"][0]["upload_id"] in first and "1 d 0 h" in first
    assert "  … and 1 more" in text and "logs/old" in text and "tmp/fresh" not in text
