"""Bad input gets the right error and leaves nothing behind."""

from __future__ import annotations

import base64
import hashlib

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


@pytest.mark.parametrize("name", ["ab", "-abc", "abc-", "ABC", "a_b", "a" * 64, "a.b"])
def test_invalid_bucket_names(server: TesseraServer, name: str) -> None:
    response = raw.request(server, "PUT", name)
    assert (response.status, response.code) == (400, "InvalidBucketName")


def test_create_existing_bucket(bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.ServerError) as exists:
        bucket.create_bucket()
    assert (exists.value.status, exists.value.code) == (409, "BucketAlreadyExists")


@pytest.mark.parametrize("key", ["unicode/文件/ü", "with space", "plus+sign", "percent%2Fslash", "../up/../x",
                                 "a//b", "k" * 1023, "tab\tkey", "?question#hash"])
def test_odd_keys_roundtrip(bucket: oss2.Bucket, clients: Clients, key: str) -> None:
    bucket.put_object(key, key.encode())
    assert bucket.get_object(key).read() == key.encode()
    assert key in [o.key for o in oss2.ObjectIterator(bucket)]
    v2_key_listing = clients.v2().list_objects_v2(oss.ListObjectsV2Request(bucket=bucket.bucket_name))
    assert key in [o.key for o in v2_key_listing.contents]


@pytest.mark.parametrize("key,code", [("k" * 1024, "KeyTooLong"), ("/leading", "InvalidObjectName")])
def test_bad_keys(server: TesseraServer, bucket_name: str, key: str, code: str) -> None:
    response = raw.request(server, "PUT", bucket_name, key, body=b"x")
    assert (response.status, response.code) == (400, code)


@pytest.mark.parametrize("number", ["0", "10001", "x", "-1", ""])
def test_bad_part_numbers(server: TesseraServer, bucket: oss2.Bucket, number: str) -> None:
    upload_id = bucket.init_multipart_upload("k").upload_id
    before = raw.blob_files(server.data_dir)
    response = raw.request(server, "PUT", bucket.bucket_name, "k",
                           query={"partNumber": number, "uploadId": upload_id}, body=b"data")
    assert (response.status, response.code) == (400, "InvalidArgument")
    assert "partNumber" in response.body.decode()
    assert raw.settle(server.data_dir, before) == set()
    assert bucket.list_parts("k", upload_id).parts == []


def test_part_number_bounds_accepted(bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("bounds").upload_id
    bucket.upload_part("bounds", upload_id, 1, b"a")
    bucket.upload_part("bounds", upload_id, 10000, b"b")
    assert [p.part_number for p in bucket.list_parts("bounds", upload_id).parts] == [1, 10000]


def test_wrong_content_md5_is_refused_and_leaves_nothing(server: TesseraServer, bucket: oss2.Bucket) -> None:
    before = raw.blob_files(server.data_dir)
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(oss2.exceptions.InvalidDigest):
        bucket.put_object("md5", b"payload", headers={"Content-MD5": wrong})
    upload_id = bucket.init_multipart_upload("md5").upload_id
    with pytest.raises(oss2.exceptions.InvalidDigest):
        bucket.upload_part("md5", upload_id, 1, b"payload", headers={"Content-MD5": wrong})
    response = raw.request(server, "PUT", bucket.bucket_name, "md5", headers={"Content-MD5": "not base64!"},
                           body=b"payload")
    assert (response.status, response.code) == (400, "InvalidDigest")
    assert not bucket.object_exists("md5")
    assert bucket.list_parts("md5", upload_id).parts == []
    assert raw.settle(server.data_dir, before) == set()


def test_truncated_bodies_leave_nothing(server: TesseraServer, bucket: oss2.Bucket) -> None:
    before = raw.blob_files(server.data_dir)
    raw.send_truncated(server, "PUT", bucket.bucket_name, "truncated", declared=1_000_000, sent=b"x" * 1000)
    upload_id = bucket.init_multipart_upload("truncated-part").upload_id
    raw.send_truncated(server, "PUT", bucket.bucket_name, "truncated-part", declared=500_000, sent=b"y" * 10,
                       query={"partNumber": "1", "uploadId": upload_id})
    assert raw.settle(server.data_dir, before) == set()
    assert not bucket.object_exists("truncated")
    assert bucket.list_parts("truncated-part", upload_id).parts == []


@pytest.mark.parametrize("body", [
    b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>",
    b"not xml at all",
    b"<Wrong><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Wrong>",
    b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
    b"<CompleteMultipartUpload></CompleteMultipartUpload>",
])
def test_malformed_complete_xml(server: TesseraServer, bucket: oss2.Bucket, body: bytes) -> None:
    upload_id = bucket.init_multipart_upload("xml").upload_id
    bucket.upload_part("xml", upload_id, 1, b"part")
    response = raw.request(server, "POST", bucket.bucket_name, "xml", query={"uploadId": upload_id}, body=body)
    assert (response.status, response.code) == (400, "MalformedXML")
    assert len(bucket.list_parts("xml", upload_id).parts) == 1


def test_entity_expansion_is_refused(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b"<Delete><Object><Key>&lol2;</Key></Object></Delete>")
    md5 = base64.b64encode(hashlib.md5(bomb).digest()).decode()
    response = raw.request(server, "POST", bucket.bucket_name, query={"delete": ""},
                           headers={"Content-MD5": md5}, body=bomb)
    assert (response.status, response.code) == (400, "MalformedXML")


def test_oversized_xml_is_refused(server: TesseraServer, bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("huge-xml").upload_id
    body = b"<CompleteMultipartUpload>" + b"<Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>" * 100_000
    response = raw.request(server, "POST", bucket.bucket_name, "huge-xml", query={"uploadId": upload_id},
                           body=body + b"</CompleteMultipartUpload>")
    assert (response.status, response.code) == (400, "EntityTooLarge")


@pytest.mark.parametrize("multipart", [False, True], ids=["object", "part"])
def test_bodies_over_5_gib_are_refused_before_a_byte_is_read(server: TesseraServer, bucket: oss2.Bucket,
                                                             multipart: bool) -> None:
    before = raw.blob_files(server.data_dir)
    query = {}
    if multipart:
        query = {"partNumber": "1", "uploadId": bucket.init_multipart_upload("huge").upload_id}
    response = raw.declare_only(server, "PUT", bucket.bucket_name, "huge", declared=5 * 1024**3 + 1, query=query)
    assert (response.status, response.code) == (400, "EntityTooLarge")
    assert raw.settle(server.data_dir, before) == set()
    if multipart:
        assert bucket.list_parts("huge", query["uploadId"]).parts == []
    else:
        assert not bucket.object_exists("huge")


def test_complete_all_with_a_body_is_refused(server: TesseraServer, bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("all").upload_id
    bucket.upload_part("all", upload_id, 1, b"part")
    response = raw.request(server, "POST", bucket.bucket_name, "all", query={"uploadId": upload_id},
                           headers={"x-oss-complete-all": "yes"},
                           body=b"<CompleteMultipartUpload></CompleteMultipartUpload>")
    assert (response.status, response.code) == (400, "InvalidArgument")


def test_every_response_has_request_id_and_date(server: TesseraServer, bucket: oss2.Bucket) -> None:
    ok = raw.request(server, "GET", bucket.bucket_name)
    missing = raw.request(server, "GET", bucket.bucket_name, "no-such-key")
    head = raw.request(server, "HEAD", bucket.bucket_name, "no-such-key")
    for response in (ok, missing, head):
        assert len(response.headers["x-oss-request-id"]) == 24
        assert response.headers["Date"].endswith("GMT")
    assert (missing.status, missing.code) == (404, "NoSuchKey")
    assert head.body == b"" and b"NoSuchKey" in base64.b64decode(head.headers["x-oss-err"])
