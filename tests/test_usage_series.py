"""Stored bytes over time from the usage counters and ledger: the pure arithmetic on hand-built
figures, then storage_over_time on a real metadata store driven by a controllable clock."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from tessera.blobs.files import FileBlobs
from tessera.core import buckets, multipart, objects
from tessera.core.metering import HOUR_MS, MIN_BILLED_OBJECT, accumulate, step_of
from tessera.core.models import ObjectAttributes
from tessera.core.reports import uploads_report, usage_report
from tessera.core.storage import Storage
from tessera.core.usage import even_instants, storage_over_time
from tessera.meta.database import Database, sqlite_url
from tessera.meta.migrate import upgrade

from tests.support.clock import Clock, body

OBJ, PART = ("object", "Standard"), ("part", "Standard")


def test_accumulate_applies_each_change_from_its_instant_on() -> None:
    # Now: 0 object bytes, 10 part bytes. Since the first instant: +50 objects at instant 1,
    # -150 at instant 2, +7 parts at 1, +3 at 2: so 100 object bytes before the window.
    steps = {OBJ: {1: (50, 50), 2: (-150, -150)}, PART: {1: (7, 7), 2: (3, 3)}}
    levels = accumulate({OBJ: (0, 0), PART: (10, 10)}, steps, 4)
    assert levels == {OBJ: [(100, 100), (150, 150), (0, 0), (0, 0)],
                      PART: [(0, 0), (7, 7), (10, 10), (10, 10)]}


def test_accumulate_takes_out_what_came_after_the_last_instant() -> None:
    levels = accumulate({OBJ: (900, 900)}, {OBJ: {3: (400, 400)}}, 3)  # step 3 of 3: after the window
    assert levels == {OBJ: [(500, 500)] * 3}


def test_accumulate_keeps_billed_and_real_apart() -> None:
    ia = ("object", "IA")
    assert accumulate({ia: (MIN_BILLED_OBJECT, 10)}, {ia: {1: (MIN_BILLED_OBJECT, 10)}}, 2) == {
        ia: [(0, 0), (MIN_BILLED_OBJECT, 10)]}


def test_a_change_first_counts_at_the_first_instant_at_or_after_it() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        start = rng.randrange(10**12)
        end = start + rng.choice([0, 1, 2, 7, 1000, rng.randrange(1, 10**10)])
        points = rng.randrange(2, 60)
        instants = even_instants(start, end, points)
        at = rng.choice([start, end, end + 1, rng.randint(start, end)])
        expected = next((i for i, instant in enumerate(instants) if instant >= at), len(instants))
        assert step_of(at, start, end, len(instants)) == expected, (start, end, points, at)


def test_even_instants_include_both_ends() -> None:
    assert even_instants(0, 100, 5) == [0, 25, 50, 75, 100]
    assert even_instants(0, 10, 3) == [0, 5, 10]
    assert even_instants(7, 7, 10) == [7]
    with pytest.raises(ValueError):
        even_instants(0, 10, 1)


def _scenario(tmp_path: Path, script) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        clock = Clock()
        db = Database(sqlite_url(tmp_path), clock=clock)
        await upgrade(db)
        storage = Storage(db, FileBlobs(tmp_path), clock=clock)
        try:
            await buckets.create_bucket(storage, "mine", owner="alice")
            await buckets.create_bucket(storage, "theirs", owner="bob")
            await script(storage, clock)
        finally:
            await storage.drain()
            await db.close()

    asyncio.run(main())


async def _put(storage: Storage, bucket: str, key: str, size: int, storage_class: str = "Standard") -> None:
    await objects.put_object(storage, bucket, key, body(b"x" * size), size=size, content_md5=None,
                             attrs=ObjectAttributes(storage_class=storage_class))


def test_storage_over_time_per_kind_and_class(tmp_path: Path) -> None:
    async def script(storage: Storage, clock: Clock) -> None:
        await _put(storage, "mine", "old", 1000)
        clock.advance(5)
        start = clock()
        clock.advance(1)
        await _put(storage, "mine", "cold", 10, "IA")  # bills 64 KB
        upload = await multipart.initiate_upload(storage, "mine", "big", ObjectAttributes(), initiator="alice")
        await multipart.upload_part(storage, "mine", "big", upload.upload_id, 1, body(b"p" * 300), size=300,
                                    content_md5=None)
        clock.advance(1)
        await objects.delete_object(storage, "mine", "old")
        clock.advance(2)
        series = await storage_over_time(storage, start_ms=start, end_ms=start + 4 * HOUR_MS, points=5)
        assert series.instants == [start + i * HOUR_MS for i in range(5)]
        lines = {(x.kind, x.storage_class): x for x in series.lines}
        assert list(lines) == [("object", "Standard"), ("object", "IA"), ("part", "Standard")]
        assert lines[("object", "Standard")].bytes == [1000, 1000, 0, 0, 0]
        assert lines[("object", "IA")].bytes == [0, 10, 10, 10, 10]
        assert lines[("object", "IA")].billed_bytes == [0, MIN_BILLED_OBJECT] + [MIN_BILLED_OBJECT] * 3
        assert lines[("part", "Standard")].bytes == [0, 300, 300, 300, 300]

        await _put(storage, "mine", "late", 5)  # after the window below: not in it
        clock.advance(1)
        earlier = await storage_over_time(storage, start_ms=start, end_ms=start + 2 * HOUR_MS, points=3)
        assert {(x.kind, x.storage_class): x.bytes for x in earlier.lines} == {
            ("object", "Standard"): [1000, 1000, 0], ("object", "IA"): [0, 10, 10], ("part", "Standard"): [0, 300, 300]}

    _scenario(tmp_path, script)


def test_storage_over_time_stops_at_now_and_sums_buckets(tmp_path: Path) -> None:
    async def script(storage: Storage, clock: Clock) -> None:
        start = clock()
        await _put(storage, "mine", "a", 100)
        await _put(storage, "theirs", "b", 20)
        clock.advance(2)
        series = await storage_over_time(storage, start_ms=start, end_ms=start + 100 * HOUR_MS, points=3)
        assert series.instants == [start, start + HOUR_MS, start + 2 * HOUR_MS]  # no forecast
        (line,) = series.lines
        assert line.bytes == [120, 120, 120]
        (mine,) = (await storage_over_time(storage, start_ms=start, end_ms=clock(), points=2, bucket_name="mine")).lines
        assert mine.bytes == [100, 100]
        (bobs,) = (await storage_over_time(storage, start_ms=start, end_ms=clock(), points=2, owner="bob")).lines
        assert bobs.bytes == [20, 20]
        assert (await storage_over_time(storage, start_ms=start, end_ms=clock(), owner="carol")).lines == []

    _scenario(tmp_path, script)


def test_reports_of_one_owner_leave_other_owners_buckets_out(tmp_path: Path) -> None:
    async def script(storage: Storage, clock: Clock) -> None:
        start = clock()
        await _put(storage, "mine", "a", 100)
        for bucket in ("mine", "theirs"):
            upload = await multipart.initiate_upload(storage, bucket, "u", ObjectAttributes(), initiator="k")
            await multipart.upload_part(storage, bucket, "u", upload.upload_id, 1, body(b"p" * 50), size=50,
                                        content_md5=None)
        clock.advance(1)
        report = await usage_report(storage, start_ms=start, end_ms=clock(), owner="alice")
        assert {line["bucket"] for line in report["lines"]} == {"mine"}
        assert [u["bucket"] for u in report["uploads"]] == ["mine"]
        uploads = await uploads_report(storage, owner="bob")
        assert [u["bucket"] for u in uploads["uploads"]] == ["theirs"]
        assert [a["bucket"] for a in uploads["ages"]] == ["theirs"]
        everyone = await usage_report(storage, start_ms=start, end_ms=clock())
        assert {line["bucket"] for line in everyone["lines"]} == {"mine", "theirs"}

    _scenario(tmp_path, script)


def test_reports_asked_for_more_rows_than_exist(tmp_path: Path) -> None:
    async def script(storage: Storage, clock: Clock) -> None:
        start = clock()
        for key in ("a", "b", "c"):
            upload = await multipart.initiate_upload(storage, "mine", key, ObjectAttributes(), initiator="k")
            if key != "c":
                await multipart.upload_part(storage, "mine", key, upload.upload_id, 1, body(b"p" * 9), size=9,
                                            content_md5=None)
        clock.advance(1)
        report = await usage_report(storage, start_ms=start, end_ms=clock(), top=10**20)
        assert report["uploads_total"] == 2 and len(report["uploads"]) == 2
        uploads = await uploads_report(storage, limit=10**20)
        assert [u["key"] for u in uploads["uploads"]] == ["a", "b", "c"] and uploads["uploads_total"] == 3
        assert (await uploads_report(storage, limit=0))["uploads"] == []

    _scenario(tmp_path, script)


def test_age_bands_summed_by_the_database_match_the_uploads_read_one_by_one(tmp_path: Path) -> None:
    from tessera.core.usage import age_histogram, incomplete_uploads, largest_uploads, upload_ages

    async def script(storage: Storage, clock: Clock) -> None:
        rng = random.Random(3)
        for i in range(40):
            bucket = ("mine", "theirs")[i % 2]
            attrs = ObjectAttributes(storage_class=("Standard", "IA", "Archive")[i % 3])
            upload = await multipart.initiate_upload(storage, bucket, f"k{i:02}", attrs, initiator="k")
            for number in range(1, rng.randint(0, 3) + 1):
                size = rng.randrange(1, 5000)
                await multipart.upload_part(storage, bucket, f"k{i:02}", upload.upload_id, number,
                                            body(b"p" * size), size=size, content_md5=None)
            clock.advance(rng.choice([1, 20, 24 * 3, 24 * 12]))
        for owner in (None, "bob"):
            one_by_one = age_histogram(await incomplete_uploads(storage, owner=owner))
            summed = await upload_ages(storage, owner=owner)
            assert [(a.bucket, [(b.label, b.uploads, b.parts, b.bytes) for b in a.bands]) for a in summed] == \
                [(a.bucket, [(b.label, b.uploads, b.parts, b.bytes) for b in a.bands]) for a in one_by_one]
            assert [b.monthly_cost for a in summed for b in a.bands] == pytest.approx(
                [b.monthly_cost for a in one_by_one for b in a.bands])
        everything = await incomplete_uploads(storage)
        assert await largest_uploads(storage, limit=7) == everything[:7]
        assert await largest_uploads(storage, limit=7, bucket_name="theirs") == \
            [u for u in everything if u.bucket == "theirs"][:7]

    _scenario(tmp_path, script)
