"""ListObjects (v1) and ListObjectsV2."""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from tessera.api.oss import wire
from tessera.api.oss.context import OssRequest, xml_response
from tessera.api.oss.wire import element, leaf
from tessera.core import objects
from tessera.core.buckets import get_bucket
from tessera.core.errors import InvalidArgument
from tessera.core.models import ObjectInfo, Page


def _contents(info: ObjectInfo, encode: wire.Encoder, owner: str | None) -> wire.Xml:
    return element(
        "Contents",
        leaf("Key", encode(info.key)),
        leaf("LastModified", wire.iso_time(info.last_modified_ms)),
        leaf("ETag", wire.quoted_etag(info.etag)),
        leaf("Type", info.object_type),
        leaf("Size", info.size),
        leaf("StorageClass", info.attributes.storage_class),
        element("Owner", leaf("ID", owner), leaf("DisplayName", owner)) if owner else None,
    )


def _common_parts(req: OssRequest) -> tuple[str, str, int]:
    prefix, delimiter = req.target.get("prefix"), req.target.get("delimiter")
    return prefix, delimiter, req.int_param("max-keys", default=100, low=0, high=1000)


async def _page(req: OssRequest, prefix: str, delimiter: str, after: str, max_keys: int) -> Page[ObjectInfo]:
    if max_keys == 0:
        return Page([], [], False)
    return await objects.list_objects(req.storage, req.bucket, prefix=prefix, delimiter=delimiter, after=after,
                                      max_keys=max_keys)


async def list_objects(req: OssRequest) -> web.Response:
    prefix, delimiter, max_keys = _common_parts(req)
    marker = req.target.get("marker")
    page = await _page(req, prefix, delimiter, marker, max_keys)
    # ListObjects always names each object's owner (ali-oss reads it); the bucket's owner owns
    # everything in it.
    owner = (await get_bucket(req.storage, req.bucket)).owner
    encode = req.encode
    root = element(
        "ListBucketResult",
        leaf("Name", req.bucket),
        leaf("Prefix", encode(prefix)),
        leaf("Marker", encode(marker)),
        leaf("MaxKeys", max_keys),
        leaf("Delimiter", encode(delimiter)),
        leaf("EncodingType", "url") if encode.url else None,
        leaf("IsTruncated", page.is_truncated),
        leaf("NextMarker", encode(page.next_marker)) if page.is_truncated else None,
        *(_contents(o, encode, owner) for o in page.entries),
        *(element("CommonPrefixes", leaf("Prefix", encode(p))) for p in page.common_prefixes),
    )
    return xml_response(root)


def _token(key: str) -> str:
    """Continuation tokens are URL-safe base64 without padding: both SDKs url-decode them."""
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii").rstrip("=")


def _untoken(token: str) -> str:
    try:
        key: str | None = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = None
    if key is None or "\x00" in key:  # no key holds NUL: such a token was never one of ours
        raise InvalidArgument("The continuation token is not valid.", name="continuation-token", value=token)
    return key


async def list_objects_v2(req: OssRequest) -> web.Response:
    prefix, delimiter, max_keys = _common_parts(req)
    token, start_after = req.target.get("continuation-token"), req.target.get("start-after")
    after = _untoken(token) if token else start_after
    page = await _page(req, prefix, delimiter, after, max_keys)
    encode = req.encode
    fetch_owner = req.target.get("fetch-owner").lower() == "true"
    owner = (await get_bucket(req.storage, req.bucket)).owner if fetch_owner else None
    root = element(
        "ListBucketResult",
        leaf("Name", req.bucket),
        leaf("Prefix", encode(prefix)),
        leaf("StartAfter", encode(start_after)) if start_after else None,
        leaf("ContinuationToken", token) if token else None,
        leaf("MaxKeys", max_keys),
        leaf("Delimiter", encode(delimiter)),
        leaf("EncodingType", "url") if encode.url else None,
        leaf("IsTruncated", page.is_truncated),
        leaf("KeyCount", len(page.entries) + len(page.common_prefixes)),
        leaf("NextContinuationToken", _token(page.next_marker)) if page.is_truncated else None,
        *(_contents(o, encode, owner) for o in page.entries),
        *(element("CommonPrefixes", leaf("Prefix", encode(p))) for p in page.common_prefixes),
    )
    return xml_response(root)

