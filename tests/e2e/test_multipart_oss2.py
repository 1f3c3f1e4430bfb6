"""The reference's multipart stories, told through oss2 with signature V1 and V4."""

from __future__ import annotations

import os

import oss2
import pytest
from oss2.models import PartInfo

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

KIB = 1024
PART = 100 * KIB  # the smallest part OSS accepts before the last one


@pytest.fixture(params=["v1", "v4"])
def bucket(request: pytest.FixtureRequest, clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name, request.param)


def upload_parts(bucket: oss2.Bucket, key: str, upload_id: str, chunks: list[bytes]) -> list[PartInfo]:
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        result = bucket.upload_part(key, upload_id, number, chunk)
        parts.append(PartInfo(number, result.etag, size=len(chunk), part_crc=result.crc))
    return parts


def test_initiate_then_abort_frees_the_upload(bucket: oss2.Bucket) -> None:
    key = "exampledir/exampleobject.txt"
    upload_id = bucket.init_multipart_upload(key).upload_id
    bucket.upload_part(key, upload_id, 1, b"x" * 1000)
    bucket.abort_multipart_upload(key, upload_id)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts(key, upload_id)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.upload_part(key, upload_id, 2, b"y")
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.abort_multipart_upload(key, upload_id)
    assert list(oss2.MultipartUploadIterator(bucket)) == []


def test_complete_assembles_parts_and_reads_back_with_crc(bucket: oss2.Bucket) -> None:
    bucket.enable_crc = True
    key = "big/object.bin"
    chunks = [os.urandom(PART), os.urandom(PART + 17), os.urandom(5)]
    upload_id = bucket.init_multipart_upload(key).upload_id
    parts = upload_parts(bucket, key, upload_id, chunks)
    result = bucket.complete_multipart_upload(key, upload_id, parts)  # oss2 checks the combined CRC
    assert result.etag.endswith("-3")
    data = b"".join(chunks)
    got = bucket.get_object(key)
    assert got.read() == data
    assert got.headers["x-oss-object-type"] == "Multipart"
    assert bucket.get_object(key, byte_range=(PART - 2, PART + 3)).read() == data[PART - 2 : PART + 4]
    head = bucket.head_object(key)
    assert head.content_length == len(data)
    assert head.etag == result.etag
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts(key, upload_id)


def test_list_parts_pages_with_markers(bucket: oss2.Bucket) -> None:
    key = "paged"
    upload_id = bucket.init_multipart_upload(key).upload_id
    for number in range(1, 8):
        bucket.upload_part(key, upload_id, number, bytes([number]) * 10)
    first = bucket.list_parts(key, upload_id, max_parts=3)
    assert [p.part_number for p in first.parts] == [1, 2, 3]
    assert first.is_truncated and int(first.next_marker) == 3
    rest = bucket.list_parts(key, upload_id, marker=first.next_marker, max_parts=10)
    assert [p.part_number for p in rest.parts] == [4, 5, 6, 7]
    assert not rest.is_truncated
    assert [p.part_number for p in oss2.PartIterator(bucket, key, upload_id, max_parts=2)] == list(range(1, 8))
    assert all(p.size == 10 for p in rest.parts)


def test_list_uploads_pages_by_key_and_upload_id(bucket: oss2.Bucket) -> None:
    ids = {}
    for key in ["a/1", "a/2", "b", "b", "c"]:
        ids.setdefault(key, []).append(bucket.init_multipart_upload(key).upload_id)
    seen = [(u.key, u.upload_id) for u in oss2.MultipartUploadIterator(bucket, max_uploads=2)]
    expected = [(k, i) for k in sorted(ids) for i in sorted(ids[k])]
    assert seen == expected
    page = bucket.list_multipart_uploads(delimiter="/")
    assert page.prefix_list == ["a/"]
    assert [u.key for u in page.upload_list] == ["b", "b", "c"]
    assert [u.key for u in bucket.list_multipart_uploads(prefix="a/").upload_list] == ["a/1", "a/2"]


def test_delete_bucket_refused_while_parts_remain(clients: Clients, bucket: oss2.Bucket) -> None:
    key = "forgotten"
    upload_id = bucket.init_multipart_upload(key).upload_id
    bucket.upload_part(key, upload_id, 1, b"leaking")
    with pytest.raises(oss2.exceptions.BucketNotEmpty) as refused:
        bucket.delete_bucket()
    assert "1 multipart upload" in refused.value.message
    bucket.abort_multipart_upload(key, upload_id)
    bucket.delete_bucket()
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        bucket.get_bucket_info()


def test_reuploading_a_part_replaces_it(bucket: oss2.Bucket) -> None:
    key = "replace"
    upload_id = bucket.init_multipart_upload(key).upload_id
    bucket.upload_part(key, upload_id, 1, b"old" * 1000)
    new = bucket.upload_part(key, upload_id, 1, b"new")
    parts = bucket.list_parts(key, upload_id).parts
    assert [(p.part_number, p.size, p.etag) for p in parts] == [(1, 3, new.etag)]
    bucket.complete_multipart_upload(key, upload_id, [PartInfo(1, new.etag)])
    assert bucket.get_object(key).read() == b"new"


def test_complete_errors(server: TesseraServer, bucket: oss2.Bucket) -> None:
    key = "errors"
    upload_id = bucket.init_multipart_upload(key).upload_id
    small = bucket.upload_part(key, upload_id, 1, b"tiny")
    second = bucket.upload_part(key, upload_id, 2, b"tail")
    # oss2 sorts the list itself, so the out-of-order request is sent by hand.
    body = (f"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>\"{second.etag}\"</ETag></Part>"
            f"<Part><PartNumber>1</PartNumber><ETag>\"{small.etag}\"</ETag></Part></CompleteMultipartUpload>")
    order = raw.request(server, "POST", bucket.bucket_name, key, query={"uploadId": upload_id}, body=body.encode())
    assert (order.status, order.code) == (400, "InvalidPartOrder")
    with pytest.raises(oss2.exceptions.ServerError) as bad_etag:
        bucket.complete_multipart_upload(key, upload_id, [PartInfo(1, "0" * 32)])
    assert (bad_etag.value.status, bad_etag.value.code) == (400, "InvalidPart")
    with pytest.raises(oss2.exceptions.ServerError) as missing:
        bucket.complete_multipart_upload(key, upload_id, [PartInfo(3, small.etag)])
    assert missing.value.code == "InvalidPart"
    with pytest.raises(oss2.exceptions.ServerError) as too_small:
        bucket.complete_multipart_upload(key, upload_id, [PartInfo(1, small.etag), PartInfo(2, second.etag)])
    assert (too_small.value.status, too_small.value.code) == (400, "EntityTooSmall")
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.complete_multipart_upload(key, "0" * 32, [PartInfo(1, small.etag)])
    # The upload survived every refusal.
    assert [p.part_number for p in bucket.list_parts(key, upload_id).parts] == [1, 2]


def test_complete_all_and_parts_left_out(bucket: oss2.Bucket) -> None:
    key = "all"
    upload_id = bucket.init_multipart_upload(key).upload_id
    upload_parts(bucket, key, upload_id, [b"a" * PART, b"b" * PART, b"c"])
    bucket.complete_multipart_upload(key, upload_id, None, headers={"x-oss-complete-all": "yes"})
    assert bucket.get_object(key).read() == b"a" * PART + b"b" * PART + b"c"
    other = bucket.init_multipart_upload(key).upload_id
    parts = upload_parts(bucket, key, other, [b"x" * PART, b"y" * PART, b"z"])
    bucket.complete_multipart_upload(key, other, [parts[0], parts[2]])
    assert bucket.get_object(key).read() == b"x" * PART + b"z"


def test_repeated_complete_returns_the_same_result(bucket: oss2.Bucket) -> None:
    key = "retry"
    upload_id = bucket.init_multipart_upload(key).upload_id
    parts = upload_parts(bucket, key, upload_id, [b"q" * PART, b"r"])
    first = bucket.complete_multipart_upload(key, upload_id, parts)
    again = bucket.complete_multipart_upload(key, upload_id, parts)
    assert (again.etag, again.crc) == (first.etag, first.crc)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.abort_multipart_upload(key, upload_id)


def test_storage_class_chosen_at_initiate(bucket: oss2.Bucket) -> None:
    key = "cold"
    upload_id = bucket.init_multipart_upload(key, headers={"x-oss-storage-class": "IA"}).upload_id
    part = bucket.upload_part(key, upload_id, 1, b"data")
    bucket.complete_multipart_upload(key, upload_id, [PartInfo(1, part.etag)])
    assert bucket.head_object(key).headers["x-oss-storage-class"] == "IA"
    listed = next(iter(oss2.ObjectIterator(bucket, prefix=key)))
    assert listed.storage_class == "IA" and listed.type == "Multipart"


def test_several_uploads_of_one_key_are_independent(bucket: oss2.Bucket) -> None:
    key = "twins"
    first = bucket.init_multipart_upload(key).upload_id
    second = bucket.init_multipart_upload(key).upload_id
    p1 = bucket.upload_part(key, first, 1, b"first")
    p2 = bucket.upload_part(key, second, 1, b"second")
    bucket.complete_multipart_upload(key, second, [PartInfo(1, p2.etag)])
    assert [p.etag for p in bucket.list_parts(key, first).parts] == [p1.etag]
    bucket.complete_multipart_upload(key, first, [PartInfo(1, p1.etag)])
    assert bucket.get_object(key).read() == b"first"


def test_upload_part_copy(bucket: oss2.Bucket) -> None:
    source = os.urandom(PART * 2)
    bucket.put_object("source", source)
    key = "copied"
    upload_id = bucket.init_multipart_upload(key).upload_id
    first = bucket.upload_part_copy(bucket.bucket_name, "source", (0, PART - 1), key, upload_id, 1)
    second = bucket.upload_part_copy(bucket.bucket_name, "source", (PART, 2 * PART - 1), key, upload_id, 2)
    bucket.complete_multipart_upload(key, upload_id, [PartInfo(1, first.etag), PartInfo(2, second.etag)])
    assert bucket.get_object(key).read() == source
