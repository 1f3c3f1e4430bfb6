"""Object sub-resources Tessera does not serve are refused, and the object is left as it was —
never served as PutObject, GetObject or DeleteObject."""

from __future__ import annotations

import os

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

DATA = os.urandom(1500)


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.put_object("k", DATA)
    return bucket


def assert_untouched(bucket: oss2.Bucket) -> None:
    assert bucket.get_object("k").read() == DATA


def test_object_acl_calls_change_only_the_acl(bucket: oss2.Bucket) -> None:
    bucket.put_object_acl("k", oss2.OBJECT_ACL_PRIVATE)
    assert bucket.get_object_acl("k").acl == oss2.OBJECT_ACL_PRIVATE
    assert_untouched(bucket)


def test_v2_object_acl_calls_change_only_the_acl(clients: Clients, bucket: oss2.Bucket) -> None:
    client = clients.v2()
    client.put_object_acl(oss.PutObjectAclRequest(bucket=bucket.bucket_name, key="k", acl="public-read"))
    assert client.get_object_acl(oss.GetObjectAclRequest(bucket=bucket.bucket_name, key="k")).acl == "public-read"
    assert_untouched(bucket)


@pytest.mark.parametrize("method", ["DELETE", "POST", "HEAD"])
@pytest.mark.parametrize("parameter", ["acl", "symlink"])
def test_object_acl_and_symlink_serve_only_put_and_get(server: TesseraServer, bucket: oss2.Bucket,
                                                       method: str, parameter: str) -> None:
    answer = raw.request(server, method, bucket.bucket_name, "k", query={parameter: ""}, body=b"x" * 10)
    assert answer.status == 405
    assert_untouched(bucket)


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE", "POST", "HEAD"])
@pytest.mark.parametrize("parameter", ["restore", "append", "versionId", "x-oss-process",
                                       "callback", "uploads", "retention"])
def test_unserved_object_sub_resources_leave_the_object(server: TesseraServer, bucket: oss2.Bucket,
                                                        method: str, parameter: str) -> None:
    if (method, parameter) == ("POST", "uploads"):
        pytest.skip("InitiateMultipartUpload")
    value = {"versionId": "v1", "x-oss-process": "image/resize,w_10", "callback": "e30="}.get(parameter, "")
    answer = raw.request(server, method, bucket.bucket_name, "k", query={parameter: value}, body=b"x" * 10)
    assert 400 <= answer.status < 500
    assert_untouched(bucket)
