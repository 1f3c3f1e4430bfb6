"""Access key rows."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.models import AccessKey
from tessera.meta.schema import access_keys


async def secret_for(conn: AsyncConnection, access_key_id: str) -> str | None:
    row = (
        await conn.execute(sa.select(access_keys.c.secret).where(access_keys.c.access_key_id == access_key_id))
    ).first()
    return row.secret if row else None


async def add(conn: AsyncConnection, key: AccessKey) -> None:
    await conn.execute(
        sa.insert(access_keys).values(
            access_key_id=key.access_key_id, secret=key.secret, created_ms=key.created_ms, is_root=key.is_root
        )
    )


async def list_all(conn: AsyncConnection) -> list[AccessKey]:
    rows = await conn.execute(sa.select(access_keys).order_by(access_keys.c.created_ms))
    return [AccessKey(r.access_key_id, r.secret, r.created_ms, r.is_root) for r in rows]


async def delete(conn: AsyncConnection, access_key_id: str) -> bool:
    result = await conn.execute(sa.delete(access_keys).where(access_keys.c.access_key_id == access_key_id))
    return result.rowcount == 1


async def is_root(conn: AsyncConnection, access_key_id: str) -> bool:
    row = (
        await conn.execute(sa.select(access_keys.c.is_root).where(access_keys.c.access_key_id == access_key_id))
    ).first()
    return bool(row and row.is_root)


async def has_root(conn: AsyncConnection) -> bool:
    return (await conn.execute(sa.select(access_keys.c.access_key_id).where(access_keys.c.is_root).limit(1))).first() is not None
