"""Lifecycle benchmark: time to clean 100 000 expired multipart uploads (one part each) with
1 000 live uploads interleaved among them, by one AbortMultipartUpload rule.

The uploads, parts, blob rows and part files are seeded straight into the store (seeding
through HTTP would take longer than what is measured); the run itself is the real thing, the
same ``run_logged`` the server's schedule and ``tessera admin lifecycle run`` call.

    .venv/bin/python bench/bench_lifecycle.py [--expired 100000] [--live 1000] [--postgresql]

--postgresql runs on a throwaway PostgreSQL cluster (as the tests do) instead of SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import sys

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera.cli.runtime import open_storage  # noqa: E402
from tessera.core.buckets import create_bucket  # noqa: E402
from tessera.core.clock import new_upload_id  # noqa: E402
from tessera.core.lifecycle.config import put_lifecycle  # noqa: E402
from tessera.core.lifecycle.rules import AbortMultipartUpload, Rule  # noqa: E402
from tessera.core.lifecycle.runs import run_logged  # noqa: E402
from tessera.core.storage import Storage  # noqa: E402
from tessera.meta.schema import blobs, parts, uploads  # noqa: E402

DAY_MS = 86_400_000
PART_SIZE = 1024
CHUNK = 5000


async def seed(storage: Storage, bucket_id: int, *, expired: int, live: int, now_ms: int) -> None:
    """``expired`` uploads last touched 10 days ago and ``live`` ones touched now, interleaved by key."""
    total = expired + live
    every = max(total // max(live, 1), 1)
    body = os.urandom(PART_SIZE)
    rows_u, rows_p, rows_b = [], [], []
    live_made = 0
    for i in range(total):
        is_live = live_made < live and i % every == 0
        live_made += is_live
        at = now_ms if is_live else now_ms - 10 * DAY_MS
        upload_id = new_upload_id(at)
        blob_id = storage.blobs.new_blob_id()
        rows_u.append({"upload_id": upload_id, "bucket_id": bucket_id, "key": f"data/{i:07d}", "state": "active",
                       "initiated_ms": at, "last_part_ms": at, "initiator": "bench", "storage_class": "Standard",
                       "content_type": "application/octet-stream", "headers": {}, "user_meta": {}})
        rows_p.append({"upload_id": upload_id, "part_number": 1, "size": PART_SIZE, "etag": "0" * 32, "crc64": "0",
                       "blob_id": blob_id, "last_modified_ms": at})
        rows_b.append({"blob_id": blob_id, "state": "live", "size": PART_SIZE, "created_ms": at})
        path = storage.blobs.path(blob_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    for start in range(0, total, CHUNK):
        async with storage.db.write() as conn:
            await conn.execute(sa.insert(blobs), rows_b[start : start + CHUNK])
            await conn.execute(sa.insert(uploads), rows_u[start : start + CHUNK])
            await conn.execute(sa.insert(parts), rows_p[start : start + CHUNK])


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="tessera-lifecycle-bench-", dir=os.environ.get("BENCH_DIR")) as scratch:
        storage = await open_storage(argparse.Namespace(data_dir=scratch, metadata_url=args.metadata_url, prices=None))
        try:
            bucket = await create_bucket(storage, "lifecycle-bench", owner="bench")
            now = storage.clock()
            started = time.perf_counter()
            await seed(storage, bucket.bucket_id, expired=args.expired, live=args.live, now_ms=now)
            seeded = time.perf_counter() - started
            await put_lifecycle(storage, "lifecycle-bench",
                                [Rule("stale-parts", abort_multipart_upload=AbortMultipartUpload(days=7))])

            started = time.perf_counter()
            _, preview = await run_logged(storage, now_ms=now, trigger="bench", dry_run=True)
            previewed = time.perf_counter() - started
            started = time.perf_counter()
            _, report = await run_logged(storage, now_ms=now, trigger="bench")
            cleaned = time.perf_counter() - started

            outcome, would = report.outcomes[0], preview.outcomes[0]
            async with storage.db.read() as conn:
                left = (await conn.execute(sa.select(sa.func.count()).select_from(uploads))).scalar_one()
            files = sum(1 for _ in storage.blobs.blob_files())
        finally:
            await storage.db.close()
    assert (would.matched, outcome.matched, outcome.parts) == (args.expired, args.expired, args.expired), outcome
    assert left == args.live and files == args.live, (left, files)
    assert len(would.items) == min(args.expired, 200) and would.truncated == (args.expired > 200)
    rows = [
        ("metadata", "SQLite (WAL, synchronous=FULL)" if not args.metadata_url else "PostgreSQL"),
        ("seeded (not timed work)", f"{args.expired:,} expired + {args.live:,} live uploads in {seeded:.1f} s"),
        ("dry run: uploads / parts / bytes found", f"{would.matched:,} / {would.parts:,} / {would.bytes:,}"),
        ("dry run: uploads named (first, oldest)", f"{len(would.items):,}, e.g. {would.items[0].key} "
                                                     f"({would.items[0].age_ms / DAY_MS:.0f} days)"),
        ("dry run time", f"{previewed:.2f} s"),
        ("run: uploads aborted / parts / bytes freed", f"{outcome.matched:,} / {outcome.parts:,} / {outcome.bytes:,}"),
        ("run time (abort + free the files)", f"{cleaned:.2f} s ({outcome.matched / cleaned:,.0f} uploads/s)"),
        ("left afterwards: uploads / part files", f"{left:,} / {files:,} (the live ones)"),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--expired", type=int, default=100_000)
    parser.add_argument("--live", type=int, default=1_000)
    parser.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL cluster, not SQLite")
    options = parser.parse_args()
    if options.postgresql:
        from tests.support.postgres import PostgresCluster

        with PostgresCluster() as cluster:
            options.metadata_url = cluster.create_database("lifecycle_bench")
            asyncio.run(main(options))
    else:
        options.metadata_url = None
        asyncio.run(main(options))
