"""Group commit for SQLite: the concurrent writers of one process share transactions.

SQLite has one writer at a time, and the COMMIT of each write transaction waits for an fsync
and for the driver's thread (docs/performance.md). So instead of a transaction each, writers
that arrive while one is running queue, and run one after another inside the same transaction:

* each writer's block runs in a SAVEPOINT of the open transaction (the first one needs none),
  in the order they came; a block that fails is rolled back to its savepoint and fails alone,
  the others go on;
* the transaction commits once nobody is waiting to join it (or ``MAX_MEMBERS`` joined), and
  every member's ``write()`` returns only after that COMMIT — an answer never goes out before
  its change is on stable storage; if the COMMIT fails, every member fails with it;
* the COMMIT runs in a task of its own, so a member cancelled meanwhile cannot leave the others
  waiting; a writer that stops waiting for its turn commits what it leaves behind.

A single writer gets what it had before: BEGIN IMMEDIATE, its statements, COMMIT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from tessera.meta import usage

log = logging.getLogger(__name__)

MAX_MEMBERS = 64  # bounds how long the first member of a busy stream waits for its answer


class _Batch:
    """One open write transaction and the members whose changes wait in it for the COMMIT."""

    def __init__(self, conn: AsyncConnection, transaction: AsyncTransaction) -> None:
        self.conn = conn
        self.transaction = transaction
        self.members: list[asyncio.Future[None]] = []

    async def usable(self) -> bool:
        """Still one open transaction (SQLite rolls the whole of it back on some errors, such
        as a full disk, whatever the savepoints)."""
        if self.conn.invalidated or not self.transaction.is_active:
            return False
        raw = await self.conn.get_raw_connection()
        return bool(raw.driver_connection._connection.in_transaction)

    def answer(self, error: BaseException | None) -> None:
        for member in self.members:
            if member.done():
                continue
            if error is None:
                member.set_result(None)
            else:
                member.set_exception(error)


class GroupCommit:
    """The SQLite write transactions of one process, on one event loop."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], int]) -> None:
        self.engine = engine
        self.clock = clock  # stamps the usage ledger
        self._turn = asyncio.Lock()  # held by the member running statements, or by a COMMIT
        self._waiting = 0  # writers waiting for the turn
        self._batch: _Batch | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        await self._take_turn()
        try:
            batch = self._batch or await self._open()
        except BaseException:
            self._turn.release()
            raise
        alone = not batch.members  # nothing to keep if it fails: no savepoint needed
        try:
            usage.discard(batch.conn)
            try:
                async with contextlib.nullcontext() if alone else batch.conn.begin_nested():
                    yield batch.conn
                    await usage.flush(batch.conn, self.clock())
            finally:
                usage.discard(batch.conn)
        except BaseException as error:
            if alone:
                self._batch = None
                self._spawn(self._finish(batch))  # rolls the transaction back
            else:
                await self._after_failure(batch, error)
            raise
        committed = asyncio.get_running_loop().create_future()
        batch.members.append(committed)
        self._end_turn()
        await asyncio.shield(committed)

    async def _take_turn(self) -> None:
        self._waiting += 1
        try:
            await self._turn.acquire()
        except BaseException:
            self._waiting -= 1
            if self._batch is not None and not self._waiting and not self._turn.locked():
                self._spawn(self._settle())  # the batch counted on this writer to come
            raise
        self._waiting -= 1

    async def _open(self) -> _Batch:
        conn = await self.engine.connect()
        try:
            await conn.execution_options(tessera_begin="BEGIN IMMEDIATE")
            self._batch = _Batch(conn, await conn.begin())
        except BaseException:
            await conn.close()
            raise
        return self._batch

    def _end_turn(self) -> None:
        """Let the next writer in, or commit: the turn passes on either way."""
        batch = self._batch
        if batch is None or (self._waiting and len(batch.members) < MAX_MEMBERS):
            self._turn.release()
            return
        self._batch = None
        self._spawn(self._finish(batch))

    async def _after_failure(self, batch: _Batch, error: BaseException) -> None:
        """A member's block failed and was rolled back to its savepoint; if that took the whole
        transaction with it, the members before it fail too."""
        try:
            usable = await batch.usable()
        except Exception:
            usable = False
        if not usable:
            self._batch = None
            batch.answer(error)
            batch.members.clear()
            self._spawn(self._finish(batch))
            return
        self._end_turn()

    async def _finish(self, batch: _Batch) -> None:
        """COMMIT (or, with no member left, roll back), answer the members, pass the turn on.
        Runs while holding the turn."""
        error: BaseException | None = None
        try:
            if batch.members:
                await batch.transaction.commit()
        except BaseException as failure:  # noqa: B036 — every member hears of it
            error = failure
        finally:
            try:
                await batch.conn.close()
            except Exception:
                log.exception("closing a write transaction's connection failed")
            self._turn.release()
        batch.answer(error)

    async def _settle(self) -> None:
        """Commit a batch that its expected next member walked away from."""
        await self._turn.acquire()
        batch = self._batch
        if batch is None or self._waiting:
            self._turn.release()
            return
        self._batch = None
        await self._finish(batch)

    def _spawn(self, work) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
