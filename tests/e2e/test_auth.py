"""Signatures V1 and V4, as headers and as presigned URLs, and how failures are reported."""

from __future__ import annotations

import datetime
import time
import http.client
import urllib.parse

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    """A plain HTTP client, as a browser or curl would use a presigned URL (no Content-Type)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        connection.request(method, target, body=data)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_oss2_presigned_urls(clients: Clients, bucket_name: str, version: str) -> None:
    bucket = clients.oss2_bucket(bucket_name, version)
    put_url = bucket.sign_url("PUT", "presigned/put me", 60)
    assert fetch(put_url, "PUT", b"via url")[0] == 200
    get_url = bucket.sign_url("GET", "presigned/put me", 60)
    assert fetch(get_url) == (200, b"via url")
    tampered = get_url.replace("put%20me", "other")
    assert tampered != get_url
    status, body = fetch(tampered)
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_v2_presigned_url(clients: Clients, bucket_name: str) -> None:
    client = clients.v2()
    client.put_object(oss.PutObjectRequest(bucket=bucket_name, key="p", body=b"presigned v4"))
    result = client.presign(oss.GetObjectRequest(bucket=bucket_name, key="p"), expires=datetime.timedelta(seconds=60))
    assert fetch(result.url) == (200, b"presigned v4")


def test_expired_presigned_url(clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.put_object("old", b"x")
    url = bucket.sign_url("GET", "old", -10)
    status, body = fetch(url)
    assert status == 403 and b"AccessDenied" in body


def test_anonymous_is_denied(server: TesseraServer, bucket_name: str) -> None:
    status, body = fetch(f"{server.endpoint}/{bucket_name}/")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_wrong_secret_is_signature_does_not_match(clients: Clients, bucket_name: str, version: str) -> None:
    bucket = clients.oss2_bucket(bucket_name, version, secret="wrong-secret")
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch) as refused:
        bucket.get_bucket_info()
    assert "StringToSign" in refused.value.details
    assert "wrong-secret" not in str(refused.value.details)


def test_v2_wrong_secret(clients: Clients, bucket_name: str) -> None:
    with pytest.raises(oss.exceptions.OperationError) as refused:
        clients.v2(secret="nope").get_bucket_info(oss.GetBucketInfoRequest(bucket=bucket_name))
    error = refused.value.unwrap()
    assert (error.status_code, error.code) == (403, "SignatureDoesNotMatch")


def test_unknown_access_key(server: TesseraServer, bucket_name: str) -> None:
    bucket = oss2.Bucket(oss2.Auth("LTAIunknown", "secret"), server.endpoint, bucket_name)
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        bucket.get_bucket_info()
    assert (refused.value.status, refused.value.code) == (403, "InvalidAccessKeyId")


def test_clock_skew(server: TesseraServer, bucket_name: str) -> None:
    stale = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 20 * 60))
    response = raw.request(server, "GET", bucket_name, headers={"Date": stale})
    assert (response.status, response.code) == (403, "RequestTimeTooSkewed")


def test_secrets_never_reach_the_log(server: TesseraServer, clients: Clients, bucket_name: str) -> None:
    clients.oss2_bucket(bucket_name).put_object("logged", b"x")
    log = server.log_text()
    assert server.access_key_secret not in log
