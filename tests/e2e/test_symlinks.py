"""Symlinks: PutSymlink and GetSymlink, GET and HEAD through a link, dangling links, links to
links, deletion, listings and storage accounting."""

from __future__ import annotations

import datetime
import hashlib
import os
from collections import Counter
from urllib.parse import quote, unquote

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import BucketLifecycle, LifecycleExpiration, LifecycleRule, StorageTransition

from tests.support import raw
from tests.support.checks import assert_bucket_stat, assert_consistent
from tests.support.clients import Clients, multipart_object
from tests.support.server import TesseraServer

DATA = os.urandom(3000)


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.put_object("target.bin", DATA, headers={"Content-Type": "application/x-target"})
    return bucket


def v2_error(call) -> tuple[int, str]:
    with pytest.raises(oss.exceptions.OperationError) as failed:
        call()
    error = failed.value.unwrap()
    return error.status_code, error.code


def test_oss2_symlink_serves_its_target(bucket: oss2.Bucket) -> None:
    bucket.put_symlink("target.bin", "link", headers={"x-oss-meta-who": "link", "Content-Type": "text/plain"})
    assert bucket.get_symlink("link").target_key == "target.bin"
    target = bucket.head_object("target.bin")
    got = bucket.get_object("link")
    assert got.read() == DATA
    assert (got.etag, got.content_length, got.headers["x-oss-object-type"]) == (target.etag, 3000, "Symlink")
    assert got.headers["x-oss-hash-crc64ecma"] == target.headers["x-oss-hash-crc64ecma"]
    head = bucket.head_object("link")
    assert (head.etag, head.content_length, head.object_type) == (target.etag, 3000, "Symlink")
    # Metadata is the link's own.
    assert head.headers["x-oss-meta-who"] == "link" and head.content_type == "text/plain"
    assert bucket.get_object("link", byte_range=(10, 19)).read() == DATA[10:20]
    meta = bucket.get_object_meta("link")  # the link itself, as OSS answers it
    assert meta.content_length == len(b"target.bin") and meta.etag == hashlib.md5(b"target.bin").hexdigest().upper()


def test_conditional_reads_through_a_symlink_use_the_target(bucket: oss2.Bucket) -> None:
    bucket.put_symlink("target.bin", "link")
    etag = bucket.head_object("target.bin").etag
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("link", headers={"If-None-Match": f'"{etag}"'})
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.get_object("link", headers={"If-Match": '"0123"'})
    assert bucket.get_object("link", headers={"If-Match": etag}).read() == DATA


def test_a_symlink_to_a_multipart_object(bucket: oss2.Bucket) -> None:
    data = multipart_object(bucket, "multi", 2, 100 * 1024)
    bucket.put_symlink("multi", "to-multi")
    assert bucket.get_object("to-multi").read() == data
    assert bucket.get_object("to-multi", byte_range=(100 * 1024 - 5, 100 * 1024 + 4)).read() == \
        data[100 * 1024 - 5:100 * 1024 + 5]


def test_a_symlink_to_an_appendable_object(bucket: oss2.Bucket) -> None:
    # The link's data is the target's segments (a 500 once: the link's own key was looked up).
    position = bucket.append_object("log", 0, b"first ").next_position
    bucket.append_object("log", position, b"second")
    bucket.put_symlink("log", "log-link")
    assert bucket.get_object("log-link").read() == b"first second"
    assert bucket.get_object("log-link", byte_range=(3, 8)).read() == b"st sec"


def test_v2_symlinks(clients: Clients, bucket: oss2.Bucket) -> None:
    client, name = clients.v2(), bucket.bucket_name
    client.put_symlink(oss.PutSymlinkRequest(bucket=name, key="v2/link", target="target.bin",
                                             metadata={"who": "v2"}, storage_class="IA", acl="private",
                                             forbid_overwrite=True))
    assert client.get_symlink(oss.GetSymlinkRequest(bucket=name, key="v2/link")).target == "target.bin"
    got = client.get_object(oss.GetObjectRequest(bucket=name, key="v2/link"))
    assert got.body.read() == DATA and got.object_type == "Symlink"
    head = client.head_object(oss.HeadObjectRequest(bucket=name, key="v2/link"))
    assert (head.content_length, head.storage_class, head.metadata.get("who")) == (3000, "IA", "v2")
    assert client.get_object_acl(oss.GetObjectAclRequest(bucket=name, key="v2/link")).acl == "private"
    assert v2_error(lambda: client.put_symlink(oss.PutSymlinkRequest(
        bucket=name, key="v2/link", target="other", forbid_overwrite=True))) == (409, "FileAlreadyExists")
    assert v2_error(lambda: client.get_symlink(oss.GetSymlinkRequest(bucket=name, key="target.bin"))) == (
        400, "NotSymlink")


@pytest.mark.parametrize("target", ["dir one/sub+dir/文件 #1.txt", "a%2Fb", "100% sure"])
def test_targets_with_any_characters(clients: Clients, bucket: oss2.Bucket, target: str) -> None:
    bucket.put_object(target, b"odd name")
    bucket.put_symlink(target, "odd-oss2")
    assert bucket.get_symlink("odd-oss2").target_key == target
    assert bucket.get_object("odd-oss2").read() == b"odd name"
    # v2 sends the target as given (and a header carries no UTF-8): its users encode it themselves.
    client = clients.v2()
    client.put_symlink(oss.PutSymlinkRequest(bucket=bucket.bucket_name, key="odd-v2", target=quote(target)))
    assert bucket.get_symlink("odd-v2").target_key == target
    assert unquote(client.get_symlink(oss.GetSymlinkRequest(bucket=bucket.bucket_name, key="odd-v2")).target) \
        == target
    assert bucket.get_object("odd-v2").read() == b"odd name"


def test_dangling_symlink(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_symlink("not-there", "dangling")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("dangling")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.head_object("dangling")
    assert bucket.get_symlink("dangling").target_key == "not-there"
    assert bucket.object_exists("dangling")  # GetObjectMeta: the link itself exists
    bucket.put_object("not-there", b"now it is")
    assert bucket.get_object("dangling").read() == b"now it is"
    bucket.delete_object("not-there")
    head = raw.request(server, "HEAD", bucket.bucket_name, "dangling")
    assert head.status == 404 and "x-oss-err" in head.headers


def test_symlinks_to_symlinks_and_loops(clients: Clients, bucket: oss2.Bucket) -> None:
    bucket.put_symlink("target.bin", "first")
    bucket.put_symlink("first", "second")
    bucket.put_symlink("loop-b", "loop-a")
    bucket.put_symlink("loop-a", "loop-b")
    bucket.put_symlink("self", "self")
    for key in ("second", "loop-a", "loop-b", "self"):
        with pytest.raises(oss2.exceptions.ServerError) as refused:
            bucket.get_object(key)
        assert (refused.value.status, refused.value.code) == (400, "InvalidTargetType")
        with pytest.raises(oss2.exceptions.ServerError) as head:
            bucket.head_object(key)
        assert (head.value.status, head.value.code) == (400, "InvalidTargetType")
    assert v2_error(lambda: clients.v2().get_object(oss.GetObjectRequest(bucket=bucket.bucket_name, key="second"))) \
        == (400, "InvalidTargetType")
    assert bucket.get_object("first").read() == DATA


def test_get_symlink_errors(server: TesseraServer, bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.ServerError) as normal:
        bucket.get_symlink("target.bin")
    assert (normal.value.status, normal.value.code) == (400, "NotSymlink")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_symlink("missing")
    no_target = raw.request(server, "PUT", bucket.bucket_name, "link", query={"symlink": ""})
    assert (no_target.status, no_target.code) == (400, "InvalidArgument")
    for bad in ("", "/starts-with-slash", "%00nul"):
        answer = raw.request(server, "PUT", bucket.bucket_name, "link", query={"symlink": ""},
                             headers={"x-oss-symlink-target": bad})
        assert 400 <= answer.status < 500, (bad, answer.body)
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_symlink("target.bin", "link", headers={"x-oss-object-acl": "nobody"})
    with pytest.raises(oss2.exceptions.ServerError) as storage_class:
        bucket.put_symlink("target.bin", "link", headers={"x-oss-storage-class": "Frozen"})
    assert storage_class.value.status == 400
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        oss2.Bucket(bucket.auth, bucket.endpoint, "no-such-bucket-sym").put_symlink("a", "b")
    assert not bucket.object_exists("link")


def test_deleting_a_symlink_deletes_only_the_link(bucket: oss2.Bucket) -> None:
    bucket.put_symlink("target.bin", "link")
    bucket.delete_object("link")
    assert not bucket.object_exists("link")
    assert bucket.get_object("target.bin").read() == DATA
    bucket.put_symlink("target.bin", "link")
    bucket.batch_delete_objects(["link"])
    assert bucket.get_object("target.bin").read() == DATA


def test_listing_and_storage_of_symlinks(server: TesseraServer, clients: Clients, bucket: oss2.Bucket) -> None:
    bucket.put_object("replaced", os.urandom(5000))
    bucket.put_symlink("target.bin", "replaced")  # frees the replaced object's blob
    bucket.put_symlink("target.bin", "link")
    listed = {o.key: o for o in oss2.ObjectIterator(bucket)}
    assert listed["link"].type == "Symlink" and listed["link"].size == len(b"target.bin")
    assert listed["link"].etag == hashlib.md5(b"target.bin").hexdigest().upper()
    assert listed["target.bin"].type == "Normal"
    v2_listed = clients.v2().list_objects_v2(oss.ListObjectsV2Request(bucket=bucket.bucket_name))
    assert {o.key: o.object_type for o in v2_listed.contents}["replaced"] == "Symlink"
    assert_bucket_stat(server, bucket.bucket_name, Counter(objects=3, object_bytes=3000 + 2 * len(b"target.bin")))
    bucket.put_object("replaced", b"data again")  # a link replaced by data
    assert bucket.get_object("replaced").read() == b"data again"
    assert_consistent(server)


def test_copy_of_a_symlink_copies_the_target_data(bucket: oss2.Bucket) -> None:
    bucket.put_symlink("target.bin", "link", headers={"x-oss-meta-who": "link"})
    bucket.copy_object(bucket.bucket_name, "link", "copy")
    copy = bucket.head_object("copy")
    assert (copy.object_type, copy.content_length) == ("Normal", 3000)
    assert bucket.get_object("copy").read() == DATA
    bucket.update_object_meta("link", {"x-oss-meta-who": "replaced"})  # a self-copy with REPLACE
    assert bucket.get_object("link").read() == DATA


def test_anonymous_read_through_a_symlink_needs_both_acls(clients: Clients, bucket: oss2.Bucket) -> None:
    bucket.put_symlink("target.bin", "public-link", headers={"x-oss-object-acl": "public-read"})
    public = clients.oss2_anonymous(bucket.bucket_name)
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.get_object("public-link")  # the target is private
    assert public.get_symlink("public-link").target_key == "target.bin"
    bucket.put_object_acl("target.bin", oss2.OBJECT_ACL_PUBLIC_READ)
    assert public.get_object("public-link").read() == DATA
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.put_symlink("target.bin", "anonymous-link")


def test_lifecycle_expires_and_moves_symlinks_like_objects(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(BucketLifecycle([
        LifecycleRule("links", "links/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=10)),
        LifecycleRule("cold", "cold/", status=LifecycleRule.ENABLED,
                      storage_transitions=[StorageTransition(days=1, storage_class="IA")]),
    ]))
    bucket.put_symlink("target.bin", "links/a")
    bucket.put_symlink("target.bin", "cold/b")
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=11)
    done = server.admin("lifecycle", "run", "--bucket", bucket.bucket_name, "--now", later.isoformat())
    assert done.returncode == 0, done.stdout + done.stderr
    assert not bucket.object_exists("links/a")
    assert bucket.get_object_meta("cold/b").content_length == len(b"target.bin")
    assert bucket.head_object("cold/b").headers["x-oss-storage-class"] == "IA"
    assert bucket.get_object("cold/b").read() == DATA  # the link moved, the target did not
    assert bucket.head_object("target.bin").headers["x-oss-storage-class"] == "Standard"
    assert_consistent(server)
