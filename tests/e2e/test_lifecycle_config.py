"""Lifecycle configurations through oss2 and alibabacloud-oss-v2: put, get (normalized), delete,
and the validation OSS applies."""

from __future__ import annotations

import datetime

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import (
    AbortMultipartUpload,
    BucketLifecycle,
    FilterNot,
    FilterNotTag,
    LifecycleExpiration,
    LifecycleFilter,
    LifecycleRule,
    StorageTransition,
    Tagging,
    TaggingRule,
)

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def _tagging(key: str, value: str) -> Tagging:
    rule = TaggingRule()
    rule.add(key, value)
    return Tagging(rule)


def test_oss2_round_trip(bucket: oss2.Bucket) -> None:
    rules = [
        LifecycleRule("logs", "logs/", status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(days=30),
                      storage_transitions=[StorageTransition(days=10, storage_class=oss2.BUCKET_STORAGE_CLASS_IA),
                                           StorageTransition(days=20,
                                                             storage_class=oss2.BUCKET_STORAGE_CLASS_ARCHIVE)]),
        LifecycleRule("parts", "tmp/", status=LifecycleRule.ENABLED,
                      abort_multipart_upload=AbortMultipartUpload(created_before_date=datetime.date(2026, 1, 1))),
        LifecycleRule("", "data/", status=LifecycleRule.DISABLED,
                      expiration=LifecycleExpiration(expired_detete_marker=True),
                      filter=LifecycleFilter([FilterNot("data/keep/", FilterNotTag("keep", "yes"))])),
        LifecycleRule("tagged", "tagged/", status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(created_before_date=datetime.date(2025, 6, 1)),
                      tagging=_tagging("team", "ops"),
                      filter=LifecycleFilter(object_size_greater_than=1024)),
    ]
    bucket.put_bucket_lifecycle(BucketLifecycle(rules))
    got = {r.prefix: r for r in bucket.get_bucket_lifecycle().rules}
    assert set(got) == {"logs/", "tmp/", "data/", "tagged/"}
    logs = got["logs/"]
    assert (logs.id, logs.status, logs.expiration.days) == ("logs", "Enabled", 30)
    assert [(t.days, t.storage_class) for t in logs.storage_transitions] == [(10, "IA"), (20, "Archive")]
    assert got["tmp/"].abort_multipart_upload.created_before_date == datetime.date(2026, 1, 1)
    data = got["data/"]
    assert data.id.startswith("rule-") and data.status == "Disabled"
    assert data.expiration.expired_detete_marker is True  # written as "True", read back as "true"
    assert [(n.prefix, n.tag.key, n.tag.value) for n in data.filter.filter_not] == [("data/keep/", "keep", "yes")]
    tagged = got["tagged/"]
    assert tagged.expiration.created_before_date == datetime.date(2025, 6, 1)
    assert tagged.tagging.tag_set.tagging_rule == {"team": "ops"}
    assert tagged.filter.object_size_greater_than == 1024


def test_get_is_normalized(server: TesseraServer, bucket: oss2.Bucket) -> None:
    body = (b"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration>"
            b"<ExpiredObjectDeleteMarker>True</ExpiredObjectDeleteMarker></Expiration></Rule>"
            b"<Rule><AbortMultipartUpload><CreatedBeforeDate>2026-02-01T00:00:00Z</CreatedBeforeDate>"
            b"</AbortMultipartUpload><Prefix>a/</Prefix><ID>second</ID><Status>Disabled</Status></Rule>"
            b"</LifecycleConfiguration>")
    assert raw.request(server, "PUT", bucket.bucket_name, query={"lifecycle": ""}, body=body).status == 200
    xml = raw.request(server, "GET", bucket.bucket_name, query={"lifecycle": ""}).body.decode()
    assert "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>" in xml
    assert "<Prefix></Prefix><Status>Enabled</Status>" in xml  # ID, Prefix, Status always present
    assert "<CreatedBeforeDate>2026-02-01T00:00:00.000Z</CreatedBeforeDate>" in xml
    assert "<ID>second</ID><Prefix>a/</Prefix><Status>Disabled</Status>" in xml


def test_v2_round_trip(clients: Clients, bucket_name: str) -> None:
    client = clients.v2()
    midnight = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
    client.put_bucket_lifecycle(oss.PutBucketLifecycleRequest(
        bucket=bucket_name,
        lifecycle_configuration=oss.LifecycleConfiguration(rules=[
            oss.LifecycleRule(id="uploads", prefix="big/", status="Enabled",
                              abort_multipart_upload=oss.LifecycleRuleAbortMultipartUpload(days=3)),
            oss.LifecycleRule(id="cold", prefix="archive/", status="Enabled",
                              transitions=[oss.LifecycleRuleTransition(created_before_date=midnight,
                                                                       storage_class="ColdArchive")],
                              tags=[oss.Tag(key="tier", value="cold")],
                              filter=oss.LifecycleRuleFilter(object_size_less_than=4096,
                                                             nots=[oss.LifecycleRuleNot(prefix="archive/hot/")])),
        ]),
    ))
    got = {r.id: r for r in client.get_bucket_lifecycle(
        oss.GetBucketLifecycleRequest(bucket=bucket_name)).lifecycle_configuration.rules}
    assert got["uploads"].abort_multipart_upload.days == 3 and got["uploads"].prefix == "big/"
    cold = got["cold"]
    assert cold.transitions[0].storage_class == "ColdArchive"
    assert cold.transitions[0].created_before_date == midnight
    assert [(t.key, t.value) for t in cold.tags] == [("tier", "cold")]
    assert cold.filter.object_size_less_than == 4096
    assert [n.prefix for n in cold.filter.nots] == ["archive/hot/"]


def test_no_such_lifecycle_and_delete(clients: Clients, bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()
    client = clients.v2()
    with pytest.raises(oss.exceptions.OperationError) as missing:
        client.get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=bucket.bucket_name))
    assert missing.value.unwrap().code == "NoSuchLifecycle"
    bucket.put_bucket_lifecycle(BucketLifecycle([LifecycleRule("x", "x/", status=LifecycleRule.ENABLED,
                                                               expiration=LifecycleExpiration(days=1))]))
    bucket.delete_bucket_lifecycle()
    bucket.delete_bucket_lifecycle()  # deleting what is not there is fine
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


def test_deleting_the_bucket_forgets_its_rules(clients: Clients) -> None:
    bucket = clients.oss2_bucket("lifecycle-reborn")
    bucket.create_bucket()
    bucket.put_bucket_lifecycle(BucketLifecycle([LifecycleRule("x", "", status=LifecycleRule.ENABLED,
                                                               expiration=LifecycleExpiration(days=1))]))
    bucket.delete_bucket()
    bucket.create_bucket()
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()
    bucket.delete_bucket()


def _rule(inner: str, *, prefix: str = "p/", rule_id: str = "r") -> str:
    return f"<Rule><ID>{rule_id}</ID><Prefix>{prefix}</Prefix><Status>Enabled</Status>{inner}</Rule>"


def _config(*rules: str) -> bytes:
    return f"<LifecycleConfiguration>{''.join(rules)}</LifecycleConfiguration>".encode()


EXPIRE = "<Expiration><Days>5</Days></Expiration>"

INVALID = {
    "no rule": (_config(), "InvalidArgument"),
    "no action": (_config(_rule("")), "InvalidArgument"),
    "days zero": (_config(_rule("<Expiration><Days>0</Days></Expiration>")), "InvalidArgument"),
    "days and date": (_config(_rule("<AbortMultipartUpload><Days>1</Days><CreatedBeforeDate>2026-01-01T00:00:00"
                                    ".000Z</CreatedBeforeDate></AbortMultipartUpload>")), "InvalidArgument"),
    "empty action": (_config(_rule("<AbortMultipartUpload></AbortMultipartUpload>")), "InvalidArgument"),
    "not midnight": (_config(_rule("<Expiration><CreatedBeforeDate>2026-01-01T12:00:00.000Z</CreatedBeforeDate>"
                                   "</Expiration>")), "InvalidArgument"),
    "duplicate id": (_config(_rule(EXPIRE, prefix="a/"), _rule(EXPIRE, prefix="b/")), "InvalidArgument"),
    "too many rules": (_config(*(_rule(EXPIRE, prefix=f"{i}/", rule_id=f"r{i}") for i in range(1001))),
                       "InvalidArgument"),
    "bad class": (_config(_rule("<Transition><Days>1</Days><StorageClass>Standard</StorageClass></Transition>")),
                  "InvalidArgument"),
    "transition after expiration": (_config(_rule(EXPIRE + "<Transition><Days>9</Days><StorageClass>IA"
                                                  "</StorageClass></Transition>")), "InvalidArgument"),
    "warmer later": (_config(_rule("<Transition><Days>5</Days><StorageClass>Archive</StorageClass></Transition>"
                                   "<Transition><Days>9</Days><StorageClass>IA</StorageClass></Transition>")),
                     "InvalidArgument"),
    "tag with abort": (_config(_rule("<Tag><Key>k</Key><Value>v</Value></Tag><AbortMultipartUpload><Days>1</Days>"
                                     "</AbortMultipartUpload>")), "InvalidArgument"),
    "not outside prefix": (_config(_rule(EXPIRE + "<Filter><Not><Prefix>q/</Prefix></Not></Filter>")),
                           "InvalidArgument"),
    "sizes match nothing": (_config(_rule(EXPIRE + "<Filter><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan>"
                                              "<ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>")),
                            "InvalidArgument"),
    "overlap": (_config(_rule(EXPIRE, prefix="a/", rule_id="one"), _rule(EXPIRE, prefix="a/b/", rule_id="two")),
                "InvalidArgument"),
    "no status": (b"<LifecycleConfiguration><Rule><ID>r</ID><Expiration><Days>1</Days></Expiration></Rule>"
                  b"</LifecycleConfiguration>", "MalformedXML"),
    "days not a number": (_config(_rule("<Expiration><Days>ten</Days></Expiration>")), "MalformedXML"),
    "bad date": (_config(_rule("<Expiration><CreatedBeforeDate>yesterday</CreatedBeforeDate></Expiration>")),
                 "MalformedXML"),
    "bad boolean": (_config(_rule("<Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker>"
                                  "</Expiration>")), "MalformedXML"),
    "wrong root": (b"<Lifecycle></Lifecycle>", "MalformedXML"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_configurations_are_refused(server: TesseraServer, bucket: oss2.Bucket, case: str) -> None:
    bucket.put_bucket_lifecycle(BucketLifecycle([LifecycleRule("keep", "keep/", status=LifecycleRule.ENABLED,
                                                               expiration=LifecycleExpiration(days=7))]))
    body, code = INVALID[case]
    response = raw.request(server, "PUT", bucket.bucket_name, query={"lifecycle": ""}, body=body)
    assert (response.status, response.code) == (400, code), response.body
    assert [r.id for r in bucket.get_bucket_lifecycle().rules] == ["keep"]  # the old rules stand


def test_overlap_allowed_when_asked(clients: Clients, bucket_name: str) -> None:
    client = clients.v2()
    rules = [oss.LifecycleRule(id=f"r{i}", prefix=prefix, status="Enabled",
                               expiration=oss.LifecycleRuleExpiration(days=3))
             for i, prefix in enumerate(["a/", "a/b/"])]
    with pytest.raises(oss.exceptions.OperationError):
        client.put_bucket_lifecycle(oss.PutBucketLifecycleRequest(
            bucket=bucket_name, lifecycle_configuration=oss.LifecycleConfiguration(rules=rules)))
    client.put_bucket_lifecycle(oss.PutBucketLifecycleRequest(
        bucket=bucket_name, allow_same_action_overlap="true",
        lifecycle_configuration=oss.LifecycleConfiguration(rules=rules)))
    got = client.get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=bucket_name))
    assert [r.prefix for r in got.lifecycle_configuration.rules] == ["a/", "a/b/"]
