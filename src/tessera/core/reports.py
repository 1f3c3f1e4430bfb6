"""The usage reports, as plain data: one shape for ``tessera admin usage …`` and for the admin
HTTP API (JSON), so the console and the command line always agree."""

from __future__ import annotations

import dataclasses
from typing import Any

from tessera.core.clock import format_instant
from tessera.core.storage import Storage
from tessera.core.usage import (early_deletions, largest_uploads, part_holdings, storage_usage, top_part_shares,
                                upload_ages)


async def usage_report(storage: Storage, *, start_ms: int, end_ms: int, bucket_name: str | None = None,
                       top: int = 10, owner: str | None = None) -> dict[str, Any]:
    """Storage GB-hours and cost per bucket × class × kind over [start_ms, end_ms); the
    incomplete uploads whose parts cost the most in that window, and the costliest objects
    that left a storage class before its minimum duration. ``owner``: only that key's buckets."""
    scope = {"bucket_name": bucket_name, "owner": owner}
    lines = await storage_usage(storage, start_ms=start_ms, end_ms=end_ms, **scope)
    shares, shares_total = await top_part_shares(storage, start_ms=start_ms, end_ms=end_ms, limit=top, **scope)
    early = await early_deletions(storage, start_ms=start_ms, end_ms=end_ms, **scope)
    return {
        "from": format_instant(start_ms),
        "to": format_instant(end_ms),
        **_prices(storage),
        "lines": [{"bucket": x.bucket, "kind": x.kind, "storage_class": x.storage_class,
                   "billed_gb_hours": x.billed_gb_hours, "real_gb_hours": x.real_gb_hours, "cost": x.cost}
                  for x in lines],
        "total_cost": sum(x.cost for x in lines),
        "uploads": [{**dataclasses.asdict(s.upload), "billed_gb_hours": s.billed_gb_hours, "cost": s.cost}
                    for s in shares],
        "uploads_total": shares_total,
        "early_deletions": [dataclasses.asdict(e) for e in early[:top]],
        "early_deletions_total": len(early),
    }


async def uploads_report(storage: Storage, *, bucket_name: str | None = None, limit: int = 20,
                         owner: str | None = None) -> dict[str, Any]:
    """Incomplete uploads by age band per bucket, and the largest ones, with what they cost a month."""
    ages = await upload_ages(storage, bucket_name=bucket_name, owner=owner)
    uploads = await largest_uploads(storage, limit=limit, bucket_name=bucket_name, owner=owner)
    held = await part_holdings(storage, bucket_name=bucket_name, owner=owner)
    return {
        **_prices(storage),
        "ages": [dataclasses.asdict(h) for h in ages],
        "uploads": [dataclasses.asdict(u) for u in uploads],
        "uploads_total": held.uploads,
    }


def _prices(storage: Storage) -> dict[str, Any]:
    return {"currency": storage.prices.currency, "prices_per_gb_month": dict(storage.prices.per_gb_month),
            "prices_source": storage.prices.source}
