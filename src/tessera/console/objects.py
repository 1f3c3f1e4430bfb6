"""The Objects page and its JSON: browse by prefix as folders, page, search, details, download,
delete one or several (docs/console.md, Objects). Uploads from the browser are
``console/uploads.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from tessera.api.responses import BlobResponse
from tessera.console.object_access import key_param, require_object
from tessera.console.request import ConsoleRequest
from tessera.console.responses import ConsoleError, json_response
from tessera.console.routing import Route
from tessera.core import object_acl, objects
from tessera.core.acl import Access, allowed, effective_acl, is_owner
from tessera.core.buckets import get_bucket
from tessera.core.errors import TesseraError
from tessera.core.models import ObjectInfo
from tessera.core.names import check_key

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_DELETE_KEYS = 1000  # as DeleteMultipleObjects takes at most


@dataclass(frozen=True)
class Crumb:
    """One step of the folder path above a listing: its name and the prefix it opens."""

    name: str
    prefix: str


def breadcrumb(prefix: str, delimiter: str = "/") -> list[Crumb]:
    """The folders of ``prefix``, outermost first. A prefix that does not end with the
    delimiter (a search) ends with its unfinished last piece, which opens itself."""
    crumbs: list[Crumb] = []
    start = 0
    while (at := prefix.find(delimiter, start)) >= 0:
        crumbs.append(Crumb(prefix[start:at], prefix[: at + len(delimiter)]))
        start = at + len(delimiter)
    if start < len(prefix):
        crumbs.append(Crumb(prefix[start:], prefix))
    return crumbs


def folder_of(key: str, delimiter: str = "/") -> str:
    """The folder holding ``key`` (the prefix up to its last delimiter; "" at the top)."""
    at = key.rfind(delimiter)
    return key[: at + len(delimiter)] if at >= 0 else ""


def content_disposition(key: str) -> str:
    """``attachment`` with the key's last segment as the file name: an RFC 6266 ``filename*``
    in UTF-8 for every browser, and a plain-ASCII ``filename`` for anything older. Never
    ``inline``: the console's origin must not render user content (docs/console.md, Objects)."""
    name = key.rstrip("/").rsplit("/", 1)[-1] or "download"
    fallback = "".join(ch if " " <= ch < "\x7f" and ch not in '"\\%;' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _int_param(c: ConsoleRequest, name: str, default: int, low: int, high: int) -> int:
    raw = c.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConsoleError(400, "InvalidArgument", f"{name} must be a whole number from {low} to {high}.",
                           field=name)
    return int(raw)


def _summary(info: ObjectInfo) -> dict[str, Any]:
    return {"key": info.key, "size": info.size, "last_modified_ms": info.last_modified_ms, "etag": info.etag,
            "storage_class": info.attributes.storage_class, "object_type": info.object_type}


def _details(info: ObjectInfo, bucket_acl: str) -> dict[str, Any]:
    attrs = info.attributes
    return {**_summary(info), "crc64": info.crc64, "content_type": attrs.content_type,
            "content_md5": info.content_md5, "headers": attrs.headers, "user_meta": attrs.user_meta,
            "tags": attrs.tags, "acl": attrs.acl, "effective_acl": effective_acl(bucket_acl, attrs.acl),
            "symlink_target": info.symlink_target, "transitioned_ms": info.transitioned_ms}


async def objects_page(c: ConsoleRequest) -> web.Response:
    name = c.params["bucket"]
    await c.require_bucket(name, Access.LIST)
    prefix = c.query.get("prefix", "")
    limit = _int_param(c, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    return c.render("objects.html", nav="objects", prefix=prefix, crumbs=breadcrumb(prefix), limit=limit,
                    marker=c.query.get("marker", ""))


async def list_objects(c: ConsoleRequest) -> web.Response:
    name = c.params["bucket"]
    await c.require_bucket(name, Access.LIST)
    prefix, delimiter, marker = c.query.get("prefix", ""), c.query.get("delimiter", "/"), c.query.get("marker", "")
    limit = _int_param(c, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = await objects.list_objects(c.storage, name, prefix=prefix, delimiter=delimiter, after=marker,
                                      max_keys=limit)
    return json_response({"bucket": name, "prefix": prefix, "delimiter": delimiter, "marker": marker,
                          "objects": [_summary(o) for o in page.entries], "folders": page.common_prefixes,
                          "is_truncated": page.is_truncated, "next_marker": page.next_marker})


async def _details_of(c: ConsoleRequest) -> dict[str, Any]:
    name, key = c.params["bucket"], key_param(c)
    await require_object(c, name, key, Access.READ)
    info = await objects.object_info(c.storage, name, key)
    return _details(info, (await get_bucket(c.storage, name)).acl)


async def object_details(c: ConsoleRequest) -> web.Response:
    return json_response(await _details_of(c))


async def object_page(c: ConsoleRequest) -> web.Response:
    details = await _details_of(c)
    folder = folder_of(details["key"])
    return c.render("object.html", nav="objects", o=details, folder=folder, crumbs=breadcrumb(folder))


async def download(c: ConsoleRequest) -> web.StreamResponse:
    name, key = c.params["bucket"], key_param(c)
    await require_object(c, name, key, Access.READ, through_symlink=True)
    read = await objects.read_object(c.storage, name, key, lambda info: None)
    # Always a download, never rendered: the bytes are the user's, the origin is the console's.
    return BlobResponse(read.body, headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": content_disposition(key),
        "ETag": f'"{read.info.etag}"',
        "x-oss-hash-crc64ecma": read.info.crc64,
    })


async def delete_objects(c: ConsoleRequest) -> web.Response:
    """Delete the keys named; the answer says, key by key, what was deleted and what was refused."""
    name = c.params["bucket"]
    bucket = await c.require_bucket(name, Access.WRITE)
    keys = (await c.json_body()).get("keys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise ConsoleError(400, "InvalidArgument", "Name the objects to delete: {\"keys\": [...]}.", field="keys")
    if len(keys) > MAX_DELETE_KEYS:
        raise ConsoleError(400, "InvalidArgument", f"At most {MAX_DELETE_KEYS} objects can be deleted at once.",
                           field="keys")
    refused: list[dict[str, str]] = []
    chosen: list[str] = []
    for key in dict.fromkeys(keys):
        try:
            check_key(key)
            if not is_owner(c.requester, bucket.owner):
                grants = await object_acl.grants(c.storage, name, key)
                if not allowed(c.requester, bucket.owner, Access.WRITE, grants.acls):
                    refused.append({"key": key, "code": "AccessDenied",
                                    "message": "The signed-in key may not delete this object."})
                    continue
            chosen.append(key)
        except TesseraError as error:
            refused.append({"key": key, "code": type(error).__name__, "message": error.message})
    # The core checks each key again under its row lock, in the one transaction that deletes them.
    deleted = await objects.delete_objects(c.storage, name, chosen, requester=c.requester) if chosen else []
    return json_response({"deleted": deleted, "refused": refused})


ROUTES = [
    Route("GET", "/buckets/{bucket}/objects", objects_page, page=True),
    Route("GET", "/buckets/{bucket}/object", object_page, page=True),
    Route("GET", "/buckets/{bucket}/download", download, page=True),
    Route("GET", "/api/buckets/{bucket}/objects", list_objects),
    Route("GET", "/api/buckets/{bucket}/object", object_details),
    Route("POST", "/api/buckets/{bucket}/objects/delete", delete_objects),
]
