"""Console Objects benchmark: how long the Objects page and its listing take in a big bucket.

Fills one bucket with ``--objects`` objects (spread over ``--folders`` folders, plus as many
at the top) — symlinks to one small object, made by the core's own ``put_symlink`` in this
process while the server is stopped, thousands per transaction: no byte is written, so a big bucket fills in minutes, and a
listing reads their rows as any other object's. Then it signs in to the console as a browser does, and prints the median time of
each request the page makes, measured on loopback (so the figures include HTTP, an upper
bound of the server's own time).

    .venv/bin/python bench/bench_console_objects.py [--objects 20000] [--folders 100]

Everything talks to 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Callable

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera.blobs.files import FileBlobs  # noqa: E402
from tessera.core.models import ObjectAttributes  # noqa: E402
from tessera.core.objects import install_object  # noqa: E402
from tessera.core.storage import Storage  # noqa: E402
from tessera.core.symlinks import put_symlink  # noqa: E402
from tessera.meta import buckets as bucket_rows  # noqa: E402
from tessera.meta.database import Database, sqlite_url  # noqa: E402
from tests.support.clients import Clients  # noqa: E402
from tests.support.console import ConsoleApi  # noqa: E402
from tests.support.server import TesseraServer  # noqa: E402

BUCKET = "bench-objects"
RUNS = 21


def timed(call: Callable[[], requests.Response]) -> float:
    """The median wall time of ``call`` in ms (after one warm-up), checking every answer is 200."""
    call()
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        answer = call()
        timings.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
    return median(timings) * 1000


async def fill(data_dir: Path, keys: list[str]) -> None:
    """Symlinks at ``keys``, as ``core.symlinks.put_symlink`` makes them, 5 000 per transaction
    (one commit each: a transaction per key would make the fill, not the listing, the benchmark)."""
    storage = Storage(Database(sqlite_url(data_dir.resolve())), FileBlobs(data_dir.resolve()))
    try:
        model = await put_symlink(storage, BUCKET, keys[0], "target", ObjectAttributes())
        for start in range(1, len(keys), 5000):
            async with storage.db.write() as conn:
                bucket = await bucket_rows.get(conn, BUCKET, lock="share")
                for key in keys[start:start + 5000]:
                    await install_object(conn, storage, bucket, dataclasses.replace(model, key=key))
    finally:
        await storage.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20_000, help="objects in the bucket")
    parser.add_argument("--folders", type=int, default=100, help="folders they are spread over")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        server = TesseraServer(Path(root) / "data")
        server.start()
        try:
            clients = Clients(server)
            clients.oss2_bucket(BUCKET).create_bucket()
            in_folders = args.objects // 2
            keys = [f"folder-{i % args.folders:03d}/file-{i:07d}" for i in range(in_folders)]
            keys += [f"file-{i:07d}" for i in range(args.objects - in_folders)]
            started = time.perf_counter()
            clients.oss2_bucket(BUCKET).put_object("target", b"x")
            server.stop()
            asyncio.run(fill(server.data_dir, keys))
            server.start()
            filled = time.perf_counter() - started
            api = ConsoleApi(server)
            assert api.sign_in().status_code == 200
            html = {"Accept": "text/html"}
            middle = f"file-{(args.objects - in_folders) // 2:07d}"
            rows = [
                ("Objects page (HTML shell)", timed(lambda: api.get(f"/buckets/{BUCKET}/objects", headers=html))),
                (f"top level: {args.folders} folders + first objects (limit 100)",
                 timed(lambda: api.get(f"/api/buckets/{BUCKET}/objects"))),
                ("a folder, first page (limit 100)",
                 timed(lambda: api.get(f"/api/buckets/{BUCKET}/objects", params={"prefix": "folder-042/"}))),
                ("top level, a page from the middle (marker)",
                 timed(lambda: api.get(f"/api/buckets/{BUCKET}/objects", params={"marker": middle}))),
                ("search: prefix file-00001 (limit 100)",
                 timed(lambda: api.get(f"/api/buckets/{BUCKET}/objects", params={"prefix": "file-00001"}))),
                ("a page of 1000 in a folder",
                 timed(lambda: api.get(f"/api/buckets/{BUCKET}/objects",
                                       params={"prefix": "folder-007/", "limit": "1000"}))),
                ("object details",
                 timed(lambda: api.get(f"/api/buckets/{BUCKET}/object", params={"key": middle}))),
            ]
        finally:
            server.stop()
    print(f"{args.objects:,} objects ({args.folders} folders) filled in {filled:.1f} s; "
          f"median of {RUNS} requests each, on loopback")
    width = max(len(name) for name, _ in rows)
    for name, ms in rows:
        print(f"  {name:<{width}}  {ms:8.1f} ms")


if __name__ == "__main__":
    main()
