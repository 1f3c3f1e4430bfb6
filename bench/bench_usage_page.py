"""Usage page benchmark: server time of the Usage page, its charts and its JSON with 100 000
incomplete uploads in one bucket.

One Tessera process (SQLite) gets a bucket "usage-bench" with a few objects and a few uploads
made through the OSS API (oss2), and the rest of ``--uploads`` (default 100 000) inserted
straight into the metadata store while the server runs, with 1-3 parts each, initiated over
the last 60 days, with their per-upload part counters; the usage counters and ledger are
advanced by the same ``usage.record`` the writes use. The parts have no blob files, which nothing measured here reads.

A console session signed in through the sign-in form then requests each address ``--rounds``
times over one keep-alive connection; the table gives the wall time over loopback (server time
plus a loopback round trip) at the median and the 90th percentile. The issue's target for
pages is 100 ms.

    .venv/bin/python bench/bench_usage_page.py [--uploads 100000] [--rounds 15]

Everything talks to 127.0.0.1 only and stops by itself; BENCH_DIR picks the scratch filesystem.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from statistics import median, quantiles

import oss2
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera.core.clock import new_upload_id, now_ms  # noqa: E402
from tessera.core.metering import PART, UPLOAD  # noqa: E402
from tessera.meta import usage  # noqa: E402
from tessera.meta.database import Database, sqlite_url  # noqa: E402
from tessera.meta.schema import buckets, parts, uploads  # noqa: E402
from tests.support.console import ConsoleApi  # noqa: E402
from tests.support.server import TesseraServer  # noqa: E402

BUCKET = "usage-bench"
DAY_MS = 86_400_000
CHUNK = 5000


async def insert_uploads(data_dir: Path, count: int) -> None:
    db = Database(sqlite_url(data_dir))
    rng = random.Random(11)
    now = now_ms()
    try:
        async with db.read() as conn:
            bucket_id = (await conn.execute(sa.select(buckets.c.bucket_id).where(buckets.c.name == BUCKET))).scalar()
        for start in range(0, count, CHUNK):
            rows, part_rows, sizes = [], [], []
            for i in range(start, min(count, start + CHUNK)):
                initiated = now - rng.randrange(60 * DAY_MS)
                upload_id = new_upload_id(initiated)
                rows.append({"upload_id": upload_id, "bucket_id": bucket_id, "key": f"bulk/{i:07d}.bin",
                             "state": "active", "initiated_ms": initiated, "last_part_ms": initiated,
                             "initiator": "bench", "storage_class": "Standard", "content_type": "x",
                             "headers": {}, "user_meta": {}})
                held = [rng.randrange(1, 8) * 1024 * 1024 for _ in range(rng.randint(1, 3))]
                rows[-1].update(part_count=len(held), part_bytes=sum(held),
                                part_uploaded_byte_ms=float(sum(held) * initiated))
                for number, size in enumerate(held, start=1):
                    sizes.append(size)
                    part_rows.append({"upload_id": upload_id, "part_number": number, "size": size, "etag": "0" * 32,
                                      "crc64": "0", "blob_id": f"b{i}-{number}", "last_modified_ms": initiated})
            async with db.write() as conn:
                await conn.execute(sa.insert(uploads), rows)
                await conn.execute(sa.insert(parts), part_rows)
                usage.record(conn, bucket_id, "Standard", UPLOAD, count=len(rows), sizes=[0] * len(rows))
                usage.record(conn, bucket_id, "Standard", PART, count=len(sizes), sizes=sizes)
    finally:
        await db.close()


def timed(api: ConsoleApi, path: str, rounds: int) -> tuple[float, float, int]:
    times = []
    status = 0
    for _ in range(rounds):
        began = time.perf_counter()
        answer = api.get(path, headers={"Accept": "text/html" if not path.startswith(("/api", "/charts")) else "*/*"})
        times.append(time.perf_counter() - began)
        status = answer.status_code
    ninetieth = quantiles(times, n=10)[-1] if len(times) >= 2 else times[0]
    return median(times), ninetieth, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as scratch:
        server = TesseraServer(Path(scratch) / "data").start()
        try:
            auth = oss2.Auth(server.access_key_id, server.access_key_secret)
            bucket = oss2.Bucket(auth, server.endpoint, BUCKET)
            bucket.create_bucket()
            for i in range(5):
                bucket.put_object(f"object-{i}", b"o" * (i + 1) * 100_000)
            for i in range(5):
                upload_id = bucket.init_multipart_upload(f"api/{i}.bin").upload_id
                bucket.upload_part(f"api/{i}.bin", upload_id, 1, b"u" * 200_000)
            began = time.perf_counter()
            asyncio.run(insert_uploads(server.data_dir, max(0, args.uploads - 5)))
            print(f"inserted {args.uploads - 5:,} uploads in {time.perf_counter() - began:.1f} s")
            api = ConsoleApi(server)
            assert api.sign_in().status_code == 200
            addresses = [
                "/usage", f"/usage?bucket={BUCKET}", "/usage?period=30d",
                "/charts/storage.svg?period=7d", "/charts/ages.svg", "/charts/top-uploads.svg",
                "/charts/cost.svg?period=30d", "/api/usage/storage?period=30d&points=200",
                "/api/usage/report?period=30d",
            ]
            print(f"\n{'address':<42} {'median':>10} {'p90':>10}  status   ({args.uploads:,} uploads, SQLite)")
            for path in addresses:
                middle, ninetieth, status = timed(api, path, args.rounds)
                print(f"{path:<42} {middle * 1000:>8.1f} ms {ninetieth * 1000:>7.1f} ms  {status}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
