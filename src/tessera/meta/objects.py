"""Object rows, and the parts that make up multipart objects."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.models import ObjectInfo, Part
from tessera.core.metering import OBJECT, minimum_counted_from
from tessera.meta import records, usage
from tessera.meta.conflicts import insert_or_skip
from tessera.meta.ranges import Bound, after, key_window
from tessera.meta.schema import objects, parts


# On every object request's path: built once (SQLAlchemy then skips making their cache keys).
_AT_KEY = (objects.c.bucket_id == sa.bindparam("bucket_id"), objects.c.key == sa.bindparam("key"))
_FIND = sa.select(objects).where(*_AT_KEY)
_FIND_LOCKED = _FIND.with_for_update()
_COUNTED = sa.select(objects.c.storage_class, objects.c.size, objects.c.last_modified_ms,
                     objects.c.transitioned_ms).where(*_AT_KEY)


async def find(conn: AsyncConnection, bucket_id: int, bucket_name: str, key: str, *,
               lock: bool = False) -> ObjectInfo | None:
    row = (await conn.execute(_FIND_LOCKED if lock else _FIND, {"bucket_id": bucket_id, "key": key})).first()
    return records.object_info(bucket_name, row) if row else None


async def insert_if_absent(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Insert the row unless the key exists (a concurrent writer won the insert)."""
    result = await conn.execute(insert_or_skip(conn, objects), values)
    if result.rowcount != 1:
        return False
    usage.record(conn, values["bucket_id"], values["storage_class"], OBJECT, count=1, sizes=[values["size"]])
    return True


async def _count_out(conn: AsyncConnection, bucket_id: int, key: str) -> tuple[str, int] | None:
    """Take the object at ``key`` out of the usage counters, and out of its storage class (an
    early-deletion charge if it leaves before the class's minimum duration); its (class, size)."""
    row = (await conn.execute(_COUNTED, {"bucket_id": bucket_id, "key": key})).first()
    if row is None:
        return None
    usage.record(conn, bucket_id, row.storage_class, OBJECT, count=1, sizes=[row.size], sign=-1)
    usage.record_departure(conn, bucket_id, key, row.storage_class, row.size, counted_from_ms=minimum_counted_from(
        row.storage_class, row.last_modified_ms, row.transitioned_ms))
    return row.storage_class, row.size


async def replace(conn: AsyncConnection, bucket_id: int, key: str, values: dict[str, Any]) -> None:
    """Replace the object at ``key`` (a new object for billing, unless ``values`` says it was
    transitioned). A new object, or one moved to another class, starts frozen: no restore."""
    old = await _count_out(conn, bucket_id, key)
    await conn.execute(
        sa.update(objects).where(objects.c.bucket_id == bucket_id, objects.c.key == key)
        .values(**{"transitioned_ms": None, **records.restore_columns(None), **values})
    )
    if old is not None:
        usage.record(conn, bucket_id, values.get("storage_class", old[0]), OBJECT, count=1,
                     sizes=[values.get("size", old[1])])


async def transition(conn: AsyncConnection, bucket_id: int, key: str, storage_class: str, *, at_ms: int) -> None:
    """A lifecycle rule moves the object to ``storage_class`` at ``at_ms``; data and Last-Modified stay."""
    await replace(conn, bucket_id, key, {"storage_class": storage_class, "transitioned_ms": at_ms})


async def set_tags(conn: AsyncConnection, bucket_id: int, key: str, tags: dict[str, str]) -> bool:
    result = await conn.execute(
        sa.update(objects).where(objects.c.bucket_id == bucket_id, objects.c.key == key).values(tags=tags)
    )
    return result.rowcount == 1


async def delete(conn: AsyncConnection, bucket_id: int, key: str) -> None:
    await _count_out(conn, bucket_id, key)
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


async def set_acl(conn: AsyncConnection, bucket_id: int, key: str, acl: str) -> bool:
    result = await conn.execute(
        sa.update(objects).where(objects.c.bucket_id == bucket_id, objects.c.key == key).values(acl=acl)
    )
    return result.rowcount == 1


async def acl_of(conn: AsyncConnection, bucket_id: int, key: str) -> tuple[str, str | None] | None:
    """An object's (ACL, symlink target), without the rest of its row; None if there is none."""
    row = (
        await conn.execute(sa.select(objects.c.acl, objects.c.symlink_target)
                           .where(objects.c.bucket_id == bucket_id, objects.c.key == key))
    ).first()
    return (row.acl, row.symlink_target) if row else None
