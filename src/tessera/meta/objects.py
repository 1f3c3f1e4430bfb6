"""Object rows, and the parts that make up multipart objects."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.models import ObjectInfo, Part
from tessera.meta import records
from tessera.meta.ranges import Bound, after, key_window
from tessera.meta.schema import objects, parts


async def find(conn: AsyncConnection, bucket_id: int, bucket_name: str, key: str, *,
               lock: bool = False) -> ObjectInfo | None:
    query = sa.select(objects).where(objects.c.bucket_id == bucket_id, objects.c.key == key)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return records.object_info(bucket_name, row) if row else None


async def insert_if_absent(conn: AsyncConnection, insert: Any, values: dict[str, Any]) -> bool:
    """Insert the row unless the key exists (a concurrent writer won the insert)."""
    result = await conn.execute(insert(objects).values(**values).on_conflict_do_nothing())
    return result.rowcount == 1


async def replace(conn: AsyncConnection, bucket_id: int, key: str, values: dict[str, Any]) -> None:
    await conn.execute(
        sa.update(objects).where(objects.c.bucket_id == bucket_id, objects.c.key == key).values(**values)
    )


async def set_storage_class(conn: AsyncConnection, bucket_id: int, key: str, storage_class: str) -> None:
    await conn.execute(
        sa.update(objects).where(objects.c.bucket_id == bucket_id, objects.c.key == key)
        .values(storage_class=storage_class)
    )


async def set_tags(conn: AsyncConnection, bucket_id: int, key: str, tags: dict[str, str]) -> bool:
    result = await conn.execute(
        sa.update(objects).where(objects.c.bucket_id == bucket_id, objects.c.key == key).values(tags=tags)
    )
    return result.rowcount == 1


async def delete(conn: AsyncConnection, bucket_id: int, key: str) -> None:
    await conn.execute(sa.delete(objects).where(objects.c.bucket_id == bucket_id, objects.c.key == key))


async def page(conn: AsyncConnection, bucket_id: int, bucket_name: str, *, prefix: str, start: Bound,
               limit: int) -> list[ObjectInfo]:
    query = (
        sa.select(objects)
        .where(objects.c.bucket_id == bucket_id, after(objects.c.key, start), *key_window(objects.c.key, prefix))
        .order_by(objects.c.key)
        .limit(limit)
    )
    return [records.object_info(bucket_name, r) for r in await conn.execute(query)]


async def parts_of(conn: AsyncConnection, upload_id: str) -> list[Part]:
    """The parts of a multipart object (or upload), in part-number order."""
    rows = await conn.execute(sa.select(parts).where(parts.c.upload_id == upload_id).order_by(parts.c.part_number))
    return [records.part(r) for r in rows]
