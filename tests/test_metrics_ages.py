"""Incomplete uploads by age for the metrics: one SQL aggregate that must band uploads exactly as
the admin report (``tessera admin usage uploads``) does, on a controllable clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tessera.api.metrics import AGE_BAND_ENDS_MS, AGES
from tessera.blobs.files import FileBlobs
from tessera.core import buckets, multipart
from tessera.core.metering import DAY_MS, HOUR_MS
from tessera.core.models import ObjectAttributes, PartChoice
from tessera.core.storage import Storage
from tessera.core.usage import age_histogram, incomplete_uploads
from tessera.meta import metrics as metric_rows
from tessera.meta.database import Database, sqlite_url
from tessera.meta.migrate import upgrade
from tests.support.clock import Clock, body


def test_age_bands_match_the_admin_report(tmp_path: Path) -> None:
    async def main() -> None:
        clock = Clock()
        db = Database(sqlite_url(tmp_path), clock=clock)
        await upgrade(db)
        storage = Storage(db, FileBlobs(tmp_path), clock=clock)
        now = clock.ms + 60 * DAY_MS

        async def started(bucket: str, key: str, age_ms: int, part_sizes: list[int]) -> tuple[str, list[PartChoice]]:
            clock.ms = now - age_ms
            upload = await multipart.initiate_upload(storage, bucket, key, ObjectAttributes(), initiator="t")
            choices = []
            for number, size in enumerate(part_sizes, start=1):
                part = await multipart.upload_part(storage, bucket, key, upload.upload_id, number,
                                                   body(b"p" * size), size=size, content_md5=None)
                choices.append(PartChoice(number, part.etag))
            return upload.upload_id, choices

        try:
            for name in ("ages", "other", "empty"):
                await buckets.create_bucket(storage, name, owner="tester")
            await started("ages", "fresh", HOUR_MS, [10, 20])
            await started("ages", "one-day", DAY_MS, [5])  # a band's start belongs to it: 1-7d
            await started("ages", "six-days", 6 * DAY_MS + 23 * HOUR_MS, [])
            await started("ages", "week", 7 * DAY_MS, [1, 2, 3])
            await started("ages", "month", 30 * DAY_MS, [100])
            await started("ages", "ancient", 59 * DAY_MS, [7])
            await started("other", "fresh", 1, [4])
            done, done_parts = await started("ages", "done", 40 * DAY_MS, [9])
            await multipart.complete_upload(storage, "ages", "done", done, done_parts)
            aborted, _ = await started("ages", "aborted", 40 * DAY_MS, [8])
            await multipart.abort_upload(storage, "ages", "aborted", aborted)
            clock.ms = now

            async with db.read() as conn:
                rows = await metric_rows.incomplete_upload_ages(conn, now_ms=now, band_ends_ms=AGE_BAND_ENDS_MS)
            by_sql: dict[str, dict[str, tuple[int, int, int]]] = {}
            for row in rows:
                by_sql.setdefault(row.bucket, {})[AGES[row.band]] = (row.uploads, int(row.parts), int(row.bytes))
            assert by_sql == {
                "ages": {"<1d": (1, 2, 30), "1-7d": (2, 1, 5), "7-30d": (1, 3, 6), ">30d": (2, 2, 107)},
                "other": {"<1d": (1, 1, 4)},
            }
            by_report = {ages.bucket: {AGES[i]: (band.uploads, band.parts, band.bytes)
                                       for i, band in enumerate(ages.bands) if band.uploads}
                         for ages in age_histogram(await incomplete_uploads(storage))}
            assert by_report == by_sql
        finally:
            await storage.drain()
            await db.close()

    asyncio.run(main())

