"""The queries behind ``GET /-/metrics``: the usage counters and incomplete uploads by age,
read from counters kept with every change, whatever the number of uploads and parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.meta import usage as usage_rows
from tessera.meta.schema import buckets, usage


async def usage_counters(conn: AsyncConnection) -> list[Any]:
    """Every usage counter (bucket name, storage class, kind, count, bytes, billed bytes)."""
    query = (
        sa.select(buckets.c.name.label("bucket"), usage.c.storage_class, usage.c.kind,
                  usage.c.count, usage.c.bytes, usage.c.billed_bytes)
        .select_from(usage.join(buckets, buckets.c.bucket_id == usage.c.bucket_id))
        .order_by(buckets.c.name, usage.c.storage_class, usage.c.kind)
    )
    return list(await conn.execute(query))


async def incomplete_upload_ages(conn: AsyncConnection, *, now_ms: int, band_ends_ms: Sequence[int]) -> list[Any]:
    """Active uploads, their parts and the parts' bytes per bucket and age band; a bucket has
    rows only for the bands it has uploads in.

    Age is ``now_ms`` minus initiation. Band ``i`` holds the uploads younger than
    ``band_ends_ms[i]`` not in an earlier band; band ``len(band_ends_ms)`` the older ones.
    Summed from the per-upload counters by ``meta.usage.upload_ages``, the usage reports' own.
    """
    names = await usage_rows.bucket_names(conn)
    sums: dict[tuple[str, int], list[int]] = {}
    for row in await usage_rows.upload_ages(conn, None, now_ms=now_ms, band_ends_ms=band_ends_ms):
        held = sums.setdefault((names[row.bucket_id], row.band), [0, 0, 0])
        held[0] += row.uploads
        held[1] += int(row.parts)
        held[2] += int(row.size)
    return [AgeBand(bucket, band, *held) for (bucket, band), held in sorted(sums.items())]


@dataclass(frozen=True)
class AgeBand:
    bucket: str
    band: int
    uploads: int
    parts: int
    bytes: int
