"""Multipart upload rows and their parts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.models import Part, Upload
from tessera.meta import records
from tessera.meta.ranges import Bound, key_window
from tessera.meta.schema import parts, uploads

ACTIVE, COMPLETED = "active", "completed"


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(sa.insert(uploads).values(state=ACTIVE, **values))


async def find(conn: AsyncConnection, upload_id: str, *, lock: bool = False) -> Any | None:
    """The raw upload row (any state), optionally locked against concurrent parts/complete/abort."""
    query = sa.select(uploads).where(uploads.c.upload_id == upload_id)
    if lock:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


async def touch(conn: AsyncConnection, upload_id: str, now_ms: int) -> None:
    await conn.execute(sa.update(uploads).where(uploads.c.upload_id == upload_id).values(last_part_ms=now_ms))


async def mark_completed(conn: AsyncConnection, upload_id: str, values: dict[str, Any]) -> None:
    await conn.execute(
        sa.update(uploads).where(uploads.c.upload_id == upload_id).values(state=COMPLETED, **values)
    )


async def delete(conn: AsyncConnection, upload_id: str) -> list[str]:
    """Remove the upload and its parts; returns the blob IDs the parts owned."""
    blob_ids = [
        r.blob_id for r in await conn.execute(sa.select(parts.c.blob_id).where(parts.c.upload_id == upload_id))
    ]
    await conn.execute(sa.delete(parts).where(parts.c.upload_id == upload_id))
    await conn.execute(sa.delete(uploads).where(uploads.c.upload_id == upload_id))
    return blob_ids


async def lock_stale(conn: AsyncConnection, upload_ids: list[str], *, updated_at_or_before_ms: int) -> list[str]:
    """Of ``upload_ids``, those still active and unchanged since the cutoff, locked."""
    last_update = sa.func.coalesce(uploads.c.last_part_ms, uploads.c.initiated_ms)
    rows = await conn.execute(
        sa.select(uploads.c.upload_id)
        .where(uploads.c.upload_id.in_(upload_ids), uploads.c.state == ACTIVE, last_update <= updated_at_or_before_ms)
        .with_for_update()
    )
    return [r.upload_id for r in rows]


async def delete_many(conn: AsyncConnection, upload_ids: list[str]) -> list[str]:
    """Remove uploads and their parts in a few statements; returns the blob IDs the parts owned."""
    blob_ids = [r.blob_id for r in await conn.execute(sa.select(parts.c.blob_id).where(parts.c.upload_id.in_(upload_ids)))]
    await conn.execute(sa.delete(parts).where(parts.c.upload_id.in_(upload_ids)))
    await conn.execute(sa.delete(uploads).where(uploads.c.upload_id.in_(upload_ids)))
    return blob_ids


async def page(conn: AsyncConnection, bucket_id: int, bucket_name: str, *, prefix: str, start: Bound,
               limit: int) -> list[Upload]:
    """Active uploads in (key, upload_id) order — upload IDs start with the initiation time."""
    if start.upload_id is None:
        position = uploads.c.key >= start.key if start.inclusive else uploads.c.key > start.key
    else:
        position = sa.tuple_(uploads.c.key, uploads.c.upload_id) > sa.tuple_(start.key, start.upload_id)
    query = (
        sa.select(uploads)
        .where(uploads.c.bucket_id == bucket_id, uploads.c.state == ACTIVE, position,
               *key_window(uploads.c.key, prefix))
        .order_by(uploads.c.key, uploads.c.upload_id)
        .limit(limit)
    )
    return [records.upload(bucket_name, r) for r in await conn.execute(query)]


# --- parts ------------------------------------------------------------------------------

async def find_part(conn: AsyncConnection, upload_id: str, part_number: int) -> Part | None:
    row = (
        await conn.execute(
            sa.select(parts).where(parts.c.upload_id == upload_id, parts.c.part_number == part_number)
        )
    ).first()
    return records.part(row) if row else None


async def put_part(conn: AsyncConnection, upload_id: str, part: Part) -> None:
    await conn.execute(
        sa.delete(parts).where(parts.c.upload_id == upload_id, parts.c.part_number == part.part_number)
    )
    await conn.execute(
        sa.insert(parts).values(
            upload_id=upload_id, part_number=part.part_number, size=part.size, etag=part.etag,
            crc64=part.crc64, blob_id=part.blob_id, last_modified_ms=part.last_modified_ms,
        )
    )


async def parts_page(conn: AsyncConnection, upload_id: str, *, after_number: int, limit: int) -> list[Part]:
    rows = await conn.execute(
        sa.select(parts)
        .where(parts.c.upload_id == upload_id, parts.c.part_number > after_number)
        .order_by(parts.c.part_number)
        .limit(limit)
    )
    return [records.part(r) for r in rows]


async def drop_parts(conn: AsyncConnection, upload_id: str, part_numbers: list[int]) -> None:
    for start in range(0, len(part_numbers), 500):
        await conn.execute(
            sa.delete(parts).where(
                parts.c.upload_id == upload_id, parts.c.part_number.in_(part_numbers[start : start + 500])
            )
        )
