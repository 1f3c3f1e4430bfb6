"""Appendable objects' rows: their segments, and the conditional growth of the object row."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.metering import OBJECT
from tessera.core.models import APPENDABLE, AppendSegment
from tessera.meta import usage
from tessera.meta.schema import append_segments, objects


def _segment(row: Any) -> AppendSegment:
    return AppendSegment(position=row.position, blob_id=row.blob_id, size=row.size, crc64=row.crc64)


def _of(bucket_id: int, key: str) -> list[Any]:
    return [append_segments.c.bucket_id == bucket_id, append_segments.c.key == key]


async def segments_of(conn: AsyncConnection, bucket_id: int, key: str) -> list[AppendSegment]:
    """The object's segments in position order."""
    rows = await conn.execute(sa.select(append_segments).where(*_of(bucket_id, key))
                              .order_by(append_segments.c.position))
    return [_segment(r) for r in rows]


async def add_segment(conn: AsyncConnection, bucket_id: int, key: str, segment: AppendSegment) -> None:
    await conn.execute(sa.insert(append_segments).values(
        bucket_id=bucket_id, key=key, position=segment.position, blob_id=segment.blob_id, size=segment.size,
        crc64=segment.crc64,
    ))


async def grow(conn: AsyncConnection, bucket_id: int, key: str, *, position: int, values: dict[str, Any]) -> bool:
    """Make the Appendable object at ``key`` ``values["size"]`` bytes long — only if it is still
    ``position`` bytes long (the conditional update that decides between concurrent appends).
    The usage counters grow by the bytes appended; the object stays the same object for billing."""
    row = (await conn.execute(
        sa.update(objects)
        .where(objects.c.bucket_id == bucket_id, objects.c.key == key, objects.c.object_type == APPENDABLE,
               objects.c.size == position)
        .values(**values)
        .returning(objects.c.storage_class)
    )).first()
    if row is None:
        return False
    usage.record(conn, bucket_id, row.storage_class, OBJECT, count=0, sizes=[position], sign=-1)
    usage.record(conn, bucket_id, row.storage_class, OBJECT, count=0, sizes=[values["size"]])
    return True


async def replace_segments(conn: AsyncConnection, bucket_id: int, key: str, old: list[AppendSegment],
                           merged: AppendSegment) -> bool:
    """Put ``merged`` in the place of the adjacent segments ``old``, if they are all still the
    object's (the object was neither replaced nor deleted meanwhile). False changes nothing."""
    positions = [s.position for s in old]
    current = {
        r.position: r.blob_id
        for r in await conn.execute(sa.select(append_segments.c.position, append_segments.c.blob_id)
                                    .where(*_of(bucket_id, key), append_segments.c.position.in_(positions)))
    }
    if current != {s.position: s.blob_id for s in old}:
        return False
    await conn.execute(sa.delete(append_segments).where(*_of(bucket_id, key),
                                                        append_segments.c.position.in_(positions)))
    await add_segment(conn, bucket_id, key, merged)
    return True


async def delete_segments(conn: AsyncConnection, bucket_id: int, key: str) -> list[str]:
    """Remove every segment of the object at ``key``; returns the blob IDs they owned."""
    rows = await conn.execute(sa.delete(append_segments).where(*_of(bucket_id, key))
                              .returning(append_segments.c.blob_id))
    return [r.blob_id for r in rows]
