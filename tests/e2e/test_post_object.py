"""PostObject: browser form uploads signed with V1 and V4, every policy condition, the
success_action_* answers, and every refusal storing nothing and leaving no blob behind."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import socket
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import oss2
import pytest

from tests.support import forms, raw
from tests.support.clients import Clients
from tests.support.keys import create_key
from tests.support.server import TesseraServer


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def v1(server: TesseraServer, conditions: list, **fields: str) -> dict[str, str]:
    return {**fields, **forms.v1_fields(server, forms.policy(conditions))}


def assert_nothing_stored(bucket: oss2.Bucket, data_dir: Path, before: set[str]) -> None:
    assert [o.key for o in oss2.ObjectIterator(bucket)] == []
    assert raw.settle(data_dir, before) == set()


def test_v1_form_upload_is_stored_like_put_object(server: TesseraServer, bucket: oss2.Bucket) -> None:
    data = os.urandom(300_000)
    fields = v1(server, [{"bucket": bucket.bucket_name}, ["starts-with", "$key", "user/"]],
                key="user/${filename}", **{"Content-Type": "image/png", "Cache-Control": "max-age=60",
                                           "Content-Disposition": "attachment", "x-oss-meta-owner": "ann",
                                           "x-oss-storage-class": "IA", "x-oss-tagging": "a=1"})
    answer = forms.post(server, bucket.bucket_name, fields, data, filename="photo.png")
    assert answer.status == 204, answer.body
    assert answer.headers["ETag"] == f'"{hashlib.md5(data).hexdigest().upper()}"'
    got = bucket.get_object("user/photo.png")
    assert got.read() == data
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Cache-Control"] == "max-age=60"
    assert got.headers["Content-Disposition"] == "attachment"
    assert got.headers["x-oss-meta-owner"] == "ann"
    assert got.headers["x-oss-storage-class"] == "IA"
    assert got.headers["x-oss-hash-crc64ecma"] == answer.headers["x-oss-hash-crc64ecma"]
    assert bucket.get_object_tagging("user/photo.png").tag_set.tagging_rule == {"a": "1"}
    assert bucket.get_bucket_stat().object_count == 1  # metered like any write


def test_v4_form_upload(server: TesseraServer, bucket: oss2.Bucket) -> None:
    fields = {"key": "v4/a.txt", **forms.v4_form(server, [["content-length-range", 1, 100],
                                                          ["eq", "$key", "v4/a.txt"]])}
    answer = forms.post(server, bucket.bucket_name, fields, b"hello v4", file_type="text/plain")
    assert answer.status == 204, answer.body
    got = bucket.get_object("v4/a.txt")
    assert got.read() == b"hello v4"
    assert got.headers["Content-Type"] == "text/plain"  # the file part's type when the form names none


def test_success_action_status_and_redirect(server: TesseraServer, bucket: oss2.Bucket) -> None:
    name = bucket.bucket_name
    for status in ("200", "204", "999"):
        answer = forms.post(server, name, v1(server, [["starts-with", "$key", ""]], key=f"s{status}",
                                             success_action_status=status), b"x")
        assert (answer.status, answer.body) == (204 if status == "999" else int(status), b"")
    created = forms.post(server, name, v1(server, [["starts-with", "$key", ""]], key="dir/c",
                                          success_action_status="201"), b"created")
    assert created.status == 201
    doc = ET.fromstring(created.body)
    assert doc.tag == "PostResponse"
    assert [doc.findtext(t) for t in ("Bucket", "Key", "ETag")] == [
        name, "dir/c", f'"{hashlib.md5(b"created").hexdigest().upper()}"']
    assert doc.findtext("Location").endswith(f"/{name}/dir/c")
    redirected = forms.post(server, name, v1(server, [["starts-with", "$key", ""]], key="r",
                                             success_action_redirect="https://app.test/done?x=1"), b"r")
    assert redirected.status == 303
    location = urlsplit(redirected.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "app.test", "/done")
    assert parse_qs(location.query) == {"x": ["1"], "bucket": [name], "key": ["r"],
                                        "etag": [f'"{hashlib.md5(b"r").hexdigest().upper()}"']}
    assert bucket.get_object("r").read() == b"r"


def test_forbid_overwrite(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_object("k", b"old")
    answer = forms.post(server, bucket.bucket_name, v1(server, [["eq", "$key", "k"]], key="k",
                                                       **{"x-oss-forbid-overwrite": "true"}), b"new")
    assert (answer.status, answer.code) == (409, "FileAlreadyExists")
    assert bucket.get_object("k").read() == b"old"
    assert forms.post(server, bucket.bucket_name, v1(server, [["eq", "$key", "k"]], key="k"), b"new").status == 204
    assert bucket.get_object("k").read() == b"new"


def test_fields_after_the_file_are_ignored(server: TesseraServer, bucket: oss2.Bucket) -> None:
    body, content_type = forms.encode(v1(server, [["eq", "$key", "k"]], key="k"), b"data", boundary="B")
    body = body.replace(b"--B--", b'--B\r\nContent-Disposition: form-data; name="key"\r\n\r\nother\r\n--B--')
    assert forms.post_body(server, bucket.bucket_name, body, content_type).status == 204
    assert [o.key for o in oss2.ObjectIterator(bucket)] == ["k"]


def test_a_large_file_streams_through(server: TesseraServer, bucket: oss2.Bucket) -> None:
    data = os.urandom(24 * 1024 * 1024)
    answer = forms.post(server, bucket.bucket_name, v1(server, [["content-length-range", 0, 32 * 1024 * 1024]],
                                                       key="big"), data)
    assert answer.status == 204, answer.body
    assert bucket.get_object("big").read() == data


# --- refusals: each stores nothing --------------------------------------------------------------

def _expired_v4(server: TesseraServer) -> dict[str, str]:
    return forms.v4_form(server, [], now=datetime.now(timezone.utc) - timedelta(days=8), expires_in=10 * 86400)


REFUSALS = [
    # (name, build fields, file, status, code, message part)
    ("expired policy", lambda s, b: {"key": "k", **forms.v1_fields(s, forms.policy([["eq", "$key", "k"]],
                                                                                 expires_in=-5))},
     b"x", 403, "AccessDenied", "Policy expired"),
    ("tampered policy", lambda s, b: {**v1(s, [["starts-with", "$key", "user/"]], key="other"),
                                      "policy": forms.policy([["starts-with", "$key", ""]])},
     b"x", 403, "SignatureDoesNotMatch", ""),
    ("wrong secret", lambda s, b: {"key": "k", **forms.v1_fields(s, forms.policy([["eq", "$key", "k"]]),
                                                                secret="nope")},
     b"x", 403, "SignatureDoesNotMatch", ""),
    ("unknown key id", lambda s, b: {**v1(s, [["eq", "$key", "k"]], key="k"), "OSSAccessKeyId": "LTAInobody"},
     b"x", 403, "InvalidAccessKeyId", ""),
    ("key outside starts-with", lambda s, b: v1(s, [["starts-with", "$key", "user/"]], key="admin/x"),
     b"x", 403, "AccessDenied", "Policy Condition failed"),
    ("filename escapes starts-with", lambda s, b: v1(s, [["starts-with", "$key", "user/"]], key="${filename}"),
     b"x", 403, "AccessDenied", "Policy Condition failed"),
    ("other bucket", lambda s, b: v1(s, [{"bucket": "another-bucket"}], key="k"),
     b"x", 403, "AccessDenied", "Policy Condition failed"),
    ("eq on a field", lambda s, b: v1(s, [["eq", "$success_action_status", "201"]], key="k",
                                      success_action_status="200"), b"x", 403, "AccessDenied", "success_action_status"),
    ("condition on a missing field", lambda s, b: v1(s, [["eq", "$x-oss-meta-a", "1"]], key="k"),
     b"x", 403, "AccessDenied", "Policy Condition failed"),
    ("content type not in", lambda s, b: v1(s, [["in", "$content-type", ["image/png", "image/jpeg"]]], key="k",
                                            **{"Content-Type": "text/html"}), b"x", 403, "AccessDenied", ""),
    ("content type not-in", lambda s, b: v1(s, [["not-in", "$content-type", ["text/html"]]], key="k",
                                            **{"Content-Type": "text/html"}), b"x", 403, "AccessDenied", ""),
    ("too large", lambda s, b: v1(s, [["content-length-range", 1, 10]], key="k"), b"x" * 11,
     400, "EntityTooLarge", ""),
    ("too small", lambda s, b: v1(s, [["content-length-range", 5, 10]], key="k"), b"x" * 4,
     400, "EntityTooSmall", ""),
    ("empty but one byte needed", lambda s, b: v1(s, [["content-length-range", 1, 10]], key="k"), b"",
     400, "EntityTooSmall", ""),
    ("policy not base64", lambda s, b: {"key": "k", **forms.v1_fields(s, "%%%not-base64%%%")},
     b"x", 400, "InvalidPolicyDocument", ""),
    ("policy not json", lambda s, b: {"key": "k", **forms.v1_fields(s, base64.b64encode(b"{nope").decode())},
     b"x", 400, "InvalidPolicyDocument", ""),
    ("policy without expiration", lambda s, b: {"key": "k", **forms.v1_fields(
        s, base64.b64encode(b'{"conditions": [["eq", "$key", "k"]]}').decode())}, b"x", 400,
     "InvalidPolicyDocument", "expiration"),
    ("policy without conditions", lambda s, b: {"key": "k", **forms.v1_fields(
        s, base64.b64encode(b'{"expiration": "2099-01-01T00:00:00.000Z"}').decode())}, b"x", 400,
     "InvalidPolicyDocument", "conditions"),
    ("empty conditions", lambda s, b: v1(s, [], key="k"), b"x", 400, "InvalidPolicyDocument", ""),
    ("two-property condition", lambda s, b: v1(s, [{"key": "k", "bucket": b}], key="k"), b"x", 400,
     "InvalidPolicyDocument", "Simple-Condition"),
    ("unknown operator", lambda s, b: v1(s, [["abc", "$key", "k"]], key="k"), b"x", 400, "InvalidPolicyDocument", ""),
    ("condition not a list", lambda s, b: v1(s, [123], key="k"), b"x", 400, "InvalidPolicyDocument", ""),
    ("bad length range", lambda s, b: v1(s, [["content-length-range", 20, 10]], key="k"), b"x", 400,
     "InvalidPolicyDocument", ""),
    ("string length range", lambda s, b: v1(s, [["content-length-range", 1, "test"]], key="k"), b"x", 400,
     "InvalidPolicyDocument", ""),
    ("bad expiration", lambda s, b: {"key": "k", **forms.v1_fields(s, forms.policy([["eq", "$key", "k"]],
                                                                                 expiration="tomorrow"))},
     b"x", 400, "InvalidPolicyDocument", ""),
    ("no key", lambda s, b: v1(s, [["starts-with", "$key", ""]]), b"x", 400, "InvalidArgument", "key"),
    ("no file", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k"), None, 400, "InvalidArgument", "file"),
    ("no signature", lambda s, b: {"key": "k", "OSSAccessKeyId": s.access_key_id,
                                   "policy": forms.policy([["eq", "$key", "k"]])}, b"x", 400, "InvalidArgument",
     "Signature"),
    ("no policy", lambda s, b: {"key": "k", "OSSAccessKeyId": s.access_key_id, "Signature": "abc"}, b"x", 400,
     "InvalidArgument", "policy"),
    ("anonymous", lambda s, b: {"key": "k"}, b"x", 403, "AccessDenied", "Anonymous"),
    ("bad object acl", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k", **{"x-oss-object-acl": "public"}),
     b"x", 400, "InvalidArgument", ""),
    ("anonymous with a policy", lambda s, b: {"key": "k", "policy": forms.policy([["eq", "$key", "k"]])}, b"x",
     403, "AccessDenied", "Anonymous"),
    ("bad storage class", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k", **{"x-oss-storage-class": "Hot"}),
     b"x", 400, "InvalidArgument", ""),
    ("bad content md5", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k", **{"Content-MD5": "bm9wZQ=="}),
     b"x", 400, "InvalidDigest", ""),
    ("wrong content md5", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k", **{
        "Content-MD5": base64.b64encode(hashlib.md5(b"y").digest()).decode()}), b"x", 400, "InvalidDigest", ""),
    ("bad redirect", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k", success_action_redirect="javascript:x"),
     b"x", 400, "InvalidArgument", ""),
    ("line break in a header field", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k",
                                                     **{"Cache-Control": "a\r\nSet-Cookie: x=1"}),
     b"x", 400, "InvalidArgument", ""),
    ("line break in metadata", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k", **{"x-oss-meta-a": "1\n2"}),
     b"x", 400, "InvalidArgument", ""),
    ("metadata name no header can have", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k",
                                                         **{"x-oss-meta-a b:c": "1"}), b"x", 400, "InvalidArgument", ""),
    ("long content type", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k", **{"Content-Type": "t/" + "x" * 300}),
     b"x", 400, "InvalidArgument", ""),
    ("bad tagging", lambda s, b: v1(s, [["eq", "$key", "k"]], key="k", **{"x-oss-tagging": "a=1&&&=b=c"}),
     b"x", 400, "InvalidTag", ""),
    ("bad key", lambda s, b: v1(s, [["starts-with", "$key", ""]], key="/abs"), b"x", 400, "InvalidObjectName", ""),
    ("v4 expired", lambda s, b: {"key": "k", **_expired_v4(s)}, b"x", 403, "AccessDenied", "expired"),
    ("v4 future", lambda s, b: {"key": "k", **forms.v4_form(s, [], now=datetime.now(timezone.utc)
                                                            + timedelta(hours=1))}, b"x", 403, "AccessDenied", ""),
    ("v4 wrong region", lambda s, b: {"key": "k", **forms.v4_form(s, [], region="us-west-1")}, b"x", 400,
     "InvalidArgument", "region"),
    ("v4 wrong secret", lambda s, b: {"key": "k", **forms.v4_form(s, [["eq", "$key", "k"]], secret="nope")},
     b"x", 403, "SignatureDoesNotMatch", ""),
    ("v4 tampered date", lambda s, b: {"key": "k", **forms.v4_form(s, [["eq", "$key", "k"]]),
                                       "x-oss-date": (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime(
                                           "%Y%m%dT%H%M%SZ")}, b"x", 403, "AccessDenied", "x-oss-date"),
    ("v4 bad version", lambda s, b: {"key": "k", **forms.v4_form(s, []), "x-oss-signature-version": "OSS5"},
     b"x", 400, "InvalidArgument", ""),
    ("v4 bad credential", lambda s, b: {"key": "k", **forms.v4_form(s, []), "x-oss-credential": "a/b"},
     b"x", 400, "InvalidArgument", ""),
    ("v4 no signature", lambda s, b: {"key": "k", **forms.v4_form(s, []), "x-oss-signature": ""},
     b"x", 400, "InvalidArgument", "x-oss-signature"),
]


@pytest.mark.parametrize(("build", "file", "status", "code", "message"), [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])
def test_refused_forms_store_nothing(server: TesseraServer, bucket: oss2.Bucket, data_dir: Path, build, file: bytes,
                                     status: int, code: str, message: str) -> None:
    before = raw.blob_files(data_dir)
    answer = forms.post(server, bucket.bucket_name, build(server, bucket.bucket_name), file)
    assert (answer.status, answer.code) == (status, code), answer.body
    assert message in answer.body.decode()
    assert_nothing_stored(bucket, data_dir, before)


def test_a_missing_bucket_is_no_such_bucket(server: TesseraServer) -> None:
    answer = forms.post(server, "no-such-bucket-post", v1(server, [["eq", "$key", "k"]], key="k"), b"x")
    assert (answer.status, answer.code) == (404, "NoSuchBucket")


@pytest.mark.parametrize("body", [
    b"not a form at all",
    b"--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk",  # ends inside a field
    b"--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n" + b"k" * (2 * 1024 * 1024) + b"\r\n--B--\r\n",
    b"--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n\xff\xfe\r\n--B--\r\n",
    b"--B--\r\n",
])
def test_broken_forms_are_refused(server: TesseraServer, bucket: oss2.Bucket, data_dir: Path, body: bytes) -> None:
    before = raw.blob_files(data_dir)
    answer = forms.post_body(server, bucket.bucket_name, body, "multipart/form-data; boundary=B")
    assert answer.status == 400 and answer.code in ("MalformedPOSTRequest", "InvalidArgument", "IncompleteBody"), \
        answer.body
    assert_nothing_stored(bucket, data_dir, before)


def test_a_form_cut_inside_the_file_stores_nothing(server: TesseraServer, bucket: oss2.Bucket,
                                                   data_dir: Path) -> None:
    before = raw.blob_files(data_dir)
    body, content_type = forms.encode(v1(server, [["eq", "$key", "k"]], key="k"), os.urandom(1_000_000))
    cut = body[: len(body) // 2]
    # The body ends where Content-Length says, without the file's closing boundary.
    answer = forms.post_body(server, bucket.bucket_name, cut, content_type)
    assert (answer.status, answer.code) == (400, "IncompleteBody"), answer.body
    # A client that hangs up mid-file.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall((f"POST /{bucket.bucket_name}/ HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode() + cut)
        time.sleep(0.3)
    assert_nothing_stored(bucket, data_dir, before)


def test_post_without_a_form_is_not_post_object(server: TesseraServer, bucket: oss2.Bucket) -> None:
    answer = raw.request(server, "POST", bucket.bucket_name, body=b"x")
    assert (answer.status, answer.code) == (405, "MethodNotAllowed")


def _peak_rss(pid: int) -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_a_form_file_is_streamed_not_held_in_memory(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A fresh server (its peak memory is its own) takes a 200 MB form file with its peak
    resident memory growing by far less than the file."""
    size = 200 * 1024 * 1024
    with TesseraServer(tmp_path_factory.mktemp("post-memory") / "data") as server:
        bucket = Clients(server).oss2_bucket("memory")
        bucket.create_bucket()
        head, content_type = forms.encode(v1(server, [["content-length-range", size, size]], key="big"), None,
                                          boundary="B")
        head = head.removesuffix(b"--B--\r\n") + (b'--B\r\nContent-Disposition: form-data; name="file"; '
                                                  b'filename="big"\r\n\r\n')
        tail = b"\r\n--B--\r\n"
        block = os.urandom(1024 * 1024)
        md5 = hashlib.md5()
        for _ in range(size // len(block)):
            md5.update(block)

        def body():
            yield head
            for _ in range(size // len(block)):
                yield block
            yield tail

        baseline = _peak_rss(server.pid)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        connection.request("POST", "/memory/", body=body(), headers={
            "Content-Type": content_type, "Content-Length": str(len(head) + size + len(tail))})
        answer = connection.getresponse()
        assert answer.status == 204, answer.read()
        connection.close()
        assert answer.getheader("ETag") == f'"{md5.hexdigest().upper()}"'
        assert bucket.head_object("big").content_length == size
        assert _peak_rss(server.pid) - baseline < 64 * 1024 * 1024


def test_signatures_in_headers_or_query_are_not_what_a_form_is_judged_by(server: TesseraServer,
                                                                          bucket: oss2.Bucket) -> None:
    fields = v1(server, [["eq", "$key", "k"]], key="k")
    answer = forms.post(server, bucket.bucket_name, fields, b"data",
                        headers={"Authorization": f"OSS {server.access_key_id}:forged"})
    assert answer.status == 204, answer.body
    anonymous = forms.post(server, bucket.bucket_name, {"key": "k2"}, b"data",
                           headers={"Authorization": raw.sign_headers(server, "POST", bucket.bucket_name, "", {},
                                                                      {})["Authorization"]})
    assert (anonymous.status, anonymous.code) == (403, "AccessDenied")
    assert [o.key for o in oss2.ObjectIterator(bucket)] == ["k"]


def test_answers_to_a_page_carry_the_bucket_cors_rule(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_cors(oss2.models.BucketCors([oss2.models.CorsRule(
        allowed_origins=["http://page.test"], allowed_methods=["POST"], expose_headers=["ETag"])]))
    origin = {"Origin": "http://page.test"}
    stored = forms.post(server, bucket.bucket_name, v1(server, [["eq", "$key", "k"]], key="k"), b"x", headers=origin)
    refused = forms.post(server, bucket.bucket_name, v1(server, [["eq", "$key", "j"]], key="k"), b"x", headers=origin)
    assert (stored.status, refused.status) == (204, 403)
    for answer in (stored, refused):
        assert answer.headers["Access-Control-Allow-Origin"] == "http://page.test"
        assert answer.headers["Access-Control-Expose-Headers"] == "ETag"


def test_object_acl_field(server: TesseraServer, bucket: oss2.Bucket) -> None:
    answer = forms.post(server, bucket.bucket_name, v1(server, [["eq", "$key", "k"]], key="k",
                                                       **{"x-oss-object-acl": "public-read"}), b"open")
    assert answer.status == 204, answer.body
    assert bucket.get_object_acl("k").acl == "public-read"
    assert raw.unsigned_request(server, "GET", f"/{bucket.bucket_name}/k").body == b"open"


def test_anonymous_forms_write_only_where_everyone_may(server: TesseraServer, bucket: oss2.Bucket) -> None:
    refused = forms.post(server, bucket.bucket_name, {"key": "k"}, b"x")
    assert (refused.status, refused.code) == (403, "AccessDenied")
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    assert forms.post(server, bucket.bucket_name, {"key": "anon/${filename}"}, b"anonymous", filename="a.txt"
                      ).status == 204
    assert bucket.get_object("anon/a.txt").read() == b"anonymous"
    # A policy an anonymous form brings along still binds it.
    bound = forms.post(server, bucket.bucket_name, {"key": "k", "policy": forms.policy([["eq", "$key", "j"]])}, b"x")
    assert (bound.status, bound.code) == (403, "AccessDenied")
    # A signature that does not hold is refused, whatever the ACL.
    forged = forms.post(server, bucket.bucket_name, {**v1(server, [["eq", "$key", "k"]], key="k"), "Signature": "AAAA"},
                        b"x")
    assert (forged.status, forged.code) == (403, "SignatureDoesNotMatch")


def test_a_form_signed_by_another_key_writes_only_where_that_key_may(server: TesseraServer,
                                                                     bucket: oss2.Bucket) -> None:
    other = create_key(server)  # not root, owns no bucket
    refused = forms.post(server, bucket.bucket_name, v1(other, [["eq", "$key", "k"]], key="k"), b"x")
    assert (refused.status, refused.code) == (403, "AccessDenied")
    v4_refused = forms.post(server, bucket.bucket_name, {"key": "k", **forms.v4_form(other, [])}, b"x")
    assert (v4_refused.status, v4_refused.code) == (403, "AccessDenied")
    assert [o.key for o in oss2.ObjectIterator(bucket)] == []
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)  # everyone may write: that key too
    assert forms.post(server, bucket.bucket_name, v1(other, [["eq", "$key", "k"]], key="k"), b"x").status == 204


def test_a_chunked_form(server: TesseraServer, bucket: oss2.Bucket) -> None:
    data = os.urandom(700_000)
    body, content_type = forms.encode(v1(server, [["eq", "$key", "chunked"]], key="chunked"), data)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    # No length: http.client sends the pieces with Transfer-Encoding: chunked.
    connection.request("POST", f"/{bucket.bucket_name}/", body=iter([body[i:i + 65_536]
                                                                      for i in range(0, len(body), 65_536)]),
                       headers={"Content-Type": content_type})
    answer = connection.getresponse()
    assert answer.status == 204, answer.read()
    connection.close()
    assert bucket.get_object("chunked").read() == data
