"""Reading bucket, key and query from the raw request target.

See docs/wire.md, Addressing and the request target.
"""

from __future__ import annotations

import pytest

from tessera.api.addressing import bucket_in_host
from tessera.api.oss.target import parse_target
from tessera.core.errors import InvalidObjectName


def test_oss2_and_v2_spellings_of_one_key_agree() -> None:
    oss2_style = parse_target("/b/dir%20one%2Fsub%2Bdir%2F%E6%96%87%E4%BB%B6%20%231.txt", "h", None)
    v2_style = parse_target("/b/dir%20one/sub%2Bdir/%E6%96%87%E4%BB%B6%20%231.txt", "h", None)
    assert oss2_style.key == v2_style.key == "dir one/sub+dir/文件 #1.txt"
    assert oss2_style.bucket == "b"


def test_paths_are_never_normalised() -> None:
    assert parse_target("/b/a//b/../c", "h", None).key == "a//b/../c"
    assert parse_target("/b/a+b", "h", None).key == "a+b"


def test_query_uses_form_decoding_and_keeps_blanks() -> None:
    target = parse_target("/b/?uploads=&prefix=a+b&marker=", "h", None)
    assert target.has("uploads") and target.get("prefix") == "a b" and target.get("marker", "none") == "none"


def test_service_and_bucket_targets() -> None:
    assert parse_target("/", "h", None).bucket == ""
    bucket = parse_target("/bkt/?acl", "h", None)
    assert (bucket.bucket, bucket.key) == ("bkt", "")


def test_virtual_hosted_requests() -> None:
    target = parse_target("/a/b.txt?x=1", "bkt.oss.local:9000", "oss.local")
    assert (target.bucket, target.key) == ("bkt", "a/b.txt")
    assert parse_target("/bkt/k", "oss.local:9000", "oss.local").bucket == "bkt"


def test_invalid_utf8_key() -> None:
    with pytest.raises(InvalidObjectName):
        parse_target("/b/%FF%FE", "h", None)


@pytest.mark.parametrize("host, bucket", [
    ("bkt.oss-cn-hangzhou.aliyuncs.com", "bkt"),
    ("bkt.oss-cn-hangzhou.aliyuncs.com:9000", "bkt"),
    ("BKT.OSS-CN-HANGZHOU.ALIYUNCS.COM.", "bkt"),
    ("bkt.oss-cn-hangzhou-internal.aliyuncs.com", "bkt"),
    ("bkt.oss-accelerate.aliyuncs.com", "bkt"),
    ("bkt.oss-accelerate-overseas.aliyuncs.com", "bkt"),
    ("bkt.cn-hangzhou.oss.aliyuncs.com", "bkt"),  # dual-stack
    ("-.oss-cn-hangzhou.aliyuncs.com", "-"),
    ("oss-cn-hangzhou.aliyuncs.com", None),  # the service itself: path style
    ("cn-hangzhou.oss.aliyuncs.com", None),
    ("127.0.0.1:9000", None),
    ("[::1]:9000", None),
    ("localhost:9000", None),
    ("bkt.localhost:9000", None),  # not a service domain, and no --domain
    ("a.b.oss-cn-hangzhou.aliyuncs.com", None),  # no bucket name has a dot
    ("bkt.example.com", None),
])
def test_buckets_named_by_oss_service_domains(host: str, bucket: str | None) -> None:
    assert bucket_in_host(host, None) == bucket


def test_buckets_named_by_the_servers_domain() -> None:
    assert bucket_in_host("bkt.localhost:9000", "localhost") == "bkt"
    assert bucket_in_host("bkt.Tessera.Test", "tessera.test.") == "bkt"
    assert bucket_in_host("tessera.test", "tessera.test") is None
    assert bucket_in_host("bkt.oss-cn-hangzhou.aliyuncs.com", "tessera.test") == "bkt"
    target = parse_target("/dir/k?acl", "bkt.oss-cn-hangzhou.aliyuncs.com", None)
    assert (target.bucket, target.key) == ("bkt", "dir/k")
