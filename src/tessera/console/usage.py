"""The Usage page, its charts and its JSON: storage over time, incomplete uploads by age, the
uploads holding the most part storage, and the cost of a period (docs/console.md, Usage).

The numbers are the ones ``tessera admin usage`` prints (``core/reports.py`` and the
``core/usage.py`` functions under it). A root key sees every bucket; any other key only the
buckets it owns, and naming another owner's bucket is refused.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tessera.console import charts
from tessera.console.buckets import part_management_url
from tessera.console.periods import CUSTOM, PRESETS, Period, PeriodError, choose_period
from tessera.console.request import ConsoleRequest
from tessera.console.responses import ConsoleError, json_response
from tessera.console.routing import Route
from tessera.core.buckets import get_bucket, list_buckets
from tessera.core.clock import format_instant
from tessera.core.metering import DAY_MS, EARLY_DELETION, OBJECT, PART
from tessera.core.reports import uploads_report, usage_report
from tessera.core.usage import largest_uploads, part_holdings, storage_over_time, storage_usage, upload_ages

TOP_UPLOADS = 20  # rows of the page's table (the chart draws the first 10)
MAX_POINTS = 500


@dataclass(frozen=True)
class Scope:
    """Whose usage a request is about: one bucket or all that the session may see, over a period."""

    period: Period
    bucket: str | None  # None: every bucket in view
    owner: str | None  # None: a root key, every owner's buckets
    asked: dict[str, str]  # the query fields that chose it

    @property
    def core(self) -> dict[str, Any]:
        """The scope as the core usage functions take it."""
        return {"bucket_name": self.bucket, "owner": self.owner}

    def query(self) -> str:
        """The query string that asks for this scope again (the charts' addresses)."""
        return urlencode(self.asked)


async def _scope(c: ConsoleRequest) -> Scope:
    try:
        period = choose_period(c.query, c.storage.clock())
    except PeriodError as bad:
        raise ConsoleError(400, "InvalidPeriod", str(bad), field=bad.field) from None
    owner = None if c.requester.is_root else c.requester.access_key_id
    bucket = c.query.get("bucket") or None
    if bucket is not None:
        found = await get_bucket(c.storage, bucket)  # 404 NoSuchBucket when there is none
        if owner is not None and found.owner != owner:
            raise ConsoleError(403, "AccessDenied", f"Bucket {bucket} belongs to another account.", bucket=bucket)
    asked = {"period": period.choice}
    if period.choice == CUSTOM:
        asked.update({"from": c.query["from"].strip(), "to": c.query["to"].strip()})
    if bucket is not None:
        asked["bucket"] = bucket
    return Scope(period, bucket, owner, asked)


async def usage_page(c: ConsoleRequest) -> web.Response:
    owner = None if c.requester.is_root else c.requester.access_key_id
    names = [b.name for b in (await list_buckets(c.storage, prefix="", marker="", max_keys=1000, owner=owner))[0]]
    try:
        scope = await _scope(c)
    except ConsoleError as refused:
        if refused.code != "InvalidPeriod":
            raise
        return c.render("usage.html", status=400, nav="usage", problem=refused.message, names=names,
                        chosen=c.query, presets=PRESETS, scope=None)
    # The page reads only what is cheap whatever the number of uploads (the ledger, the counters,
    # the few largest uploads); the age bands, which scan every upload, are the chart's request.
    lines = await storage_usage(c.storage, start_ms=scope.period.start_ms, end_ms=scope.period.end_ms, **scope.core)
    held = await part_holdings(c.storage, **scope.core)
    totals = {
        "cost": sum(line.cost for line in lines),
        "object_gb_hours": sum(line.billed_gb_hours for line in lines if line.kind == OBJECT),
        "part_gb_hours": sum(line.billed_gb_hours for line in lines if line.kind == PART),
        "early_cost": sum(line.cost for line in lines if line.kind == EARLY_DELETION),
    }
    return c.render("usage.html", nav="usage", problem=None, names=names, chosen=c.query, presets=PRESETS,
                    scope=scope, lines=lines, uploads=await largest_uploads(c.storage, limit=TOP_UPLOADS, **scope.core),
                    totals=totals, held=held,
                    currency=c.storage.prices.currency, prices_source=c.storage.prices.source, day_ms=DAY_MS,
                    kind_names={OBJECT: "Objects", PART: "Parts", EARLY_DELETION: "Early deletion"},
                    part_management_url=part_management_url)


async def report(c: ConsoleRequest) -> web.Response:
    """The usage report and the incomplete uploads' report of the scope, as ``tessera admin
    usage report`` and ``tessera admin usage uploads`` give them."""
    scope = await _scope(c)
    top = _whole(c.query, "top", 10, 1, 1000)
    return json_response({
        "period": _period_json(scope.period),
        "bucket": scope.bucket,
        "usage": await usage_report(c.storage, start_ms=scope.period.start_ms, end_ms=scope.period.end_ms,
                                    top=top, **scope.core),
        "incomplete_uploads": await uploads_report(c.storage, limit=top, **scope.core),
    })


async def storage_series(c: ConsoleRequest) -> web.Response:
    """Stored bytes at ``points`` instants of the period, per kind × storage class."""
    scope = await _scope(c)
    series = await storage_over_time(c.storage, start_ms=scope.period.start_ms, end_ms=scope.period.end_ms,
                                     points=_whole(c.query, "points", 49, 2, MAX_POINTS), **scope.core)
    return json_response({"period": _period_json(scope.period), "bucket": scope.bucket,
                          "instants": [format_instant(ms) for ms in series.instants],
                          "lines": [dataclasses.asdict(line) for line in series.lines]})


async def storage_chart(c: ConsoleRequest) -> web.Response:
    scope = await _scope(c)
    series = await storage_over_time(c.storage, start_ms=scope.period.start_ms, end_ms=scope.period.end_ms,
                                     **scope.core)
    return _svg(charts.storage_chart(series, bucket=scope.bucket))


async def ages_chart(c: ConsoleRequest) -> web.Response:
    scope = await _scope(c)
    return _svg(charts.age_chart(await upload_ages(c.storage, **scope.core), bucket=scope.bucket))


async def top_uploads_chart(c: ConsoleRequest) -> web.Response:
    scope = await _scope(c)
    uploads = await largest_uploads(c.storage, limit=10, **scope.core)
    return _svg(charts.top_uploads_chart(uploads, bucket=scope.bucket))


async def cost_chart(c: ConsoleRequest) -> web.Response:
    scope = await _scope(c)
    lines = await storage_usage(c.storage, start_ms=scope.period.start_ms, end_ms=scope.period.end_ms, **scope.core)
    return _svg(charts.cost_chart(lines, currency=c.storage.prices.currency, period=scope.period.label,
                                  bucket=scope.bucket))


def _svg(body: bytes) -> web.Response:
    # Opened on its own (a new tab), a chart is a document: its own policy lets its embedded
    # stylesheet apply and still allows no script, no fetch and no framing (docs/console.md, Usage).
    return web.Response(body=body, content_type=charts.SVG_MEDIA_TYPE,
                        headers={"Content-Security-Policy": charts.SVG_POLICY})


def _period_json(period: Period) -> dict[str, str]:
    return {"choice": period.choice, "label": period.label, "from": format_instant(period.start_ms),
            "to": format_instant(period.end_ms)}


def _whole(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name, "")
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConsoleError(400, "InvalidArgument", f"{name} must be a whole number from {low} to {high}.",
                           field=name)
    return int(text)


ROUTES = [
    Route("GET", "/usage", usage_page, page=True),
    Route("GET", "/api/usage/report", report),
    Route("GET", "/api/usage/storage", storage_series),
    Route("GET", "/charts/storage.svg", storage_chart),
    Route("GET", "/charts/ages.svg", ages_chart),
    Route("GET", "/charts/top-uploads.svg", top_uploads_chart),
    Route("GET", "/charts/cost.svg", cost_chart),
]
