"""Object tags through oss2 and alibabacloud-oss-v2: x-oss-tagging on put, initiate and copy;
Put/Get/DeleteObjectTagging; x-oss-tagging-count; invalid tags refused."""

from __future__ import annotations

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import PartInfo, Tagging, TaggingRule

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def tags_of(bucket: oss2.Bucket, key: str) -> dict[str, str]:
    return bucket.get_object_tagging(key).tag_set.tagging_rule


def tagging(**pairs: str) -> Tagging:
    rule = TaggingRule()
    for key, value in pairs.items():
        rule.add(key, value)
    return Tagging(rule)


def test_tags_on_put_then_replaced_and_deleted(bucket: oss2.Bucket) -> None:
    bucket.put_object("k", b"data", headers={"x-oss-tagging": "team=ops&note=x%20y"})
    assert tags_of(bucket, "k") == {"team": "ops", "note": "x y"}
    head = bucket.head_object("k")
    assert head.headers["x-oss-tagging-count"] == "2"
    modified = head.last_modified
    bucket.put_object_tagging("k", tagging(tier="cold"))
    assert tags_of(bucket, "k") == {"tier": "cold"}
    assert bucket.head_object("k").last_modified == modified  # tags are not a new version
    bucket.delete_object_tagging("k")
    assert tags_of(bucket, "k") == {}
    assert "x-oss-tagging-count" not in bucket.head_object("k").headers
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object_tagging("missing")


def test_multipart_object_takes_the_tags_given_at_initiate(bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("mp", headers={"x-oss-tagging": "source=upload"}).upload_id
    etag = bucket.upload_part("mp", upload_id, 1, b"part").etag
    bucket.complete_multipart_upload("mp", upload_id, [PartInfo(1, etag)])
    assert tags_of(bucket, "mp") == {"source": "upload"}


def test_copy_keeps_or_replaces_tags(bucket: oss2.Bucket) -> None:
    bucket.put_object("src", b"data", headers={"x-oss-tagging": "a=1"})
    bucket.copy_object(bucket.bucket_name, "src", "kept")
    bucket.copy_object(bucket.bucket_name, "src", "replaced",
                       headers={"x-oss-tagging-directive": "Replace", "x-oss-tagging": "b=2"})
    assert (tags_of(bucket, "kept"), tags_of(bucket, "replaced")) == ({"a": "1"}, {"b": "2"})
    bucket.copy_object(bucket.bucket_name, "src", "src",
                       headers={"x-oss-tagging-directive": "Replace", "x-oss-tagging": "c=3"})
    assert tags_of(bucket, "src") == {"c": "3"} and bucket.get_object("src").read() == b"data"


def test_v2_round_trip(clients: Clients, bucket_name: str) -> None:
    client = clients.v2()
    client.put_object(oss.PutObjectRequest(bucket=bucket_name, key="v2", body=b"x", tagging="k=v"))
    client.put_object_tagging(oss.PutObjectTaggingRequest(
        bucket=bucket_name, key="v2",
        tagging=oss.Tagging(tag_set=oss.TagSet(tags=[oss.Tag(key="k", value="new"), oss.Tag(key="e", value="")]))))
    got = client.get_object_tagging(oss.GetObjectTaggingRequest(bucket=bucket_name, key="v2"))
    assert {t.key: t.value or "" for t in got.tag_set.tags} == {"k": "new", "e": ""}  # v2 reads <Value/> as None


@pytest.mark.parametrize("header", ["&".join(f"k{i}=v" for i in range(11)), "k=1&k=2", "k" * 129 + "=v",
                                    "k=" + "v" * 257, "=v"])
def test_invalid_tags_are_refused(bucket: oss2.Bucket, header: str) -> None:
    with pytest.raises(oss2.exceptions.ServerError) as refused:
        bucket.put_object("bad", b"x", headers={"x-oss-tagging": header})
    assert (refused.value.status, refused.value.code) == (400, "InvalidTag")
    assert not bucket.object_exists("bad")


def test_malformed_tagging_xml(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_object("k", b"x")
    response = raw.request(server, "PUT", bucket.bucket_name, "k", query={"tagging": ""},
                           body=b"<Tagging><Tag><Key>a</Key></Tag></Tagging>")
    assert (response.status, response.code) == (400, "MalformedXML")
