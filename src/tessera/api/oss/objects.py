"""Object operations: PutObject, GetObject, HeadObject, GetObjectMeta, DeleteObject,
DeleteMultipleObjects, CopyObject."""

from __future__ import annotations

import re
from urllib.parse import unquote

from aiohttp import web

from tessera.api import numbers
from tessera.api.oss import wire
from tessera.api.oss.context import META_PREFIX, OssRequest, empty_response, xml_response
from tessera.api.oss.restore import restore_header
from tessera.api.oss.wire import element, leaf
from tessera.api.responses import BlobResponse
from tessera.core import conditions, objects
from tessera.core.errors import InvalidArgument, InvalidRange, MalformedXML
from tessera.core.metering import COUNTED_FROM_TRANSITION
from tessera.core.models import APPENDABLE, ObjectInfo

MAX_DELETE_KEYS = 1000

# GetObject's response-* query parameters override these response headers.
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def object_headers(info: ObjectInfo) -> dict[str, str]:
    headers = {
        "Content-Type": info.attributes.content_type,
        "ETag": wire.quoted_etag(info.etag),
        "Last-Modified": wire.http_time(info.last_modified_ms),
        "x-oss-object-type": info.object_type,
        "x-oss-storage-class": info.attributes.storage_class,
        "x-oss-hash-crc64ecma": info.crc64,
        "Accept-Ranges": "bytes",
        **info.attributes.headers,
        **{META_PREFIX + name: value for name, value in info.attributes.user_meta.items()},
    }
    if info.content_md5:
        headers["Content-MD5"] = info.content_md5
    if info.attributes.tags:
        headers["x-oss-tagging-count"] = str(len(info.attributes.tags))
    if info.object_type == APPENDABLE:
        headers["x-oss-next-append-position"] = str(info.size)
    return {**headers, **transition_header(info)}


def transition_header(info: ObjectInfo) -> dict[str, str]:
    """When a lifecycle rule moved the object to ColdArchive or DeepColdArchive (the start of its
    minimum storage duration there), as OSS reports it."""
    if info.transitioned_ms is None or info.attributes.storage_class not in COUNTED_FROM_TRANSITION:
        return {}
    return {"x-oss-transition-time": wire.http_time(info.transitioned_ms)}


def read_conditions(req: OssRequest, prefix: str = "") -> conditions.Preconditions:
    return conditions.Preconditions(
        if_match=req.header(prefix + "If-Match"),
        if_none_match=req.header(prefix + "If-None-Match"),
        if_modified_since=wire.parse_http_time(req.header(prefix + "If-Modified-Since")),
        if_unmodified_since=wire.parse_http_time(req.header(prefix + "If-Unmodified-Since")),
    )


async def put_object(req: OssRequest) -> web.Response:
    info = await objects.put_object(
        req.storage, req.bucket, req.key, req.body(),
        size=req.content_length(), content_md5=req.content_md5(), attrs=req.object_attributes(),
        forbid_overwrite=req.flag("x-oss-forbid-overwrite"),
    )
    return empty_response(headers={
        "ETag": wire.quoted_etag(info.etag),
        "x-oss-hash-crc64ecma": info.crc64,
        "Content-MD5": info.content_md5 or "",
    })


_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
# A bound of more digits than any size has: past the end of every object.
_BEYOND_ANY_SIZE = 10 ** numbers.MAX_DIGITS


def _bound(digits: str) -> int:
    value = numbers.decimal(digits)
    return _BEYOND_ANY_SIZE if value is None else value


def parse_range(header: str | None, size: int, *, strict: bool) -> tuple[int, int] | None:
    """The inclusive byte range asked for, or None for the whole object.

    Without ``x-oss-range-behavior: standard`` OSS ignores a range it cannot satisfy and
    returns the whole object; with it, the answer is 416 InvalidRange.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None  # malformed or multi-range: served whole, as OSS does
    first, last = match.group(1), match.group(2)
    if first:
        start = _bound(first)
        end = min(_bound(last), size - 1) if last else size - 1
        if last and _bound(last) < start:
            return None
    else:
        suffix = _bound(last)
        if suffix == 0:
            return _unsatisfiable(size, strict)
        start, end = max(size - suffix, 0), size - 1
    if start >= size:
        return _unsatisfiable(size, strict)
    return start, end


def _unsatisfiable(size: int, strict: bool) -> None:
    if strict:
        raise InvalidRange(ActualObjectSize=str(size))
    return None


def response_overrides(req: OssRequest) -> dict[str, str]:
    """The response-* query parameters as the headers they set; a value that no header can
    carry (a line break, another control character) is refused rather than sent."""
    overrides = {}
    for param, header in RESPONSE_OVERRIDES.items():
        value = req.target.get(param)
        if value:
            if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in value):
                raise InvalidArgument(f"{param} must not contain control characters.", name=param, value=value)
            overrides[header] = value
    return overrides


async def get_object(req: OssRequest) -> web.StreamResponse:
    overrides = response_overrides(req)
    strict = (req.header("x-oss-range-behavior") or "").lower() == "standard"

    def choose(info: ObjectInfo) -> tuple[int, int] | None:
        conditions.check(info, read_conditions(req))
        return parse_range(req.header("Range"), info.size, strict=strict)

    read = await objects.read_object(req.storage, req.bucket, req.key, choose)
    headers = {**object_headers(read.info), **restore_header(read.info, req.storage.clock()), **overrides}
    if read.byte_range is None:
        return BlobResponse(read.body, status=200, headers=headers)
    start, end = read.byte_range
    # The whole-object CRC on a 206 breaks v2's ranged get_object_to_file (docs/wire.md, CRC-64).
    del headers["x-oss-hash-crc64ecma"]
    headers["Content-Range"] = f"bytes {start}-{end}/{read.info.size}"
    return BlobResponse(read.body, status=206, headers=headers)


async def head_object(req: OssRequest) -> web.Response:
    info = await objects.resolved_info(req.storage, req.bucket, req.key)
    conditions.check(info, read_conditions(req))
    headers = {**object_headers(info), **restore_header(info, req.storage.clock())}
    headers["Content-Length"] = str(info.size)
    return web.Response(status=200, headers=headers)


async def get_object_meta(req: OssRequest) -> web.Response:
    info = await objects.object_info(req.storage, req.bucket, req.key)
    return web.Response(status=200, headers={
        "ETag": wire.quoted_etag(info.etag),
        "Last-Modified": wire.http_time(info.last_modified_ms),
        "x-oss-hash-crc64ecma": info.crc64,
        "x-oss-last-access-time": wire.http_time(info.last_modified_ms),
        "Content-Length": str(info.size),
        **transition_header(info),
    })


async def delete_object(req: OssRequest) -> web.Response:
    await objects.delete_object(req.storage, req.bucket, req.key)
    return empty_response(status=204)


async def delete_multiple_objects(req: OssRequest) -> web.Response:
    body = await req.read_small_body()
    doc = wire.parse(body, "Delete")
    quiet = (wire.child_text(doc, "Quiet") or "false").strip().lower() == "true"
    keys = [wire.child_text(obj, "Key") or "" for obj in wire.children(doc, "Object")]
    if not keys:
        raise MalformedXML("The Delete request must name at least one object.")
    if len(keys) > MAX_DELETE_KEYS:
        raise MalformedXML(f"At most {MAX_DELETE_KEYS} objects can be deleted in one request.")
    deleted = await objects.delete_objects(req.storage, req.bucket, keys, requester=req.requester)
    encode = req.encode
    root = element(
        "DeleteResult",
        leaf("EncodingType", "url") if encode.url else None,
        *([] if quiet else [element("Deleted", leaf("Key", encode(k))) for k in deleted]),
    )
    return xml_response(root)


def parse_copy_source(value: str) -> tuple[str, str]:
    """``/bucket/key`` with the key URL-encoded (oss2 encodes '/', v2 does not)."""
    path = value.split("?", 1)[0].removeprefix("/")
    bucket, _, raw_key = path.partition("/")
    if not bucket or not raw_key:
        raise InvalidArgument("x-oss-copy-source must be /bucket/key.", name="x-oss-copy-source", value=value)
    return unquote(bucket), unquote(raw_key)


async def copy_object(req: OssRequest) -> web.Response:
    source_bucket, source_key = parse_copy_source(req.header("x-oss-copy-source") or "")
    directive = (req.header("x-oss-metadata-directive") or "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("x-oss-metadata-directive must be COPY or REPLACE.",
                              name="x-oss-metadata-directive", value=directive)
    tagging = (req.header("x-oss-tagging-directive") or "COPY").upper()
    if tagging not in ("COPY", "REPLACE"):
        raise InvalidArgument("x-oss-tagging-directive must be Copy or Replace.",
                              name="x-oss-tagging-directive", value=tagging)
    info = await objects.copy_object(
        req.storage, source_bucket, source_key, req.bucket, req.key,
        source_conditions=read_conditions(req, "x-oss-copy-source-"),
        replace_attrs=req.object_attributes() if directive == "REPLACE" else None,
        replace_tags=req.tagging_header() if tagging == "REPLACE" else None,
        forbid_overwrite=req.flag("x-oss-forbid-overwrite"), acl=req.object_acl_header(),
    )
    etag = wire.quoted_etag(info.etag)
    root = element("CopyObjectResult", leaf("ETag", etag), leaf("LastModified", wire.iso_time(info.last_modified_ms)))
    # oss2 reads the ETag header, v2 the XML (docs/wire.md, ETags).
    return xml_response(root, headers={"ETag": etag, "x-oss-hash-crc64ecma": info.crc64})
