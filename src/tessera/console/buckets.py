"""The Buckets page (the console's home) and its JSON: list, create, delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from tessera.console.request import ConsoleRequest
from tessera.console.responses import ConsoleError, json_response
from tessera.console.routing import Route
from tessera.core import buckets
from tessera.core.acl import Access
from tessera.core.buckets import BucketOverview
from tessera.core.errors import BucketNotEmpty
from tessera.core.metering import OBJECT, UPLOAD


def part_management_url(bucket: str, prefix: str = "") -> str:
    url = f"/-/console/buckets/{quote(bucket, safe='')}/parts"
    return url + (f"?prefix={quote(prefix, safe='')}" if prefix else "")


async def _overviews(c: ConsoleRequest) -> list[BucketOverview]:
    owner = None if c.requester.is_root else c.requester.access_key_id
    return await buckets.bucket_overviews(c.storage, owner=owner)


def _as_json(c: ConsoleRequest, o: BucketOverview) -> dict[str, Any]:
    return {"name": o.bucket.name, "region": c.storage.region, "storage_class": o.bucket.storage_class,
            "acl": o.bucket.acl, "created_ms": o.bucket.created_ms, "owner": o.bucket.owner,
            "objects": o.objects.count, "object_bytes": o.objects.bytes, "uploads": o.uploads,
            "parts": o.parts.count, "part_bytes": o.parts.bytes, "monthly_cost": o.monthly_cost}


async def buckets_page(c: ConsoleRequest) -> web.Response:
    overviews = await _overviews(c)
    return c.render("buckets.html", nav="buckets", overviews=overviews, region=c.storage.region,
                    currency=c.storage.prices.currency, part_management_url=part_management_url)


async def list_buckets(c: ConsoleRequest) -> web.Response:
    return json_response({"buckets": [_as_json(c, o) for o in await _overviews(c)],
                          "currency": c.storage.prices.currency})


async def create_bucket(c: ConsoleRequest) -> web.Response:
    body = await c.json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ConsoleError(400, "InvalidArgument", "Give the new bucket a name.", field="name")
    storage_class, acl = body.get("storage_class", "Standard"), body.get("acl", "private")
    if not isinstance(storage_class, str) or not isinstance(acl, str):
        raise ConsoleError(400, "InvalidArgument", "storage_class and acl are text.", field="storage_class")
    assert c.requester.access_key_id is not None
    bucket = await buckets.create_bucket(c.storage, name, owner=c.requester.access_key_id,
                                         storage_class=storage_class, acl=acl)
    return json_response({"name": bucket.name, "storage_class": bucket.storage_class, "acl": bucket.acl}, status=201)


async def delete_bucket(c: ConsoleRequest) -> web.Response:
    name = c.params["bucket"]
    await c.require_bucket(name, Access.OWNER)
    try:
        await buckets.delete_bucket(c.storage, name)
    except BucketNotEmpty as refused:
        usage = await buckets.bucket_usage(c.storage, name)
        uploads = usage.get(None, UPLOAD).count
        objects = usage.get(None, OBJECT).count
        raise ConsoleError(409, "BucketNotEmpty", refused.message, bucket=name, objects=objects, uploads=uploads,
                           part_management=part_management_url(name) if uploads else None) from None
    return json_response({"deleted": name})


ROUTES = [
    Route("GET", "/", buckets_page, page=True),
    Route("GET", "/api/buckets", list_buckets),
    Route("POST", "/api/buckets", create_bucket),
    Route("DELETE", "/api/buckets/{bucket}", delete_bucket),
]
