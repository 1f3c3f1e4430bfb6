"""Multipart upload rows and their parts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.models import Part, Upload
from tessera.core.metering import PART, UPLOAD
from tessera.meta import records, usage
from tessera.meta.ranges import Bound, key_window
from tessera.meta.schema import ACTIVE_UPLOAD, parts, uploads

ACTIVE, COMPLETED = "active", "completed"


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(sa.insert(uploads).values(state=ACTIVE, **values))
    usage.record(conn, values["bucket_id"], values["storage_class"], UPLOAD, count=1, sizes=[])


async def _count_out(conn: AsyncConnection, upload_ids: list[str], *, part_numbers: list[int] | None = None,
                     whole_uploads: bool = True) -> None:
    """Take active uploads (and their parts, or only ``part_numbers`` of one) out of the counters."""
    for start in range(0, len(upload_ids), 500):
        chosen = upload_ids[start : start + 500]
        part_filter = [parts.c.part_number.in_(part_numbers)] if part_numbers is not None else []
        rows = await conn.execute(
            sa.select(uploads.c.bucket_id, uploads.c.storage_class, parts.c.size)
            .select_from(uploads.join(parts, parts.c.upload_id == uploads.c.upload_id))
            .where(uploads.c.upload_id.in_(chosen), ACTIVE_UPLOAD, *part_filter)
        )
        sizes: dict[tuple[int, str], list[int]] = {}
        for r in rows:
            sizes.setdefault((r.bucket_id, r.storage_class), []).append(r.size)
        for (bucket_id, storage_class), found in sizes.items():
            usage.record(conn, bucket_id, storage_class, PART, count=len(found), sizes=found, sign=-1)
        if whole_uploads:
            counted = await conn.execute(
                sa.select(uploads.c.bucket_id, uploads.c.storage_class, sa.func.count().label("n"))
                .where(uploads.c.upload_id.in_(chosen), ACTIVE_UPLOAD)
                .group_by(uploads.c.bucket_id, uploads.c.storage_class)
            )
            for r in counted:
                usage.record(conn, r.bucket_id, r.storage_class, UPLOAD, count=r.n, sizes=[], sign=-1)


async def find(conn: AsyncConnection, upload_id: str, *, lock: bool = False) -> Any | None:
    """The raw upload row (any state), optionally locked against concurrent parts/complete/abort."""
    query = sa.select(uploads).where(uploads.c.upload_id == upload_id)
    if lock:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


async def touch(conn: AsyncConnection, upload_id: str, now_ms: int) -> None:
    """A part arrived at ``now_ms``: last_part_ms stays the latest of its parts' times even when
    gateways' clocks differ (meta/usage.py prices a period's parts by it)."""
    later = sa.case((uploads.c.last_part_ms > now_ms, uploads.c.last_part_ms), else_=now_ms)
    await conn.execute(sa.update(uploads).where(uploads.c.upload_id == upload_id).values(last_part_ms=later))


async def mark_completed(conn: AsyncConnection, upload_id: str, values: dict[str, Any]) -> None:
    """The upload's remaining parts now make up its object (counted as that object)."""
    await _count_out(conn, [upload_id])
    await conn.execute(
        sa.update(uploads).where(uploads.c.upload_id == upload_id).values(state=COMPLETED, **values)
    )


async def delete(conn: AsyncConnection, upload_id: str) -> list[str]:
    """Remove the upload and its parts; returns the blob IDs the parts owned."""
    blob_ids = [
        r.blob_id for r in await conn.execute(sa.select(parts.c.blob_id).where(parts.c.upload_id == upload_id))
    ]
    await _count_out(conn, [upload_id])  # nothing when completed: its parts are an object's
    await conn.execute(sa.delete(parts).where(parts.c.upload_id == upload_id))
    await conn.execute(sa.delete(uploads).where(uploads.c.upload_id == upload_id))
    return blob_ids


async def lock_stale(conn: AsyncConnection, upload_ids: list[str], *, updated_at_or_before_ms: int) -> list[str]:
    """Of ``upload_ids``, those still active and unchanged since the cutoff, locked."""
    last_update = sa.func.coalesce(uploads.c.last_part_ms, uploads.c.initiated_ms)
    rows = await conn.execute(
        sa.select(uploads.c.upload_id)
        .where(uploads.c.upload_id.in_(upload_ids), ACTIVE_UPLOAD, last_update <= updated_at_or_before_ms)
        .with_for_update()
    )
    return [r.upload_id for r in rows]


async def delete_many(conn: AsyncConnection, upload_ids: list[str]) -> list[str]:
    """Remove uploads and their parts in a few statements; returns the blob IDs the parts owned."""
    blob_ids = [r.blob_id for r in await conn.execute(sa.select(parts.c.blob_id).where(parts.c.upload_id.in_(upload_ids)))]
    await _count_out(conn, upload_ids)
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
        .where(uploads.c.bucket_id == bucket_id, ACTIVE_UPLOAD, position,
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
    """Store ``part``, replacing the part of the same number (the upload is active and locked)."""
    upload = (await conn.execute(sa.select(uploads.c.bucket_id, uploads.c.storage_class)
                                 .where(uploads.c.upload_id == upload_id))).one()
    replaced = (await conn.execute(
        sa.delete(parts).where(parts.c.upload_id == upload_id, parts.c.part_number == part.part_number)
        .returning(parts.c.size, parts.c.last_modified_ms)
    )).first()
    if replaced is not None:
        usage.record(conn, upload.bucket_id, upload.storage_class, PART, count=1, sizes=[replaced.size], sign=-1)
    usage.record(conn, upload.bucket_id, upload.storage_class, PART, count=1, sizes=[part.size])
    # The upload's own counters, in the same transaction (a replaced part counts by the difference).
    await conn.execute(
        sa.update(uploads).where(uploads.c.upload_id == upload_id).values(
            part_count=uploads.c.part_count + (0 if replaced is not None else 1),
            part_bytes=uploads.c.part_bytes + part.size - (replaced.size if replaced is not None else 0),
            part_uploaded_byte_ms=uploads.c.part_uploaded_byte_ms + float(part.size) * part.last_modified_ms
            - (float(replaced.size) * replaced.last_modified_ms if replaced is not None else 0.0),
        )
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
        await _count_out(conn, [upload_id], part_numbers=part_numbers[start : start + 500], whole_uploads=False)
        dropped = await conn.execute(
            sa.delete(parts).where(
                parts.c.upload_id == upload_id, parts.c.part_number.in_(part_numbers[start : start + 500])
            ).returning(parts.c.size, parts.c.last_modified_ms)
        )
        gone = list(dropped)
        if gone:
            await conn.execute(
                sa.update(uploads).where(uploads.c.upload_id == upload_id).values(
                    part_count=uploads.c.part_count - len(gone),
                    part_bytes=uploads.c.part_bytes - sum(r.size for r in gone),
                    part_uploaded_byte_ms=uploads.c.part_uploaded_byte_ms
                    - sum(float(r.size) * r.last_modified_ms for r in gone))
            )
