"""Bodies are stored as sent, whatever their Content-Encoding: pre-compressed assets keep their
bytes, and the encoding comes back as metadata (docs/compatibility.md, Content-Encoding)."""

from __future__ import annotations

import gzip
import os
import zlib

import oss2
import pytest

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

TEXT = b"body { color: #333 }\n" * 4000
ENCODED = {
    "gzip": gzip.compress(TEXT),
    "deflate": zlib.compress(TEXT),
    "br": os.urandom(3000),        # bytes Tessera cannot (and must not) decode
    "gzip, identity": b"not gzip at all",  # a lying label: still stored as sent
}


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.enable_crc = True  # oss2 checks the CRC-64 of the bytes it sent against the server's
    return bucket


def stored(server: TesseraServer, bucket: oss2.Bucket, key: str) -> raw.RawResponse:
    """The object's bytes as the server sends them (http.client decodes nothing)."""
    answer = raw.request(server, "GET", bucket.bucket_name, key)
    assert answer.status == 200
    return answer


@pytest.mark.parametrize("encoding", list(ENCODED))
def test_encoded_body_is_stored_verbatim(server: TesseraServer, bucket: oss2.Bucket, encoding: str) -> None:
    body = ENCODED[encoding]
    bucket.put_object("app.css", body, headers={"Content-Encoding": encoding})
    got = stored(server, bucket, "app.css")
    assert got.body == body
    assert got.headers["Content-Encoding"] == encoding
    assert int(got.headers["Content-Length"]) == len(body)
    if encoding == "gzip":  # oss2 (requests) inflates what it reads, as it does from OSS
        assert bucket.get_object("app.css").read() == TEXT


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_chunked_encoded_body_is_stored_verbatim(server: TesseraServer, bucket: oss2.Bucket, encoding: str) -> None:
    body = ENCODED[encoding]
    bucket.put_object("chunked.css", iter([body[:1000], body[1000:]]), headers={"Content-Encoding": encoding})
    assert stored(server, bucket, "chunked.css").body == body


def test_encoded_part_is_stored_verbatim(server: TesseraServer, bucket: oss2.Bucket) -> None:
    body = ENCODED["gzip"]
    upload_id = bucket.init_multipart_upload("big.css.gz", headers={"Content-Encoding": "gzip"}).upload_id
    part = bucket.upload_part("big.css.gz", upload_id, 1, body, headers={"Content-Encoding": "gzip"})
    bucket.complete_multipart_upload("big.css.gz", upload_id, [oss2.models.PartInfo(1, part.etag)])
    got = stored(server, bucket, "big.css.gz")
    assert got.body == body
    assert got.headers["Content-Encoding"] == "gzip"


def test_encoded_xml_body_is_not_decoded(server: TesseraServer, bucket: oss2.Bucket) -> None:
    """A Complete body labelled gzip is read as sent: gzip bytes are not XML."""
    upload_id = bucket.init_multipart_upload("k").upload_id
    answer = raw.request(server, "POST", bucket.bucket_name, "k", query={"uploadId": upload_id},
                         headers={"Content-Encoding": "gzip"},
                         body=gzip.compress(b"<CompleteMultipartUpload></CompleteMultipartUpload>"))
    assert (answer.status, answer.code) == (400, "MalformedXML")
