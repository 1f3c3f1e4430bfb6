"""Console job rows: created running, claimed by one process at a time through its holder and
heartbeat, advanced a batch at a time in the transaction that does the batch's work."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.meta.schema import jobs

RUNNING, DONE, FAILED = "running", "done", "failed"


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(sa.insert(jobs).values(state=RUNNING, done_uploads=0, done_parts=0, done_bytes=0, **values))


async def get(conn: AsyncConnection, job_id: str, *, lock: bool = False) -> Any | None:
    query = sa.select(jobs).where(jobs.c.job_id == job_id)
    return (await conn.execute(query.with_for_update() if lock else query)).first()


async def running(conn: AsyncConnection) -> list[Any]:
    """Every running job's ID, holder and heartbeat (few: one per Delete All in progress)."""
    return list(await conn.execute(
        sa.select(jobs.c.job_id, jobs.c.holder, jobs.c.heartbeat_ms).where(jobs.c.state == RUNNING)
        .order_by(jobs.c.created_ms)
    ))


async def claim(conn: AsyncConnection, job_id: str, holder: str, *, from_holder: str | None, now_ms: int) -> bool:
    """Take a running job from ``from_holder`` (None: nobody held it); False if it changed hands
    or ended meanwhile."""
    held = jobs.c.holder.is_(None) if from_holder is None else jobs.c.holder == from_holder
    taken = await conn.execute(
        sa.update(jobs).where(jobs.c.job_id == job_id, jobs.c.state == RUNNING, held)
        .values(holder=holder, heartbeat_ms=now_ms)
    )
    return bool(taken.rowcount)


async def advance(conn: AsyncConnection, job_id: str, holder: str, *, now_ms: int, uploads: int, parts: int,
                  size: int, after: tuple[str, str] | None) -> bool:
    """Add one batch to the progress and beat the heart; False if ``holder`` lost the job."""
    values: dict[str, Any] = {
        "heartbeat_ms": now_ms,
        "done_uploads": jobs.c.done_uploads + uploads,
        "done_parts": jobs.c.done_parts + parts,
        "done_bytes": jobs.c.done_bytes + size,
    }
    if after is not None:
        values.update(after_key=after[0], after_upload_id=after[1])
    moved = await conn.execute(
        sa.update(jobs).where(jobs.c.job_id == job_id, jobs.c.holder == holder, jobs.c.state == RUNNING)
        .values(**values)
    )
    return bool(moved.rowcount)


async def finish(conn: AsyncConnection, job_id: str, holder: str, *, state: str, now_ms: int,
                 error: str | None = None) -> bool:
    ended = await conn.execute(
        sa.update(jobs).where(jobs.c.job_id == job_id, jobs.c.holder == holder, jobs.c.state == RUNNING)
        .values(state=state, finished_ms=now_ms, heartbeat_ms=now_ms, error=error)
    )
    return bool(ended.rowcount)
