"""AppendObject through oss2, alibabacloud-oss-v2 (and its append-file helper) and raw requests:
positions, whole-object CRC-64, the Appendable type everywhere, overwrites, ranges across
segments, freed blobs, concurrent appends, bad input, the segment bound and usage counters."""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import os
import random
import threading
import time
from collections import Counter

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import BucketLifecycle, LifecycleExpiration, LifecycleRule

from tessera.blobs.checksums import crc64
from tests.support import raw
from tests.support.checks import assert_bucket_stat, assert_consistent
from tests.support.clients import Clients, multipart_object
from tests.support.server import TesseraServer


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def append_all(bucket: oss2.Bucket, key: str, pieces: list[bytes]) -> bytes:
    position = 0
    for piece in pieces:
        result = bucket.append_object(key, position, piece)
        position = result.next_position
    return b"".join(pieces)


def raw_append(server: TesseraServer, bucket: str, key: str, position: str, body: bytes,
               headers: dict[str, str] | None = None) -> raw.RawResponse:
    return raw.request(server, "POST", bucket, key, query={"append": "", "position": position}, body=body,
                       headers=headers)


def test_oss2_creates_appends_and_reports_next_position_and_whole_crc(bucket: oss2.Bucket) -> None:
    first = bucket.append_object("log.txt", 0, b"hello", headers={"Content-Type": "text/plain",
                                                                   "x-oss-meta-origin": "first",
                                                                   "x-oss-tagging": "stage=raw"})
    assert (first.next_position, first.crc) == (5, crc64(b"hello"))
    # init_crc makes oss2 check the answer's CRC against its own running CRC of the object.
    second = bucket.append_object("log.txt", 5, b" world", init_crc=first.crc,
                                  headers={"Content-Type": "image/png", "x-oss-meta-origin": "second",
                                           "x-oss-tagging": "stage=cooked"})
    assert (second.next_position, second.crc) == (11, crc64(b"hello world"))
    head = bucket.head_object("log.txt")
    assert head.object_type == "Appendable"
    assert head.headers["x-oss-next-append-position"] == "11"
    assert head.content_length == 11 and head.server_crc == crc64(b"hello world")
    # Attributes come from the first append only.
    assert head.content_type == "text/plain" and head.headers["x-oss-meta-origin"] == "first"
    assert bucket.get_object_tagging("log.txt").tag_set.tagging_rule == {"stage": "raw"}
    # The ETag is OSS's for appendable objects (32 hex digits, the CRC first), the same on HEAD.
    assert head.etag == second.etag and len(head.etag) == 32
    assert head.etag[:16] == crc64(b"hello world").to_bytes(8, "little").hex().upper()
    assert head.etag.endswith("00000000") and second.etag != first.etag
    got = bucket.get_object("log.txt")
    assert got.read() == b"hello world" and got.server_crc == crc64(b"hello world")


def test_v2_append_object_and_append_file_helper(clients: Clients, bucket_name: str) -> None:
    client = clients.v2()
    first = client.append_object(oss.AppendObjectRequest(bucket=bucket_name, key="v2", position=0, body=b"abc"))
    assert (first.next_position, first.hash_crc64) == (3, str(crc64(b"abc")))
    second = client.append_object(oss.AppendObjectRequest(bucket=bucket_name, key="v2", position=3,
                                                          body=b"defg", init_hash_crc64=first.hash_crc64))
    assert (second.next_position, second.hash_crc64) == (7, str(crc64(b"abcdefg")))

    pieces = [os.urandom(n) for n in (1, 1000, 70_000, 3)]
    with client.append_file(bucket_name, "helper.bin", create_parameter=oss.AppendObjectRequest(
            content_type="application/x-test", metadata={"made-by": "helper"})) as appender:
        for piece in pieces:
            assert appender.write(piece) == len(piece)
    # Reopening continues at the end (the helper asks HEAD for the length and the CRC).
    with client.append_file(bucket_name, "helper.bin") as appender:
        assert appender.tell() == sum(map(len, pieces))
        appender.write(b"tail")
    whole = b"".join(pieces) + b"tail"
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket_name, key="helper.bin"))
    assert (head.object_type, head.content_length, head.hash_crc64) == ("Appendable", len(whole), str(crc64(whole)))
    assert head.content_type == "application/x-test" and head.metadata == {"made-by": "helper"}
    got = client.get_object(oss.GetObjectRequest(bucket=bucket_name, key="helper.bin"))
    assert got.body.read() == whole


def test_wrong_position_is_refused_with_the_next_position(clients: Clients, bucket: oss2.Bucket) -> None:
    append_all(bucket, "k", [b"12345"])
    for position in (0, 4, 6):
        with pytest.raises(oss2.exceptions.PositionNotEqualToLength) as refused:
            bucket.append_object("k", position, b"x")
        assert (refused.value.status, refused.value.next_position) == (409, 5)
    with pytest.raises(oss2.exceptions.PositionNotEqualToLength) as missing:
        bucket.append_object("absent", 3, b"x")
    assert missing.value.next_position == 0
    assert not bucket.object_exists("absent")
    with pytest.raises(oss.exceptions.OperationError) as v2_refused:
        clients.v2().append_object(oss.AppendObjectRequest(bucket=bucket.bucket_name, key="k", position=1, body=b"x"))
    error = v2_refused.value.unwrap()
    assert (error.status_code, error.code) == (409, "PositionNotEqualToLength")
    assert error.headers["x-oss-next-append-position"] == "5"
    assert bucket.get_object("k").read() == b"12345"


def test_normal_and_multipart_objects_are_not_appendable(bucket: oss2.Bucket) -> None:
    bucket.put_object("normal", b"data")
    multipart_object(bucket, "multi", parts=1, part_size=10)
    for key, size in (("normal", 4), ("multi", 10)):
        for position in (0, size):
            with pytest.raises(oss2.exceptions.ObjectNotAppendable) as refused:
                bucket.append_object(key, position, b"more")
            assert refused.value.status == 409
    assert bucket.get_object("normal").read() == b"data"


def test_empty_first_append_creates_an_empty_appendable_object(bucket: oss2.Bucket) -> None:
    assert bucket.append_object("empty", 0, b"").next_position == 0
    assert bucket.head_object("empty").object_type == "Appendable"
    assert bucket.append_object("empty", 0, b"now").next_position == 3
    assert bucket.get_object("empty").read() == b"now"


def test_put_copy_and_complete_replace_an_appendable_object(server: TesseraServer, bucket: oss2.Bucket) -> None:
    for key in ("put", "copy", "complete"):
        append_all(bucket, key, [b"a" * 10, b"b" * 20, b"c" * 5])
    bucket.put_object("put", b"normal now")
    bucket.put_object("source", b"copied")
    bucket.copy_object(bucket.bucket_name, "source", "copy")
    upload_id = bucket.init_multipart_upload("complete").upload_id
    part = bucket.upload_part("complete", upload_id, 1, b"multipart")
    bucket.complete_multipart_upload("complete", upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert [bucket.head_object(k).object_type for k in ("put", "copy", "complete")] == ["Normal", "Normal",
                                                                                         "Multipart"]
    assert bucket.get_object("copy").read() == b"copied"
    with pytest.raises(oss2.exceptions.ObjectNotAppendable):
        bucket.append_object("put", 10, b"x")
    assert_consistent(server)
    assert_bucket_stat(server, bucket.bucket_name, Counter(objects=4, object_bytes=10 + 6 + 6 + 9))


def test_listings_show_the_appendable_type(clients: Clients, bucket: oss2.Bucket) -> None:
    append_all(bucket, "a/appended", [b"x", b"yz"])
    bucket.put_object("a/normal", b"n")
    listed = {o.key: (o.type, o.size) for o in oss2.ObjectIterator(bucket)}
    assert listed == {"a/appended": ("Appendable", 3), "a/normal": ("Normal", 1)}
    listed_v2 = {o.key: o.type for o in oss2.ObjectIteratorV2(bucket)}
    assert listed_v2 == {"a/appended": "Appendable", "a/normal": "Normal"}
    page = clients.v2().list_objects_v2(oss.ListObjectsV2Request(bucket=bucket.bucket_name, prefix="a/"))
    assert {o.key: o.object_type for o in page.contents} == listed_v2


def test_ranges_are_read_across_segments(bucket: oss2.Bucket) -> None:
    rng = random.Random(7)
    pieces = [rng.randbytes(rng.randint(1, 5000)) for _ in range(40)]
    whole = append_all(bucket, "ranged", pieces)
    assert bucket.get_object("ranged").read() == whole
    for _ in range(30):
        start = rng.randrange(len(whole))
        end = rng.randrange(start, len(whole))
        got = bucket.get_object("ranged", byte_range=(start, end))
        assert got.status == 206 and got.read() == whole[start:end + 1]
    assert bucket.get_object("ranged", byte_range=(None, 100)).read() == whole[-100:]


def _new_blob_files(server: TesseraServer, before: set[str]) -> set[str]:
    return {f for f in raw.blob_files(server.data_dir) - before if f.startswith("blobs")}


def test_many_small_appends_keep_the_segment_count_logarithmic(server: TesseraServer, bucket: oss2.Bucket) -> None:
    before = raw.blob_files(server.data_dir)
    rng = random.Random(11)
    whole = b""
    crc = 0
    for _ in range(300):
        piece = rng.randbytes(rng.randint(1, 3000))
        result = bucket.append_object("many", len(whole), piece, init_crc=crc)
        whole += piece
        crc = result.crc
        assert result.next_position == len(whole)
    assert crc == crc64(whole)
    assert bucket.get_object("many").read() == whole
    assert_consistent(server)  # releases what merges freed, and checks nothing leaked
    bound = math.floor(math.log2(len(whole))) + 1
    segments = _new_blob_files(server, before)
    assert 1 <= len(segments) <= bound
    assert_bucket_stat(server, bucket.bucket_name, Counter(objects=1, object_bytes=len(whole)))


def test_delete_and_lifecycle_expiration_free_every_segment(server: TesseraServer, bucket: oss2.Bucket) -> None:
    before = raw.blob_files(server.data_dir)
    for key in ("one", "two", "three", "old/expiring"):
        append_all(bucket, key, [os.urandom(100), os.urandom(10), os.urandom(1)])
    assert _new_blob_files(server, before)
    bucket.delete_object("one")
    bucket.batch_delete_objects(["two", "three"])
    bucket.put_bucket_lifecycle(BucketLifecycle([
        LifecycleRule("expire", "old/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1))]))
    done = server.admin("lifecycle", "run", "--bucket", bucket.bucket_name, "--now", "2099-01-01T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert not bucket.object_exists("old/expiring")
    assert_consistent(server)
    assert not _new_blob_files(server, before)
    assert_bucket_stat(server, bucket.bucket_name, Counter())


def test_concurrent_appends_at_one_position_have_one_winner(server: TesseraServer, clients: Clients,
                                                            bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    for position in (0, 4):  # creating the object, then growing it
        bodies = [f"{n:04d}".encode() * (50_000 if n % 2 else 1) for n in range(8)]
        outcomes: list[object] = [None] * len(bodies)
        start = threading.Barrier(len(bodies))

        def append(n: int) -> None:
            client = clients.oss2_bucket(bucket_name)
            start.wait()
            try:
                outcomes[n] = client.append_object("race", position, bodies[n])
            except oss2.exceptions.PositionNotEqualToLength as refused:
                outcomes[n] = refused

        threads = [threading.Thread(target=append, args=(n,)) for n in range(len(bodies))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [n for n, o in enumerate(outcomes) if not isinstance(o, oss2.exceptions.PositionNotEqualToLength)]
        assert len(winners) == 1, outcomes
        content = bucket.get_object("race").read()
        assert content[position:] == bodies[winners[0]]
        if position == 0:
            bucket.delete_object("race")
            bucket.append_object("race", 0, b"base")
    assert_consistent(server)


@pytest.mark.parametrize("position", ["abc", "-1", "1.5", "", "\u0663", "0x10", "9" * 30])
def test_bad_positions_are_invalid_arguments(server: TesseraServer, bucket: oss2.Bucket, position: str) -> None:
    before = raw.blob_files(server.data_dir)
    answer = raw_append(server, bucket.bucket_name, "bad", position, b"data")
    assert (answer.status, answer.code) == (400, "InvalidArgument"), answer.body
    assert not bucket.object_exists("bad")
    assert not raw.settle(server.data_dir, before)


def test_append_without_position_is_an_invalid_argument(server: TesseraServer, bucket: oss2.Bucket) -> None:
    answer = raw.request(server, "POST", bucket.bucket_name, "k", query={"append": ""}, body=b"x")
    assert (answer.status, answer.code) == (400, "InvalidArgument")


def test_bodies_past_5_gb_are_refused_before_they_are_read(server: TesseraServer, bucket: oss2.Bucket) -> None:
    before = raw.blob_files(server.data_dir)
    answer = raw.declare_only(server, "POST", bucket.bucket_name, "huge", declared=5 * 1024**3 + 1,
                              query={"append": "", "position": "0"})
    assert (answer.status, answer.code) == (400, "EntityTooLarge")
    append_all(bucket, "huge", [b"12345"])
    # 5 bytes stored: 5 GB minus 4 more is the most an append may still add.
    answer = raw.declare_only(server, "POST", bucket.bucket_name, "huge", declared=5 * 1024**3 - 4,
                              query={"append": "", "position": "5"})
    assert (answer.status, answer.code) == (400, "EntityTooLarge")
    assert bucket.get_object("huge").read() == b"12345"
    bucket.delete_object("huge")
    assert not raw.settle(server.data_dir, before)


def test_content_md5_and_whole_crc_are_checked(server: TesseraServer, bucket: oss2.Bucket) -> None:
    append_all(bucket, "checked", [b"first"])
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    answer = raw_append(server, bucket.bucket_name, "checked", "5", b"second", headers={"Content-MD5": wrong_md5})
    assert (answer.status, answer.code) == (400, "InvalidDigest")
    answer = raw_append(server, bucket.bucket_name, "checked", "5", b"second",
                        headers={"x-oss-hash-crc64ecma": str(crc64(b"second"))})  # the body's, not the object's
    assert (answer.status, answer.code) == (400, "InvalidDigest")
    answer = raw_append(server, bucket.bucket_name, "checked", "5", b"second",
                        headers={"x-oss-hash-crc64ecma": "not-a-number"})
    assert (answer.status, answer.code) == (400, "InvalidArgument")
    assert bucket.get_object("checked").read() == b"first"
    right_md5 = base64.b64encode(hashlib.md5(b"second").digest()).decode()
    answer = raw_append(server, bucket.bucket_name, "checked", "5", b"second",
                        headers={"Content-MD5": right_md5, "x-oss-hash-crc64ecma": str(crc64(b"firstsecond"))})
    assert answer.status == 200, answer.body
    assert answer.headers["x-oss-hash-crc64ecma"] == str(crc64(b"firstsecond"))
    assert bucket.get_object("checked").read() == b"firstsecond"
    assert_consistent(server)


def test_missing_bucket_and_bad_key(server: TesseraServer, bucket: oss2.Bucket) -> None:
    answer = raw_append(server, "no-such-bucket-here", "k", "0", b"x")
    assert (answer.status, answer.code) == (404, "NoSuchBucket")
    answer = raw_append(server, bucket.bucket_name, "k", "0", b"x", headers={"x-oss-storage-class": "Hot"})
    assert (answer.status, answer.code) == (400, "InvalidArgument")
    assert not bucket.object_exists("k")


def test_usage_counts_appended_bytes(server: TesseraServer, bucket: oss2.Bucket) -> None:
    append_all(bucket, "a", [b"x" * 100, b"y" * 23])
    append_all(bucket, "b", [b"z" * 7])
    assert_bucket_stat(server, bucket.bucket_name, Counter(objects=2, object_bytes=130))
    bucket.put_object("a", b"short")
    assert_bucket_stat(server, bucket.bucket_name, Counter(objects=2, object_bytes=12))
    bucket.delete_object("b")
    assert_bucket_stat(server, bucket.bucket_name, Counter(objects=1, object_bytes=5))


def test_kill_during_appends_leaves_the_old_object_or_the_new_one(crash_server: TesseraServer) -> None:
    bucket = Clients(crash_server).oss2_bucket("crash-append")
    bucket.create_bucket()
    bucket.append_object("k", 0, b"start")

    def slow_append() -> None:
        try:
            raw.send_truncated(crash_server, "POST", "crash-append", "k", declared=50_000_000, sent=b"b" * 5_000_000,
                               query={"append": "", "position": "5"})
        except OSError:
            pass

    sender = threading.Thread(target=slow_append)
    sender.start()
    time.sleep(0.1)
    crash_server.kill()
    sender.join()
    crash_server.restart()
    assert bucket.get_object("k").read() == b"start"
    assert_consistent(crash_server)

    # Appends that merge segments as they go, killed at several moments: what is there after
    # the restart is the first n pieces, n at least the number acknowledged.
    rng = random.Random(3)
    for delay in (0.05, 0.2, 0.5):
        pieces = [rng.randbytes(rng.randint(1, 200_000)) for _ in range(200)]
        acknowledged: list[int] = []
        bucket.delete_object("k")

        def appender() -> None:
            position = 0
            try:
                for n, piece in enumerate(pieces):
                    position = bucket.append_object("k", position, piece).next_position
                    acknowledged.append(n)
            except Exception:
                pass

        writer = threading.Thread(target=appender)
        writer.start()
        time.sleep(delay)
        crash_server.kill()
        writer.join()
        crash_server.restart()
        content = bucket.get_object("k").read() if bucket.object_exists("k") else b""
        ends = [0, *itertools.accumulate(len(p) for p in pieces)]
        assert len(content) in ends  # whole pieces only
        count = ends.index(len(content))
        assert content == b"".join(pieces[:count])
        assert count >= len(acknowledged)
        if content:
            assert bucket.head_object("k").server_crc == crc64(content)
        assert_consistent(crash_server)


def test_usage_report_and_ia_minimum_follow_appends(server: TesseraServer, bucket: oss2.Bucket) -> None:
    import json
    from datetime import datetime, timezone
    from xml.etree import ElementTree

    append_all(bucket, "grown", [b"g" * 1000, b"h" * 500])
    bucket.append_object("cold", 0, b"c" * 10, headers={"x-oss-storage-class": "IA"})
    bucket.append_object("cold", 10, b"d" * 20)
    stat = {e.tag: int(e.text or 0) for e in ElementTree.fromstring(
        raw.request(server, "GET", bucket.bucket_name, query={"stat": ""}).body) if (e.text or "").isdigit()}
    assert (stat["InfrequentAccessObjectCount"], stat["InfrequentAccessStorage"],
            stat["InfrequentAccessRealStorage"]) == (1, 64 * 1024, 30)
    assert stat["StandardStorage"] == 1500 and stat["Storage"] == 1530

    def instant() -> datetime:
        now = datetime.now(timezone.utc)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    time.sleep(0.05)
    start = instant()
    time.sleep(1)
    end = instant()
    done = server.admin("usage", "report", "--bucket", bucket.bucket_name, "--from", start.isoformat(),
                        "--to", end.isoformat(), "--format", "json")
    assert done.returncode == 0, done.stderr
    lines = {(x["kind"], x["storage_class"]): x for x in json.loads(done.stdout)["lines"]}
    hours = (end - start).total_seconds() / 3600
    assert lines[("object", "Standard")]["real_gb_hours"] == pytest.approx(1500 * hours / 1024**3, rel=1e-6)
    assert lines[("object", "IA")]["real_gb_hours"] == pytest.approx(30 * hours / 1024**3, rel=1e-6)
    assert lines[("object", "IA")]["billed_gb_hours"] == pytest.approx(64 * 1024 * hours / 1024**3, rel=1e-6)


def test_appends_race_across_two_workers(two_workers: TesseraServer) -> None:
    """Appenders on separate connections (so on both worker processes) keep trying at the
    length they last learnt: every byte acknowledged is in the object once, in order."""
    clients = Clients(two_workers)
    clients.oss2_bucket("append-race").create_bucket()
    acknowledged: dict[int, list[tuple[int, bytes]]] = {}

    def appender(n: int) -> None:
        bucket = clients.oss2_bucket("append-race")
        mine = acknowledged.setdefault(n, [])
        position = 0
        while len(mine) < 15:
            piece = f"<{n}:{len(mine)}>".encode() * random.randint(1, 3000)
            try:
                position = bucket.append_object("shared", position, piece).next_position
                mine.append((position - len(piece), piece))
            except oss2.exceptions.PositionNotEqualToLength as refused:
                position = refused.next_position

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    content = clients.oss2_bucket("append-race").get_object("shared").read()
    pieces = sorted(piece for mine in acknowledged.values() for piece in mine)
    assert b"".join(piece for _, piece in pieces) == content
    assert all(content[at:at + len(piece)] == piece for at, piece in pieces)
    assert_consistent(two_workers)


def test_appendable_objects_are_read_whole_by_the_sdk_downloaders(clients: Clients, bucket: oss2.Bucket,
                                                                  tmp_path) -> None:
    rng = random.Random(5)
    whole = append_all(bucket, "dl", [rng.randbytes(rng.randint(1, 90_000)) for _ in range(25)])
    target = tmp_path / "oss2.bin"
    bucket.get_object_to_file("dl", str(target))  # oss2 checks the CRC of what it received
    assert target.read_bytes() == whole
    client = clients.v2()
    client.get_object_to_file(oss.GetObjectRequest(bucket=bucket.bucket_name, key="dl"), str(tmp_path / "v2.bin"))
    assert (tmp_path / "v2.bin").read_bytes() == whole
    downloader = client.downloader(part_size=100 * 1024)
    downloader.download_file(oss.GetObjectRequest(bucket=bucket.bucket_name, key="dl"), str(tmp_path / "dl.bin"))
    assert (tmp_path / "dl.bin").read_bytes() == whole


def test_appendable_objects_can_be_copied_into_normal_objects_and_parts(bucket: oss2.Bucket) -> None:
    whole = append_all(bucket, "src", [b"a" * 150_000, b"b" * 70_000, b"c"])
    bucket.copy_object(bucket.bucket_name, "src", "dst")
    assert bucket.head_object("dst").object_type == "Normal" and bucket.get_object("dst").read() == whole
    upload_id = bucket.init_multipart_upload("mp").upload_id
    part = bucket.upload_part_copy(bucket.bucket_name, "src", (100_000, 200_000), "mp", upload_id, 1)
    bucket.complete_multipart_upload("mp", upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert bucket.get_object("mp").read() == whole[100_000:200_001]
