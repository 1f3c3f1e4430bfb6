"""Rows of the web console's sessions and failed sign-ins."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.meta.conflicts import dialect_insert
from tessera.meta.schema import console_sessions, console_signin_failures


async def add(conn: AsyncConnection, token_hash: str, access_key_id: str, csrf_token: str, now_ms: int) -> None:
    await conn.execute(sa.insert(console_sessions).values(
        token_hash=token_hash, access_key_id=access_key_id, csrf_token=csrf_token, created_ms=now_ms,
        last_seen_ms=now_ms))


async def find(conn: AsyncConnection, token_hash: str) -> Any | None:
    return (await conn.execute(sa.select(console_sessions).where(console_sessions.c.token_hash == token_hash))).first()


async def touch(conn: AsyncConnection, token_hash: str, now_ms: int) -> None:
    await conn.execute(sa.update(console_sessions).where(console_sessions.c.token_hash == token_hash)
                       .values(last_seen_ms=now_ms))


async def delete(conn: AsyncConnection, token_hash: str) -> None:
    await conn.execute(sa.delete(console_sessions).where(console_sessions.c.token_hash == token_hash))


async def delete_for_key(conn: AsyncConnection, access_key_id: str) -> None:
    await conn.execute(sa.delete(console_sessions).where(console_sessions.c.access_key_id == access_key_id))


async def delete_expired(conn: AsyncConnection, *, idle_before_ms: int, created_before_ms: int) -> int:
    result = await conn.execute(sa.delete(console_sessions).where(sa.or_(
        console_sessions.c.last_seen_ms < idle_before_ms, console_sessions.c.created_ms < created_before_ms)))
    return result.rowcount


async def failures(conn: AsyncConnection, subjects: list[str]) -> list[Any]:
    return list(await conn.execute(sa.select(console_signin_failures)
                                   .where(console_signin_failures.c.subject.in_(subjects))))


async def record_failure(conn: AsyncConnection, subject: str, *, now_ms: int, window_ms: int,
                         limit: int, lockout_ms: int) -> None:
    """Count one failure of ``subject``; the ``limit``-th within ``window_ms`` locks it out."""
    row = (await conn.execute(sa.select(console_signin_failures)
                              .where(console_signin_failures.c.subject == subject))).first()
    if row is None or row.window_start_ms <= now_ms - window_ms:
        count, start = 1, now_ms
    else:
        count, start = row.failures + 1, row.window_start_ms
    locked_until = now_ms + lockout_ms if count >= limit else 0
    values = dict(failures=count, window_start_ms=start, locked_until_ms=locked_until)
    await conn.execute(dialect_insert(conn, console_signin_failures).values(subject=subject, **values)
                       .on_conflict_do_update(index_elements=["subject"], set_=values))


async def clear_failures(conn: AsyncConnection, subject: str) -> None:
    await conn.execute(sa.delete(console_signin_failures).where(console_signin_failures.c.subject == subject))
