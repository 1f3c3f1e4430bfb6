"""Who owns a blob file that has no row yet (meta/blobs.py): the writer whose transaction
inserts the row, or the collector that claims it as an orphan past the grace period — exactly
one of them, on both engines, also when they meet at the same moment; the claim's row outlives
the blob so that a writer is refused without asking the backend (docs/scale-out.md)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import pytest
import sqlalchemy as sa

from tessera.blobs.backend import WrittenBlob
from tessera.blobs.files import FileBlobs
from tessera.core import buckets, collector, objects
from tessera.core.errors import InternalError
from tessera.core.models import ObjectAttributes
from tessera.core.storage import Storage
from tessera.core.tuning import FREED_ROWS_KEPT_MS
from tessera.meta import blobs as blob_rows
from tessera.meta.database import Database
from tessera.meta.migrate import upgrade
from tessera.meta.schema import blobs
from tests.support.postgres import fresh_metadata_url

BACKENDS = ["sqlite", "postgresql"]


class LookedFor(FileBlobs):
    """Files that count how often a writer asks whether its blob is still there."""

    asked = 0

    async def exists(self, blob_id: str) -> bool:
        LookedFor.asked += 1
        return await super().exists(blob_id)


def _run(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
         test: Callable[[Storage], Awaitable[None]]) -> None:
    url = fresh_metadata_url(backend, tmp_path, request, "owner")
    LookedFor.asked = 0

    async def main() -> None:
        db = Database(url)
        await upgrade(db)
        storage = Storage(db, LookedFor(tmp_path / "data"))
        try:
            await test(storage)
        finally:
            await storage.drain()
            await db.close()

    asyncio.run(main())


async def _written(storage: Storage, data: bytes = b"bytes") -> tuple[str, WrittenBlob]:
    async def body() -> AsyncIterator[bytes]:
        yield data

    blob_id = storage.blobs.new_blob_id()
    return blob_id, await storage.blobs.write(blob_id, body(), expected_size=len(data))


async def _refused(storage: Storage, blob_id: str, written: WrittenBlob) -> None:
    """A writer's claim on its blob, refused: the blob was reclaimed first."""
    with pytest.raises(InternalError):
        async with storage.db.write() as conn:
            await storage.own(conn, blob_id, written)


async def _state(storage: Storage, blob_id: str) -> str | None:
    async with storage.db.read() as conn:
        return (await conn.execute(sa.select(blobs.c.state).where(blobs.c.blob_id == blob_id))).scalar()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_writer_that_commits_first_keeps_its_blob(backend: str, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    async def test(storage: Storage) -> None:
        blob_id, written = await _written(storage)
        async with storage.db.write() as conn:
            await storage.own(conn, blob_id, written)
        assert LookedFor.asked == 0  # a write just finished: its insert alone decides
        async with storage.db.write() as conn:
            assert await blob_rows.claim_unowned(conn, [blob_id], storage.clock()) == []
        await collector.collect(storage, grace_ms=0)
        assert storage.blobs.path(blob_id).read_bytes() == b"bytes"
        assert await _state(storage, blob_id) == blob_rows.LIVE
        await storage.discard(blob_id)  # a failed answer after a commit that did happen: kept
        assert storage.blobs.path(blob_id).exists() and await _state(storage, blob_id) == blob_rows.LIVE

    _run(backend, tmp_path, request, test)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_writer_slower_than_the_collector_loses_and_nothing_stays(backend: str, tmp_path: Path,
                                                                     request: pytest.FixtureRequest) -> None:
    async def test(storage: Storage) -> None:
        blob_id, written = await _written(storage)
        report = await collector.collect(storage, grace_ms=0)
        assert report.orphan_files == 1 and not storage.blobs.path(blob_id).exists()
        assert await _state(storage, blob_id) == blob_rows.FREED  # the blob deleted, its row kept
        await _refused(storage, blob_id, written)
        assert LookedFor.asked == 0  # refused by the claim's row alone
        assert await _state(storage, blob_id) == blob_rows.FREED

        await collector.collect(dataclasses.replace(storage, clock=lambda: time.time_ns() // 10**6 + FREED_ROWS_KEPT_MS))
        assert await _state(storage, blob_id) is None  # forgotten a day later
        # A writer whose commit comes that late asks the backend, and is refused all the same.
        late = dataclasses.replace(written, written_at=time.monotonic() - FREED_ROWS_KEPT_MS / 1000)
        await _refused(storage, blob_id, late)
        assert LookedFor.asked == 1
        assert await _state(storage, blob_id) is None

    _run(backend, tmp_path, request, test)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_claim_the_collector_made_before_it_crashed_is_kept_once_freed(backend: str, tmp_path: Path,
                                                                          request: pytest.FixtureRequest) -> None:
    async def test(storage: Storage) -> None:
        blob_id, written = await _written(storage)
        async with storage.db.write() as conn:  # claimed, then the collector died before deleting
            assert await blob_rows.claim_unowned(conn, [blob_id], storage.clock()) == [blob_id]
        report = await collector.collect(storage)  # the next run, within the grace, frees it
        assert report.garbage_freed == 1 and not storage.blobs.path(blob_id).exists()
        assert await _state(storage, blob_id) == blob_rows.FREED
        await _refused(storage, blob_id, written)
        assert LookedFor.asked == 0

    _run(backend, tmp_path, request, test)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_write_leaves_no_file_and_no_row(backend: str, tmp_path: Path,
                                                  request: pytest.FixtureRequest) -> None:
    async def test(storage: Storage) -> None:
        await buckets.create_bucket(storage, "owned", owner="o")

        async def body() -> AsyncIterator[bytes]:
            yield b"x" * 10

        with pytest.raises(Exception, match="at least"):
            await objects.put_object(storage, "owned", "k", body(), size=10, content_md5=None,
                                     attrs=ObjectAttributes(), min_size=100)
        await storage.drain()
        assert list(storage.blobs.blob_files()) == []
        async with storage.db.read() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(blobs))).scalar() == 0

    _run(backend, tmp_path, request, test)


def test_postgresql_collector_waits_for_a_writer_in_flight_and_loses(tmp_path: Path,
                                                                     request: pytest.FixtureRequest) -> None:
    async def test(storage: Storage) -> None:
        blob_id, written = await _written(storage)
        owned, release = asyncio.Event(), asyncio.Event()

        async def writer() -> None:
            async with storage.db.write() as conn:
                await storage.own(conn, blob_id, written)
                owned.set()
                await release.wait()  # the row inserted, not yet committed

        async def claimer() -> list[str]:
            await owned.wait()
            async with storage.db.write() as conn:
                return await blob_rows.claim_unowned(conn, [blob_id], storage.clock())

        writing = asyncio.create_task(writer())
        claiming = asyncio.create_task(claimer())
        await asyncio.sleep(0.3)
        assert not claiming.done()  # waits on the writer's uncommitted row
        release.set()
        await writing
        assert await claiming == []
        assert await _state(storage, blob_id) == blob_rows.LIVE

    _run("postgresql", tmp_path, request, test)
