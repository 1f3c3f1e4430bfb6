"""The Objects JSON API, driven over HTTP with a signed-in session: downloads are always
attachments, other owners' private data stays private, bad keys are 400s (never 5xx), and a
multipart upload through the console is an object the SDK reads back."""

from __future__ import annotations

import os

import oss2

from tests.support.clients import Clients
from tests.support.console import ConsoleApi
from tests.support.keys import create_key


def error_code(answer) -> str:
    """The console error's code: from the JSON of an API answer, or the HTML page of a page's."""
    if answer.headers["Content-Type"].startswith("text/html"):
        return answer.text.split("<h1>", 1)[1].split("</h1>", 1)[0]
    return answer.json()["error"]["code"]


def test_a_download_is_an_attachment_never_rendered(console_api: ConsoleApi, console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("console-api-download")
    bucket.create_bucket()
    body = b"<html><script>alert(1)</script></html>"
    bucket.put_object("pages/évil \"page\".html", body, headers={"Content-Type": "text/html"})
    answer = console_api.get("/buckets/console-api-download/download",
                             params={"key": 'pages/évil "page".html'})
    assert answer.status_code == 200
    assert answer.content == body
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Disposition"] == (
        "attachment; filename=\"_vil _page_.html\"; filename*=UTF-8''%C3%A9vil%20%22page%22.html")


def test_another_owners_private_bucket_is_403(console_server, console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("console-api-private")
    bucket.create_bucket()
    bucket.put_object("secret.txt", b"root's")
    bucket.put_object("shared.txt", b"for all", headers={"x-oss-object-acl": "public-read"})
    other = create_key(console_server)
    api = ConsoleApi(console_server, other.access_key_id, other.access_key_secret)
    api.sign_in()
    for answer in (
        api.get("/api/buckets/console-api-private/objects"),
        api.get("/api/buckets/console-api-private/object", params={"key": "secret.txt"}),
        api.get("/buckets/console-api-private/download", params={"key": "secret.txt"}),
        api.put("/api/buckets/console-api-private/object", params={"key": "new.txt"}, data=b"x"),
        api.post("/api/buckets/console-api-private/multipart", params={"key": "new.bin"}, json={}),
        api.post("/api/buckets/console-api-private/objects/delete", json={"keys": ["secret.txt"]}),
    ):
        assert answer.status_code == 403, (answer.request.method, answer.request.url, answer.text)
        assert error_code(answer) == "AccessDenied"
    # An object's own ACL is honoured too, as by the OSS dialect.
    shared = api.get("/buckets/console-api-private/download", params={"key": "shared.txt"})
    assert shared.status_code == 200 and shared.content == b"for all"
    assert bucket.get_object("secret.txt").read() == b"root's"
    assert not bucket.object_exists("new.txt")


def test_bad_keys_are_400_console_errors(console_api: ConsoleApi, console_clients: Clients) -> None:
    console_clients.oss2_bucket("console-api-keys").create_bucket()
    long_key = "k" * 1024
    for key, code in (("", "InvalidObjectName"), (long_key, "KeyTooLong"), ("/lead", "InvalidObjectName")):
        for answer in (
            console_api.get("/api/buckets/console-api-keys/object", params={"key": key}),
            console_api.put("/api/buckets/console-api-keys/object", params={"key": key}, data=b"x"),
            console_api.post("/api/buckets/console-api-keys/multipart", params={"key": key}, json={}),
            console_api.get("/buckets/console-api-keys/download", params={"key": key}),
        ):
            assert answer.status_code == 400, (answer.request.url, answer.text)
            assert error_code(answer) == code
    refused = console_api.post("/api/buckets/console-api-keys/objects/delete", json={"keys": ["", long_key]})
    assert refused.status_code == 200
    assert refused.json() == {"deleted": [], "refused": [
        {"key": "", "code": "InvalidObjectName", "message": "The object key must not be empty."},
        {"key": long_key, "code": "KeyTooLong",
         "message": "The object key is 1024 bytes long; at most 1023 are allowed."}]}
    for body in ({}, {"keys": "a"}, {"keys": []}, {"keys": [1]}):
        answer = console_api.post("/api/buckets/console-api-keys/objects/delete", json=body)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidArgument"
    nothing = console_api.get("/api/buckets/console-api-keys/objects", params={"limit": "0"})
    assert nothing.status_code == 400 and nothing.json()["error"]["field"] == "limit"


def test_an_upload_without_content_length_is_refused(console_api: ConsoleApi, console_clients: Clients) -> None:
    console_clients.oss2_bucket("console-api-chunked").create_bucket()
    chunked = console_api.put("/api/buckets/console-api-chunked/object", params={"key": "c.bin"},
                              data=iter([b"a" * 10, b"b" * 10]))
    assert chunked.status_code == 411 and chunked.json()["error"]["code"] == "MissingContentLength"


def test_a_multipart_upload_through_the_console_is_read_back_by_the_sdk(console_api: ConsoleApi,
                                                                        console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("console-api-multipart")
    bucket.create_bucket()
    base = "/api/buckets/console-api-multipart/multipart"
    key = {"key": "big/data.bin"}
    made = console_api.post(base, params=key, json={"content_type": "application/x-test"})
    assert made.status_code == 201
    upload_id = made.json()["upload_id"]
    chunks = [os.urandom(200 * 1024), os.urandom(200 * 1024), os.urandom(1000)]
    etags = []
    for number, chunk in enumerate(chunks, 1):
        sent = console_api.put(f"{base}/{upload_id}/{number}", params=key, data=chunk)
        assert sent.status_code == 200, sent.text
        etags.append(sent.json()["etag"])
    listed = console_api.get(f"{base}/{upload_id}", params=key).json()["parts"]
    assert [(p["part_number"], p["size"], p["etag"]) for p in listed] == [
        (n, len(c), e) for n, (c, e) in enumerate(zip(chunks, etags), 1)]
    bad_number = console_api.put(f"{base}/{upload_id}/10001", params=key, data=b"x")
    assert bad_number.status_code == 400 and bad_number.json()["error"]["field"] == "part_number"
    done = console_api.post(f"{base}/{upload_id}/complete", params=key,
                            json={"parts": [{"part_number": n, "etag": e} for n, e in enumerate(etags, 1)]})
    assert done.status_code == 200, done.text
    head = bucket.head_object("big/data.bin")
    assert head.headers["x-oss-object-type"] == "Multipart"
    assert head.headers["Content-Type"] == "application/x-test"
    assert bucket.get_object("big/data.bin").read() == b"".join(chunks)
    gone = console_api.get(f"{base}/{upload_id}", params=key)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "NoSuchUpload"


def test_cancelling_an_upload_frees_its_parts(console_api: ConsoleApi, console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("console-api-abort")
    bucket.create_bucket()
    base = "/api/buckets/console-api-abort/multipart"
    upload_id = console_api.post(base, params={"key": "a.bin"}, json={}).json()["upload_id"]
    console_api.put(f"{base}/{upload_id}/1", params={"key": "a.bin"}, data=b"z" * 1000)
    aborted = console_api.delete(f"{base}/{upload_id}", params={"key": "a.bin"})
    assert aborted.json() == {"upload_id": upload_id, "parts_freed": 1}
    assert list(oss2.MultipartUploadIterator(bucket)) == []


def test_deleting_several_reports_each_key_refused_by_its_own_acl(console_server, console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("console-api-shared")
    bucket.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    bucket.put_object("open.txt", b"anyone may delete me")
    bucket.put_object("kept.txt", b"only the owner", headers={"x-oss-object-acl": "private"})
    other = create_key(console_server)
    api = ConsoleApi(console_server, other.access_key_id, other.access_key_secret)
    api.sign_in()
    answer = api.post("/api/buckets/console-api-shared/objects/delete", json={"keys": ["open.txt", "kept.txt"]})
    assert answer.status_code == 200
    assert answer.json() == {"deleted": ["open.txt"], "refused": [
        {"key": "kept.txt", "code": "AccessDenied", "message": "The signed-in key may not delete this object."}]}
    assert [o.key for o in oss2.ObjectIterator(bucket)] == ["kept.txt"]
