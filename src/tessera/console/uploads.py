"""Uploads from the browser: a small file in one request, a large one as a multipart upload
(initiate → parts → complete, or abort), and the parts already there so a reloaded page can
resume (docs/console.md, Uploads from the browser).

Bodies are streamed from the request into the core as they arrive, never read whole: the
core's blob writer enforces the sizes (5 GiB for an object or a part) and checks the length
against Content-Length, which every request with a body must carry.
"""

from __future__ import annotations

from typing import Any, AsyncIterator

from aiohttp import web

from tessera.console.object_access import key_param, require_object
from tessera.console.request import ConsoleRequest
from tessera.console.responses import ConsoleError, json_response
from tessera.console.routing import Route
from tessera.core import multipart, objects
from tessera.core.acl import Access
from tessera.core.errors import MissingContentLength
from tessera.core.models import MAX_CONTENT_TYPE, MAX_PART_NUMBER, ObjectAttributes, Part, PartChoice

PARTS_PER_QUERY = 1000


def content_type_of(header: str | None) -> str:
    """The type a browser gave the file (``File.type``), when it is one a header can carry;
    otherwise the OSS default."""
    value = (header or "").strip()
    if not value or len(value) > MAX_CONTENT_TYPE or not all(" " <= ch < "\x7f" for ch in value):
        return "application/octet-stream"
    return value


def _body(c: ConsoleRequest) -> tuple[AsyncIterator[bytes], int]:
    length = c.http.content_length
    if length is None:
        raise MissingContentLength()
    return c.http.content.iter_any(), length


def _part(part: Part) -> dict[str, Any]:
    return {"part_number": part.part_number, "size": part.size, "etag": part.etag, "crc64": part.crc64,
            "last_modified_ms": part.last_modified_ms}


def _part_number(c: ConsoleRequest) -> int:
    raw = c.params["part_number"]
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PART_NUMBER:
        raise ConsoleError(400, "InvalidArgument", f"A part number is a whole number from 1 to {MAX_PART_NUMBER}.",
                           field="part_number")
    return int(raw)


async def _writable(c: ConsoleRequest) -> tuple[str, str]:
    bucket, key = c.params["bucket"], key_param(c)
    await require_object(c, bucket, key, Access.WRITE)
    return bucket, key


async def put_object(c: ConsoleRequest) -> web.Response:
    bucket, key = await _writable(c)
    body, size = _body(c)
    info = await objects.put_object(c.storage, bucket, key, body, size=size, content_md5=None,
                                    attrs=ObjectAttributes(content_type=content_type_of(c.http.headers.get(
                                        "Content-Type"))))
    return json_response({"key": info.key, "size": info.size, "etag": info.etag, "crc64": info.crc64,
                          "object_type": info.object_type}, status=201)


async def initiate(c: ConsoleRequest) -> web.Response:
    bucket, key = await _writable(c)
    content_type = (await c.json_body()).get("content_type")
    attrs = ObjectAttributes(content_type=content_type_of(content_type if isinstance(content_type, str) else None))
    assert c.requester.access_key_id is not None  # a session always has a key
    upload = await multipart.initiate_upload(c.storage, bucket, key, attrs, initiator=c.requester.access_key_id)
    return json_response({"bucket": upload.bucket, "key": upload.key, "upload_id": upload.upload_id}, status=201)


async def upload_part(c: ConsoleRequest) -> web.Response:
    bucket, key = await _writable(c)
    number = _part_number(c)
    body, size = _body(c)
    part = await multipart.upload_part(c.storage, bucket, key, c.params["upload_id"], number, body, size=size,
                                       content_md5=None)
    return json_response(_part(part))


async def list_parts(c: ConsoleRequest) -> web.Response:
    """Every part the upload has (at most 10 000), for a page that resumes it."""
    bucket, key = await _writable(c)
    found: list[Part] = []
    marker = 0
    while True:
        page = await multipart.list_parts(c.storage, bucket, key, c.params["upload_id"], part_number_marker=marker,
                                          max_parts=PARTS_PER_QUERY)
        found.extend(page.parts)
        if not page.is_truncated or not page.parts:
            break
        marker = page.parts[-1].part_number
    return json_response({"upload_id": c.params["upload_id"], "key": key, "parts": [_part(p) for p in found]})


def _choices(body: dict[str, Any]) -> list[PartChoice]:
    parts = body.get("parts")
    problem = ConsoleError(400, "InvalidArgument",
                           'List the parts to assemble: {"parts": [{"part_number": 1, "etag": "..."}, ...]}.',
                           field="parts")
    if not isinstance(parts, list) or not parts:
        raise problem
    choices = []
    for part in parts:
        number = part.get("part_number") if isinstance(part, dict) else None
        etag = part.get("etag") if isinstance(part, dict) else None
        if not isinstance(number, int) or isinstance(number, bool) or not isinstance(etag, str):
            raise problem
        choices.append(PartChoice(number, etag))
    return choices


async def complete(c: ConsoleRequest) -> web.Response:
    bucket, key = await _writable(c)
    choices = _choices(await c.json_body())
    done = await multipart.complete_upload(c.storage, bucket, key, c.params["upload_id"], choices)
    return json_response({"key": done.key, "upload_id": done.upload_id, "size": done.size, "etag": done.etag,
                          "crc64": done.crc64})


async def abort(c: ConsoleRequest) -> web.Response:
    bucket, key = await _writable(c)
    freed = await multipart.abort_upload(c.storage, bucket, key, c.params["upload_id"])
    return json_response({"upload_id": c.params["upload_id"], "parts_freed": freed})


# Under ``multipart/``, not ``uploads/``: Part Management owns the bucket's upload listings.
ROUTES = [
    Route("PUT", "/api/buckets/{bucket}/object", put_object),
    Route("POST", "/api/buckets/{bucket}/multipart", initiate),
    Route("GET", "/api/buckets/{bucket}/multipart/{upload_id}", list_parts),
    Route("DELETE", "/api/buckets/{bucket}/multipart/{upload_id}", abort),
    Route("PUT", "/api/buckets/{bucket}/multipart/{upload_id}/{part_number}", upload_part),
    Route("POST", "/api/buckets/{bucket}/multipart/{upload_id}/complete", complete),
]
