"""Cold objects on the wire: RestoreObject, CleanRestoredObject, and the ``x-oss-restore`` header
(docs/compatibility.md, Cold objects and RestoreObject)."""

from __future__ import annotations

from aiohttp import web

from tessera.api import numbers
from tessera.api.oss import wire
from tessera.api.oss.context import OssRequest, empty_response
from tessera.core import restore
from tessera.core.errors import MalformedXML
from tessera.core.models import ObjectInfo
from tessera.core.restore_policy import RestoreState, is_cold, state

_REQUEST_CHILDREN = frozenset({"Days", "JobParameters"})


def parse_restore_request(body: bytes) -> tuple[int | None, str | None]:
    """(Days, Tier) of a ``<RestoreRequest>``, None where absent; no body at all (oss2 sends none
    without a RestoreConfiguration) asks for the defaults."""
    if not body.strip():
        return None, None
    doc = wire.parse(body, "RestoreRequest")
    unknown = {wire.local_name(c) for c in doc} - _REQUEST_CHILDREN
    if unknown:
        raise MalformedXML(f"RestoreRequest has no element <{sorted(unknown)[0]}>.")
    days_text = wire.child_text(doc, "Days")
    days = None
    if days_text is not None:
        days = numbers.decimal(days_text.strip())
        if days is None:
            raise MalformedXML(f"Days must be a whole number, not {days_text!r}.")
    tier = None
    jobs = wire.children(doc, "JobParameters")
    if jobs:
        tier = wire.child_text(jobs[0], "Tier")
        tier = tier.strip() if tier is not None else None
    return days, tier


async def restore_object(req: OssRequest) -> web.Response:
    days, tier = parse_restore_request(await req.read_small_body())
    planned = await restore.restore_object(req.storage, req.bucket, req.key, days=days, tier=tier)
    headers = {"x-oss-object-restore-priority": planned.restore.tier} if planned.restore.tier else {}
    return empty_response(status=202 if planned.accepted else 200, headers=headers)


async def clean_restored_object(req: OssRequest) -> web.Response:
    await restore.clean_restored_object(req.storage, req.bucket, req.key)
    return empty_response()


def restore_info(info: ObjectInfo, now_ms: int) -> str | None:
    """``ongoing-request="true"`` while restoring, ``ongoing-request="false", expiry-date="…"``
    while restored, None when frozen (and for objects that are not cold)."""
    if not is_cold(info.attributes.storage_class):
        return None
    now_state = state(info.restore, now_ms)
    if now_state is RestoreState.RESTORING:
        return 'ongoing-request="true"'
    if now_state is RestoreState.RESTORED:
        assert info.restore is not None
        return f'ongoing-request="false", expiry-date="{wire.http_time(info.restore.expires_ms)}"'
    return None


def restore_header(info: ObjectInfo, now_ms: int) -> dict[str, str]:
    """The ``x-oss-restore`` header of HeadObject and GetObject, when there is a restore to tell."""
    value = restore_info(info, now_ms)
    return {"x-oss-restore": value} if value is not None else {}
