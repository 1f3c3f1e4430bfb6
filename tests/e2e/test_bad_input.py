"""Bad input gets the right error and leaves nothing behind."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socket
import time
from datetime import datetime, timezone
from urllib.parse import quote

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import BucketLifecycle, LifecycleExpiration, LifecycleRule, PartInfo

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


@pytest.mark.parametrize("number", ["0", "10001", "x", "-1", "", "²", "٣", "1" * 5000])
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


# --- inputs that were answered 500 InternalError ----------------------------------------------

@pytest.mark.parametrize("number", ["²", "1" * 5000])
def test_complete_with_a_part_number_of_odd_digits(bucket: oss2.Bucket, number: str) -> None:
    upload_id = bucket.init_multipart_upload("digits").upload_id
    etag = bucket.upload_part("digits", upload_id, 1, b"part").etag
    with pytest.raises(oss2.exceptions.MalformedXml):
        bucket.complete_multipart_upload("digits", upload_id, [PartInfo(number, etag)])  # type: ignore[arg-type]
    assert [p.part_number for p in bucket.list_parts("digits", upload_id).parts] == [1]
    assert not bucket.object_exists("digits")


ENCODINGS = [
    '<?xml version="1.0" encoding="UTF-16"?>{}'.format,
    lambda root: ('<?xml version="1.0" encoding="UTF-16"?>' + root).encode("utf-16"),
    '<?xml version="1.0" encoding="UTF-32"?>{}'.format,
    '<?xml version="1.0" encoding="UTF-7"?>{}'.format,
    '<?xml version="1.0" encoding="no-such-charset"?>{}'.format,
]


def _body(encoding_index: int, root: str) -> bytes:
    body = ENCODINGS[encoding_index](root)
    return body if isinstance(body, bytes) else body.encode()


@pytest.mark.parametrize("encoding", range(len(ENCODINGS)))
def test_xml_in_any_encoding_but_utf8_is_malformed_and_stores_nothing(server: TesseraServer, bucket: oss2.Bucket,
                                                                      encoding: int) -> None:
    name = bucket.bucket_name
    bucket.put_object("tagged", b"x", headers={"x-oss-tagging": "k=v"})
    upload_id = bucket.init_multipart_upload("xml").upload_id
    etag = bucket.upload_part("xml", upload_id, 1, b"part").etag
    requests = [
        ("POST", "xml", {"uploadId": upload_id},
         f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>"
         "</CompleteMultipartUpload>"),
        ("POST", "", {"delete": ""}, "<Delete><Object><Key>tagged</Key></Object></Delete>"),
        ("PUT", "", {"lifecycle": ""}, "<LifecycleConfiguration><Rule><ID>r</ID><Prefix>p</Prefix><Status>Enabled"
                                      "</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>"),
        ("PUT", "tagged", {"tagging": ""}, "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"),
    ]
    for method, key, query, root in requests:
        body = _body(encoding, root)
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        response = raw.request(server, method, name, key, query=query, headers={"Content-MD5": md5}, body=body)
        assert (response.status, response.code) == (400, "MalformedXML"), (method, query, response.body)
    assert not bucket.object_exists("xml") and len(bucket.list_parts("xml", upload_id).parts) == 1
    assert bucket.get_object_tagging("tagged").tag_set.tagging_rule == {"k": "v"}
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


@pytest.mark.parametrize("key", ["line\r\nbreak", "new\nline", "\r", "trailing\n"])
def test_keys_with_line_breaks_are_stored_and_returned(clients: Clients, bucket_name: str, key: str) -> None:
    client = clients.v2()
    client.put_object(oss.PutObjectRequest(bucket=bucket_name, key=key, body=key.encode()))
    got = client.get_object(oss.GetObjectRequest(bucket=bucket_name, key=key))
    assert got.body.read() == key.encode()
    assert [o.key for o in client.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket_name)).contents] == [key]
    bucket = clients.oss2_bucket(bucket_name)
    assert bucket.get_object(key).read() == key.encode()
    bucket.delete_object(key)
    assert not bucket.object_exists(key)


def test_nul_is_refused_wherever_a_name_goes(server: TesseraServer, clients: Clients, bucket: oss2.Bucket) -> None:
    client = clients.v2()
    with pytest.raises(oss.exceptions.OperationError) as refused:
        client.put_object(oss.PutObjectRequest(bucket=bucket.bucket_name, key="nul\x00key", body=b"x"))
    assert (refused.value.unwrap().status_code, refused.value.unwrap().code) == (400, "InvalidObjectName")
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.list_objects(prefix="\x00")
    with pytest.raises(oss.exceptions.OperationError) as refused:
        client.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket.bucket_name, continuation_token="AA"))
    assert refused.value.unwrap().code == "InvalidArgument"
    bucket.put_object("source", b"s")
    for source in ("/%00/source", f"/{bucket.bucket_name}/%00"):
        response = raw.request(server, "PUT", bucket.bucket_name, "copy", headers={"x-oss-copy-source": source})
        assert (response.status, response.code) in ((404, "NoSuchBucket"), (400, "InvalidObjectName"))
    delete = b"<Delete><Object><Key>&#0;</Key></Object></Delete>"
    response = raw.request(server, "POST", bucket.bucket_name, query={"delete": ""}, body=delete,
                           headers={"Content-MD5": base64.b64encode(hashlib.md5(delete).digest()).decode()})
    assert (response.status, response.code) == (400, "MalformedXML")
    assert [o.key for o in oss2.ObjectIterator(bucket)] == ["source"]


def test_bucket_names_with_a_line_break_are_invalid(server: TesseraServer) -> None:
    headers = raw.sign_headers(server, "PUT", "abc\n", "", {}, {})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("PUT", "/abc%0A/", headers=headers)
        response = connection.getresponse()
        assert (response.status, raw.RawResponse(0, {}, response.read()).code) == (400, "InvalidBucketName")
    finally:
        connection.close()


def test_a_content_type_too_long_to_store(bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_object("typed", b"x", headers={"Content-Type": "text/" + "x" * 300})
    assert not bucket.object_exists("typed")


def test_header_values_that_are_not_utf8(server: TesseraServer, bucket_name: str) -> None:
    headers = raw.sign_headers(server, "PUT", bucket_name, "latin", {}, {"x-oss-meta-city": "x", "Content-Length": "1"})
    head = f"PUT /{bucket_name}/latin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    data = head.encode().replace(b"x-oss-meta-city: x", b"x-oss-meta-city: K\xf6ln") + b"x"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        response = raw.read_response(sock, "PUT")
    assert (response.status, response.code) == (400, "InvalidArgument")


def test_a_client_hanging_up_mid_xml_is_no_internal_error(server: TesseraServer, bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("hangup").upload_id
    before = server.log_text().count("unexpected error")
    raw.send_truncated(server, "POST", bucket.bucket_name, "hangup", declared=10_000,
                       sent=b"<CompleteMultipartUpload><Part>", query={"uploadId": upload_id})
    deadline = time.monotonic() + 5
    while f"/hangup?uploadId={upload_id}" not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.log_text().count("unexpected error") == before
    assert bucket.list_parts("hangup", upload_id).parts == []


@pytest.mark.parametrize("value", ["bytes=²-3", "bytes=0-" + "9" * 5000, "bytes=" + "1" * 5000 + "-"])
def test_copy_source_ranges_of_odd_digits(server: TesseraServer, bucket: oss2.Bucket, value: str) -> None:
    bucket.put_object("src", b"0123456789")
    upload_id = bucket.init_multipart_upload("dst").upload_id
    response = raw.request(server, "PUT", bucket.bucket_name, "dst", query={"partNumber": "1", "uploadId": upload_id},
                           headers={"x-oss-copy-source": f"/{bucket.bucket_name}/src", "x-oss-copy-source-range": value})
    assert (response.status, response.code) == (400, "InvalidArgument")
    assert bucket.list_parts("dst", upload_id).parts == []


def _v4_presigned(server: TesseraServer, path: str, *, date: str, expires: str, signature: str = "0" * 64) -> str:
    credential = f"{server.access_key_id}/{date[:8]}/cn-hangzhou/oss/aliyun_v4_request"
    query = {"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-date": date, "x-oss-expires": expires,
             "x-oss-credential": credential, "x-oss-signature": signature}
    return path + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())


def test_presigned_urls_with_absurd_dates_and_lifetimes(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_object("p", b"x")
    path = f"/{bucket.bucket_name}/p"
    now = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    cases = [
        (_v4_presigned(server, path, date="99991231T235959Z", expires="60"), 403, "AccessDenied"),
        (_v4_presigned(server, path, date="00010101T000000Z", expires="604800"), 403, "AccessDenied"),
        (_v4_presigned(server, path, date=now, expires="²"), 403, "AccessDenied"),
        (_v4_presigned(server, path, date=now, expires="9" * 5000), 403, "AccessDenied"),
        (_v4_presigned(server, path, date=now, expires="0"), 400, "InvalidArgument"),
        (_v4_presigned(server, path, date=now, expires="60", signature="é" * 64), 403, "SignatureDoesNotMatch"),
        (f"{path}?OSSAccessKeyId={server.access_key_id}&Expires=%C2%B2&Signature=x", 403, "AccessDenied"),
        (f"{path}?OSSAccessKeyId={server.access_key_id}&Expires=99999999999&Signature=%C3%A9", 403,
         "SignatureDoesNotMatch"),
    ]
    for url, status, code in cases:
        response = raw.unsigned_request(server, "GET", url)
        assert (response.status, response.code) == (status, code), (url, response.body)


def test_v4_header_signature_that_is_not_ascii(server: TesseraServer, bucket_name: str) -> None:
    now = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    authorization = (f"OSS4-HMAC-SHA256 Credential={server.access_key_id}/{now[:8]}/cn-hangzhou/oss/aliyun_v4_request,"
                     f"Signature=caf\u00e9")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("GET", f"/{bucket_name}/")
        connection.putheader("Authorization", authorization.encode())
        connection.putheader("x-oss-date", now)
        connection.endheaders()
        response = connection.getresponse()
        assert (response.status, raw.RawResponse(0, {}, response.read()).code) == (403, "SignatureDoesNotMatch")
    finally:
        connection.close()


def test_lifecycle_days_and_dates_beyond_what_can_be_counted(server: TesseraServer, bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_bucket_lifecycle(BucketLifecycle([LifecycleRule(
            "forever", "p/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=999999999999999999))]))
    for date in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59.9999Z"):
        body = (f"<LifecycleConfiguration><Rule><ID>r</ID><Prefix>p/</Prefix><Status>Enabled</Status><Expiration>"
                f"<CreatedBeforeDate>{date}</CreatedBeforeDate></Expiration></Rule></LifecycleConfiguration>").encode()
        response = raw.request(server, "PUT", bucket.bucket_name, query={"lifecycle": ""}, body=body)
        assert (response.status, response.code) == (400, "InvalidArgument"), date
        preview = raw.request(server, "POST", "-", "admin/lifecycle/preview", query={"bucket": bucket.bucket_name},
                              body=body)
        assert (preview.status, json.loads(preview.body)["code"]) == (400, "InvalidArgument"), date
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


@pytest.mark.parametrize("path,query", [
    ("admin/usage/report", {"from": "0001-01-01T00:00:00+23:59", "to": "2026-01-01T00:00:00Z"}),
    ("admin/usage/report", {"from": "2026-01-01T00:00:00Z", "to": "9999-12-31T23:59:59-23:59"}),
    ("admin/usage/report", {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "top": "²"}),
    ("admin/usage/uploads", {"limit": "²"}),
    ("admin/usage/uploads", {"limit": "1" * 5000}),
])
def test_admin_reports_with_absurd_arguments(server: TesseraServer, path: str, query: dict[str, str]) -> None:
    response = raw.request(server, "GET", "-", path, query=query)
    assert (response.status, json.loads(response.body)["code"]) == (400, "InvalidArgument")


def test_admin_preview_at_an_instant_outside_the_calendar(server: TesseraServer, bucket_name: str) -> None:
    rules = (b"<LifecycleConfiguration><Rule><ID>r</ID><Prefix>p/</Prefix><Status>Enabled</Status>"
             b"<Expiration><Days>2147483647</Days></Expiration></Rule></LifecycleConfiguration>")
    query = {"bucket": bucket_name, "now": "0001-01-01T00:00:00+01:00"}
    response = raw.request(server, "POST", "-", "admin/lifecycle/preview", query=query, body=rules)
    assert (response.status, json.loads(response.body)["code"]) == (400, "InvalidArgument")
    response = raw.request(server, "POST", "-", "admin/lifecycle/preview", body=rules,
                           query={"bucket": bucket_name, "now": "0001-01-01T00:00:00Z"})
    assert response.status == 200 and json.loads(response.body)["errors"] == []


@pytest.mark.parametrize(("range_", "strict", "status", "length"), [
    ("bytes=" + "1" * 5000 + "-", False, 200, 10),       # past the end: served whole, as OSS does
    ("bytes=" + "1" * 5000 + "-", True, 416, None),
    ("bytes=2-" + "9" * 5000, False, 206, 8),             # an end past the end stops at the end
    ("bytes=-" + "9" * 5000, False, 206, 10),             # a suffix longer than the object: all of it
])
def test_ranges_of_thousands_of_digits(server: TesseraServer, bucket: oss2.Bucket, range_: str, strict: bool,
                                       status: int, length: int | None) -> None:
    bucket.put_object("ranged", b"0123456789")
    headers = {"Range": range_, **({"x-oss-range-behavior": "standard"} if strict else {})}
    response = raw.request(server, "GET", bucket.bucket_name, "ranged", headers=headers)
    assert response.status == status
    if length is not None:
        assert len(response.body) == length


def test_response_overrides_with_line_breaks(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_object("override", b"x")
    url = bucket.sign_url("GET", "override", 60, params={"response-content-type": "text/plain\r\nX-Injected: 1"})
    parts = url.split(str(server.port), 1)[1]
    response = raw.unsigned_request(server, "GET", parts)
    assert response.status == 400
