"""Where SQLite statements run (tessera.meta.sqlite_driver): the short ones of ordinary
transactions on the event loop's thread; BEGIN IMMEDIATE, the COMMIT of a write, and every
statement of an offloaded read on the driver's thread; and the writers of one process take
turns instead of meeting at SQLite's lock (docs/performance.md)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import sqlalchemy as sa

from tessera.meta.database import Database, sqlite_url
from tessera.meta.migrate import upgrade
from tessera.meta.schema import buckets


async def _traced(db: Database, log: list[tuple[int, str]]) -> None:
    """Record (thread, statement) of everything every pooled connection runs from now on."""
    async with db.engine.connect() as conn:
        await conn.get_raw_connection()
    pool = db.engine.sync_engine.pool

    def trace(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        sqlite = dbapi_connection.driver_connection._connection
        sqlite.set_trace_callback(lambda sql: log.append((threading.get_ident(), sql.strip().split()[0].upper())))

    sa.event.listen(pool, "checkout", trace)


def _bucket(name: str) -> dict[str, object]:
    return {"name": name, "owner": "o", "created_ms": 1, "storage_class": "Standard", "acl": "private",
            "data_redundancy": "LRS"}


def _threads(log: list[tuple[int, str]], statement: str) -> set[int]:
    return {thread for thread, sql in log if sql == statement}


def test_short_statements_run_on_the_loop_and_waits_on_the_driver_thread(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(sqlite_url(tmp_path))
        await upgrade(db)
        log: list[tuple[int, str]] = []
        await _traced(db, log)
        loop_thread = threading.get_ident()
        try:
            async with db.read() as conn:
                await conn.execute(sa.select(buckets.c.name))
            assert _threads(log, "SELECT") == {loop_thread}
            assert _threads(log, "BEGIN") == {loop_thread}

            log.clear()
            async with db.read(offloaded=True) as conn:
                await conn.execute(sa.select(buckets.c.name))
            assert _threads(log, "SELECT") and loop_thread not in _threads(log, "SELECT")

            log.clear()
            async with db.write() as conn:
                await conn.execute(sa.insert(buckets).values(**_bucket("b")))
            assert loop_thread not in _threads(log, "BEGIN")  # may wait for another process
            assert _threads(log, "INSERT") == {loop_thread}
            assert _threads(log, "COMMIT") and loop_thread not in _threads(log, "COMMIT")  # fsyncs

            log.clear()
            async with db.read() as conn:  # nothing written: the commit stays on the loop
                await conn.execute(sa.select(buckets.c.name))
            assert _threads(log, "COMMIT") <= {loop_thread}
        finally:
            await db.close()

    asyncio.run(main())


def test_writers_of_one_process_take_turns(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(sqlite_url(tmp_path))
        await upgrade(db)
        inside: list[int] = []
        overlaps: list[int] = []
        entered: list[int] = []

        async def writer(number: int) -> None:
            async with db.write() as conn:
                if inside:
                    overlaps.append(number)
                inside.append(number)
                entered.append(number)
                await conn.execute(sa.insert(buckets).values(**_bucket(f"b{number}")))
                await asyncio.sleep(0.01)  # other writers get the loop meanwhile, and must wait
                inside.remove(number)

        try:
            await asyncio.gather(*(writer(n) for n in range(20)))
            async with db.read() as conn:
                names = set((await conn.execute(sa.select(buckets.c.name))).scalars())
            assert names == {f"b{n}" for n in range(20)}
            assert overlaps == []
            assert entered == list(range(20))  # in the order they came, none put to sleep by SQLite
        finally:
            await db.close()

    asyncio.run(main())
