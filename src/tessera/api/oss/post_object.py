"""PostObject: ``POST /bucket`` with a ``multipart/form-data`` form, as a browser uploads
(docs/compatibility.md, PostObject).

The fields before ``file`` are read whole (they are small, and bounded); they carry the
signature, checked here since the request has no Authorization header, and the policy; the
signer (or, for an unsigned form, anyone) is then authorized as for PutObject of the key. The
file is then streamed into a blob through the same write path as PutObject, bounded by the
policy's content-length-range; a form that fails anything stores nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone
from typing import AsyncIterator
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from tessera.api.auth.post_form import verify_form
from tessera.api.oss import wire
from tessera.api.oss.context import (META_PREFIX, STORED_HEADERS, OssRequest, empty_response, parse_content_md5,
                                     parse_tagging, xml_response)
from tessera.api.oss.authorize import authorize
from tessera.api.oss.errors import OssError
from tessera.api.oss.post_policy import Policy, check_policy, parse_policy
from tessera.api.oss.target import Target
from tessera.api.oss.wire import element, leaf
from tessera.core import objects
from tessera.core.acl import ANONYMOUS, Requester, check_object_acl
from tessera.core.buckets import get_bucket
from tessera.core.errors import IncompleteBody, InvalidArgument
from tessera.core.models import MAX_CONTENT_TYPE, MAX_PUT_SIZE, ObjectAttributes
from tessera.meta import keys as key_rows

MAX_FIELD_BYTES = 1024 * 1024  # all the fields before the file, together
MAX_FIELDS = 200
FILE_CHUNK = 256 * 1024
SUCCESS_STATUSES = ("200", "201", "204")
_STORED = frozenset(name.lower() for name in STORED_HEADERS)


def malformed(message: str) -> OssError:
    return OssError(400, "MalformedPOSTRequest",
                    f"The body of your POST request is not well-formed multipart/form-data: {message}")


def is_form(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "multipart/form-data"


async def post_object(req: OssRequest) -> web.StreamResponse:
    bucket = await get_bucket(req.storage, req.bucket)
    fields, file = await _read_fields(req.http)
    key, policy = await _authorize(req, bucket.name, fields, file)
    redirect = fields.get("success_action_redirect")
    if redirect:
        _check_redirect(redirect)
    low, high = (policy.length_range if policy else None) or (0, MAX_PUT_SIZE)
    info = await objects.put_object(
        req.storage, bucket.name, key, _file_body(file), size=None, content_md5=_content_md5(fields),
        attrs=_attributes(fields, file), forbid_overwrite=fields.get("x-oss-forbid-overwrite", "").lower() == "true",
        min_size=low, max_size=high,
    )
    etag = wire.quoted_etag(info.etag)
    headers = {"ETag": etag, "x-oss-hash-crc64ecma": info.crc64, "Content-MD5": info.content_md5 or ""}
    if redirect:
        headers["Location"] = _redirect_location(redirect, bucket.name, key, etag)
        return empty_response(status=303, headers=headers)
    status = fields.get("success_action_status", "204")
    if status == "201":
        root = element("PostResponse", leaf("Bucket", bucket.name),
                       leaf("Location", f"{req.http.scheme}://{req.http.host}/{bucket.name}/{key}"),
                       leaf("Key", key), leaf("ETag", etag))
        return xml_response(root, status=201, headers=headers)
    return empty_response(status=int(status) if status in SUCCESS_STATUSES else 204, headers=headers)


async def _authorize(req: OssRequest, bucket: str, fields: dict[str, str],
                     file: BodyPartReader) -> tuple[str, Policy | None]:
    """The key the form may write and the policy that allows it (None for an anonymous form
    without one); raises unless the signature holds, the policy allows every field (the key as
    written and as stored), and the signer — or anyone, for an anonymous form — may write the
    key, as for PutObject."""
    access_key_id = await verify_form(fields, lambda key_id: _secret_for(req, key_id),
                                      now=datetime.now(timezone.utc), region=req.region)
    policy = parse_policy(fields["policy"]) if "policy" in fields else None
    raw_key = fields.get("key")
    if not raw_key:
        raise InvalidArgument("A PostObject form needs a non-empty key field.", name="key", value="")
    key = raw_key.replace("${filename}", file.filename or "")
    if policy is not None:
        judged = {name: (value,) for name, value in fields.items()}
        check_policy(policy, {**judged, "key": (key, raw_key), "bucket": (bucket,)}, datetime.now(timezone.utc))
    signer = replace(req, target=Target(bucket, key, req.target.query), access_key_id=access_key_id or "",
                     requester=await _requester(req, access_key_id))
    await authorize(signer, "PutObject")
    return key, policy


async def _secret_for(req: OssRequest, access_key_id: str) -> str | None:
    async with req.storage.db.read() as conn:
        return await key_rows.secret_for(conn, access_key_id)


async def _requester(req: OssRequest, access_key_id: str | None) -> Requester:
    if access_key_id is None:
        return ANONYMOUS
    async with req.storage.db.read() as conn:
        return Requester(access_key_id, is_root=await key_rows.is_root(conn, access_key_id))


async def _read_fields(http: web.Request) -> tuple[dict[str, str], BodyPartReader]:
    """The form's fields before ``file`` (names lower-cased, first one of a name kept), and the
    file part, positioned at its first byte."""
    fields: dict[str, str] = {}
    total = 0
    try:
        reader = await http.multipart()
        while True:
            part = await reader.next()
            if part is None:
                raise InvalidArgument("A PostObject form needs a file field, the last of its fields.",
                                      name="file", value="")
            if not isinstance(part, BodyPartReader):
                raise malformed("nested multipart parts are not accepted.")
            name = (part.name or "").lower()
            if name == "file":
                return fields, part
            value = await _read_field(part, MAX_FIELD_BYTES - total)
            total += len(value)
            if len(fields) >= MAX_FIELDS:
                raise malformed(f"more than {MAX_FIELDS} fields.")
            try:
                fields.setdefault(name, value.decode("utf-8"))
            except UnicodeDecodeError:
                raise malformed(f"the {part.name} field is not UTF-8.") from None
    except (ConnectionError, HttpProcessingError) as error:
        raise IncompleteBody(f"The form could not be read to its end ({error}).") from error
    except (ValueError, RuntimeError, AssertionError, KeyError) as error:  # aiohttp's words for a broken form
        raise malformed(str(error) or type(error).__name__) from None


async def _read_field(part: BodyPartReader, room: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > room:
            raise malformed(f"the fields before the file are longer than {MAX_FIELD_BYTES} bytes together.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _file_body(part: BodyPartReader) -> AsyncIterator[bytes]:
    """The file's bytes as sent (no Content-Transfer-Encoding is applied), chunk by chunk; a form
    that ends before the file's closing boundary is IncompleteBody."""
    try:
        while chunk := await part.read_chunk(FILE_CHUNK):
            yield chunk
    except (ConnectionError, HttpProcessingError) as error:
        raise IncompleteBody(f"The file could not be read to its end ({error}).") from error
    except (ValueError, RuntimeError, AssertionError) as error:
        raise IncompleteBody(f"The form ended before the end of the file ({error or type(error).__name__}).") \
            from None


def _content_md5(fields: dict[str, str]) -> bytes | None:
    return parse_content_md5(fields.get("content-md5"))


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _header_value(name: str, value: str) -> str:
    """A field that becomes a response header of the object: a form can hold what no header can."""
    if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in value):
        raise InvalidArgument(f"The {name} field must not contain control characters.", name=name, value=value)
    return value


def _attributes(fields: dict[str, str], file: BodyPartReader) -> ObjectAttributes:
    for name, value in fields.items():
        if name.startswith(META_PREFIX) and not _TOKEN.fullmatch(name):
            raise InvalidArgument(f"{name!r} is not a valid metadata name.", name=name, value=value)
        if name.startswith(META_PREFIX) or name in _STORED:
            _header_value(name, value)
    content_type = _header_value("Content-Type", fields.get("content-type") or file.headers.get("Content-Type")
                                 or "application/octet-stream")
    if len(content_type) > MAX_CONTENT_TYPE:
        raise InvalidArgument(f"Content-Type is longer than {MAX_CONTENT_TYPE} characters.", name="Content-Type",
                              value=content_type)
    return ObjectAttributes(
        content_type=content_type,
        storage_class=fields.get("x-oss-storage-class", ""),
        headers={name: fields[name.lower()] for name in STORED_HEADERS if name.lower() in fields},
        user_meta={name[len(META_PREFIX):]: value for name, value in fields.items() if name.startswith(META_PREFIX)},
        tags=parse_tagging(fields.get("x-oss-tagging", "")),
        acl=check_object_acl(fields.get("x-oss-object-acl") or "default"),
    )


def _check_redirect(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ord(c) < 0x21 for c in url):
        raise InvalidArgument("success_action_redirect must be an absolute http or https URL.",
                              name="success_action_redirect", value=url)


def _redirect_location(url: str, bucket: str, key: str, etag: str) -> str:
    parts = urlsplit(url)
    query = urlencode({"bucket": bucket, "key": key, "etag": etag})
    return urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))
