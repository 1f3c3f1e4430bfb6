"""Group commit on SQLite (tessera.meta.group_commit): concurrent writers share transactions,
each is answered only after the COMMIT that holds its change, one that fails fails alone, a
failed COMMIT fails every member of its batch, and a writer that walks away strands nobody."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Awaitable, Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncTransaction

from tessera.meta.database import Database, sqlite_url
from tessera.meta.migrate import upgrade
from tessera.meta.schema import buckets

WRITERS = 12


def _bucket(name: str) -> dict[str, object]:
    return {"name": name, "owner": "o", "created_ms": 1, "storage_class": "Standard", "acl": "private",
            "data_redundancy": "LRS"}


def _run(tmp_path: Path, test: Callable[[Database, list[str]], Awaitable[None]]) -> None:
    """``test(db, events)``: every COMMIT any connection runs is appended to ``events``."""

    async def main() -> None:
        db = Database(sqlite_url(tmp_path))
        await upgrade(db)
        events: list[str] = []
        lock = threading.Lock()

        def trace(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
            def seen(sql: str) -> None:
                if sql.strip().upper().startswith("COMMIT"):
                    with lock:
                        events.append("COMMIT")
            dbapi_connection.driver_connection._connection.set_trace_callback(seen)

        sa.event.listen(db.engine.sync_engine.pool, "checkout", trace)
        try:
            await test(db, events)
        finally:
            await db.close()

    asyncio.run(main())


async def _names(db: Database) -> set[str]:
    async with db.read() as conn:
        return set((await conn.execute(sa.select(buckets.c.name))).scalars())


def test_each_writer_is_answered_after_the_commit_of_its_change_and_a_failure_fails_alone(tmp_path: Path) -> None:
    async def test(db: Database, events: list[str]) -> None:
        async def writer(number: int) -> None:
            async with db.write() as conn:
                await conn.execute(sa.insert(buckets).values(**_bucket(f"w{number}")))
                await asyncio.sleep(0)  # the others queue up meanwhile
                events.append(f"done {number}")
                if number == 5:
                    raise ValueError("this one fails")
            events.append(f"answered {number}")

        outcomes = await asyncio.gather(*(writer(n) for n in range(WRITERS)), return_exceptions=True)
        assert [type(o) for o in outcomes] == [ValueError if n == 5 else type(None) for n in range(WRITERS)]
        assert await _names(db) == {f"w{n}" for n in range(WRITERS) if n != 5}
        commits = events.count("COMMIT")
        assert 1 <= commits < WRITERS - 1, events  # they did share transactions
        for number in set(range(WRITERS)) - {5}:
            done, answered = events.index(f"done {number}"), events.index(f"answered {number}")
            assert "COMMIT" in events[done:answered], (number, events)

    _run(tmp_path, test)


def test_a_failed_commit_fails_every_member_of_its_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def test(db: Database, events: list[str]) -> None:
        original = AsyncTransaction.commit
        failures = [OSError("the disk went away")]

        async def commit(self: AsyncTransaction) -> None:
            if failures:
                await self.rollback()
                raise failures.pop()
            await original(self)

        monkeypatch.setattr(AsyncTransaction, "commit", commit)

        async def writer(number: int) -> None:
            async with db.write() as conn:
                await conn.execute(sa.insert(buckets).values(**_bucket(f"f{number}")))
                await asyncio.sleep(0)

        outcomes = await asyncio.gather(*(writer(n) for n in range(WRITERS)), return_exceptions=True)
        failed = {n for n, o in enumerate(outcomes) if isinstance(o, OSError)}
        assert failed and all(o is None for n, o in enumerate(outcomes) if n not in failed), outcomes
        assert await _names(db) == {f"f{n}" for n in range(WRITERS) if n not in failed}
        assert len(failed) > 1  # the whole first batch, not one of them
        async with db.write() as conn:  # and writing goes on
            await conn.execute(sa.insert(buckets).values(**_bucket("after")))
        assert "after" in await _names(db)

    _run(tmp_path, test)


def test_a_writer_that_stops_waiting_strands_nobody(tmp_path: Path) -> None:
    async def test(db: Database, events: list[str]) -> None:
        inside, proceed = asyncio.Event(), asyncio.Event()
        tasks: dict[str, asyncio.Task[None]] = {}

        async def first() -> None:
            async with db.write() as conn:
                await conn.execute(sa.insert(buckets).values(**_bucket("first")))
                inside.set()
                await proceed.wait()
                # The second writer, waiting, is about to get the turn (and with it this batch's
                # COMMIT): it is cancelled just before it runs.
                asyncio.get_running_loop().call_soon(tasks["second"].cancel)

        async def second() -> None:
            async with db.write() as conn:
                await conn.execute(sa.insert(buckets).values(**_bucket("second")))

        running = asyncio.create_task(first())
        await inside.wait()
        tasks["second"] = asyncio.create_task(second())
        await asyncio.sleep(0.01)  # queued for the turn
        proceed.set()
        await asyncio.wait_for(running, timeout=5)  # committed, though its successor never came
        with pytest.raises(asyncio.CancelledError):
            await tasks["second"]
        assert await _names(db) == {"first"}
        async with db.write() as conn:
            await conn.execute(sa.insert(buckets).values(**_bucket("third")))
        assert await _names(db) == {"first", "third"}

    _run(tmp_path, test)
