"""Named locks held until the end of a transaction, across every gateway of a deployment:
PostgreSQL advisory locks (docs/scale-out.md). For work that must happen once however many
gateways start at the same moment — migrations, the first access key. SQLite needs none: its
write transactions already run one at a time."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


async def hold_until_commit(conn: AsyncConnection, name: str) -> None:
    """Wait for, then hold, the lock ``name`` until ``conn``'s transaction ends."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"),
                           {"name": f"tessera:{name}"})
