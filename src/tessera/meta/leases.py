"""Named leases in the metadata store: at most one holder at a time, across processes and
gateways. A lease expires unless renewed, so a holder that died frees it by itself."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.meta.conflicts import dialect_insert
from tessera.meta.schema import leases


async def acquire(conn: AsyncConnection, name: str, holder: str, *, now_ms: int, expires_ms: int) -> str | None:
    """Take or renew the lease; None on success, else the current holder's name."""
    taken = await conn.execute(
        sa.update(leases)
        .where(leases.c.name == name, sa.or_(leases.c.holder == holder, leases.c.expires_ms <= now_ms))
        .values(holder=holder, expires_ms=expires_ms)
    )
    if taken.rowcount:
        return None
    created = await conn.execute(
        dialect_insert(conn, leases).values(name=name, holder=holder, expires_ms=expires_ms).on_conflict_do_nothing()
    )
    if created.rowcount:
        return None
    row = (await conn.execute(sa.select(leases.c.holder).where(leases.c.name == name))).first()
    return row.holder if row else "unknown"


async def release(conn: AsyncConnection, name: str, holder: str) -> None:
    await conn.execute(sa.delete(leases).where(leases.c.name == name, leases.c.holder == holder))


async def take_over(conn: AsyncConnection, name: str, *, from_holder: str, holder: str, expires_ms: int) -> bool:
    """Take the lease from ``from_holder`` (known to be dead); False if it changed hands meanwhile."""
    taken = await conn.execute(
        sa.update(leases).where(leases.c.name == name, leases.c.holder == from_holder)
        .values(holder=holder, expires_ms=expires_ms)
    )
    return bool(taken.rowcount)
