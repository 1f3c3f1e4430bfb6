"""Buckets through both SDKs: create with a storage class, list, info, ACL, location, delete."""

from __future__ import annotations

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from tests.support.clients import Clients


def test_create_with_storage_class_and_list(clients: Clients) -> None:
    bucket = clients.oss2_bucket("bucket-with-class")
    bucket.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ, oss2.models.BucketCreateConfig(oss2.BUCKET_STORAGE_CLASS_IA))
    info = bucket.get_bucket_info()
    assert (info.name, info.storage_class, info.acl.grant) == ("bucket-with-class", "IA", "public-read")
    names = [b.name for b in oss2.BucketIterator(clients.oss2_service())]
    assert "bucket-with-class" in names
    listed = {b.name: b for b in clients.oss2_service("v4").list_buckets(prefix="bucket-with").buckets}
    assert listed["bucket-with-class"].storage_class == "IA"
    bucket.put_object("inherits", b"x")
    assert bucket.head_object("inherits").headers["x-oss-storage-class"] == "IA"
    bucket.delete_object("inherits")
    bucket.delete_bucket()


def test_v2_bucket_lifecycle(clients: Clients) -> None:
    client = clients.v2()
    name = "v2-made-bucket"
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    assert client.is_bucket_exist(name)
    acl = client.get_bucket_acl(oss.GetBucketAclRequest(bucket=name))
    assert acl.acl == "private"
    client.put_bucket_acl(oss.PutBucketAclRequest(bucket=name, acl="public-read"))
    assert client.get_bucket_acl(oss.GetBucketAclRequest(bucket=name)).acl == "public-read"
    names = [b.name for page in client.list_buckets_paginator().iter_page(oss.ListBucketsRequest())
             for b in page.buckets]
    assert name in names
    client.delete_bucket(oss.DeleteBucketRequest(bucket=name))
    assert not client.is_bucket_exist(name)


def test_delete_bucket_with_objects_is_refused(clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.put_object("keep", b"x")
    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        bucket.delete_bucket()
    bucket.delete_object("keep")
    bucket.delete_bucket()


def test_missing_bucket_everywhere(clients: Clients) -> None:
    bucket = clients.oss2_bucket("never-created")
    for call in (bucket.get_bucket_info, bucket.list_objects, bucket.delete_bucket,
                 lambda: bucket.put_object("k", b"v"), lambda: bucket.init_multipart_upload("k"),
                 bucket.list_multipart_uploads, bucket.get_bucket_acl):
        with pytest.raises(oss2.exceptions.NoSuchBucket):
            call()


def test_bucket_is_checked_before_an_unsupported_sub_resource(clients: Clients, bucket_name: str) -> None:
    missing = clients.oss2_bucket("no-such-bucket-here")
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        missing.get_bucket_referer()
    with pytest.raises(oss2.exceptions.ServerError) as unsupported:
        clients.oss2_bucket(bucket_name).get_bucket_referer()
    assert (unsupported.value.status, unsupported.value.code) == (400, "NotImplemented")
