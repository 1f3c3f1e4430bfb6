"""Bucket rows."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.errors import NoSuchBucket
from tessera.core.models import Bucket
from tessera.core.names import is_bucket_name
from tessera.meta import records
from tessera.meta.conflicts import insert_or_skip
from tessera.meta.schema import ACTIVE_UPLOAD, bucket_cors, bucket_lifecycle, buckets, objects, uploads, usage


# On nearly every request's path: built once (SQLAlchemy then skips making its cache key).
_BY_NAME = sa.select(buckets).where(buckets.c.name == sa.bindparam("name"))
_BY_NAME_LOCKED = {None: _BY_NAME, "share": _BY_NAME.with_for_update(read=True),
                   "update": _BY_NAME.with_for_update()}


async def find(conn: AsyncConnection, name: str, *, lock: str | None = None) -> Bucket | None:
    """The bucket called ``name``; ``lock`` is None, "share" (writers inside it) or "update".

    A name no bucket can have (from a path or an x-oss-copy-source header) is not looked up.
    """
    if not is_bucket_name(name):
        return None
    row = (await conn.execute(_BY_NAME_LOCKED[lock], {"name": name})).first()
    return records.bucket(row) if row else None


async def get(conn: AsyncConnection, name: str, *, lock: str | None = None) -> Bucket:
    """Like ``find``, for a bucket that must exist: NoSuchBucket otherwise."""
    bucket = await find(conn, name, lock=lock)
    if bucket is None:
        raise NoSuchBucket(BucketName=name)
    return bucket


async def insert(conn: AsyncConnection, name: str, *, created_ms: int, storage_class: str, acl: str,
                 data_redundancy: str, owner: str) -> bool:
    """False when the name is taken — also by a bucket created at this moment through another
    gateway (one statement: a look first, then an insert, made the second a duplicate key)."""
    inserted = await conn.execute(insert_or_skip(conn, buckets), {
        "name": name, "created_ms": created_ms, "storage_class": storage_class, "acl": acl,
        "data_redundancy": data_redundancy, "owner": owner})
    return inserted.rowcount == 1


async def set_acl(conn: AsyncConnection, bucket_id: int, acl: str) -> None:
    await conn.execute(sa.update(buckets).where(buckets.c.bucket_id == bucket_id).values(acl=acl))


async def list_all(conn: AsyncConnection, *, prefix: str, marker: str, limit: int,
                   owner: str | None = None) -> list[Bucket]:
    """Buckets by name; only ``owner``'s when given."""
    query = sa.select(buckets).where(buckets.c.name > marker).order_by(buckets.c.name).limit(limit)
    if owner is not None:
        query = query.where(buckets.c.owner == owner)
    if prefix:
        query = query.where(buckets.c.name.startswith(prefix, autoescape=True))
    return [records.bucket(r) for r in await conn.execute(query)]


async def contents(conn: AsyncConnection, bucket_id: int) -> tuple[int, int]:
    """(objects, in-progress uploads) in the bucket; objects counted up to 1 only."""
    has_object = (
        await conn.execute(sa.select(objects.c.key).where(objects.c.bucket_id == bucket_id).limit(1))
    ).first()
    active = (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(uploads)
            .where(uploads.c.bucket_id == bucket_id, ACTIVE_UPLOAD)
        )
    ).scalar_one()
    return (1 if has_object else 0), active


async def delete(conn: AsyncConnection, bucket_id: int) -> None:
    await conn.execute(sa.delete(uploads).where(uploads.c.bucket_id == bucket_id))
    await conn.execute(sa.delete(bucket_lifecycle).where(bucket_lifecycle.c.bucket_id == bucket_id))
    await conn.execute(sa.delete(bucket_cors).where(bucket_cors.c.bucket_id == bucket_id))
    await conn.execute(sa.delete(usage).where(usage.c.bucket_id == bucket_id))
    await conn.execute(sa.delete(buckets).where(buckets.c.bucket_id == bucket_id))
