"""Objects through oss2 and v2: put, get, ranges, conditions, metadata, copy, delete, listing."""

from __future__ import annotations

import base64
import hashlib
import os

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from tests.support.clients import Clients


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.enable_crc = True
    return bucket


def test_put_get_roundtrip_with_metadata(bucket: oss2.Bucket) -> None:
    result = bucket.put_object("hello.txt", b"hello world", headers={
        "Content-Type": "text/plain", "x-oss-meta-author": "ada", "Cache-Control": "no-cache"})
    assert result.etag == "5EB63BBBE01EEED093CB22BB8F5ACDC3"
    assert result.crc == 5981764153023615706
    got = bucket.get_object("hello.txt")
    assert got.read() == b"hello world"
    assert got.headers["Content-Type"] == "text/plain"
    assert got.headers["x-oss-meta-author"] == "ada"
    assert got.headers["Cache-Control"] == "no-cache"
    assert got.headers["x-oss-object-type"] == "Normal"
    assert got.headers["x-oss-hash-crc64ecma"] == "5981764153023615706"
    assert got.headers["Content-MD5"] == base64.b64encode(hashlib.md5(b"hello world").digest()).decode()
    assert bucket.object_exists("hello.txt") and not bucket.object_exists("nope")


def test_chunked_upload_is_accepted(bucket: oss2.Bucket) -> None:
    data = [os.urandom(70_000) for _ in range(3)]
    bucket.put_object("chunked", iter(data))  # a generator goes out with Transfer-Encoding: chunked
    assert bucket.get_object("chunked").read() == b"".join(data)


def test_empty_object(bucket: oss2.Bucket) -> None:
    bucket.put_object("empty", b"")
    assert bucket.get_object("empty").read() == b""
    assert bucket.head_object("empty").content_length == 0


def test_ranges(bucket: oss2.Bucket, clients: Clients) -> None:
    data = bytes(range(256)) * 4
    bucket.put_object("r", data)
    assert bucket.get_object("r", byte_range=(10, 19)).read() == data[10:20]
    assert bucket.get_object("r", byte_range=(1000, None)).read() == data[1000:]
    assert bucket.get_object("r", byte_range=(None, 5)).read() == data[-5:]
    # Unsatisfiable without x-oss-range-behavior: the whole object, as OSS does.
    whole = bucket.get_object("r", byte_range=(5000, 6000))
    assert whole.status == 200 and whole.read() == data
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        bucket.get_object("r", byte_range=(5000, 6000), headers={"x-oss-range-behavior": "standard"})
    assert (refused.value.status, refused.value.code) == (416, "InvalidRange")
    partial = bucket.get_object("r", byte_range=(0, 9))
    assert partial.status == 206
    assert partial.headers["Content-Range"] == f"bytes 0-9/{len(data)}"
    assert "x-oss-hash-crc64ecma" not in partial.headers


def test_conditional_get(bucket: oss2.Bucket) -> None:
    etag = bucket.put_object("c", b"conditional").etag
    assert bucket.get_object("c", headers={"If-Match": etag}).read() == b"conditional"  # unquoted, as oss2 sends
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.get_object("c", headers={"If-Match": '"0000"'})
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("c", headers={"If-None-Match": f'"{etag}"'})
    last_modified = bucket.head_object("c").headers["Last-Modified"]
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("c", headers={"If-Modified-Since": last_modified})
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.get_object("c", headers={"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})


def test_head_errors_carry_the_code(bucket: oss2.Bucket, clients: Clients) -> None:
    with pytest.raises(oss2.exceptions.NoSuchKey) as missing:
        bucket.head_object("absent")
    assert missing.value.request_id
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        clients.oss2_bucket("absent-bucket").head_object("x")


def test_copy_and_update_metadata(bucket: oss2.Bucket) -> None:
    bucket.put_object("src", b"copy me", headers={"x-oss-meta-a": "1"})
    copied = bucket.copy_object(bucket.bucket_name, "src", "dst/of copy")
    assert copied.etag == bucket.head_object("src").etag
    assert bucket.get_object("dst/of copy").read() == b"copy me"
    assert bucket.head_object("dst/of copy").headers["x-oss-meta-a"] == "1"
    bucket.update_object_meta("src", {"x-oss-meta-b": "2", "Content-Type": "text/x-new"})
    head = bucket.head_object("src")
    assert head.headers.get("x-oss-meta-b") == "2" and "x-oss-meta-a" not in head.headers
    assert head.content_type == "text/x-new"
    assert bucket.get_object("src").read() == b"copy me"


def test_delete_and_batch_delete(bucket: oss2.Bucket) -> None:
    for key in ["d/1", "d/2", "d 3+"]:
        bucket.put_object(key, b".")
    bucket.delete_object("d/1")
    bucket.delete_object("never-existed")  # 204 all the same
    result = bucket.batch_delete_objects(["d/2", "d 3+", "ghost"])
    assert sorted(result.deleted_keys) == sorted(["d/2", "d 3+", "ghost"])
    assert list(oss2.ObjectIterator(bucket)) == []


def test_list_objects_with_delimiter_and_markers(bucket: oss2.Bucket, clients: Clients) -> None:
    keys = ["a.txt", "dir/x", "dir/y", "dir/z/deep", "e f", "e+f", "zz"]
    for key in keys:
        bucket.put_object(key, key.encode())
    assert [o.key for o in oss2.ObjectIterator(bucket, max_keys=2)] == sorted(keys)
    page = bucket.list_objects(delimiter="/", max_keys=100)
    assert page.prefix_list == ["dir/"]
    assert [o.key for o in page.object_list] == ["a.txt", "e f", "e+f", "zz"]
    first = bucket.list_objects(delimiter="/", max_keys=2)
    assert [o.key for o in first.object_list] == ["a.txt"] and first.prefix_list == ["dir/"]
    assert first.is_truncated
    second = bucket.list_objects(delimiter="/", marker=first.next_marker, max_keys=2)
    assert [o.key for o in second.object_list] == ["e f", "e+f"]
    v2_keys = [o.key for o in oss2.ObjectIteratorV2(bucket, max_keys=3)]
    assert v2_keys == sorted(keys)
    client = clients.v2()
    listed = []
    for page in client.list_objects_v2_paginator(limit=2).iter_page(
            oss.ListObjectsV2Request(bucket=bucket.bucket_name, prefix="dir/")):
        listed.extend(o.key for o in page.contents)
    assert listed == ["dir/x", "dir/y", "dir/z/deep"]


def test_storage_class_is_stored_and_listed(bucket: oss2.Bucket) -> None:
    for storage_class in ["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"]:
        bucket.put_object(f"sc/{storage_class}", b"x", headers={"x-oss-storage-class": storage_class})
        assert bucket.head_object(f"sc/{storage_class}").headers["x-oss-storage-class"] == storage_class
    listed = {o.key: o.storage_class for o in oss2.ObjectIterator(bucket, prefix="sc/")}
    assert listed == {f"sc/{c}": c for c in ["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"]}


def test_v2_put_get_with_crc_and_is_object_exist(clients: Clients, bucket_name: str) -> None:
    for signature in ("v4", "v1"):
        client = clients.v2(signature)
        key = f"v2/{signature}/a b+c"
        client.put_object(oss.PutObjectRequest(bucket=bucket_name, key=key, body=b"payload"))
        got = client.get_object(oss.GetObjectRequest(bucket=bucket_name, key=key))
        assert got.body.read() == b"payload"
        assert client.is_object_exist(bucket_name, key)
        assert not client.is_object_exist(bucket_name, key + "-missing")
        client.delete_object(oss.DeleteObjectRequest(bucket=bucket_name, key=key))
