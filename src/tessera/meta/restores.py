"""Restores of cold objects in the metadata store: columns of the object's row."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.models import ObjectRestore
from tessera.meta import records
from tessera.meta.schema import buckets, objects


async def store(conn: AsyncConnection, bucket_id: int, key: str, restore: ObjectRestore | None) -> None:
    """Record the object's restore (None: frozen again); its data, class and Last-Modified stay."""
    await conn.execute(
        sa.update(objects).where(objects.c.bucket_id == bucket_id, objects.c.key == key)
        .values(**records.restore_columns(restore))
    )


@dataclass(frozen=True)
class ExpiredRestore:
    bucket_id: int
    bucket: str
    key: str
    size: int
    expires_ms: int


# Where a page of expired restores ends: (expires_ms, bucket_id, key) of its last row.
Position = tuple[int, int, str]


async def expired(conn: AsyncConnection, *, now_ms: int, bucket_name: str | None, after: Position | None,
                  limit: int) -> list[ExpiredRestore]:
    """Objects whose restored copy expired at or before ``now_ms``, oldest expiry first (through
    ix_objects_restore_expiry), after ``after``."""
    query = (
        sa.select(objects.c.bucket_id, buckets.c.name, objects.c.key, objects.c.size, objects.c.restore_expires_ms)
        .join(buckets, buckets.c.bucket_id == objects.c.bucket_id)
        .where(objects.c.restore_expires_ms <= now_ms)
        .order_by(objects.c.restore_expires_ms, objects.c.bucket_id, objects.c.key)
        .limit(limit)
    )
    if bucket_name is not None:
        query = query.where(buckets.c.name == bucket_name)
    if after is not None:
        query = query.where(sa.tuple_(objects.c.restore_expires_ms, objects.c.bucket_id, objects.c.key)
                            > sa.tuple_(sa.literal(after[0]), sa.literal(after[1]), sa.literal(after[2])))
    return [ExpiredRestore(r.bucket_id, r.name, r.key, r.size, r.restore_expires_ms) for r in await conn.execute(query)]


async def clear_expired(conn: AsyncConnection, restore: ExpiredRestore) -> bool:
    """End a restore that expired, unless it changed since it was found (restored again,
    overwritten): the row is matched on the expiry that was seen."""
    result = await conn.execute(
        sa.update(objects)
        .where(objects.c.bucket_id == restore.bucket_id, objects.c.key == restore.key,
               objects.c.restore_expires_ms == restore.expires_ms)
        .values(**records.restore_columns(None))
    )
    return result.rowcount == 1
