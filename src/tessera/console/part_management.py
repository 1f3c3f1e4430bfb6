"""Part Management (docs/console.md, Part Management): a bucket's incomplete uploads — the page,
and the JSON it is drawn from: list, one upload's parts, totals, delete, Delete All as a job."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tessera.console.lifecycle import lifecycle_url
from tessera.console.request import ConsoleRequest
from tessera.console.responses import ConsoleError, json_response
from tessera.console.routing import Route
from tessera.core import jobs, part_management
from tessera.core.acl import Access
from tessera.core.jobs import Job
from tessera.core.models import Part
from tessera.core.part_management import PartTotals, UploadSummary

MAX_SELECTION = 1000  # upload IDs in one Delete or totals request (a page is at most 1000)


def _int(c: ConsoleRequest, name: str, default: int) -> int:
    text = c.query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or len(text) > 9:
        raise ConsoleError(400, "InvalidArgument", f"{name} must be a whole number.", field=name)
    return int(text)


def _order(c: ConsoleRequest) -> bool:
    order = c.query.get("order", "asc")
    if order not in ("asc", "desc"):
        raise ConsoleError(400, "InvalidArgument", "order is asc or desc.", field="order")
    return order == "desc"


def _upload(u: UploadSummary) -> dict[str, Any]:
    return {"upload_id": u.upload_id, "key": u.key, "initiated_ms": u.initiated_ms, "last_part_ms": u.last_part_ms,
            "parts": u.parts, "bytes": u.bytes, "storage_class": u.storage_class, "initiator": u.initiator,
            "cost_so_far": u.cost_so_far, "monthly_cost": u.monthly_cost}


def _totals(t: PartTotals) -> dict[str, Any]:
    return {"uploads": t.uploads, "parts": t.parts, "bytes": t.bytes, "exact": t.exact}


def _part(p: Part) -> dict[str, Any]:
    return {"part_number": p.part_number, "size": p.size, "etag": p.etag, "crc64": p.crc64,
            "uploaded_ms": p.last_modified_ms}


def _job(job: Job) -> dict[str, Any]:
    return {"job_id": job.job_id, "kind": job.kind, "bucket": job.bucket, "prefix": job.prefix,
            "requested_by": job.requested_by, "state": job.state, "created_ms": job.created_ms,
            "finished_ms": job.finished_ms, "total": _totals(job.total), "freed": _totals(job.freed),
            "error": job.error}


def _upload_ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("upload_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and 0 < len(i) <= 64 for i in ids):
        raise ConsoleError(400, "InvalidArgument", "upload_ids is a list of upload IDs.", field="upload_ids")
    if len(ids) > MAX_SELECTION:
        raise ConsoleError(400, "InvalidArgument", f"At most {MAX_SELECTION} uploads at a time; use Delete All "
                           "for more.", field="upload_ids")
    return ids


def _prefix(value: Any) -> str:
    if not isinstance(value, str) or len(value.encode()) > 1023:
        raise ConsoleError(400, "InvalidArgument", "prefix is a key prefix (text, at most 1023 bytes).",
                           field="prefix")
    return value


async def parts_page(c: ConsoleRequest) -> web.Response:
    bucket = await c.require_bucket(c.params["bucket"], Access.LIST)
    return c.render("part_management.html", nav="parts", currency=c.storage.prices.currency,
                    prefix=c.query.get("prefix", ""), sort=c.query.get("sort", "initiated"),
                    order=c.query.get("order", "asc"), bucket_name=bucket.name,
                    lifecycle_url=lifecycle_url(bucket.name))


async def list_uploads(c: ConsoleRequest) -> web.Response:
    bucket = await c.require_bucket(c.params["bucket"], Access.LIST)
    page = await part_management.list_incomplete(
        c.storage, bucket.name, prefix=_prefix(c.query.get("prefix", "")), sort=c.query.get("sort", "initiated"),
        descending=_order(c), cursor=c.query.get("cursor") or None, limit=_int(c, "limit", 100))
    return json_response({"uploads": [_upload(u) for u in page.entries], "next_cursor": page.next_cursor,
                          "previous_cursor": page.previous_cursor, "totals": _totals(page.totals),
                          "currency": c.storage.prices.currency, "now_ms": c.storage.clock()})


async def upload_parts(c: ConsoleRequest) -> web.Response:
    bucket = await c.require_bucket(c.params["bucket"], Access.LIST)
    found = await part_management.upload_parts(c.storage, bucket.name, c.params["upload_id"],
                                               after_number=_int(c, "after", 0), limit=_int(c, "limit", 100))
    return json_response({"upload": _upload(found.upload), "parts": [_part(p) for p in found.parts],
                          "next_after": found.next_part_number_marker, "currency": c.storage.prices.currency})


async def totals(c: ConsoleRequest) -> web.Response:
    bucket = await c.require_bucket(c.params["bucket"], Access.LIST)
    body = await c.json_body()
    if "upload_ids" in body:
        counted = await part_management.totals(c.storage, bucket.name, upload_ids=_upload_ids(body))
    else:
        counted = await part_management.totals(c.storage, bucket.name, prefix=_prefix(body.get("prefix", "")))
    return json_response(_totals(counted))


async def delete_uploads(c: ConsoleRequest) -> web.Response:
    bucket = await c.require_bucket(c.params["bucket"], Access.WRITE)
    freed = await part_management.delete_uploads(c.storage, bucket.name, _upload_ids(await c.json_body()))
    return json_response({"freed": _totals(PartTotals(freed.uploads, freed.parts, freed.bytes)),
                          "missing": freed.missing})


async def delete_all(c: ConsoleRequest) -> web.Response:
    bucket = await c.require_bucket(c.params["bucket"], Access.WRITE)
    body = await c.json_body()
    assert c.requester.access_key_id is not None
    job = await jobs.start_delete_all(c.storage, bucket.name, _prefix(body.get("prefix", "")),
                                      c.requester.access_key_id)
    return json_response({"job": _job(job)}, status=202)


async def job_status(c: ConsoleRequest) -> web.Response:
    bucket = await c.require_bucket(c.params["bucket"], Access.LIST)
    job = await jobs.job(c.storage, c.params["job_id"])
    if job.bucket != bucket.name:
        raise ConsoleError(404, "NoSuchJob", "The specified job does not exist.", JobId=job.job_id)
    return json_response({"job": _job(job)})


ROUTES = [
    Route("GET", "/buckets/{bucket}/parts", parts_page, page=True),
    Route("GET", "/api/buckets/{bucket}/uploads", list_uploads),
    Route("GET", "/api/buckets/{bucket}/uploads/{upload_id}/parts", upload_parts),
    Route("POST", "/api/buckets/{bucket}/uploads/totals", totals),
    Route("POST", "/api/buckets/{bucket}/uploads/delete", delete_uploads),
    Route("POST", "/api/buckets/{bucket}/uploads/delete-all", delete_all),
    Route("GET", "/api/buckets/{bucket}/jobs/{job_id}", job_status),
]
