"""A period's part cost per upload, priced from the per-upload counters where they suffice
(meta/usage.py window_part_shares), against the same sum taken part by part, for random
histories of uploads and random periods: before, across, inside and after them."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import sqlalchemy as sa

from tessera.blobs.files import FileBlobs
from tessera.core import buckets, multipart
from tessera.core.metering import HOUR_MS
from tessera.core.models import ObjectAttributes, PartChoice
from tessera.core.storage import Storage
from tessera.core.usage import top_part_shares
from tessera.meta.database import Database, sqlite_url
from tessera.meta.migrate import upgrade
from tessera.meta.schema import parts, uploads
from tests.support.clock import Clock, body


async def _part_by_part(storage: Storage, start_ms: int, until_ms: int) -> dict[str, int]:
    """Σ size × time held inside [start, until) of each active upload's parts, exactly."""
    held: dict[str, int] = {}
    async with storage.db.read() as conn:
        rows = await conn.execute(sa.select(parts.c.upload_id, parts.c.size, parts.c.last_modified_ms)
                                  .join(uploads, uploads.c.upload_id == parts.c.upload_id)
                                  .where(uploads.c.state == "active"))
        for row in rows:
            if row.last_modified_ms < until_ms:
                held[row.upload_id] = held.get(row.upload_id, 0) + row.size * (
                    until_ms - max(row.last_modified_ms, start_ms))
    return {upload_id: byte_ms for upload_id, byte_ms in held.items() if byte_ms > 0}


def _close(priced: int, exact: int) -> bool:
    """The counters are floating point: a hair off at most."""
    return abs(priced - exact) <= 1e-9 * exact + 4096


def test_counter_priced_shares_match_the_parts_summed_one_by_one(tmp_path: Path) -> None:
    rng = random.Random(20261202)

    async def main() -> None:
        clock = Clock()
        db = Database(sqlite_url(tmp_path), clock=clock)
        await upgrade(db)
        storage = Storage(db, FileBlobs(tmp_path), clock=clock)
        began = clock()
        try:
            for name in ("one", "two"):
                await buckets.create_bucket(storage, name, owner="tester")
            for index in range(40):
                bucket, key = rng.choice(("one", "two")), f"k{index}"
                upload = await multipart.initiate_upload(storage, bucket, key, ObjectAttributes(), initiator="t")
                chosen = []
                for _ in range(rng.randrange(0, 6)):
                    clock.ms += rng.randrange(0, HOUR_MS)
                    number = rng.randrange(1, 4)  # a number again replaces the part
                    size = rng.randrange(0, 5000)  # empty parts hold nothing
                    part = await multipart.upload_part(storage, bucket, key, upload.upload_id, number,
                                                       body(b"p" * size), size=size, content_md5=None)
                    chosen = [c for c in chosen if c.part_number != number] + [PartChoice(number, part.etag)]
                fate = rng.random()
                if fate < 0.15:
                    await multipart.abort_upload(storage, bucket, key, upload.upload_id)
                elif fate < 0.25 and chosen:
                    # One part: the others are below the minimum part size; completion drops them.
                    await multipart.complete_upload(storage, bucket, key, upload.upload_id, chosen[-1:])
                clock.ms += rng.randrange(0, HOUR_MS)
            ended = clock()
            async with db.read() as conn:  # periods starting near what happened find the edge cases
                moments = [row[0] for row in await conn.execute(sa.select(parts.c.last_modified_ms))]
            for _ in range(150):
                if rng.random() < 0.5:
                    start = rng.choice(moments) + rng.randrange(-HOUR_MS, HOUR_MS)
                else:
                    start = rng.randrange(began - 10 * HOUR_MS, ended + 2 * HOUR_MS)
                end = start + rng.randrange(1, 40 * HOUR_MS)
                wanted = await _part_by_part(storage, start, min(end, clock()))
                every, total = await top_part_shares(storage, start_ms=start, end_ms=end, limit=None)
                assert total == len(wanted) == len(every)
                assert all(_close(s.billed_byte_ms, wanted[s.upload.upload_id]) for s in every)
                best, best_total = await top_part_shares(storage, start_ms=start, end_ms=end, limit=3)
                top = sorted(wanted.values(), reverse=True)[:3]
                assert best_total == total and len(best) == len(top)
                assert all(_close(share.billed_byte_ms, byte_ms) for share, byte_ms in zip(best, top))
        finally:
            await storage.drain()
            await db.close()

    asyncio.run(main())
