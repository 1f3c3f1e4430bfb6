"""Exact GB-hours from the usage ledger, for scripted sequences on a controllable clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tessera.blobs.files import FileBlobs
from tessera.core import buckets, multipart, objects
from tessera.core.metering import HOUR_MS, MIN_BILLED_OBJECT
from tessera.core.models import ObjectAttributes, PartChoice
from tessera.core.storage import Storage
from tessera.core.usage import storage_usage
from tessera.meta.database import Database, sqlite_url
from tessera.meta.migrate import upgrade
from tests.support.clock import Clock, body


def _scenario(tmp_path: Path, script) -> None:
    async def main() -> None:
        clock = Clock()
        db = Database(sqlite_url(tmp_path), clock=clock)
        await upgrade(db)
        storage = Storage(db, FileBlobs(tmp_path), clock=clock)
        try:
            await buckets.create_bucket(storage, "ledger", owner="tester")
            await script(storage, clock)
        finally:
            await storage.drain()
            await db.close()

    asyncio.run(main())


def byte_hours(lines, kind: str, storage_class: str = "Standard") -> tuple[float, float]:
    line = next(x for x in lines if x.kind == kind and x.storage_class == storage_class)
    return line.billed_byte_ms / HOUR_MS, line.real_byte_ms / HOUR_MS


def test_parts_uploaded_replaced_aborted(tmp_path: Path) -> None:
    async def script(storage: Storage, clock: Clock) -> None:
        start = clock()
        upload = await multipart.initiate_upload(storage, "ledger", "k", ObjectAttributes(), initiator="t")
        await multipart.upload_part(storage, "ledger", "k", upload.upload_id, 1, body(b"a" * 1000), size=1000,
                                    content_md5=None)
        clock.advance(1)
        await multipart.upload_part(storage, "ledger", "k", upload.upload_id, 1, body(b"b" * 3000), size=3000,
                                    content_md5=None)  # replaced: 1000 B for 1 h, then 3000 B
        clock.advance(2)
        await multipart.abort_upload(storage, "ledger", "k", upload.upload_id)
        clock.advance(5)
        lines = await storage_usage(storage, start_ms=start, end_ms=clock())
        assert byte_hours(lines, "part") == (1000 * 1 + 3000 * 2, 1000 * 1 + 3000 * 2)  # no minimum for parts
        inside = await storage_usage(storage, start_ms=start + HOUR_MS // 2, end_ms=start + 2 * HOUR_MS)
        assert byte_hours(inside, "part") == (1000 * 0.5 + 3000 * 1, 1000 * 0.5 + 3000 * 1)

    _scenario(tmp_path, script)


def test_completed_upload_turns_parts_into_an_object(tmp_path: Path) -> None:
    async def script(storage: Storage, clock: Clock) -> None:
        start = clock()
        upload = await multipart.initiate_upload(storage, "ledger", "mp", ObjectAttributes(storage_class="IA"),
                                                 initiator="t")
        part = await multipart.upload_part(storage, "ledger", "mp", upload.upload_id, 1, body(b"p" * 1024),
                                           size=1024, content_md5=None)
        clock.advance(2)  # a 1 KB IA part bills as 1 KB...
        await multipart.complete_upload(storage, "ledger", "mp", upload.upload_id, [PartChoice(1, part.etag)])
        clock.advance(3)  # ...the 1 KB IA object as 64 KB
        await objects.delete_object(storage, "ledger", "mp")
        lines = await storage_usage(storage, start_ms=start, end_ms=clock() + 10 * HOUR_MS)
        assert byte_hours(lines, "part", "IA") == (1024 * 2, 1024 * 2)
        assert byte_hours(lines, "object", "IA") == (MIN_BILLED_OBJECT * 3, 1024 * 3)

    _scenario(tmp_path, script)


def test_bytes_that_came_and_went_inside_the_window(tmp_path: Path) -> None:
    async def script(storage: Storage, clock: Clock) -> None:
        await objects.put_object(storage, "ledger", "before", body(b"x" * 100), size=100, content_md5=None,
                                 attrs=ObjectAttributes())
        clock.advance(10)
        start = clock()
        clock.advance(1)
        await objects.put_object(storage, "ledger", "brief", body(b"y" * 500), size=500, content_md5=None,
                                 attrs=ObjectAttributes())
        clock.advance(0.25)
        await objects.put_object(storage, "ledger", "brief", body(b"z" * 200), size=200, content_md5=None,
                                 attrs=ObjectAttributes())  # overwritten
        clock.advance(0.25)
        await objects.delete_object(storage, "ledger", "brief")
        clock.advance(1)
        lines = await storage_usage(storage, start_ms=start, end_ms=clock())
        assert byte_hours(lines, "object") == pytest.approx((100 * 2.5 + 500 * 0.25 + 200 * 0.25,) * 2)

    _scenario(tmp_path, script)


def test_incomplete_uploads_by_age_and_initiator(tmp_path: Path) -> None:
    from tessera.core.usage import age_histogram, incomplete_uploads

    async def script(storage: Storage, clock: Clock) -> None:
        async def started(key: str, initiator: str, size: int) -> None:
            upload = await multipart.initiate_upload(storage, "ledger", key, ObjectAttributes(), initiator=initiator)
            if size:
                await multipart.upload_part(storage, "ledger", key, upload.upload_id, 1, body(b"x" * size),
                                            size=size, content_md5=None)

        await started("ancient", "alice", 300)
        clock.advance(24 * 25)
        await started("old", "bob", 200)
        clock.advance(24 * 5)
        await started("week", "bob", 0)
        clock.advance(24 * 2)
        await started("new", "carol", 100)
        clock.advance(1)
        uploads = await incomplete_uploads(storage)
        assert [(u.key, u.initiator, u.parts, u.bytes) for u in uploads] == [
            ("ancient", "alice", 1, 300), ("old", "bob", 1, 200), ("new", "carol", 1, 100), ("week", "bob", 0, 0)]
        assert round(uploads[0].age_days) == 32
        (ages,) = age_histogram(uploads)
        assert [(b.label, b.uploads, b.parts, b.bytes) for b in ages.bands] == [
            ("< 1 day", 1, 1, 100), ("1-7 days", 1, 0, 0), ("7-30 days", 1, 1, 200), ("> 30 days", 1, 1, 300)]

    _scenario(tmp_path, script)


def test_window_part_storage_attributed_to_the_uploads_holding_it(tmp_path: Path) -> None:
    from tessera.core.prices import MONTH_MS, Prices
    from tessera.core.usage import part_shares

    async def script(storage: Storage, clock: Clock) -> None:
        storage.prices = Prices("EUR", {"Standard": 3.0, "IA": 1.0, "Archive": 1.0, "ColdArchive": 1.0,
                                        "DeepColdArchive": 1.0})
        start = clock()
        kept = await multipart.initiate_upload(storage, "ledger", "kept", ObjectAttributes(), initiator="alice")
        await multipart.upload_part(storage, "ledger", "kept", kept.upload_id, 1, body(b"a" * 1000), size=1000,
                                    content_md5=None)
        clock.advance(2)
        await multipart.upload_part(storage, "ledger", "kept", kept.upload_id, 2, body(b"b" * 4000), size=4000,
                                    content_md5=None)
        gone = await multipart.initiate_upload(storage, "ledger", "gone", ObjectAttributes(), initiator="bob")
        await multipart.upload_part(storage, "ledger", "gone", gone.upload_id, 1, body(b"c" * 500), size=500,
                                    content_md5=None)
        clock.advance(1)
        await multipart.abort_upload(storage, "ledger", "gone", gone.upload_id)
        clock.advance(1)
        end = clock() + 5 * HOUR_MS  # the window runs past now: only time until now counts
        (share,) = await part_shares(storage, start_ms=start + HOUR_MS, end_ms=end)
        assert (share.upload.key, share.upload.initiator) == ("kept", "alice")
        assert share.billed_byte_ms == (1000 * 3 + 4000 * 2) * HOUR_MS  # from the window start, until now
        assert share.cost == pytest.approx(share.billed_byte_ms / 1024**3 / MONTH_MS * 3.0)
        lines = await storage_usage(storage, start_ms=start + HOUR_MS, end_ms=clock())
        assert byte_hours(lines, "part")[0] == 1000 * 3 + 4000 * 2 + 500 * 1  # the aborted part: nobody's now
        assert share.upload.monthly_cost == pytest.approx(5000 / 1024**3 * 3.0)

    _scenario(tmp_path, script)


async def _put(storage: Storage, key: str, size: int, storage_class: str = "Standard") -> int:
    info = await objects.put_object(storage, "ledger", key, body(b"o" * size), size=size, content_md5=None,
                                    attrs=ObjectAttributes(storage_class=storage_class))
    return info.last_modified_ms


def test_early_deletion_of_archive_charges_the_rest_of_60_days(tmp_path: Path) -> None:
    from tessera.core.usage import early_deletions

    async def script(storage: Storage, clock: Clock) -> None:
        start = clock()
        await _put(storage, "cold", 1000, "Archive")  # billed as 64 KB
        await _put(storage, "plain", 1000)
        clock.advance(20 * 24)
        await objects.delete_object(storage, "ledger", "cold")
        await objects.delete_object(storage, "ledger", "plain")  # Standard: no minimum
        left = clock()
        clock.advance(1)
        lines = await storage_usage(storage, start_ms=start, end_ms=clock())
        assert byte_hours(lines, "object", "Archive") == (MIN_BILLED_OBJECT * 20 * 24, 1000 * 20 * 24)
        assert byte_hours(lines, "early-deletion", "Archive") == (MIN_BILLED_OBJECT * 40 * 24, 1000 * 40 * 24)
        assert [x.kind for x in lines] == ["object", "object", "early-deletion"]
        (charge,) = await early_deletions(storage, start_ms=start, end_ms=clock())
        assert (charge.key, charge.storage_class, charge.stored_days, charge.charged_days, charge.billed_bytes) == (
            "cold", "Archive", 20, 40, MIN_BILLED_OBJECT)
        assert charge.cost == pytest.approx(MIN_BILLED_OBJECT / 1024**3 * 0.033 * 40 / 30)
        # The charge falls at the instant the object left: a window before it sees none.
        assert not [x for x in await storage_usage(storage, start_ms=start, end_ms=left)
                    if x.kind == "early-deletion"]

    _scenario(tmp_path, script)


def test_lifecycle_transitions_count_as_oss_documents(tmp_path: Path) -> None:
    """Standard → IA on day 10 → Archive on day 30 → deleted on day 35: IA's 30 days (from last
    modified) were served, Archive is charged 25 more days. Standard → ColdArchive on day 10 →
    deleted on day 11: ColdArchive counts from the transition, 179 days charged."""

    async def script(storage: Storage, clock: Clock) -> None:
        start = clock()
        warm = await _put(storage, "warm", 100_000)
        frozen = await _put(storage, "frozen", 100_000)
        clock.advance(10 * 24)
        await objects.transition_objects(storage, "ledger", [("warm", warm)], storage_class="IA",
                                         from_classes=("Standard",))
        await objects.transition_objects(storage, "ledger", [("frozen", frozen)], storage_class="ColdArchive",
                                         from_classes=("Standard",))
        clock.advance(1 * 24)
        await objects.delete_object(storage, "ledger", "frozen")
        clock.advance(19 * 24)
        await objects.transition_objects(storage, "ledger", [("warm", warm)], storage_class="Archive",
                                         from_classes=("IA",))
        clock.advance(5 * 24)
        await objects.delete_object(storage, "ledger", "warm")
        clock.advance(1)
        lines = await storage_usage(storage, start_ms=start, end_ms=clock())
        day = 24 * 100_000
        assert byte_hours(lines, "object", "Standard")[0] == 20 * day
        assert byte_hours(lines, "object", "IA")[0] == 20 * day
        assert byte_hours(lines, "object", "Archive")[0] == 5 * day
        assert byte_hours(lines, "object", "ColdArchive")[0] == 1 * day
        assert byte_hours(lines, "early-deletion", "Archive")[0] == 25 * day
        assert byte_hours(lines, "early-deletion", "ColdArchive")[0] == 179 * day
        assert not [x for x in lines if x.kind == "early-deletion" and x.storage_class == "IA"]

    _scenario(tmp_path, script)


def test_overwriting_or_moving_early_is_leaving_early(tmp_path: Path) -> None:
    async def script(storage: Storage, clock: Clock) -> None:
        start = clock()
        await _put(storage, "ia", 70_000, "IA")
        moved = await _put(storage, "moved", 70_000, "IA")
        clock.advance(5 * 24)
        await _put(storage, "ia", 10, "IA")  # overwritten on day 5: 25 days of the first charged
        await objects.transition_objects(storage, "ledger", [("moved", moved)],
                                         storage_class="Archive", from_classes=("IA",))  # IA left on day 5
        clock.advance(30 * 24)
        await objects.delete_object(storage, "ledger", "ia")  # the second served its 30 days
        await objects.delete_object(storage, "ledger", "moved")  # Archive day 35 (from last modified)
        clock.advance(1)
        lines = await storage_usage(storage, start_ms=start, end_ms=clock())
        assert byte_hours(lines, "early-deletion", "IA") == (2 * 70_000 * 25 * 24, 2 * 70_000 * 25 * 24)
        assert byte_hours(lines, "early-deletion", "Archive") == (70_000 * 25 * 24, 70_000 * 25 * 24)

    _scenario(tmp_path, script)
