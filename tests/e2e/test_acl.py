"""Object and bucket ACLs, honoured: what anonymous requests and keys that do not own a bucket
may do, and what only owners and root keys may do."""

from __future__ import annotations

import os
from xml.etree import ElementTree

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import PartInfo

from tests.support import raw
from tests.support.checks import assert_consistent
from tests.support.clients import Clients
from tests.support.keys import create_key
from tests.support.server import TesseraServer


@pytest.fixture(scope="module")
def other(server: TesseraServer) -> TesseraServer:
    """A second, non-root key of the same server (a handle that signs with it)."""
    return create_key(server)


def anonymous(server: TesseraServer, method: str, bucket: str, key: str = "", *,
              query: dict[str, str] | None = None, body: bytes = b"",
              headers: dict[str, str] | None = None) -> raw.RawResponse:
    return raw.unsigned_request(server, method, raw.path_of(bucket, key, query or {}), body, headers=headers)


def v2_error(call) -> tuple[int, str]:
    with pytest.raises(oss.exceptions.OperationError) as failed:
        call()
    error = failed.value.unwrap()
    return error.status_code, error.code


# --- PutObjectAcl / GetObjectAcl ----------------------------------------------------------

def test_oss2_object_acl_round_trip(clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.put_object("k", b"data")
    assert bucket.get_object_acl("k").acl == oss2.OBJECT_ACL_DEFAULT
    for acl in (oss2.OBJECT_ACL_PRIVATE, oss2.OBJECT_ACL_PUBLIC_READ, oss2.OBJECT_ACL_PUBLIC_READ_WRITE,
                oss2.OBJECT_ACL_DEFAULT):
        bucket.put_object_acl("k", acl)
        assert bucket.get_object_acl("k").acl == acl
    assert bucket.get_object("k").read() == b"data"


def test_v2_object_acl_round_trip_with_owner(clients: Clients, server: TesseraServer, bucket_name: str) -> None:
    client = clients.v2()
    client.put_object(oss.PutObjectRequest(bucket=bucket_name, key="k", body=b"data"))
    client.put_object_acl(oss.PutObjectAclRequest(bucket=bucket_name, key="k", acl="public-read-write"))
    result = client.get_object_acl(oss.GetObjectAclRequest(bucket=bucket_name, key="k"))
    assert (result.acl, result.owner.id) == ("public-read-write", server.access_key_id)


def test_object_acl_errors(clients: Clients, server: TesseraServer, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.put_object("k", b"data")
    with pytest.raises(oss2.exceptions.InvalidArgument) as invalid:
        bucket.put_object_acl("k", "public")
    assert (invalid.value.status, invalid.value.name, invalid.value.value) == (400, "x-oss-object-acl", "public")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.put_object_acl("missing", oss2.OBJECT_ACL_PRIVATE)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object_acl("missing")
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        clients.oss2_bucket("no-such-bucket-acl").get_object_acl("k")
    client = clients.v2()
    assert v2_error(lambda: client.put_object_acl(
        oss.PutObjectAclRequest(bucket=bucket_name, key="k", acl="everyone"))) == (400, "InvalidArgument")
    assert v2_error(lambda: client.get_object_acl(
        oss.GetObjectAclRequest(bucket=bucket_name, key="missing"))) == (404, "NoSuchKey")
    no_header = raw.request(server, "PUT", bucket_name, "k", query={"acl": ""})
    assert (no_header.status, no_header.code) == (400, "InvalidArgument")
    assert bucket.get_object_acl("k").acl == oss2.OBJECT_ACL_DEFAULT


def test_acl_given_by_every_writer(clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    private = {"x-oss-object-acl": oss2.OBJECT_ACL_PRIVATE}
    bucket.put_object("put", b"p", headers={"x-oss-object-acl": oss2.OBJECT_ACL_PUBLIC_READ})
    assert bucket.get_object_acl("put").acl == oss2.OBJECT_ACL_PUBLIC_READ
    upload_id = bucket.init_multipart_upload("multi", headers=private).upload_id
    part = bucket.upload_part("multi", upload_id, 1, b"m" * 10)
    bucket.complete_multipart_upload("multi", upload_id, [PartInfo(1, part.etag)])
    assert bucket.get_object_acl("multi").acl == oss2.OBJECT_ACL_PRIVATE
    upload_id = bucket.init_multipart_upload("multi", headers=private).upload_id
    part = bucket.upload_part("multi", upload_id, 1, b"m" * 10)
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.complete_multipart_upload("multi", upload_id, [PartInfo(1, part.etag)],
                                         headers={"x-oss-object-acl": "open"})
    bucket.complete_multipart_upload("multi", upload_id, [PartInfo(1, part.etag)],
                                     headers={"x-oss-object-acl": "public-read"})  # Complete's header wins
    assert bucket.get_object_acl("multi").acl == oss2.OBJECT_ACL_PUBLIC_READ
    # A copy gets the ACL it asks for, never the source's (default without the header).
    bucket.copy_object(bucket_name, "put", "copied")
    assert bucket.get_object_acl("copied").acl == oss2.OBJECT_ACL_DEFAULT
    bucket.copy_object(bucket_name, "put", "copied", headers={"x-oss-object-acl": "public-read-write"})
    assert bucket.get_object_acl("copied").acl == oss2.OBJECT_ACL_PUBLIC_READ_WRITE
    client = clients.v2()
    client.put_object(oss.PutObjectRequest(bucket=bucket_name, key="v2", body=b"v", acl="public-read"))
    assert client.get_object_acl(oss.GetObjectAclRequest(bucket=bucket_name, key="v2")).acl == "public-read"


def test_invalid_acl_at_write_stores_nothing(clients: Clients, server: TesseraServer, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    bad = {"x-oss-object-acl": "open"}
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_object("bad", os.urandom(2000), headers=bad)
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.init_multipart_upload("bad", headers=bad)
    bucket.put_object("src", b"s")
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.copy_object(bucket_name, "src", "bad", headers=bad)
    assert not bucket.object_exists("bad")
    assert list(oss2.MultipartUploadIterator(bucket)) == []
    assert_consistent(server)


# --- anonymous requests ---------------------------------------------------------------------

def test_private_bucket_refuses_anonymous_requests(clients: Clients, server: TesseraServer, bucket_name: str) -> None:
    clients.oss2_bucket(bucket_name).put_object("k", b"secret")
    public = clients.oss2_anonymous(bucket_name)
    for call in (lambda: public.get_object("k"), lambda: public.head_object("k"),
                 lambda: public.get_object_meta("k"), lambda: public.put_object("k", b"x"),
                 lambda: public.delete_object("k"), lambda: list(oss2.ObjectIterator(public)),
                 lambda: public.get_bucket_acl()):
        with pytest.raises(oss2.exceptions.AccessDenied):
            call()
    assert clients.oss2_bucket(bucket_name).get_object("k").read() == b"secret"
    missing = anonymous(server, "GET", "no-such-bucket-anon", "k")
    assert (missing.status, missing.code) == (404, "NoSuchBucket")


def test_public_read_object_in_a_private_bucket(clients: Clients, server: TesseraServer, bucket_name: str) -> None:
    owner = clients.oss2_bucket(bucket_name)
    owner.put_object("open", b"for everyone", headers={"x-oss-object-acl": "public-read"})
    owner.put_object("closed", b"for me")
    public = clients.oss2_anonymous(bucket_name)
    assert public.get_object("open").read() == b"for everyone"
    assert public.get_object("open", byte_range=(4, 6)).read() == b"eve"
    assert public.head_object("open").content_length == 12
    assert public.get_object_meta("open").content_length == 12
    v2 = clients.v2_anonymous()
    assert v2.get_object(oss.GetObjectRequest(bucket=bucket_name, key="open")).body.read() == b"for everyone"
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.get_object("closed")
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.put_object("open", b"overwritten")
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.get_object_acl("open")
    with pytest.raises(oss2.exceptions.AccessDenied):
        list(oss2.ObjectIterator(public))  # listing follows the bucket's ACL only
    assert v2_error(lambda: v2.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket_name))) == (403, "AccessDenied")
    # Making it private again closes it.
    owner.put_object_acl("open", oss2.OBJECT_ACL_PRIVATE)
    head = anonymous(server, "HEAD", bucket_name, "open")
    assert head.status == 403 and "x-oss-err" in head.headers


def test_public_read_write_object_in_a_private_bucket(clients: Clients, bucket_name: str) -> None:
    owner = clients.oss2_bucket(bucket_name)
    owner.put_object("shared", b"v1", headers={"x-oss-object-acl": "public-read-write"})
    public = clients.oss2_anonymous(bucket_name)
    public.put_object("shared", b"v2 by anyone", headers={"x-oss-object-acl": "public-read-write"})
    assert owner.get_object("shared").read() == b"v2 by anyone"
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.put_object("elsewhere", b"x")  # a new key has the bucket's ACL: private
    public.delete_object("shared")
    assert not owner.object_exists("shared")
    # An overwrite without x-oss-object-acl leaves the new object at default: the bucket's, private.
    owner.put_object("shared", b"v3", headers={"x-oss-object-acl": "public-read-write"})
    public.put_object("shared", b"v4")
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.delete_object("shared")
    assert owner.get_object("shared").read() == b"v4"


def test_default_object_acl_follows_the_bucket(clients: Clients, server: TesseraServer, bucket_name: str) -> None:
    owner = clients.oss2_bucket(bucket_name)
    owner.put_object("inherits", b"i")
    owner.put_object("private", b"p", headers={"x-oss-object-acl": "private"})
    public = clients.oss2_anonymous(bucket_name)
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.get_object("inherits")
    owner.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert public.get_object("inherits").read() == b"i"
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.get_object("private")  # its own ACL wins over the bucket's
    assert [o.key for o in oss2.ObjectIterator(public)] == ["inherits", "private"]
    v2 = clients.v2_anonymous()
    listed = v2.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket_name))
    assert [o.key for o in listed.contents] == ["inherits", "private"]
    with pytest.raises(oss2.exceptions.NoSuchKey):
        public.get_object("missing")
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.put_object("new", b"n")
    for method, query in (("GET", {"acl": ""}), ("PUT", {"acl": ""}), ("GET", {"stat": ""}),
                          ("GET", {"bucketInfo": ""}), ("DELETE", {}), ("GET", {"lifecycle": ""})):
        answer = anonymous(server, method, bucket_name, query=query, headers={"x-oss-acl": "public-read-write"})
        assert (answer.status, answer.code) == (403, "AccessDenied"), (method, query)
    assert owner.get_bucket_acl().acl == oss2.BUCKET_ACL_PUBLIC_READ
    owner.put_object_acl("inherits", oss2.OBJECT_ACL_PRIVATE)
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.get_object("inherits")


def test_public_read_write_bucket_takes_anonymous_writes(clients: Clients, server: TesseraServer,
                                                        bucket_name: str) -> None:
    owner = clients.oss2_bucket(bucket_name)
    owner.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    public = clients.oss2_anonymous(bucket_name)
    public.put_object("dropbox/one", b"anonymous upload")
    upload_id = public.init_multipart_upload("dropbox/big").upload_id
    part = public.upload_part("dropbox/big", upload_id, 1, b"b" * 100)
    assert [p.part_number for p in public.list_parts("dropbox/big", upload_id).parts] == [1]
    public.complete_multipart_upload("dropbox/big", upload_id, [PartInfo(1, part.etag)])
    assert owner.get_object("dropbox/big").read() == b"b" * 100
    public.copy_object(bucket_name, "dropbox/one", "dropbox/copy")
    v2 = clients.v2_anonymous()
    v2.put_object(oss.PutObjectRequest(bucket=bucket_name, key="dropbox/v2", body=b"v2"))
    assert sorted(o.key for o in oss2.ObjectIterator(public)) == [
        "dropbox/big", "dropbox/copy", "dropbox/one", "dropbox/v2"]
    public.batch_delete_objects(["dropbox/copy", "dropbox/v2"])
    public.delete_object("dropbox/one")
    assert [o.key for o in oss2.ObjectIterator(owner)] == ["dropbox/big"]
    for method, query in (("PUT", {"acl": ""}), ("DELETE", {}), ("PUT", {"lifecycle": ""})):
        answer = anonymous(server, method, bucket_name, query=query, headers={"x-oss-acl": "private"})
        assert (answer.status, answer.code) == (403, "AccessDenied"), (method, query)
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.put_object_acl("dropbox/big", oss2.OBJECT_ACL_PUBLIC_READ)
    owner.put_object_acl("dropbox/big", oss2.OBJECT_ACL_PUBLIC_READ)
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.delete_object("dropbox/big")  # its own ACL allows reads only
    public.put_object("dropbox/two", b"2")
    with pytest.raises(oss2.exceptions.AccessDenied):
        public.batch_delete_objects(["dropbox/two", "dropbox/big"])  # one of them is not writable: none go
    assert owner.object_exists("dropbox/two") and owner.object_exists("dropbox/big")
    public.batch_delete_objects(["dropbox/two", "dropbox/never-was"])
    assert [o.key for o in oss2.ObjectIterator(owner)] == ["dropbox/big"]
    assert_consistent(server)


def test_anonymous_service_and_bucket_creation_are_refused(clients: Clients, server: TesseraServer) -> None:
    with pytest.raises(oss2.exceptions.AccessDenied):
        oss2.Service(oss2.AnonymousAuth(), server.endpoint).list_buckets()
    with pytest.raises(oss2.exceptions.AccessDenied):
        clients.oss2_anonymous("anonymous-made-bucket").create_bucket()
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        clients.oss2_bucket("anonymous-made-bucket").get_bucket_info()


# --- keys that do not own a bucket --------------------------------------------------------

def test_another_key_is_refused_on_a_bucket_it_does_not_own(clients: Clients, other: TesseraServer,
                                                            bucket_name: str) -> None:
    clients.oss2_bucket(bucket_name).put_object("k", b"root's")
    theirs = Clients(other)
    bucket = theirs.oss2_bucket(bucket_name)
    for call in (lambda: bucket.get_object("k"), lambda: bucket.put_object("k", b"x"),
                 lambda: bucket.delete_object("k"), lambda: bucket.get_bucket_info(),
                 lambda: bucket.get_bucket_acl(), lambda: bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ),
                 lambda: list(oss2.ObjectIterator(bucket)), lambda: bucket.init_multipart_upload("k"),
                 lambda: bucket.delete_bucket()):
        with pytest.raises(oss2.exceptions.AccessDenied):
            call()
    client = theirs.v2()
    assert v2_error(lambda: client.get_object(oss.GetObjectRequest(bucket=bucket_name, key="k"))) == (
        403, "AccessDenied")
    assert client.is_bucket_exist(bucket_name)  # AccessDenied, not NoSuchBucket: it exists
    assert clients.oss2_bucket(bucket_name).get_object("k").read() == b"root's"


def test_another_key_gets_what_the_acl_grants_everyone(clients: Clients, other: TesseraServer,
                                                       bucket_name: str) -> None:
    owner = clients.oss2_bucket(bucket_name)
    owner.put_object("open", b"readable", headers={"x-oss-object-acl": "public-read"})
    bucket = Clients(other).oss2_bucket(bucket_name, "v4")
    assert bucket.get_object("open").read() == b"readable"
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.put_object("open", b"x")
    owner.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    bucket.put_object("theirs", b"written by another key")
    assert owner.get_object("theirs").read() == b"written by another key"
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.get_bucket_info()


def test_a_key_owns_its_own_buckets(clients: Clients, other: TesseraServer, bucket_name: str) -> None:
    theirs = Clients(other)
    mine = f"{bucket_name}-own"
    bucket = theirs.oss2_bucket(mine)
    bucket.create_bucket()
    bucket.put_object("k", b"mine")
    assert bucket.get_bucket_info().owner.id == other.access_key_id
    assert bucket.get_object_acl("k").acl == oss2.OBJECT_ACL_DEFAULT
    listed = [b.name for b in oss2.BucketIterator(oss2.Service(oss2.Auth(other.access_key_id,
                                                                          other.access_key_secret),
                                                                other.endpoint))]
    assert mine in listed and bucket_name not in listed  # only its own
    everything = [b.name for b in oss2.BucketIterator(clients.oss2_service())]
    assert {mine, bucket_name} <= set(everything)  # a root key lists every bucket
    assert clients.oss2_bucket(mine).get_object("k").read() == b"mine"  # root keys administer all
    v2_names = [b.name for b in theirs.v2().list_buckets(oss.ListBucketsRequest()).buckets]
    assert mine in v2_names and bucket_name not in v2_names
    with pytest.raises(oss2.exceptions.ServerError) as taken:
        theirs.oss2_bucket(bucket_name).create_bucket()
    assert (taken.value.status, taken.value.code) == (409, "BucketAlreadyExists")
    bucket.delete_object("k")
    bucket.delete_bucket()


def test_copy_needs_read_access_to_the_source(clients: Clients, other: TesseraServer, bucket_name: str) -> None:
    owner = clients.oss2_bucket(bucket_name)
    owner.put_object("private", b"p")
    owner.put_object("open", b"o", headers={"x-oss-object-acl": "public-read"})
    theirs = Clients(other)
    mine = f"{bucket_name}-copies"
    bucket = theirs.oss2_bucket(mine)
    bucket.create_bucket()
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.copy_object(bucket_name, "private", "stolen")
    upload_id = bucket.init_multipart_upload("part-copy").upload_id
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.upload_part_copy(bucket_name, "private", None, "part-copy", upload_id, 1)
    bucket.copy_object(bucket_name, "open", "copied")
    bucket.upload_part_copy(bucket_name, "open", None, "part-copy", upload_id, 1)
    assert bucket.get_object("copied").read() == b"o"
    assert not bucket.object_exists("stolen")
    bucket.abort_multipart_upload("part-copy", upload_id)
    bucket.delete_object("copied")
    bucket.delete_bucket()


def test_get_object_acl_document(clients: Clients, server: TesseraServer, bucket_name: str) -> None:
    clients.oss2_bucket(bucket_name).put_object("k", b"x", headers={"x-oss-object-acl": "private"})
    answer = raw.request(server, "GET", bucket_name, "k", query={"acl": ""})
    root = ElementTree.fromstring(answer.body)
    assert root.tag == "AccessControlPolicy"
    assert [c.tag for c in root] == ["Owner", "AccessControlList"]
    assert root.findtext("Owner/ID") == server.access_key_id
    assert root.findtext("AccessControlList/Grant") == "private"
