"""Part Management's domain: per-upload counters kept with the parts, keyset pages in every
order that never repeat or skip an upload, totals, deletions and the Delete All job — driven on
a real SQLite storage, without HTTP (the console tests drive it through the browser)."""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import sqlite3
from pathlib import Path
from typing import AsyncIterator

import pytest
import sqlalchemy as sa
from alembic import command

from tessera.cli.runtime import open_storage
from tessera.core import buckets, jobs, multipart, part_management
from tessera.core.errors import InvalidArgument
from tessera.core.fsck import fsck
from tessera.core.models import ObjectAttributes
from tessera.core.part_management import Cursor, decode_cursor, encode_cursor
from tessera.core.storage import Storage
from tessera.meta import jobs as job_rows
from tessera.meta.database import Database, sqlite_url
from tessera.meta.migrate import _alembic_config
from tessera.meta.schema import jobs as jobs_table
from tessera.meta.schema import uploads

BUCKET = "parts"


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _run(tmp_path: Path, scenario) -> None:
    async def main() -> None:
        storage = await open_storage(argparse.Namespace(data_dir=str(tmp_path), metadata_url=None, blobs=None, prices=None))
        try:
            await buckets.create_bucket(storage, BUCKET, owner="tester")
            await scenario(storage)
        finally:
            await storage.db.close()

    asyncio.run(main())


async def _upload(storage: Storage, key: str, sizes: list[int]) -> str:
    upload = await multipart.initiate_upload(storage, BUCKET, key, ObjectAttributes(), initiator="tester")
    for number, size in enumerate(sizes, start=1):
        await multipart.upload_part(storage, BUCKET, key, upload.upload_id, number, _body(b"x" * size), size=size,
                                    content_md5=None)
    return upload.upload_id


async def _counters(storage: Storage, upload_id: str) -> tuple[int, int]:
    async with storage.db.read() as conn:
        row = (await conn.execute(sa.select(uploads.c.part_count, uploads.c.part_bytes)
                                  .where(uploads.c.upload_id == upload_id))).one()
    return row.part_count, row.part_bytes


# --- cursors ------------------------------------------------------------------------------

@pytest.mark.parametrize("cursor", [
    Cursor("key", False, "photos/2026/é ✓ <b>", "0192ABCDEF"),
    Cursor("size", True, 5 * 1024**3, "0192ABCDEF", backwards=True),
    Cursor("last_part", False, 1_790_000_000_000, "X"),
])
def test_a_cursor_reads_back_as_the_position_it_names(cursor: Cursor) -> None:
    text = encode_cursor(cursor)
    assert text.isascii() and "=" not in text and "/" not in text and "+" not in text  # safe in a URL
    assert decode_cursor(text, sort=cursor.sort, descending=cursor.descending) == cursor


@pytest.mark.parametrize("text", ["", "!!!", "bm90IGpzb24", encode_cursor(Cursor("key", False, 12, "u")),
                                  encode_cursor(Cursor("size", False, "12", "u"))])
def test_a_damaged_or_forged_cursor_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument):
        decode_cursor(text, sort="size" if "size" in str(text) else "key", descending=False)


def test_a_cursor_of_another_order_is_refused() -> None:
    text = encode_cursor(Cursor("parts", False, 3, "u"))
    with pytest.raises(InvalidArgument, match="another sort order"):
        decode_cursor(text, sort="parts", descending=True)


# --- counters -----------------------------------------------------------------------------

def test_counters_follow_parts_uploaded_replaced_and_left_out_of_complete(tmp_path: Path) -> None:
    async def scenario(storage: Storage) -> None:
        upload_id = await _upload(storage, "a", [10, 20])
        assert await _counters(storage, upload_id) == (2, 30)
        await multipart.upload_part(storage, BUCKET, "a", upload_id, 2, _body(b"y" * 5), size=5, content_md5=None)
        assert await _counters(storage, upload_id) == (2, 15)  # replaced: by the difference
        summary = (await part_management.list_incomplete(storage, BUCKET)).entries[0]
        age_ms = storage.clock() - summary.last_part_ms
        assert summary.cost_so_far == pytest.approx(storage.prices.cost("Standard", 15 * age_ms), rel=0.2, abs=1e-15)
        assert (await fsck(storage)).ok
        async with storage.db.write() as conn:  # damage it: fsck must say so
            await conn.execute(sa.update(uploads).where(uploads.c.upload_id == upload_id).values(part_count=7))
        assert any(upload_id in problem for problem in (await fsck(storage)).problems)

    _run(tmp_path, scenario)


def test_the_migration_counts_the_parts_of_uploads_made_before_it(tmp_path: Path) -> None:
    async def main() -> None:
        db = Database(sqlite_url(tmp_path))
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(_alembic_config(c), "0012"))
        await db.close()
        with sqlite3.connect(tmp_path / "metadata.sqlite3") as raw:
            raw.execute("INSERT INTO buckets VALUES (1, 'b', 0, 'Standard', 'private', 'LRS', 'me')")
            for upload_id, state in (("U1", "active"), ("U2", "active"), ("U3", "completed")):
                raw.execute("INSERT INTO uploads (upload_id, bucket_id, key, state, initiated_ms, initiator, "
                            "storage_class, content_type, headers, user_meta) VALUES (?, 1, 'k', ?, 0, 'me', "
                            "'Standard', 'x', '{}', '{}')", (upload_id, state))
            for number, size in ((1, 100), (2, 50)):
                raw.execute("INSERT INTO parts VALUES ('U1', ?, ?, 'E', '0', ?, ?)",
                            (number, size, f"b{number}", number * 1000))
        storage = await open_storage(argparse.Namespace(data_dir=str(tmp_path), metadata_url=None, blobs=None, prices=None))
        try:
            assert await _counters(storage, "U1") == (2, 150)
            assert await _counters(storage, "U2") == (0, 0)
            async with storage.db.read() as conn:
                stamped = (await conn.execute(sa.select(uploads.c.part_uploaded_byte_ms)
                                              .where(uploads.c.upload_id == "U1"))).scalar_one()
            assert stamped == 100 * 1000 + 50 * 2000
        finally:
            await storage.db.close()

    asyncio.run(main())


# --- paging -------------------------------------------------------------------------------

def _expected(summaries: list, sort: str, descending: bool) -> list[str]:
    value = {
        "key": lambda s: s.key, "initiated": lambda s: s.initiated_ms, "parts": lambda s: s.parts,
        "size": lambda s: s.bytes, "last_part": lambda s: s.last_part_ms or s.initiated_ms,
    }[sort]
    ordered = sorted(summaries, key=lambda s: (value(s), s.upload_id), reverse=descending)
    return [s.upload_id for s in ordered]


def test_paging_in_every_order_never_repeats_or_skips_an_upload(tmp_path: Path) -> None:
    async def scenario(storage: Storage) -> None:
        rng = random.Random(11)
        for i in range(30):  # ties on purpose: few distinct keys, sizes and part counts
            await _upload(storage, f"k{rng.randrange(6)}", [rng.choice([1, 2, 3])] * rng.randrange(0, 3))
        everything = (await part_management.list_incomplete(storage, BUCKET, limit=1000)).entries
        assert len(everything) == 30
        for sort in part_management.SORTS:
            for descending in (False, True):
                seen, cursor, pages = [], None, []
                while True:
                    page = await part_management.list_incomplete(storage, BUCKET, sort=sort, descending=descending,
                                                                 cursor=cursor, limit=7)
                    pages.append(page)
                    seen += [e.upload_id for e in page.entries]
                    if page.next_cursor is None:
                        break
                    cursor = page.next_cursor
                assert seen == _expected(everything, sort, descending), (sort, descending)
                assert pages[0].previous_cursor is None and len(pages) == 5
                back = await part_management.list_incomplete(storage, BUCKET, sort=sort, descending=descending,
                                                             cursor=pages[-1].previous_cursor, limit=7)
                assert [e.upload_id for e in back.entries] == [e.upload_id for e in pages[-2].entries]  # Previous
                assert back.next_cursor is not None and back.previous_cursor is not None

    _run(tmp_path, scenario)


def test_a_prefix_narrows_the_listing_and_its_totals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(storage: Storage) -> None:
        await _upload(storage, "logs/a", [3])
        await _upload(storage, "logs/b", [4, 4])
        await _upload(storage, "logs/c", [])
        await _upload(storage, "logz", [100])
        page = await part_management.list_incomplete(storage, BUCKET, prefix="logs/", sort="size", descending=True)
        assert [e.key for e in page.entries] == ["logs/b", "logs/a", "logs/c"]
        assert page.totals == part_management.PartTotals(3, 3, 11)
        # A prefix matching many uploads: counted up to a limit, and the page walks the order's index.
        monkeypatch.setattr(part_management, "PREFIX_COUNT_LIMIT", 2)
        monkeypatch.setattr(part_management, "_walk_above", lambda uploads, limit: 1)
        walked = await part_management.list_incomplete(storage, BUCKET, prefix="logs/", sort="size", descending=True,
                                                       limit=2)
        assert [e.key for e in walked.entries] == ["logs/b", "logs/a"]
        assert (walked.totals.uploads, walked.totals.exact) == (2, False)
        rest = await part_management.list_incomplete(storage, BUCKET, prefix="logs/", sort="size", descending=True,
                                                     limit=2, cursor=walked.next_cursor)
        assert [e.key for e in rest.entries] == ["logs/c"]
        assert await part_management.totals(storage, BUCKET, prefix="logs/") == part_management.PartTotals(3, 3, 11)
        whole = await part_management.list_incomplete(storage, BUCKET)
        assert whole.totals == part_management.PartTotals(4, 4, 111)  # from the usage counters
        assert whole.entries[0].cost_so_far >= 0 and whole.entries[0].monthly_cost > 0

    _run(tmp_path, scenario)


# --- deleting -----------------------------------------------------------------------------

def test_delete_frees_the_chosen_uploads_and_reports_those_already_gone(tmp_path: Path) -> None:
    async def scenario(storage: Storage) -> None:
        first = await _upload(storage, "one", [5, 6])
        second = await _upload(storage, "two", [7])
        kept = await _upload(storage, "three", [8])
        assert await part_management.totals(storage, BUCKET, upload_ids=[first, second]) == \
            part_management.PartTotals(2, 3, 18)
        freed = await part_management.delete_uploads(storage, BUCKET, [first, second, "NOPE"])
        assert (freed.uploads, freed.parts, freed.bytes, freed.missing) == (2, 3, 18, ["NOPE"])
        again = await part_management.delete_uploads(storage, BUCKET, [first])
        assert (again.uploads, again.missing) == (0, [first])
        assert [e.upload_id for e in (await part_management.list_incomplete(storage, BUCKET)).entries] == [kept]
        stat = await buckets.bucket_usage(storage, BUCKET)
        assert (stat.get(None, "part").count, stat.get(None, "part").bytes, stat.get(None, "upload").count) == (1, 8, 1)
        report = await fsck(storage)
        assert report.ok and report.referenced == 1

    _run(tmp_path, scenario)


def test_delete_all_job_spares_uploads_initiated_after_it_started(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "BATCH", 20)

    async def scenario(storage: Storage) -> None:
        for i in range(50):  # three batches
            upload = await multipart.initiate_upload(storage, BUCKET, f"old/{i:04d}", ObjectAttributes(),
                                                     initiator="tester")
        await _upload(storage, "old/with-parts", [10, 10])
        await _upload(storage, "other/kept", [1])
        job = await jobs.start_delete_all(storage, BUCKET, "old/", "tester")
        assert (job.state, job.total) == ("running", part_management.PartTotals(51, 2, 20))
        await asyncio.sleep(0.002)
        late = await _upload(storage, "old/late", [3])  # a user uploading while the job runs keeps it
        assert await jobs.run_claimable(storage, jobs.holder_name()) == 1
        done = await jobs.job(storage, job.job_id)
        assert (done.state, done.freed, done.error) == ("done", part_management.PartTotals(51, 2, 20), None)
        left = (await part_management.list_incomplete(storage, BUCKET, sort="key")).entries
        assert [(e.key, e.upload_id) for e in left] == [("old/late", late), ("other/kept", left[1].upload_id)]
        assert upload.upload_id not in {e.upload_id for e in left}
        assert await jobs.run_claimable(storage, jobs.holder_name()) == 0  # nothing left to run
        assert (await fsck(storage)).ok

    _run(tmp_path, scenario)


def _free_pid() -> int:
    import os

    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


@pytest.mark.parametrize("dead_holder", [f"{socket.gethostname()}:{_free_pid()}", "another-host:1"])
def test_a_job_whose_holder_died_mid_way_is_resumed_where_it_stopped(tmp_path: Path, dead_holder: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "BATCH", 10)

    async def scenario(storage: Storage) -> None:
        for i in range(25):
            await multipart.initiate_upload(storage, BUCKET, f"k{i:04d}", ObjectAttributes(), initiator="tester")
        job = await jobs.start_delete_all(storage, BUCKET, "", "tester")
        async with storage.db.write() as conn:  # a process takes it, does one batch, and dies
            assert await job_rows.claim(conn, job.job_id, dead_holder, from_holder=None, now_ms=storage.clock())
        assert await jobs._batch(storage, job.job_id, dead_holder)
        halfway = await jobs.job(storage, job.job_id)
        assert halfway.freed.uploads == jobs.BATCH and halfway.state == "running"
        if dead_holder.startswith("another-host"):  # no way to know it died but its silence
            assert await jobs.run_claimable(storage, jobs.holder_name()) == 0
            async with storage.db.write() as conn:
                await conn.execute(sa.update(jobs_table).values(heartbeat_ms=storage.clock() - jobs.STALE_MS - 1))
        assert await jobs.run_claimable(storage, jobs.holder_name()) == 1
        done = await jobs.job(storage, job.job_id)
        assert (done.state, done.freed.uploads) == ("done", 25)
        assert (await part_management.list_incomplete(storage, BUCKET)).entries == []

    _run(tmp_path, scenario)
