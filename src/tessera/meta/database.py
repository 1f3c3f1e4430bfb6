"""The metadata database: one async engine, read and write transactions.

SQLite runs in WAL mode and takes its write lock at BEGIN (``BEGIN IMMEDIATE``), so two
writers never deadlock upgrading a read lock; PostgreSQL relies on row locks taken with
``SELECT … FOR UPDATE`` by the repository functions (rendered as nothing on SQLite, where the
write lock already serialises writers). On SQLite the writers of one process take turns in the
order they came, sharing one transaction and one COMMIT when they come together
(``tessera.meta.group_commit``), and short statements run on the event loop
(``tessera.meta.sqlite_driver``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Callable

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tessera.core.clock import now_ms
from tessera.core.errors import ServiceUnavailable, TesseraError
from tessera.meta import sqlite_driver, usage
from tessera.meta.bad_url import BadMetadataUrl
from tessera.meta.group_commit import GroupCommit


# Options of a PostgreSQL URL that asyncpg takes as seconds, while SQLAlchemy hands it every
# query option as text: how long making a connection may take (``timeout``; asyncpg's default
# is 60) and how long a statement may wait for its answer (``command_timeout``; no limit by
# default). Bounding them makes a database that stopped answering without closing its
# connections (a frozen or partitioned machine) a 503 instead of a hang (docs/scale-out.md).
SECONDS_OPTIONS = ("timeout", "command_timeout")


def sqlite_url(data_dir: Path) -> str:
    """The embedded default: a SQLite file inside the data directory."""
    return f"sqlite+aiosqlite:///{data_dir / 'metadata.sqlite3'}"


class Database:
    """Owns the engine; hands out transactions."""

    def __init__(self, url: str, *, pool_size: int = 8, clock: Callable[[], int] = now_ms) -> None:
        self.url = url
        self.clock = clock  # stamps the usage ledger
        self.is_sqlite = url.startswith("sqlite")
        # Listing pages decode two JSON columns per row; orjson does it several times faster.
        options = {"pool_size": pool_size, "json_deserializer": orjson.loads}
        self._writers: tuple[asyncio.AbstractEventLoop, GroupCommit] | None = None
        if self.is_sqlite:
            path = sa.engine.make_url(url).database or ""
            self.engine: AsyncEngine = create_async_engine(
                url, max_overflow=0, async_creator=sqlite_driver.connector(path), **options)
            _configure_sqlite(self.engine)
        else:
            address, seconds = _postgresql_options(url)
            self.engine = create_async_engine(address, max_overflow=4, connect_args=seconds, **options)

    @asynccontextmanager
    async def read(self, *, offloaded: bool = False) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction that sees one snapshot, however many statements it runs:
        an object's row and its parts' rows, a listing page and its next key, are of the same
        moment. SQLite's WAL gives that to every read transaction; PostgreSQL's default (READ
        COMMITTED) takes a new snapshot per statement, so reads ask for REPEATABLE READ, which
        never fails a read-only transaction.

        ``offloaded``: a read of many rows (a report, a scan), whose SQLite statements run on
        the driver's thread so that the event loop keeps serving meanwhile."""
        if not self.is_sqlite:
            async with self._connection() as conn:
                await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                async with conn.begin():
                    yield conn
            return
        async with self.engine.connect() as conn:
            await conn.execution_options(tessera_begin="BEGIN")
            async with _on_driver_thread(conn) if offloaded else contextlib.nullcontext():
                async with conn.begin():
                    yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A read-write transaction, committed when the block exits without error. The usage
        counters the block's changes recorded are applied just before the commit."""
        if self.is_sqlite:
            async with self._sqlite_writers().write() as conn:
                yield conn
            return
        async with self._connection() as conn:
            usage.discard(conn)
            try:
                async with conn.begin():
                    yield conn
                    await usage.flush(conn, self.clock())
            finally:
                if not conn.invalidated:  # (an invalidated connection would reconnect to show its info)
                    usage.discard(conn)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled PostgreSQL connection for one transaction. When the database cannot be
        reached, or the connection is lost mid-way (the server restarted or failed over, the
        connection was terminated), the caller gets ServiceUnavailable and the connection is
        thrown away with every other pooled connection, never handed out again; a new pool opens
        fresh ones for the next requests."""
        try:
            conn = await self.engine.connect()
        except Exception as error:
            if _lost_database(error):
                raise ServiceUnavailable("The metadata database cannot be reached. Please try again.") from error
            raise
        try:
            yield conn
        except Exception as error:
            if not _lost_database(error):
                raise
            with contextlib.suppress(Exception):
                await conn.invalidate()
            # The pool's other connections are most likely gone too (a restart, a failover, an
            # administrator's kill): start a new pool rather than fail one request per connection.
            await self.engine.dispose(close=False)
            raise ServiceUnavailable("The connection to the metadata database was lost. Please try again.") from error
        finally:
            try:
                await conn.close()
            except Exception as error:  # handing it back failed: lost since the block ended
                if not _lost_database(error):
                    raise
                with contextlib.suppress(Exception):
                    await conn.invalidate()

    def _sqlite_writers(self) -> GroupCommit:
        """This process's SQLite writers, one at a time in the order they came, sharing
        transactions when they come together (``tessera.meta.group_commit``)."""
        loop = asyncio.get_running_loop()
        if self._writers is None or self._writers[0] is not loop:
            self._writers = (loop, GroupCommit(self.engine, self.clock))
        return self._writers[1]

    async def close(self) -> None:
        await self.engine.dispose()


def _postgresql_options(url: str) -> tuple[sa.URL, dict[str, float]]:
    """``url`` without its ``SECONDS_OPTIONS``, and those as numbers for the driver."""
    address = sa.engine.make_url(url)
    seconds: dict[str, float] = {}
    for name in SECONDS_OPTIONS:
        if name not in address.query:
            continue
        try:
            seconds[name] = float(address.query[name])  # type: ignore[arg-type]
        except (TypeError, ValueError):
            seconds[name] = 0
        if not seconds[name] > 0:
            raise BadMetadataUrl(f"{address.render_as_string(hide_password=True)}: {name} is a number of "
                                 "seconds greater than 0")
    return address.difference_update_query(SECONDS_OPTIONS), seconds


def _lost_database(error: BaseException) -> bool:
    """Whether ``error`` (or an error it was raised from or while handling) says the connection
    to PostgreSQL is gone or cannot be made — not that a statement failed. A domain error is an
    answer chosen by the code (an IncompleteBody raised from a client's reset connection must
    stay a 400), never a lost database."""
    import asyncpg  # the PostgreSQL driver: only PostgreSQL connections come here

    if isinstance(error, TesseraError):
        return False

    lost = (ConnectionError, TimeoutError, socket.gaierror, asyncpg.PostgresConnectionError,
            asyncpg.exceptions.OperatorInterventionError, asyncpg.TooManyConnectionsError,
            asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, lost) or (isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated):
            return True
        pending += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return False


@asynccontextmanager
async def _on_driver_thread(conn: AsyncConnection) -> AsyncIterator[None]:
    """Every SQLite call of this connection on the driver's thread, for the block."""
    driver: sqlite_driver.Connection = (await conn.get_raw_connection()).driver_connection
    driver.offloaded = True
    try:
        yield
    finally:
        driver.offloaded = False


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control away from the driver, so BEGIN is ours to write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql(conn.get_execution_options().get("tessera_begin", "BEGIN"))
