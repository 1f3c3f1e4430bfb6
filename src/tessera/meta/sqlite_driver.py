"""The SQLite driver connection: aiosqlite's, with short statements run on the event loop.

aiosqlite runs every call (open a cursor, execute, fetch, close the cursor, commit) on a thread
of its own and wakes the event loop with the answer. On the 2-core machines Tessera is measured
on, such a round trip costs about 100 µs, while an indexed SQLite statement costs about 3 µs:
a PutObject spent half its time in some 40 of them (docs/performance.md, "Where a small request
went"). So the statements of ordinary transactions run right here, on the event loop's thread,
and only what can wait goes to the thread:

* ``BEGIN IMMEDIATE``: it may wait for another process's write lock (``busy_timeout``);
* ``COMMIT`` of a transaction that changed rows: it fsyncs the WAL (and may checkpoint);
* every statement of a transaction marked ``offloaded`` (``Database.read(offloaded=True)``):
  reports and scans that read many rows, which must not stall the requests around them.

Running a statement here is safe because a connection is used by one task at a time (the pool
hands it out) and never by this thread and its own thread at once: each call is awaited before
the next. Writers in one process never meet at SQLite's lock either: ``Database.write`` takes
its own turn first (``tessera.meta.group_commit``), so an inline statement never waits for a
lock held by a coroutine that itself waits for the event loop.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any, Callable

import aiosqlite

# What must not run on the event loop, by the statement text it starts with.
_WAITS_FOR_A_LOCK = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


class Connection(aiosqlite.Connection):
    """aiosqlite's connection, running short calls inline (see the module's docstring)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._thread.daemon = True  # as SQLAlchemy makes aiosqlite's: never holds up exit
        self.offloaded = False  # every call goes to the thread (a long read)
        self._changes_committed = 0  # total_changes at the last commit

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        sqlite = self._connection
        if sqlite is None or self.offloaded or not self._is_short(fn, args):
            return await super()._execute(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    def _is_short(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
        name = getattr(fn, "__name__", "")
        if name == "commit":
            # Nothing written since the last commit (a read transaction): nothing to fsync.
            return self._connection.total_changes == self._changes_committed
        if name == "execute" and args and isinstance(args[0], str):
            return not args[0].lstrip().upper().startswith(_WAITS_FOR_A_LOCK)
        # Closing the connection stops the thread: that, too, goes through the thread.
        return not (name == "close" and getattr(fn, "__self__", None) is self._connection)

    async def commit(self) -> None:
        await self._execute(self._conn.commit)
        self._changes_committed = self._conn.total_changes

    async def rollback(self) -> None:
        await self._execute(self._conn.rollback)
        self._changes_committed = self._conn.total_changes


def connector(path: str) -> Callable[[], Connection]:
    """What SQLAlchemy's ``async_creator`` calls for a new connection to the file at ``path``.
    The driver leaves transaction control to Tessera (``isolation_level=None``), and the
    connection may be used from the event loop's thread as well as its own."""

    def create() -> Connection:
        return Connection(partial(sqlite3.connect, path, isolation_level=None, check_same_thread=False))

    return create
