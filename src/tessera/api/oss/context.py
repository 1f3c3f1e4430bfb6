"""What a handler gets: an authenticated request, already routed, and ways to read it."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import AsyncIterator
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from tessera.api.numbers import decimal
from tessera.api.oss import wire
from tessera.api.oss.target import Target
from tessera.core.acl import ANONYMOUS, Requester, check_object_acl
from tessera.core.errors import EntityTooLarge, IncompleteBody, InvalidArgument, InvalidDigest, InvalidTag
from tessera.core.models import MAX_CONTENT_TYPE, ObjectAttributes
from tessera.core.storage import Storage
from tessera.core.tags import check_tags

# Headers stored with an object and sent back on GET/HEAD, as the client spelled them.
STORED_HEADERS = ("Cache-Control", "Content-Disposition", "Content-Encoding", "Expires")
META_PREFIX = "x-oss-meta-"


@dataclass
class OssRequest:
    http: web.Request
    target: Target
    storage: Storage
    access_key_id: str  # "" when anonymous
    request_id: str
    requester: Requester = ANONYMOUS
    region: str = ""  # the server's, for what checks a V4 signature itself (PostObject's form)

    @property
    def bucket(self) -> str:
        return self.target.bucket

    @property
    def key(self) -> str:
        return self.target.key

    def header(self, name: str) -> str | None:
        return self.http.headers.get(name)

    def flag(self, name: str) -> bool:
        return (self.header(name) or "").strip().lower() == "true"

    @property
    def encode(self) -> wire.Encoder:
        return wire.Encoder(self.target.get("encoding-type"))

    # --- body -----------------------------------------------------------------------------

    def body(self) -> AsyncIterator[bytes]:
        return self.http.content.iter_any()

    def content_length(self) -> int | None:
        length = self.http.content_length
        if length is not None and length < 0:
            raise InvalidArgument("Content-Length must not be negative.", name="Content-Length", value=str(length))
        return length

    def content_md5(self) -> bytes | None:
        return parse_content_md5(self.header("Content-MD5"))

    async def read_small_body(self, limit: int = wire.MAX_XML_BODY) -> bytes:
        """Read an XML body whole, refusing more than ``limit`` bytes; checks Content-MD5."""
        body = await read_whole_body(self.http, limit)
        expected = self.content_md5()
        if expected is not None and hashlib.md5(body).digest() != expected:
            raise InvalidDigest(**{"Content-MD5": self.header("Content-MD5") or ""})
        return body

    # --- parameters -----------------------------------------------------------------------

    def int_param(self, name: str, *, default: int, low: int, high: int) -> int:
        raw = self.target.get(name)
        if raw == "":
            return default
        value = decimal(raw)
        if value is None or not low <= value <= high:
            raise InvalidArgument(f"{name} must be an integer between {low} and {high}.", name=name, value=raw)
        return value

    def object_attributes(self) -> ObjectAttributes:
        headers = self.http.headers
        meta = {
            name[len(META_PREFIX):].lower(): value
            for name, value in headers.items()
            if name.lower().startswith(META_PREFIX)
        }
        # oss2 sends no Content-Type when it cannot guess one (docs/wire.md, Request headers and bodies).
        content_type = headers.get("Content-Type") or "application/octet-stream"
        if len(content_type) > MAX_CONTENT_TYPE:
            raise InvalidArgument(f"Content-Type is longer than {MAX_CONTENT_TYPE} characters.",
                                  name="Content-Type", value=content_type)
        return ObjectAttributes(
            content_type=content_type,
            storage_class=headers.get("x-oss-storage-class", ""),
            headers={name: headers[name] for name in STORED_HEADERS if name in headers},
            user_meta=meta,
            tags=self.tagging_header(),
            acl=self.object_acl_header(),
        )

    def object_acl_header(self) -> str:
        """``x-oss-object-acl`` (PutObject, InitiateMultipartUpload, CopyObject, PutSymlink and
        every other writer of objects); ``default`` when absent: the bucket's ACL applies."""
        return check_object_acl(self.header("x-oss-object-acl") or "default")

    def tagging_header(self) -> dict[str, str]:
        """``x-oss-tagging: k1=v1&k2=v2`` (URL-encoded), as sent with PutObject and friends."""
        return parse_tagging(self.header("x-oss-tagging") or "")


def parse_content_md5(value: str | None) -> bytes | None:
    """A Content-MD5 (header or form field): the 16-byte digest, None when absent."""
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise InvalidDigest("The Content-MD5 you specified is not a valid base64 MD5 digest.", **{"Content-MD5": value})
    return digest


async def read_whole_body(http: web.Request, limit: int = wire.MAX_XML_BODY) -> bytes:
    """A small body read whole, refusing more than ``limit`` bytes. A client that hangs up
    mid-body, or breaks its chunked encoding, is an IncompleteBody like any other."""
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in http.content.iter_any():
            total += len(chunk)
            if total > limit:
                raise EntityTooLarge(f"The request body is larger than {limit} bytes.")
            chunks.append(chunk)
    except (ConnectionError, HttpProcessingError) as error:
        raise IncompleteBody(f"The request body could not be read to its end ({error}).") from error
    return b"".join(chunks)


def parse_tagging(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise InvalidTag(f"x-oss-tagging must be URL-encoded key=value pairs joined by '&': {text!r}.") from None
    return check_tags(pairs)


def xml_response(root: wire.Xml, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=wire.document(root), headers=headers,
                        content_type="application/xml")


def empty_response(*, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, headers=headers)
