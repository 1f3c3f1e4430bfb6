"""Console Lifecycle benchmark: the Lifecycle page and its JSON with 100 000 incomplete uploads
in the bucket — the page, the rules, the run log, and the dry-run preview of a part cleanup rule
that matches every upload (naming the first 200, counting all).

The uploads and parts are seeded straight into the metadata (no part files: nothing here reads
them); then a real ``tessera serve`` answers a signed-in console session over loopback. Times
are medians of the wall time seen by the client, so they include the loopback round trip.

    .venv/bin/python bench/bench_console_lifecycle.py [--uploads 100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera.cli.runtime import open_storage  # noqa: E402
from tessera.core.buckets import create_bucket  # noqa: E402
from tessera.core.clock import new_upload_id  # noqa: E402
from tessera.meta.schema import parts, uploads  # noqa: E402
from tests.support.console import ConsoleApi  # noqa: E402
from tests.support.server import TesseraServer  # noqa: E402

DAY_MS = 86_400_000
CHUNK = 5000
BUCKET = "console-lifecycle-bench"


async def seed(data_dir: Path, owner: str, count: int) -> None:
    """``count`` uploads of one 1 KiB part each, last touched 10 days ago."""
    storage = await open_storage(argparse.Namespace(data_dir=str(data_dir), metadata_url=None, prices=None))
    try:
        bucket = await create_bucket(storage, BUCKET, owner=owner)
        at = storage.clock() - 10 * DAY_MS
        for start in range(0, count, CHUNK):
            rows_u, rows_p = [], []
            for i in range(start, min(start + CHUNK, count)):
                upload_id = new_upload_id(at + i)
                rows_u.append({"upload_id": upload_id, "bucket_id": bucket.bucket_id, "key": f"tmp/{i:07d}",
                               "state": "active", "initiated_ms": at + i, "last_part_ms": at + i, "initiator": owner,
                               "storage_class": "Standard", "content_type": "application/octet-stream",
                               "headers": {}, "user_meta": {},
                               # the upload's part counters, as the write path keeps them with its parts
                               "part_count": 1, "part_bytes": 1024, "part_uploaded_byte_ms": 1024.0 * (at + i)})
                rows_p.append({"upload_id": upload_id, "part_number": 1, "size": 1024, "etag": "0" * 32,
                               "crc64": "0", "blob_id": f"bench{i:027d}", "last_modified_ms": at + i})
            async with storage.db.write() as conn:
                await conn.execute(sa.insert(uploads), rows_u)
                await conn.execute(sa.insert(parts), rows_p)
    finally:
        await storage.db.close()


def timed(repeat: int, call) -> tuple[float, object]:
    times, answer = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - started)
        assert answer.status_code < 300, answer.text[:500]
    return statistics.median(times) * 1000, answer


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="tessera-console-lifecycle-bench-") as scratch:
        server = TesseraServer(Path(scratch) / "data").start()
        try:
            started = time.perf_counter()
            asyncio.run(seed(server.data_dir, server.access_key_id, args.uploads))
            seeded = time.perf_counter() - started
            api = ConsoleApi(server)
            assert api.sign_in().status_code == 200
            base = f"/api/buckets/{BUCKET}/lifecycle"
            rule = {"id": "parts", "abort_multipart_upload": {"days": 7}}
            assert api.post(base + "/rules", json={"rule": rule}).status_code == 201
            page, _ = timed(args.repeat, lambda: api.get(f"/buckets/{BUCKET}/lifecycle",
                                                         headers={"Accept": "text/html"}))
            rules, _ = timed(args.repeat, lambda: api.get(base))
            log, _ = timed(args.repeat, lambda: api.get("/api/lifecycle/runs", params={"bucket": BUCKET}))
            previewed, answer = timed(max(args.repeat // 3, 1), lambda: api.post(base + "/preview",
                                                                                  json={"rules": [rule]}))
            [outcome] = answer.json()["rules"][0]["outcomes"]
        finally:
            server.stop()
    assert (outcome["matched"], len(outcome["items"]), outcome["truncated"]) == (args.uploads, 200, True)
    rows = [
        ("metadata", "SQLite (WAL, synchronous=FULL)"),
        ("seeded (not timed work)", f"{args.uploads:,} incomplete uploads in {seeded:.1f} s"),
        ("GET Lifecycle page (HTML)", f"{page:.1f} ms"),
        ("GET rules (JSON)", f"{rules:.1f} ms"),
        ("GET run log (JSON)", f"{log:.1f} ms"),
        ("POST preview: every upload matched", f"{previewed:.1f} ms ({outcome['matched']:,} counted, "
                                               f"{len(outcome['items'])} named, {outcome['bytes']:,} bytes)"),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    main(parser.parse_args())
