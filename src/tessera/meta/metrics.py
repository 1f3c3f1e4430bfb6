"""The queries behind ``GET /-/metrics``: the usage counters and incomplete uploads by age,
each one aggregate query over every bucket, whatever the number of buckets and uploads."""

from __future__ import annotations

from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.meta.schema import buckets, parts, uploads, usage


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
    """
    age = sa.literal(now_ms, sa.BigInteger) - uploads.c.initiated_ms
    # Band numbers inline: PostgreSQL would type bound THEN values as text.
    band = sa.case(*[(age < end, sa.literal_column(str(i), sa.Integer)) for i, end in enumerate(band_ends_ms)],
                   else_=sa.literal_column(str(len(band_ends_ms)), sa.Integer))
    # Parts summed per upload first, then uploads per band: twice as fast on SQLite as one
    # grouping of the joined rows, which has to count distinct uploads.
    per_upload = (
        sa.select(uploads.c.bucket_id, band.label("band"),
                  sa.func.count(parts.c.part_number).label("parts"),
                  sa.func.coalesce(sa.func.sum(parts.c.size), 0).label("bytes"))
        .select_from(uploads.outerjoin(parts, parts.c.upload_id == uploads.c.upload_id))
        .where(uploads.c.state == "active")
        .group_by(uploads.c.upload_id)
        .subquery("per_upload")
    )
    query = (
        sa.select(buckets.c.name.label("bucket"), per_upload.c.band, sa.func.count().label("uploads"),
                  sa.func.sum(per_upload.c.parts).label("parts"), sa.func.sum(per_upload.c.bytes).label("bytes"))
        .select_from(per_upload.join(buckets, buckets.c.bucket_id == per_upload.c.bucket_id))
        .group_by(buckets.c.name, per_upload.c.band)
    )
    return list(await conn.execute(query))
