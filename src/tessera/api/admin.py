"""Tessera's own admin API under ``/-/admin/``: JSON, for the console and for operators.

Requests are signed like OSS requests — signature V1 or V4, in a header or presigned — with
``-`` standing where a bucket name would be (``/-/admin/...``; no bucket can be called ``-``),
and only root access keys may call it. Errors are JSON: ``{"code": ..., "message": ...}``.

    POST /-/admin/lifecycle/preview?bucket=B[&now=ISO-8601&limit=N]   body: LifecycleConfiguration XML
        What those rules would do to bucket B now (or at ``now``), before they are saved: per
        rule and action the totals, and the first N (default 200) uploads or objects by name —
        key, upload ID, age, bytes, parts.
    GET /-/admin/usage/report?from=ISO&to=ISO[&bucket=B&top=N]
        Storage GB-hours and cost per bucket × storage class × kind over the window (the usage
        ledger), and the incomplete uploads whose parts cost the most in it.
    GET /-/admin/usage/uploads[?bucket=B&limit=N]
        Incomplete uploads by age band per bucket, and the largest ones with their initiators,
        with what they cost a month.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timezone
from typing import Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web

from tessera.api.auth import RequestToVerify, authenticate
from tessera.api.numbers import decimal
from tessera.api.oss import wire
from tessera.api.oss.context import read_whole_body
from tessera.api.oss.errors import OssError, classify, expected
from tessera.api.oss.lifecycle import allows_overlap, parse_rules
from tessera.core.access import is_root
from tessera.core.clock import format_instant, parse_instant
from tessera.core.errors import InvalidArgument
from tessera.core.lifecycle import engine
from tessera.core.lifecycle.rules import normalize
from tessera.core.storage import Storage
from tessera.core.reports import uploads_report, usage_report

log = logging.getLogger("tessera.access")

SecretFor = Callable[[str], Awaitable[str | None]]
MAX_NAMED = 100_000  # items a preview names per action


async def handle(http: web.Request, own_path: str, storage: Storage, secret_for: SecretFor, *,
                 region: str) -> web.Response:
    """``own_path`` is ``/-/admin/...``, whether the request was path-style or sent to ``-.<domain>``."""
    try:
        wire.check_header_text(http.headers)
        path = own_path.removeprefix("/-/")
        query = parse_qsl(http.query_string, keep_blank_values=True)
        access_key_id = await authenticate(RequestToVerify(http.method, "-", path, query, http.headers), secret_for,
                                           now=datetime.now(timezone.utc), region=region)
        if access_key_id is None or not await is_root(storage, access_key_id):
            raise OssError(403, "AccessDenied", "Only root access keys may use the admin API.")
        operation = ROUTES.get((http.method, path))
        if operation is not None:
            return await operation(http, storage, dict(query))
        raise OssError(404, "NotFound", f"No admin operation {http.method} /-/{path}.")
    except Exception as error:
        if not expected(error):
            log.exception("unexpected error in the admin API")
        failure = classify(error)
        return web.json_response({"code": failure.code, "message": failure.message}, status=failure.status)


async def _lifecycle_preview(http: web.Request, storage: Storage, query: dict[str, str]) -> web.Response:
    bucket = query.get("bucket") or ""
    if not bucket:
        raise InvalidArgument("Name the bucket to preview the rules on: ?bucket=NAME.", name="bucket")
    at = _instant(query, "now")
    now_ms = storage.clock() if at is None else at
    config = normalize(parse_rules(await read_whole_body(http)), allow_same_action_overlap=allows_overlap(http))
    named = _count(query, "limit", engine.NAMED)
    if named > MAX_NAMED:
        raise InvalidArgument(f"limit names at most {MAX_NAMED} uploads or objects per action.", name="limit",
                              value=str(named))
    report = await engine.preview(storage, bucket, config, now_ms=now_ms, named=named)
    return web.json_response({
        "bucket": bucket,
        "now": format_instant(now_ms),
        "rules": [rule.id for rule in config.rules],
        "outcomes": [dataclasses.asdict(o) for o in report.outcomes],
        "errors": report.errors,
    })


async def _usage_report(http: web.Request, storage: Storage, query: dict[str, str]) -> web.Response:
    start, end = _instant(query, "from"), _instant(query, "to")
    if start is None or end is None or end <= start:
        raise InvalidArgument("Give a window: ?from=ISO-8601&to=ISO-8601, with to later than from.", name="from")
    return web.json_response(await usage_report(storage, start_ms=start, end_ms=end,
                                                bucket_name=query.get("bucket") or None,
                                                top=_count(query, "top", 100)))


async def _usage_uploads(http: web.Request, storage: Storage, query: dict[str, str]) -> web.Response:
    return web.json_response(await uploads_report(storage, bucket_name=query.get("bucket") or None,
                                                  limit=_count(query, "limit", 100)))


def _count(query: dict[str, str], name: str, default: int) -> int:
    text = query.get(name, str(default))
    value = decimal(text)
    if value is None:
        raise InvalidArgument(f"{name} must be a whole number.", name=name, value=text)
    return value


def _instant(query: dict[str, str], name: str) -> int | None:
    if name not in query:
        return None
    try:
        return parse_instant(query[name])
    except ValueError:
        raise InvalidArgument(f"{name} must be an ISO 8601 instant, not {query[name]!r}.", name=name) from None


Operation = Callable[[web.Request, Storage, dict[str, str]], Awaitable[web.Response]]
ROUTES: dict[tuple[str, str], Operation] = {
    ("POST", "admin/lifecycle/preview"): _lifecycle_preview,
    ("GET", "admin/usage/report"): _usage_report,
    ("GET", "admin/usage/uploads"): _usage_uploads,
}
