"""A seeded generator of malformed and hostile requests, and a raw-socket client to send them.

Each request is drawn from a table of templates (an OSS operation, an admin endpoint or an abuse
of HTTP itself), filled with hostile values (keys, numbers, dates, XML bodies, headers) and then
signed — V1 or V4, in a header or presigned — or sent unsigned, tampered with or expired. The same
seed gives the same requests. Requests are written byte for byte on a socket, since http.client
refuses to send most of them.

Signatures are computed with the server's own canonicalisation (``tessera.api.auth``): what is
tested here is what lies behind the gate, not the gate's arithmetic (tests/e2e/test_auth.py
checks that against the SDKs).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import http.client
import json
import random
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import quote

from multidict import CIMultiDict

from tessera.api.auth import oss_v1, oss_v4
from tessera.api.auth.request import RequestToVerify
from tests.support.server import TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET

REGION = "cn-hangzhou"
TIMEOUT = 20.0  # seconds a request may take before it counts as a hang


@dataclass
class Hostile:
    """One request: what it addresses (decoded, for signing) and how it goes on the wire."""

    method: str
    bucket: str = ""
    key: str = ""
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    auth: str = "v1"  # v1 | v4 | v1-url | v4-url | none | tampered | expired | raw-auth
    transport: str = "plain"  # plain | truncate | half-close | short-length | chunked | chunked-cut | raw
    raw: bytes = b""  # the whole request, for transport "raw"
    slash_safe: str = ""  # oss2 quotes '/' in keys, v2 keeps it
    name: str = ""  # the template, for reports

    def describe(self) -> str:
        shown = self.raw[:160] if self.transport == "raw" else f"{self.method} /{self.bucket}/{self.key!r}?{self.query}"
        return f"{self.name} [{self.auth}, {self.transport}] {shown!r}"[:400]


@dataclass
class Credentials:
    access_key_id: str
    secret: str


# --- hostile values ------------------------------------------------------------------------

CONTROL = [chr(c) for c in range(1, 32)] + ["\x7f"]
KEYS = [
    "k", "dir/k", "../up", "a/../../b", "./x", "a//b", "..", "/leading", "\\back", "a\r\nb", "\n", "tab\tkey",
    "nul\x00key", "\x00", "é/文件", "emoji-\U0001f600", "%2F", "%", "+plus", "?q#h", " ", "k" * 1023, "k" * 1024,
    "é" * 600, "\ufeffbom", "\uf0001private", "a\x01b\x1fc", "trailing/", "x" * 3000,
]
NUMBERS = ["0", "1", "2", "10000", "10001", "-1", "", "²", "٣", "1²", "0x10", "1e3", " 1", "+1", "1" * 30, "9" * 5000,
           "18446744073709551616", "007", "1.5", "NaN", "∞"]
HTTP_DATES = ["Mon, 01 Jan 2024 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Sat, 01 Jan 0001 00:00:00 +2359",
              "yesterday", "", "Mon, 32 Jan 2024 25:61:61 GMT", "Mon, 01 Jan 99999 00:00:00 GMT",
              "Mon, 01 Jan 2024 00:00:00 +9999", "0", "\u00e9"]
ISO_DATES = ["0001-01-01T00:00:00+23:59", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
             "9999-12-31T23:59:59.9999Z", "9999-12-31T00:00:00.000Z", "0001-01-01T00:00:00Z", "2026-02-30T00:00:00Z",
             "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+99:99", "٢٠٢٦-01-01", "2026-01-01", "soon", "",
             "2026-01-01T00:00:00.000001Z", "-2026-01-01", "2026-01-01T00:00:00.0000000000000Z"]
RANGES = ["bytes=0-0", "bytes=0-", "bytes=-1", "bytes=-0", "bytes=5-2", "bytes=99999999999999999999-",
          "bytes=-99999999999999999999", "bytes=²-3", "bytes=٣-", "bytes=0-1,3-4", "bytes=", "items=0-1", "bytes=--1",
          "bytes=a-b", "bytes=0-" + "9" * 100, "bytes=0-" + "9" * 5000, "bytes=" + "1" * 5000 + "-",
          "bytes=-" + "9" * 5000]
ETAGS = ['"abc"', "*", "", '"' + "A" * 32 + '"', "é", '"x", "y"', "W/\"x\"", "\"" * 50]


def hostile_key(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return "k" + rng.choice(CONTROL) + str(rng.randrange(100))
    return rng.choice(KEYS)


def hostile_text(rng: random.Random) -> str:
    return rng.choice(["", "x", "é", "a" * rng.choice([10, 300, 3000]), rng.choice(CONTROL), "\x00", "<>&'\"",
                       "%00", "%ZZ", rng.choice(NUMBERS), rng.choice(ISO_DATES), "../..", "\ufffd"])


# --- XML bodies --------------------------------------------------------------------------

def _wrap(rng: random.Random, root: str) -> bytes:
    """``root`` as UTF-8, or spoilt in one of the ways XML can be."""
    roll = rng.random()
    if roll < 0.45:
        return root.encode()
    choice = rng.randrange(17)
    if choice == 0:
        return ('<?xml version="1.0" encoding="UTF-16"?>' + root).encode("utf-16")
    if choice == 1:
        return (f'<?xml version="1.0" encoding="{rng.choice(["UTF-16", "UTF-32", "UTF-7", "GBK", "bogus", "latin-1", "utf8", "ascii"])}"?>'
                + root).encode()
    if choice == 2:
        return (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>' + root.encode().replace(b"</", b"&c;</", 1))
    if choice == 3:
        return b'<!DOCTYPE r SYSTEM "file:///etc/passwd">' + root.encode()
    if choice == 4:
        return b"<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>" + root.encode().replace(b"</", b"&x;</", 1)
    if choice == 5:
        depth = rng.choice([1000, 20_000])
        return root.encode().replace(b"</", b"<d>" * depth + b"</d>" * depth + b"</", 1)
    if choice == 6:
        return root.encode()[: rng.randrange(max(1, len(root)))]
    if choice == 7:
        return root.encode().replace(b">", b">&#" + rng.choice([b"0", b"1", b"x1f", b"1114112", b"9" * 50]) + b";", 2)
    if choice == 8:
        return root.encode().replace(b">", b">\xff\xfe", 1)
    if choice == 9:
        return b"\x00" + root.encode()
    if choice == 10:
        return root.encode().replace(b"<", b"<ns:", 1)
    if choice == 11:
        return b"\xef\xbb\xbf" + root.encode()
    if choice == 12:
        return root.encode().replace(b">", b"><![CDATA[\x01]]><!-- c --><?pi x?>", 1)
    if choice == 13:
        return root.encode() + b"<trailing/>"
    if choice == 14:
        return b"<Other>" + root.encode() + b"</Other>"
    if choice == 15:
        return root.encode().replace(b">", b">" + b"x" * 20_000, 1)
    return b""


def complete_xml(rng: random.Random, parts: int = 3) -> bytes:
    inner = "".join(f"<Part><PartNumber>{rng.choice(NUMBERS) if rng.random() < 0.5 else i + 1}</PartNumber>"
                    f"<ETag>{rng.choice(ETAGS)}</ETag></Part>" for i in range(rng.choice([0, 1, parts, 50])))
    return _wrap(rng, f"<CompleteMultipartUpload>{inner}</CompleteMultipartUpload>")


def delete_xml(rng: random.Random) -> bytes:
    keys = "".join(f"<Object><Key>{_xml_escape(hostile_key(rng))}</Key></Object>" for _ in range(rng.choice([0, 1, 5])))
    quiet = rng.choice(["", "<Quiet>true</Quiet>", "<Quiet>maybe</Quiet>"])
    return _wrap(rng, f"<Delete>{quiet}{keys}</Delete>")


def tagging_xml(rng: random.Random) -> bytes:
    tags = "".join(f"<Tag><Key>{_xml_escape(hostile_text(rng))}</Key><Value>{_xml_escape(hostile_text(rng))}</Value></Tag>"
                   for _ in range(rng.choice([0, 1, 11])))
    return _wrap(rng, f"<Tagging><TagSet>{tags}</TagSet></Tagging>")


def lifecycle_xml(rng: random.Random) -> bytes:
    def when() -> str:
        if rng.random() < 0.5:
            return f"<Days>{rng.choice(NUMBERS + ['999999999999999999', '2147483647', '2147483648'])}</Days>"
        return f"<CreatedBeforeDate>{rng.choice(ISO_DATES)}</CreatedBeforeDate>"

    actions = [f"<Expiration>{when()}</Expiration>", f"<AbortMultipartUpload>{when()}</AbortMultipartUpload>",
               f"<Transition>{when()}<StorageClass>{rng.choice(['IA', 'Archive', 'Bogus', ''])}</StorageClass>"
               "</Transition>",
               f"<Filter><ObjectSizeGreaterThan>{rng.choice(NUMBERS)}</ObjectSizeGreaterThan>"
               f"<ObjectSizeLessThan>{rng.choice(NUMBERS)}</ObjectSizeLessThan></Filter>",
               f"<Expiration><Date>{rng.choice(ISO_DATES)}</Date></Expiration>",
               f"<NoncurrentVersionExpiration><NoncurrentDays>{rng.choice(NUMBERS)}</NoncurrentDays>"
               "</NoncurrentVersionExpiration>",
               f"<AtimeBase>{rng.choice(NUMBERS)}</AtimeBase>"]
    rules = "".join(f"<Rule><ID>{_xml_escape(hostile_text(rng))}</ID><Prefix>{_xml_escape(rng.choice(KEYS))}</Prefix>"
                    f"<Status>{rng.choice(['Enabled', 'Disabled', 'enabled'])}</Status>"
                    f"{''.join(rng.sample(actions, rng.randint(1, 3)))}</Rule>"
                    for _ in range(rng.choice([1, 1, 2, 3])))
    return _wrap(rng, f"<LifecycleConfiguration>{rules}</LifecycleConfiguration>")


def _xml_escape(text: str) -> str:
    """As v2 escapes keys: markup characters as entities, control characters as references."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(f"&#{ord(c)};" if ord(c) < 0x20 and c not in "\t" else c for c in text)


# --- request templates -------------------------------------------------------------------

class Context:
    """What templates may point at: the bucket they abuse, a bucket of good data they may only
    read (copy sources), and upload IDs seen so far."""

    def __init__(self, bucket: str, readonly_bucket: str, readonly_keys: list[str]) -> None:
        self.bucket = bucket
        self.readonly_bucket = readonly_bucket
        self.readonly_keys = readonly_keys
        self.upload_ids: list[str] = []

    def target_bucket(self, rng: random.Random) -> str:
        return rng.choices([self.bucket, "no-such-bucket-zz", "AB", "-x", "a", "a" * 64, "a_b", "abc\n", "\x00x"],
                           weights=[20, 2, 1, 1, 1, 1, 1, 1, 1])[0]

    def upload_id(self, rng: random.Random) -> str:
        if self.upload_ids and rng.random() < 0.7:
            return rng.choice(self.upload_ids)
        return rng.choice(["", "x", "0" * 32, "\u00e9", "A" * 300, "%00"])


def _object_headers(rng: random.Random) -> dict[str, str]:
    pool = {
        "Content-MD5": lambda: rng.choice(["", "not base64!", "1B2M2Y8AsgTpgAmY7PhCfg==", "AAAA", "é"]),
        "Content-Type": lambda: rng.choice(["", "text/plain", "x" * 300, "a/b; charset=é"]),
        "x-oss-tagging": lambda: rng.choice(["a=b", "a=%00", "%ZZ", "=", "&&", "a=b&a=c", "&".join(f"k{i}=v" for i in
                                                                                                 range(11)), "k" * 200]),
        "x-oss-storage-class": lambda: rng.choice(["IA", "bogus", "", "standard", "Archive"]),
        "x-oss-meta-city": lambda: hostile_text(rng).replace("\r", "").replace("\n", ""),
        "x-oss-forbid-overwrite": lambda: rng.choice(["true", "false", "yes"]),
        "x-oss-object-acl": lambda: rng.choice(["private", "weird"]),
        "Cache-Control": lambda: rng.choice(["no-cache", "x" * 1000]),
    }
    chosen = rng.sample(list(pool), rng.randint(0, 3))
    return {name: pool[name]() for name in chosen}


def _read_headers(rng: random.Random) -> dict[str, str]:
    pool = {
        "Range": lambda: rng.choice(RANGES),
        "x-oss-range-behavior": lambda: rng.choice(["standard", "x"]),
        "If-Match": lambda: rng.choice(ETAGS),
        "If-None-Match": lambda: rng.choice(ETAGS),
        "If-Modified-Since": lambda: rng.choice(HTTP_DATES),
        "If-Unmodified-Since": lambda: rng.choice(HTTP_DATES),
    }
    chosen = rng.sample(list(pool), rng.randint(0, 3))
    return {name: pool[name]() for name in chosen}


def _copy_headers(rng: random.Random, ctx: Context) -> dict[str, str]:
    source_key = rng.choice(ctx.readonly_keys) if ctx.readonly_keys else "none"
    source = rng.choice([f"/{ctx.readonly_bucket}/{quote(source_key, safe='')}", f"/{ctx.readonly_bucket}/{source_key}",
                         f"/{ctx.bucket}/{quote(hostile_key(rng), safe='')}", f"/no-such-bucket-zz/{source_key}",
                         "/", "//", "", "/b", "x", "%", f"/{ctx.readonly_bucket}/%ZZ", f"/{ctx.readonly_bucket}/%00",
                         "/%00/k", f"/{ctx.readonly_bucket}/{source_key}?versionId=1", "/AB/k"])
    headers = {"x-oss-copy-source": source}
    extra = {
        "x-oss-metadata-directive": lambda: rng.choice(["COPY", "REPLACE", "bogus", "copy"]),
        "x-oss-tagging-directive": lambda: rng.choice(["Copy", "Replace", "x"]),
        "x-oss-copy-source-if-match": lambda: rng.choice(ETAGS),
        "x-oss-copy-source-if-none-match": lambda: rng.choice(ETAGS),
        "x-oss-copy-source-if-modified-since": lambda: rng.choice(HTTP_DATES),
        "x-oss-copy-source-if-unmodified-since": lambda: rng.choice(HTTP_DATES),
        "x-oss-copy-source-range": lambda: rng.choice(RANGES + ["bytes=0-" + "9" * 5000, "bytes=" + "1" * 5000 + "-"]),
    }
    for name in rng.sample(list(extra), rng.randint(0, 3)):
        headers[name] = extra[name]()
    return headers


def _listing_query(rng: random.Random) -> list[tuple[str, str]]:
    names = ["prefix", "marker", "delimiter", "max-keys", "encoding-type", "list-type", "continuation-token",
             "start-after", "fetch-owner", "key-marker", "upload-id-marker", "max-uploads"]
    values = lambda name: (rng.choice(NUMBERS) if name.startswith("max") else  # noqa: E731
                           rng.choice(["2", "1", "x"]) if name == "list-type" else
                           rng.choice(["AA", "@@", "a2V5", "", "%"]) if name == "continuation-token" else
                           hostile_key(rng))
    return [(n, values(n)) for n in rng.sample(names, rng.randint(1, 4))]


Template = Callable[[random.Random, Context], Hostile]


def put_object(rng: random.Random, ctx: Context) -> Hostile:
    return Hostile("PUT", ctx.target_bucket(rng), hostile_key(rng), headers=_object_headers(rng),
                   body=rng.randbytes(rng.choice([0, 1, 100, 5000])))


def append_object(rng: random.Random, ctx: Context) -> Hostile:
    """AppendObject at odd positions, with odd checksums, onto keys of any type."""
    headers = _object_headers(rng)
    if rng.random() < 0.3:
        headers["x-oss-hash-crc64ecma"] = rng.choice(NUMBERS + ["0", "18446744073709551615"])
    position = rng.choice(NUMBERS + ["0", "0", "1", "100"])
    return Hostile("POST", ctx.target_bucket(rng), rng.choice(["appended", hostile_key(rng)]),
                   query=[("append", rng.choice(["", "1"])), ("position", position)], headers=headers,
                   body=rng.randbytes(rng.choice([0, 1, 100, 5000])))


def read_object(rng: random.Random, ctx: Context) -> Hostile:
    query = [(n, hostile_text(rng))
             for n in rng.sample(["response-content-type", "response-content-disposition", "response-expires",
                                  "response-cache-control"], rng.randint(0, 2))]
    if rng.random() < 0.1:
        query.append(("objectMeta", ""))
    bucket, key = ((ctx.readonly_bucket, rng.choice(ctx.readonly_keys)) if ctx.readonly_keys and rng.random() < 0.4
                   else (ctx.target_bucket(rng), hostile_key(rng)))
    return Hostile(rng.choice(["GET", "HEAD"]), bucket, key, query=query, headers=_read_headers(rng))


def copy_object(rng: random.Random, ctx: Context) -> Hostile:
    headers = _copy_headers(rng, ctx)
    headers.pop("x-oss-copy-source-range", None)
    return Hostile("PUT", ctx.target_bucket(rng), hostile_key(rng), headers={**headers, **_object_headers(rng)})


def initiate(rng: random.Random, ctx: Context) -> Hostile:
    return Hostile("POST", ctx.target_bucket(rng), rng.choice(["mp", hostile_key(rng)]),
                   query=[("uploads", "")] + ([("encoding-type", "url")] if rng.random() < 0.5 else []),
                   headers=_object_headers(rng))


def upload_part(rng: random.Random, ctx: Context) -> Hostile:
    query = [("partNumber", rng.choice(NUMBERS)), ("uploadId", ctx.upload_id(rng))]
    rng.shuffle(query)
    headers = _copy_headers(rng, ctx) if rng.random() < 0.4 else {}
    return Hostile("PUT", ctx.bucket, "mp", query=query, headers=headers, body=b"" if headers else rng.randbytes(200))


def complete(rng: random.Random, ctx: Context) -> Hostile:
    headers = {"x-oss-complete-all": "yes"} if rng.random() < 0.1 else {}
    return Hostile("POST", ctx.bucket, "mp", query=[("uploadId", ctx.upload_id(rng))], headers=headers,
                   body=complete_xml(rng))


def multipart_misc(rng: random.Random, ctx: Context) -> Hostile:
    kind = rng.randrange(3)
    if kind == 0:
        return Hostile("DELETE", ctx.bucket, "mp", query=[("uploadId", ctx.upload_id(rng))])
    if kind == 1:
        return Hostile("GET", ctx.bucket, "mp", query=[("uploadId", ctx.upload_id(rng)),
                                                       ("part-number-marker", rng.choice(NUMBERS)),
                                                       ("max-parts", rng.choice(NUMBERS))])
    return Hostile("GET", ctx.target_bucket(rng), query=[("uploads", "")] + _listing_query(rng))


def delete_multiple(rng: random.Random, ctx: Context) -> Hostile:
    body = delete_xml(rng)
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    headers = {"Content-MD5": md5 if rng.random() < 0.8 else rng.choice(["", "x", "1B2M2Y8AsgTpgAmY7PhCfg=="])}
    return Hostile("POST", ctx.target_bucket(rng), query=[("delete", "")], headers=headers, body=body)


def tagging(rng: random.Random, ctx: Context) -> Hostile:
    method = rng.choice(["PUT", "PUT", "GET", "DELETE", "POST"])
    return Hostile(method, ctx.target_bucket(rng), hostile_key(rng), query=[("tagging", "")],
                   body=tagging_xml(rng) if method == "PUT" else b"")


def lifecycle(rng: random.Random, ctx: Context) -> Hostile:
    method = rng.choice(["PUT", "PUT", "PUT", "GET", "DELETE"])
    headers = {"x-oss-allow-same-action-overlap": "true"} if rng.random() < 0.2 else {}
    return Hostile(method, ctx.target_bucket(rng), query=[("lifecycle", "")], headers=headers,
                   body=lifecycle_xml(rng) if method == "PUT" else b"")


def listing(rng: random.Random, ctx: Context) -> Hostile:
    return Hostile("GET", ctx.target_bucket(rng), query=_listing_query(rng))


def bucket_ops(rng: random.Random, ctx: Context) -> Hostile:
    kind = rng.randrange(6)
    if kind == 0:
        return Hostile("GET", ctx.target_bucket(rng), query=[(rng.choice(["acl", "location", "bucketInfo", "stat"]), "")])
    if kind == 1:
        return Hostile("PUT", ctx.target_bucket(rng), query=[("acl", "")],
                       headers={"x-oss-acl": rng.choice(["private", "public-read", "bogus", ""])})
    if kind == 2:
        body = _wrap(rng, f"<CreateBucketConfiguration><StorageClass>{rng.choice(['IA', 'x', ''])}</StorageClass>"
                          f"<DataRedundancyType>{rng.choice(['LRS', 'ZRS', 'x'])}</DataRedundancyType>"
                          "</CreateBucketConfiguration>")
        name = rng.choice([ctx.bucket, f"hostile-extra-{rng.randrange(5)}", "AB", "a" * 64, "-lead", "x"])
        return Hostile("PUT", name, headers={"x-oss-acl": rng.choice(["private", "bogus"])}, body=body)
    if kind == 3:
        return Hostile(rng.choice(["DELETE", "HEAD"]), rng.choice(["no-such-bucket-zz", "AB", ctx.bucket]))
    if kind == 4:
        return Hostile("GET", "", query=_listing_query(rng))  # ListBuckets
    return Hostile(rng.choice(["POST", "PUT", "DELETE"]), "")


LINKS = ["link-0", "link-1", "link-2"]  # symlinks that point at each other, at keys, at nothing


def acl_and_symlinks(rng: random.Random, ctx: Context) -> Hostile:
    """PutSymlink with hostile targets, GetSymlink, reads through links, object ACLs."""
    bucket, kind = ctx.target_bucket(rng), rng.randrange(5)
    key = rng.choice(LINKS) if rng.random() < 0.6 else hostile_key(rng)
    if kind == 0:
        headers = _object_headers(rng)
        if rng.random() < 0.9:
            target = rng.choice([rng.choice(LINKS), hostile_key(rng), hostile_text(rng)])
            headers["x-oss-symlink-target"] = rng.choice([quote(target, safe=""), target.replace("\r", "")
                                                          .replace("\n", ""), "%00", "%C0%AF", "%", ""])
        return Hostile("PUT", bucket, key, query=[("symlink", rng.choice(["", "x"]))], headers=headers,
                       body=rng.choice([b"", b"ignored"]))
    if kind == 1:
        return Hostile(rng.choice(["GET", "GET", "DELETE", "HEAD"]), bucket, key, query=[("symlink", "")])
    if kind == 2:
        return Hostile(rng.choice(["GET", "HEAD"]), bucket, key, headers=_read_headers(rng))
    if kind == 3:
        acl = rng.choice(["default", "private", "public-read", "public-read-write", "Private", "", "é", "x" * 300])
        return Hostile("PUT", bucket, key, query=[("acl", "")],
                       headers={"x-oss-object-acl": acl} if rng.random() < 0.9 else {}, body=rng.choice([b"", b"<x/>"]))
    return Hostile("GET", bucket, key, query=[("acl", "")])


def unknown_subresources(rng: random.Random, ctx: Context) -> Hostile:
    name = rng.choice(["cors", "website", "logging", "referer", "versioning", "policy", "append", "symlink", "restore",
                       "worm", "foo", "acl", "x-oss-process", "uploads", "objectMeta", "stat", "versions", "qos"])
    query = [(name, rng.choice(["", "1", "é"]))] + ([("position", rng.choice(NUMBERS))] if name == "append" else [])
    return Hostile(rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD"]), ctx.target_bucket(rng),
                   rng.choice(["", hostile_key(rng)]), query=query, body=rng.choice([b"", b"<x/>"]))


def _cors_xml(rng: random.Random) -> str:
    def rule() -> str:
        pool = [("AllowedOrigin", ["*", "http://*.a.test", "**", "", "é", "\x01"]),
                ("AllowedMethod", ["GET", "PUT", "get", "PATCH", "", "POST"]),
                ("AllowedHeader", ["*", "x-oss-*", "a*b*", "", "é"]), ("ExposeHeader", ["ETag", "*", ""]),
                ("MaxAgeSeconds", NUMBERS)]
        return "<CORSRule>" + "".join(f"<{tag}>{_xml_escape(rng.choice(values))}</{tag}>"
                                      for tag, values in pool for _ in range(rng.randint(0, 2))) + "</CORSRule>"

    vary = rng.choice(["", "<ResponseVary>true</ResponseVary>", "<ResponseVary>0</ResponseVary>"])
    return "<CORSConfiguration>" + "".join(rule() for _ in range(rng.choice([0, 1, 2, 10, 11]))) + vary + \
        "</CORSConfiguration>"


def cors(rng: random.Random, ctx: Context) -> Hostile:
    """CORS rules, preflights and requests carrying Origin, with hostile values."""
    kind = rng.randrange(3)
    if kind == 0:
        return Hostile(rng.choice(["PUT", "PUT", "GET", "DELETE"]), ctx.target_bucket(rng), query=[("cors", "")],
                       body=_wrap(rng, _cors_xml(rng)))
    headers = {"Origin": rng.choice(["http://a.test", "null", "", "é", "*", "http://" + "a" * 5000])}
    if kind == 1:
        headers["Access-Control-Request-Method"] = rng.choice(["PUT", "GET", "", "put", "PATCH", "é"])
        if rng.random() < 0.6:
            headers["Access-Control-Request-Headers"] = rng.choice(["x-oss-meta-a", ",,,", "a, " * 500, "é", ""])
        return Hostile("OPTIONS", ctx.target_bucket(rng), rng.choice(["", hostile_key(rng)]),
                       query=rng.choice([[], [("uploadId", "x")], [("acl", "")]]), headers=headers, auth="none")
    return Hostile(rng.choice(["GET", "HEAD", "PUT", "DELETE"]), ctx.target_bucket(rng), hostile_key(rng),
                   headers=headers, body=b"x")


def _form(rng: random.Random, fields: list[tuple[str, str]], file: bytes | None, boundary: str,
          mangle: bool) -> bytes:
    body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode()
                    + value.encode("utf-8", "surrogateescape") + b"\r\n" for name, value in fields)
    if file is not None:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                 f"{rng.choice(['a.txt', '', '../x', 'é'])}\"\r\n\r\n").encode() + file + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    if mangle:
        return rng.choice([body[: rng.randrange(max(1, len(body)))], body.replace(b"\r\n", b"\n"),
                           body.replace(b"--" + boundary.encode(), b"--X", 1), body + b"trailing"])
    return body


_FORM_SPOILS = ("conditions", "expiration", "document", "encoding", "key", "signing", "extras", "order", "boundary",
                "file", "framing", "query")


def post_form(rng: random.Random, ctx: Context) -> Hostile:
    """PostObject forms: a valid form signed (V1 or V4) with the test key, spoilt in up to three
    ways — its policy, fields, signature, file or framing."""
    spoils = set(rng.sample(_FORM_SPOILS, rng.choice([0, 1, 1, 2, 3])))
    conditions: object = [["starts-with", "$key", "post/"], ["content-length-range", 0, 200_000]]
    if "conditions" in spoils:
        conditions = rng.choice([
            [["content-length-range", 0, 10]], [["content-length-range", 5, 1]], [{"bucket": ctx.bucket}],
            [["eq", "$key"]], [["in", "$content-type", ["a", 1]]], [], [123], "x", [["like", "$key", ""]],
            [["content-length-range", 0, 10 ** 30]], [["eq", "$x-oss-meta-a", "\x00"]], [{"a": "1", "b": "2"}],
            [["not-in", "$key", ["post/k"]]], [["starts-with", "$success_action_status", ""]],
        ])
    expiration: object = "2099-01-01T00:00:00.000Z"
    if "expiration" in spoils:
        expiration = rng.choice(["2000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59",
                                 "x", 5, "2099-02-30T00:00:00Z", None, "2099-01-01T00:00:00.123456789Z"])
    document = json.dumps({"expiration": expiration, "conditions": conditions})
    if "document" in spoils:
        document = rng.choice(["[" * 20_000, "{", "null", '{"expiration": "2099-01-01T00:00:00Z"}', "[]", "1" * 5000,
                               '{"expiration": "2099-01-01T00:00:00Z", "conditions": [["content-length-range", 1, '
                               + "9" * 5000 + "]]}"])
    policy = base64.b64encode(document.encode()).decode()
    if "encoding" in spoils:
        policy = rng.choice(["%%%", "", "é", policy[:-1], " " + policy, policy + "\n", "A" * 70_000])
    key = "post/" + rng.choice(["${filename}", "k"])
    if "key" in spoils:
        key = rng.choice(["", hostile_key(rng), "post/" + hostile_key(rng), "post/${filename}${filename}"])
    fields: list[tuple[str, str]] = [("key", key)]
    now = datetime.now(timezone.utc)
    signing = rng.choice(["none", "wrong", "v4-odd"]) if "signing" in spoils else rng.choice(["v1", "v4"])
    if signing == "v1":
        digest = hmac.new(TEST_ACCESS_KEY_SECRET.encode(), policy.encode(), hashlib.sha1).digest()
        fields += [("OSSAccessKeyId", TEST_ACCESS_KEY_ID), ("policy", policy),
                   ("Signature", base64.b64encode(digest).decode())]
    elif signing.startswith("v4"):
        odd = signing == "v4-odd"
        credential = oss_v4.Credential(TEST_ACCESS_KEY_ID, f"{now:%Y%m%d}", rng.choice([REGION, "x"]) if odd else REGION,
                                       "oss")
        signature = hmac.new(oss_v4.signing_key(TEST_ACCESS_KEY_SECRET, credential), policy.encode(),
                             hashlib.sha256).hexdigest()
        fields += [("x-oss-signature-version", rng.choice(["OSS4-HMAC-SHA256", "é"]) if odd else "OSS4-HMAC-SHA256"),
                   ("x-oss-credential", rng.choice(["a/b", ""]) if odd else f"{TEST_ACCESS_KEY_ID}/{credential.scope}"),
                   ("x-oss-date", rng.choice(["99999999T999999Z", "", f"{now:%Y%m%dT%H%M%SZ}"]) if odd
                    else f"{now:%Y%m%dT%H%M%SZ}"), ("policy", policy), ("x-oss-signature", signature)]
    elif signing == "wrong":
        fields += [("OSSAccessKeyId", rng.choice([TEST_ACCESS_KEY_ID, "nobody", ""])), ("policy", policy),
                   ("Signature", rng.choice(["", "AAAA", "é"]))]
    if "extras" in spoils:
        extras = [("Content-Type", rng.choice(["text/plain", "x" * 300, "a\r\nb"])),
                  ("x-oss-meta-" + rng.choice(["a", "a b", "é", ""]), rng.choice(["1", "\x01", "é"])),
                  ("success_action_status", rng.choice(NUMBERS)),
                  ("success_action_redirect", rng.choice(["http://a.test/x?y=1", "javascript:x", "http://a.test/\n",
                                                          "", "http://" + "é" * 10])),
                  ("x-oss-forbid-overwrite", rng.choice(["true", "false", "é"])),
                  ("Content-MD5", rng.choice(["", "AAAA", "1B2M2Y8AsgTpgAmY7PhCfg=="])),
                  ("x-oss-storage-class", rng.choice(["IA", "Hot", ""])), ("x-oss-tagging", rng.choice(["a=b", "%ZZ"])),
                  ("x-oss-object-acl", "private"), ("Cache-Control", rng.choice(["no-cache", "\x7f"])),
                  ("KEY", "post/other"), ("x" * 300, "y" * 100_000)]
        fields += rng.sample(extras, rng.randint(1, 4))
    if "order" in spoils:
        rng.shuffle(fields)
    boundary = rng.choice(["----x" + "y" * 60, "x" * 71, "é", "a b"]) if "boundary" in spoils else "B"
    content_type = f"multipart/form-data; boundary={boundary}"
    if "boundary" in spoils and rng.random() < 0.5:
        content_type = rng.choice(["multipart/form-data", "multipart/form-data; boundary=", "MULTIPART/FORM-DATA; b=1",
                                   "multipart/mixed; boundary=B"])
    file: bytes | None = rng.randbytes(rng.randrange(1, 100_000))
    if "file" in spoils:
        file = rng.choice([b"", None, rng.randbytes(300_000), b"--B\r\n"])
    query = rng.choice([[("acl", "")], [("uploads", "")], [("x", "é")]]) if "query" in spoils else []
    return Hostile("POST", ctx.target_bucket(rng), query=query, headers={"Content-Type": content_type},
                   body=_form(rng, fields, file, boundary, "framing" in spoils))


def odd_methods(rng: random.Random, ctx: Context) -> Hostile:
    return Hostile(rng.choice(["OPTIONS", "PATCH", "TRACE", "PROPFIND", "MKCOL", "LOCK", "PURGE", "SEARCH"]),
                   ctx.target_bucket(rng), rng.choice(["", hostile_key(rng)]))


def admin(rng: random.Random, ctx: Context) -> Hostile:
    kind = rng.randrange(5)
    if kind == 0:
        query = [(n, rng.choice(ISO_DATES)) for n in ("from", "to")] + [("top", rng.choice(NUMBERS)),
                                                                        ("bucket", hostile_text(rng))]
        return Hostile("GET", "-", "admin/usage/report", query=rng.sample(query, rng.randint(0, 4)))
    if kind == 1:
        return Hostile("GET", "-", "admin/usage/uploads",
                       query=[("limit", rng.choice(NUMBERS))] + ([("bucket", ctx.bucket)] if rng.random() < 0.5 else []))
    if kind == 2:
        query = [("bucket", rng.choice([ctx.bucket, "", "no-such-bucket-zz", "\x00"]))]
        if rng.random() < 0.6:
            query.append(("now", rng.choice(ISO_DATES)))
        return Hostile("POST", "-", "admin/lifecycle/preview", query=query, body=lifecycle_xml(rng))
    if kind == 3:
        return Hostile(rng.choice(["GET", "POST", "DELETE"]), "-", rng.choice(["admin/", "admin/x", "admin/usage",
                                                                               "admin/../admin/usage/uploads"]))
    return Hostile("GET", "-", rng.choice(["health", "metrics", "nothing", ""]), auth="none")


TEMPLATES: list[tuple[int, Template]] = [
    (10, put_object), (4, append_object), (10, read_object), (6, copy_object), (4, initiate), (8, upload_part), (8, complete),
    (5, multipart_misc), (5, delete_multiple), (5, tagging), (8, lifecycle), (6, listing), (4, bucket_ops),
    (3, unknown_subresources), (2, odd_methods), (6, admin), (5, acl_and_symlinks), (4, cors), (6, post_form),
]


# --- signing ------------------------------------------------------------------------------

def _verifiable(req: Hostile) -> RequestToVerify:
    return RequestToVerify(req.method, req.bucket, req.key, req.query, CIMultiDict(req.headers))


def sign_v1(req: Hostile, creds: Credentials, *, skew: float = 0) -> None:
    date = email.utils.formatdate(time.time() + skew, usegmt=True)
    req.headers["Date"] = date
    text = oss_v1.string_to_sign(_verifiable(req), date, oss_v1.OSS2_SUBRESOURCES)
    req.headers["Authorization"] = f"OSS {creds.access_key_id}:{oss_v1.sign(creds.secret, text)}"


def presign_v1(req: Hostile, creds: Credentials, *, lifetime: int = 300) -> None:
    expires = str(int(time.time()) + lifetime)
    text = oss_v1.string_to_sign(_verifiable(req), expires, oss_v1.OSS2_SUBRESOURCES)
    req.query += [("OSSAccessKeyId", creds.access_key_id), ("Expires", expires),
                  ("Signature", oss_v1.sign(creds.secret, text))]


def _v4_signature(req: Hostile, creds: Credentials, date: str, *, skip: str | None = None) -> tuple[str, str]:
    credential = oss_v4.Credential(creds.access_key_id, date[:8], REGION, oss_v4.PRODUCT)
    canonical = oss_v4.canonical_request(_verifiable(req), [], req.headers.get("x-oss-content-sha256",
                                                                               "UNSIGNED-PAYLOAD"), skip_query=skip)
    text = "\n".join([oss_v4.ALGORITHM, date, credential.scope, hashlib.sha256(canonical.encode()).hexdigest()])
    return credential.scope, hmac.new(oss_v4.signing_key(creds.secret, credential), text.encode(),
                                      hashlib.sha256).hexdigest()


def sign_v4(req: Hostile, creds: Credentials, *, skew: float = 0) -> None:
    date = (datetime.now(timezone.utc) + timedelta(seconds=skew)).strftime("%Y%m%dT%H%M%SZ")
    req.headers["x-oss-date"] = date
    req.headers["x-oss-content-sha256"] = "UNSIGNED-PAYLOAD"
    scope, signature = _v4_signature(req, creds, date)
    req.headers["Authorization"] = f"{oss_v4.ALGORITHM} Credential={creds.access_key_id}/{scope},Signature={signature}"


def presign_v4(req: Hostile, creds: Credentials, *, date: str | None = None, lifetime: str = "300") -> None:
    date = date or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    req.query += [("x-oss-signature-version", oss_v4.ALGORITHM), ("x-oss-date", date), ("x-oss-expires", lifetime),
                  ("x-oss-credential", f"{creds.access_key_id}/{date[:8]}/{REGION}/{oss_v4.PRODUCT}/"
                                       f"{oss_v4.TERMINATOR}")]
    req.query.append(("x-oss-signature", _v4_signature(req, creds, date, skip="x-oss-signature")[1]))


def _signable(req: Hostile) -> bool:
    return all(v.isascii() or _utf8(v) for v in req.headers.values())


def _utf8(text: str) -> bool:
    try:
        text.encode()
        return True
    except UnicodeEncodeError:
        return False


def _expire(rng: random.Random, req: Hostile, creds: Credentials) -> None:
    rng.choice([lambda: presign_v1(req, creds, lifetime=-60), lambda: presign_v4(req, creds, date="20200101T000000Z"),
                lambda: sign_v1(req, creds, skew=-3600), lambda: sign_v4(req, creds, skew=7200)])()


# How requests are signed, with their weights: mostly properly, so they reach the handlers.
SIGNINGS: list[tuple[int, str, Callable[[random.Random, Hostile, Credentials], None]]] = [
    (42, "v1", lambda rng, req, creds: sign_v1(req, creds)),
    (30, "v4", lambda rng, req, creds: sign_v4(req, creds)),
    (5, "v1-url", lambda rng, req, creds: presign_v1(req, creds)),
    (5, "v4-url", lambda rng, req, creds: presign_v4(req, creds)),
    (4, "none", lambda rng, req, creds: None),
    (4, "expired", lambda rng, req, creds: _expire(rng, req, creds)),
    (5, "tampered", lambda rng, req, creds: _tamper(rng, req, creds)),
    (5, "raw-auth", lambda rng, req, creds: _absurd_credentials(rng, req, creds)),
]


def authorize(rng: random.Random, req: Hostile, creds: Credentials) -> None:
    """Sign ``req`` one of the ways a client can — or mangle its credentials, or leave them out."""
    if req.auth == "none" or not _signable(req):
        req.auth = "none"
        return
    _, req.auth, sign = rng.choices(SIGNINGS, weights=[w for w, _, _ in SIGNINGS])[0]
    sign(rng, req, creds)


def _tamper(rng: random.Random, req: Hostile, creds: Credentials) -> None:
    kind = rng.randrange(4)
    if kind == 0:
        sign_v1(req, creds)
        req.headers["Authorization"] = req.headers["Authorization"][:-3] + "AAA"
    elif kind == 1:
        sign_v4(req, creds)
        req.headers["x-oss-meta-added"] = "after signing"
    elif kind == 2:
        presign_v1(req, creds)
        req.query = [(k, str(int(v) + 3600) if k == "Expires" else v) for k, v in req.query]
    else:
        presign_v4(req, creds)
        req.query = [(k, "604800" if k == "x-oss-expires" else v) for k, v in req.query]


def _absurd_credentials(rng: random.Random, req: Hostile, creds: Credentials) -> None:
    ak = creds.access_key_id
    kind = rng.randrange(6)
    if kind == 0:
        req.headers["Authorization"] = rng.choice([
            "OSS ", "OSS :", f"OSS {ak}", f"OSS {ak}:é", "OSS4-HMAC-SHA256", "OSS4-HMAC-SHA256 Credential=x",
            f"OSS4-HMAC-SHA256 Credential={ak}/20240101/cn-hangzhou/oss/aliyun_v4_request,Signature=é",
            "Bearer token", "OSS2 AccessKeyId:x,Signature:y", "OSS4-HMAC-SHA256 " + "," * 500, "x" * 4000])
        req.headers["x-oss-date"] = rng.choice(["20240101T000000Z", "99991231T235959Z", "00000101T000000Z", "é", ""])
        req.headers["Date"] = rng.choice(HTTP_DATES)
    elif kind == 1:  # presigned V4 with absurd dates and lifetimes
        presign_v4(req, creds, date=rng.choice(["99991231T235959Z", "00010101T000000Z", "20240230T000000Z",
                                                "20240101T250000Z", "x"]),
                   lifetime=rng.choice(NUMBERS))
    elif kind == 2:
        req.query += [("OSSAccessKeyId", rng.choice([ak, "", "nobody"])), ("Expires", rng.choice(NUMBERS)),
                      ("Signature", rng.choice(["", "é", "x" * 100, "%"]))]
    elif kind == 3:
        req.query += [("x-oss-signature-version", "OSS4-HMAC-SHA256"), ("x-oss-date", rng.choice(["", "x"])),
                      ("x-oss-credential", rng.choice(["", "a/b", f"{ak}/x/y/z/w"])), ("x-oss-signature", "é")]
    elif kind == 4:
        sign_v1(req, creds, skew=rng.choice([-10**9, 10**9, 899, -899]) if rng.random() < 0.5 else 0)
    else:
        sign_v4(req, creds)
        req.headers["Authorization"] = req.headers["Authorization"].replace("cn-hangzhou", rng.choice(["", "x", "é"]))


# --- transport abuses -----------------------------------------------------------------------

def transport(rng: random.Random, req: Hostile) -> None:
    """Most requests go as they should; some lie about their length, stop half-way, go chunked."""
    roll = rng.random()
    if req.method in ("GET", "HEAD", "DELETE") or roll < 0.84:
        return
    req.transport = rng.choice(["truncate", "half-close", "short-length", "chunked", "chunked", "chunked-cut"])
    if not req.body:
        req.body = rng.randbytes(rng.choice([10, 3000]))


def raw_abuse(rng: random.Random, ctx: Context, port: int) -> Hostile:
    """Requests that break HTTP itself, or carry bytes no client library would send."""
    host = f"Host: 127.0.0.1:{port}\r\n"
    key = f"/{ctx.bucket}/k"
    choices = [
        f"GET {key}%0D%0Ax HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET {key}\x01 HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET {key}\r\n{host}\r\n".encode(),  # HTTP/0.9-style request line
        f"GET * HTTP/1.1\r\n{host}\r\n".encode(),
        f"OPTIONS * HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET http://127.0.0.1:{port}{key} HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET {ctx.bucket}/k HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET //{ctx.bucket}//k HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET /{ctx.bucket}/%ff%fe HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET /%zz/%G0 HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET /{ctx.bucket}/?prefix=%ff HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET /{'x' * 9000} HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET {key} HTTP/1.1\r\n{host}X-Big: {'y' * 9000}\r\n\r\n".encode(),
        f"GET {key} HTTP/1.1\r\n{host}".encode() + b"".join(b"X-H%d: v\r\n" % i for i in range(300)) + b"\r\n",
        f"GET {key} HTTP/1.1\r\n{host}x-oss-meta-a: \xff\xfe\r\n\r\n".encode("latin-1"),
        f"GET {key} HTTP/1.1\r\n{host}Authorization: OSS \xe9:\xff\r\nDate: x\r\n\r\n".encode("latin-1"),
        f"GET {key} HTTP/1.1\r\n{host}No-Colon-Header\r\n\r\n".encode(),
        f"GET {key} HTTP/1.1\r\n{host}X: a\x00b\r\n\r\n".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Content-Length: abc\r\n\r\n".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Content-Length: -1\r\n\r\n".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Content-Length: 99999999999999999999999\r\n\r\n".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\nzz\r\n".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nab".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc".encode(),
        f"PUT {key} HTTP/1.1\r\n{host}Expect: teapot\r\nContent-Length: 3\r\n\r\nabc".encode(),
        f"BREW {key} HTTP/1.1\r\n{host}\r\n".encode(),
        f"GET {key} HTTP/9.9\r\n{host}\r\n".encode(),
        f"GET {key} HTTP/1.0\r\n\r\n".encode(),
        f"GET {key} HTTP/1.1\r\n{host}\r\nGET {key} HTTP/1.1\r\n{host}\r\n".encode(),  # pipelined
        f"\r\n\r\nGET {key} HTTP/1.1\r\n{host}\r\n".encode(),
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32),  # a TLS ClientHello
        b"",
    ]
    return Hostile("RAW", transport="raw", raw=rng.choice(choices), auth="none", name="raw_abuse")


def draw(rng: random.Random, ctx: Context, creds: Credentials, port: int) -> Hostile:
    if rng.random() < 0.08:
        return raw_abuse(rng, ctx, port)
    weights, templates = zip(*TEMPLATES)
    template = rng.choices(templates, weights=weights)[0]
    req = template(rng, ctx)
    req.name = template.__name__
    req.slash_safe = rng.choice(["", "/"])
    authorize(rng, req, creds)
    transport(rng, req)
    return req


# --- the wire -------------------------------------------------------------------------------

@dataclass
class Outcome:
    status: int | None  # None: the server closed the connection without an answer
    hang: bool = False
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def encode(req: Hostile, port: int) -> bytes:
    """The request's bytes; headers in UTF-8 (surrogates from an undecodable value back as bytes)."""
    if req.transport == "raw":
        return req.raw
    path = "/" + quote(req.bucket, safe="") if req.bucket else ""
    path += "/" + quote(req.key, safe=req.slash_safe) if req.key or req.bucket else "/"
    if req.query:
        path += "?" + "&".join(quote(k, safe="") + (f"={quote(v, safe='')}" if v else "") for k, v in req.query)
    headers = {"Host": f"127.0.0.1:{port}", **req.headers}
    body = req.body
    if req.transport in ("chunked", "chunked-cut"):
        headers["Transfer-Encoding"] = "chunked"
        chunks = [body[i:i + 1000] for i in range(0, len(body), 1000)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
        body = body[: len(body) // 2] if req.transport == "chunked-cut" else body + b"0\r\n\r\n"
    elif req.transport in ("truncate", "half-close"):
        headers["Content-Length"] = str(len(body) * 2 + 10)
    elif req.transport == "short-length":
        headers["Content-Length"] = str(len(body) // 2)
    elif body or req.method in ("PUT", "POST"):
        headers["Content-Length"] = str(len(body))
    head = f"{req.method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("utf-8", "surrogateescape") + body


class Connection:
    """One keep-alive connection, reopened whenever the server (or a request) closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _open(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        return self.sock

    def send(self, req: Hostile) -> Outcome:
        data = encode(req, self.port)
        # A request that abuses HTTP gets a connection of its own, closed after it.
        own = req.transport != "plain"
        if own:
            self.close()
        sock = self._open()
        try:
            sock.sendall(data)
            if req.transport in ("truncate", "chunked-cut"):
                self.close()  # the client died mid-body: nobody reads an answer
                return Outcome(status=None)
            if req.transport in ("half-close", "raw"):
                sock.shutdown(socket.SHUT_WR)  # all there is: the server must answer or close now
            return self._read(sock, req)
        except socket.timeout:
            self.close()
            return Outcome(status=None, hang=True)
        except (ConnectionError, http.client.HTTPException, OSError):
            self.close()
            return Outcome(status=None)
        finally:
            if own:
                self.close()

    def _read(self, sock: socket.socket, req: Hostile) -> Outcome:
        response = http.client.HTTPResponse(sock, method=req.method if req.method != "RAW" else "GET")
        response.begin()
        body = response.read()
        headers = dict(response.getheaders())
        if response.will_close or req.transport != "plain":
            self.close()
        return Outcome(status=response.status, body=body, headers=headers)
