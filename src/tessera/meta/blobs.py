"""Blob ownership rows: live → garbage, changed in the owner's own transaction.

A new blob's row is inserted, live, by the transaction that gives the blob its owner (an object,
a part, an append segment), after its file is durable in place; a file with no row belongs to
whoever inserts its row first — that writer, or a collector that found it past the grace period
(``claim_unowned``). Rows in state pending come from databases written before that (a row was
recorded, in a transaction of its own, before the file was written); the collector still
reclaims them.
"""

from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.meta.conflicts import insert_or_skip
from tessera.meta.schema import append_segments, blobs, objects, parts

PENDING, LIVE, GARBAGE, FREED = "pending", "live", "garbage", "freed"


async def own(conn: AsyncConnection, blob_id: str, size: int, now_ms: int) -> bool:
    """The blob, already on disk, is owned from this transaction on. False when a collector
    claimed its file first (the write took longer than the grace period, and lost)."""
    result = await conn.execute(insert_or_skip(conn, blobs),
                                {"blob_id": blob_id, "state": LIVE, "size": size, "created_ms": now_ms})
    return result.rowcount == 1


async def claim_unowned(conn: AsyncConnection, blob_ids: list[str], now_ms: int) -> list[str]:
    """Of these blob files, the ones no row owns, now recorded as garbage (the caller frees
    them). A writer whose transaction inserts the row first keeps its blob; on PostgreSQL the
    insert waits for a writer's transaction in flight, and then loses or wins."""
    if not blob_ids:
        return []
    rows = await conn.execute(
        insert_or_skip(conn, blobs)  # released_ms 0: never anyone's, so nobody can be reading it
        .values([{"blob_id": b, "state": GARBAGE, "size": 0, "created_ms": now_ms, "released_ms": 0}
                 for b in blob_ids])
        .returning(blobs.c.blob_id)
    )
    return [r.blob_id for r in rows]


async def release(conn: AsyncConnection, blob_ids: Iterable[str]) -> None:
    """Mark blobs garbage: nothing owns them any more."""
    ids = list(blob_ids)
    for start in range(0, len(ids), 500):
        await conn.execute(
            sa.update(blobs).where(blobs.c.blob_id.in_(ids[start : start + 500])).values(state=GARBAGE)
        )


async def forget(conn: AsyncConnection, blob_ids: Iterable[str], *, keep_unowned: bool = False) -> None:
    """Drop the rows of garbage blobs whose files are gone. With ``keep_unowned``, the rows of
    blobs that were never anyone's (claimed by the collector as orphans: ``released_ms`` 0)
    stay, as freed, until ``prune_freed``: a writer that finished such a blob after the
    collector listed it then finds its claim refused by the insert (``Storage.own``)."""
    ids = list(blob_ids)
    for start in range(0, len(ids), 500):
        batch = blobs.c.blob_id.in_(ids[start : start + 500])
        if keep_unowned:
            await conn.execute(sa.update(blobs).where(batch, blobs.c.state == GARBAGE, blobs.c.released_ms == 0)
                               .values(state=FREED))
        await conn.execute(sa.delete(blobs).where(batch, blobs.c.state == GARBAGE))


async def prune_freed(conn: AsyncConnection, older_than_ms: int) -> int:
    """Forget the freed rows made before ``older_than_ms``; how many."""
    result = await conn.execute(sa.delete(blobs).where(blobs.c.state == FREED, blobs.c.created_ms < older_than_ms))
    return result.rowcount


async def reclaim_stale_pending(conn: AsyncConnection, older_than_ms: int) -> list[str]:
    """pending → garbage for writes that never finished (rows of databases from before blobs
    were recorded by their owner's transaction).

    One conditional UPDATE, so a writer that claims its blob at the same moment either wins
    (the blob stays live) or finds its claim refused — never both.
    """
    rows = await conn.execute(
        sa.update(blobs)
        .where(blobs.c.state == PENDING, blobs.c.created_ms < older_than_ms)
        .values(state=GARBAGE)
        .returning(blobs.c.blob_id)
    )
    return [r.blob_id for r in rows]


async def garbage(conn: AsyncConnection, limit: int = 1000, *, released_before_ms: int | None = None) -> list[str]:
    """Garbage blobs to free: all of them, or those released before ``released_before_ms``."""
    query = sa.select(blobs.c.blob_id).where(blobs.c.state == GARBAGE)
    if released_before_ms is not None:
        query = query.where(blobs.c.released_ms < released_before_ms)
    return [r.blob_id for r in await conn.execute(query.limit(limit))]


async def stamp_released(conn: AsyncConnection, blob_ids: Iterable[str] | None, now_ms: int) -> None:
    """Record when these garbage blobs (None: every garbage blob not stamped yet) were released."""
    unstamped = sa.and_(blobs.c.state == GARBAGE, blobs.c.released_ms.is_(None))
    if blob_ids is None:
        await conn.execute(sa.update(blobs).where(unstamped).values(released_ms=now_ms))
        return
    ids = list(blob_ids)
    for start in range(0, len(ids), 500):
        await conn.execute(sa.update(blobs).where(unstamped, blobs.c.blob_id.in_(ids[start : start + 500]))
                           .values(released_ms=now_ms))


async def known(conn: AsyncConnection, blob_ids: Iterable[str]) -> set[str]:
    """Which of these blob IDs have a row (in any state)."""
    ids = list(blob_ids)
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        rows = await conn.execute(sa.select(blobs.c.blob_id).where(blobs.c.blob_id.in_(ids[start : start + 500])))
        found.update(r.blob_id for r in rows)
    return found


async def live_references(conn: AsyncConnection) -> dict[str, int]:
    """blob_id → size of every blob that an object, a part or an append segment refers to."""
    referenced: dict[str, int] = {}
    for row in await conn.execute(sa.select(objects.c.blob_id, objects.c.size).where(objects.c.blob_id.is_not(None))):
        referenced[row.blob_id] = row.size
    for row in await conn.execute(sa.select(parts.c.blob_id, parts.c.size)):
        referenced[row.blob_id] = row.size
    for row in await conn.execute(sa.select(append_segments.c.blob_id, append_segments.c.size)):
        referenced[row.blob_id] = row.size
    return referenced


async def states(conn: AsyncConnection) -> dict[str, str]:
    return {r.blob_id: r.state for r in await conn.execute(sa.select(blobs.c.blob_id, blobs.c.state))}
