"""Core benchmark: streaming throughput, Complete latency, list page latency, server memory.

Prints one table from one run, with each throughput as a ratio of the tightest limit measured
in the same run (this machine's fsync'd write rate, its single-core MD5 rate, and a minimal
reference server that only receives a body, hashes it and writes it to a file).

    .venv/bin/python bench/bench_core.py [--size-mib 1024] [--parts 10000] [--uploads 100000]

Everything talks to 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import itertools
import multiprocessing
import os
import re
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loopback import MIB, get_to_null, put_file  # noqa: E402
from tests.support import raw  # noqa: E402
from tests.support.server import TesseraServer  # noqa: E402

PART = 100 * 1024


# --- limits ------------------------------------------------------------------------------

def fsync_write_rate(directory: Path, size: int) -> float:
    block = os.urandom(4 * MIB)
    path = directory / "fsync-probe"
    started = time.perf_counter()
    with open(path, "wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    elapsed = time.perf_counter() - started
    path.unlink()
    return size / elapsed


def md5_rate(size: int) -> float:
    block = os.urandom(4 * MIB)
    digest = hashlib.md5()
    started = time.perf_counter()
    for _ in range(size // len(block)):
        digest.update(block)
    return size / (time.perf_counter() - started)


def _reference_server(port_queue: multiprocessing.Queue, directory: str) -> None:
    """The floor: receive a body, MD5 it, write it to a file, fsync — nothing else.

    Each body goes to a new file and the previous one is removed afterwards, as any store must
    do when an object is replaced: rewriting one file in place would reuse its disk blocks,
    which on this kind of virtual disk is several times faster than writing new ones.
    """
    from aiohttp import web

    bodies = itertools.count()

    async def receive(request: web.Request) -> web.Response:
        digest = hashlib.md5()
        number = next(bodies)
        path = Path(directory) / f"reference-body-{number}"
        with open(path, "wb") as f:
            async for chunk in request.content.iter_any():
                digest.update(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        (Path(directory) / f"reference-body-{number - 1}").unlink(missing_ok=True)
        return web.Response(headers={"ETag": digest.hexdigest()})

    async def send(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(Path(directory) / "source.bin")  # sendfile, nothing else

    app = web.Application(client_max_size=1024**4)
    app.router.add_put("/ref/body", receive)
    app.router.add_get("/ref/source", send)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port_queue.put(sock.getsockname()[1])
    web.run_app(app, sock=sock, print=None, access_log=None)


def timed_request(server: TesseraServer, method: str, bucket: str, key: str = "", **kwargs) -> tuple[float, raw.RawResponse]:
    started = time.perf_counter()
    response = raw.request(server, method, bucket, key, **kwargs)
    return time.perf_counter() - started, response


def upload_id_of(response: raw.RawResponse) -> str:
    return re.search(rb"<UploadId>([^<]+)</UploadId>", response.body).group(1).decode()


def rss_kib(pid: int) -> int:
    total = 0
    for child in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except FileNotFoundError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)


# --- the measurements ----------------------------------------------------------------------

def signed(server: TesseraServer, method: str, bucket: str, key: str, query: dict[str, str] | None = None,
           headers: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    query = query or {}
    return raw.path_of(bucket, key, query), raw.sign_headers(server, method, bucket, key, query, headers or {})


def upload_parts(server: TesseraServer, bucket: str, key: str, upload_id: str, count: int, part: bytes,
                 threads: int = 4) -> list[tuple[int, str]]:
    def one(number: int) -> tuple[int, str]:
        response = raw.request(server, "PUT", bucket, key, query={"partNumber": str(number), "uploadId": upload_id},
                               body=part)
        assert response.status == 200, response.body
        return number, response.headers["ETag"]

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return sorted(pool.map(one, range(1, count + 1)))


def complete_body(parts: list[tuple[int, str]]) -> bytes:
    inner = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
    return f"<CompleteMultipartUpload>{inner}</CompleteMultipartUpload>".encode()


def measure_complete(server: TesseraServer, bucket: str, key: str, count: int, part: bytes) -> float:
    upload_id = upload_id_of(raw.request(server, "POST", bucket, key, query={"uploads": ""}))
    parts = upload_parts(server, bucket, key, upload_id, count, part)
    elapsed, response = timed_request(server, "POST", bucket, key, query={"uploadId": upload_id},
                                      body=complete_body(parts))
    assert response.status == 200, response.body
    return elapsed


Rows = list[tuple[str, str, str]]
SECTIONS = ("streaming", "parallel", "complete", "lists")


def bench_streaming(server: TesseraServer, ref_port: int, source: Path, rounds: int, rows: Rows) -> float:
    """PUT and GET of one big object against the reference server, in interleaved rounds."""
    size = source.stat().st_size
    sampler = RssSampler(server.pid)
    rss_before = rss_kib(server.pid)
    sampler.start()
    ref_puts, puts, ref_gets, gets = [], [], [], []

    def put_reference() -> None:
        os.sync()
        ref_puts.append(put_file(ref_port, "/ref/body", {}, source)[1])

    def put_tessera() -> None:
        os.sync()
        path, headers = signed(server, "PUT", "bench", "big.bin")
        status, seconds = put_file(server.port, path, headers, source)
        assert status == 200
        puts.append(seconds)

    # ABBA order, each PUT after a sync: the disk's drift and its writeback hurt both alike.
    for index in range(rounds):
        for put in (put_reference, put_tessera) if index % 2 == 0 else (put_tessera, put_reference):
            put()
        status, got, seconds = get_to_null(ref_port, "/ref/source", {})
        assert status == 200 and got == size
        ref_gets.append(seconds)
        path, headers = signed(server, "GET", "bench", "big.bin")
        status, got, seconds = get_to_null(server.port, path, headers)
        assert status == 200 and got == size
        gets.append(seconds)
    sampler.running = False
    sampler.join()
    ref_rate, put_rate = size / median(ref_puts), size / median(puts)
    ref_get_rate, get_rate = size / median(ref_gets), size / median(gets)
    rows.append(("limit: reference server PUT (MD5 + fsync)", f"{ref_rate / MIB:,.0f} MiB/s",
                 f"median of {rounds}"))
    rows.append(("reference: aiohttp FileResponse GET", f"{ref_get_rate / 1e9:,.2f} GB/s", f"median of {rounds}"))
    rows.append(("PUT 1 object, one stream", f"{put_rate / MIB:,.0f} MiB/s",
                 f"median of {rounds}; {put_rate / ref_rate:.0%} of reference server (target ≥ 90%)"))
    rows.append(("GET 1 object, one stream", f"{get_rate / 1e9:,.2f} GB/s",
                 f"median of {rounds}; {get_rate / ref_get_rate:.0%} of reference GET (target ≥ 2.5 GB/s)"))
    rows.append(("server RSS growth while streaming", f"{(sampler.peak - rss_before) / 1024:,.1f} MiB",
                 "target ≤ 10 MiB"))
    return ref_rate


def bench_parallel(server: TesseraServer, source: Path, floor: float, rows: Rows) -> None:
    """Four clients each upload a quarter of the big file as a part of one upload."""
    part_source = source.with_name("part.bin")
    part_size = max(source.stat().st_size // 4, PART)
    with open(source, "rb") as f, open(part_source, "wb") as out:
        out.write(f.read(part_size))
    upload_id = upload_id_of(raw.request(server, "POST", "bench", "parallel", query={"uploads": ""}))

    def put_part(number: int) -> float:
        path, headers = signed(server, "PUT", "bench", "parallel", {"partNumber": str(number), "uploadId": upload_id})
        status, seconds = put_file(server.port, path, headers, part_source)
        assert status == 200
        return seconds

    os.sync()
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(put_part, range(1, 5)))
    rate = 4 * part_size / (time.perf_counter() - started)
    rows.append(("UploadPart, 4 concurrent clients", f"{rate / MIB:,.0f} MiB/s",
                 f"{rate / floor:.0%} of the tightest limit"))


def bench_complete(server: TesseraServer, parts: int, rows: Rows) -> None:
    tiny = os.urandom(PART)
    elapsed = measure_complete(server, "bench", "many-parts", parts, tiny)
    rows.append((f"Complete, {parts:,} parts", f"{elapsed * 1000:,.0f} ms", "target < 1 s"))
    # A reader opens every part file it will send before it answers (tessera.blobs.segments).
    ranged = [timed_request(server, "GET", "bench", "many-parts", headers={"Range": "bytes=0-0"})[0]
              for _ in range(5)]
    whole = [timed_request(server, "GET", "bench", "many-parts")[0] for _ in range(5)]
    rows.append((f"GET 1 byte of the {parts:,}-part object", f"{median(ranged) * 1000:,.1f} ms", "median of 5"))
    rows.append((f"GET all of the {parts:,}-part object ({parts * PART / MIB:,.0f} MiB)",
                 f"{median(whole) * 1000:,.0f} ms", "median of 5; every part file opened first"))
    small = measure_complete(server, "bench", "flat-small", 20, tiny)
    large = measure_complete(server, "bench", "flat-2gib", 20, os.urandom(100 * MIB))
    rows.append(("Complete, 20 parts × 100 KiB", f"{small * 1000:,.1f} ms", ""))
    rows.append(("Complete, 20 parts × 100 MiB (2 GiB)", f"{large * 1000:,.1f} ms", "target ≤ 10 ms"))


def bench_lists(server: TesseraServer, parts: int, uploads: int, rows: Rows) -> None:
    upload_id = upload_id_of(raw.request(server, "POST", "bench", "listed", query={"uploads": ""}))
    upload_parts(server, "bench", "listed", upload_id, parts, b"p")
    timings = [timed_request(server, "GET", "bench", "listed",
                             query={"uploadId": upload_id, "max-parts": "1000", "part-number-marker": str(marker)})[0]
               for marker in range(0, parts, 1000)]
    rows.append((f"ListParts page of 1000 (of {parts:,})", f"{median(timings) * 1000:,.1f} ms",
                 "median; target ≤ 30 ms"))

    assert raw.request(server, "PUT", "uploads").status == 200

    def initiate(i: int) -> None:
        assert raw.request(server, "POST", "uploads", f"key-{i:07d}", query={"uploads": ""}).status == 200

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(initiate, range(uploads)))
    timings = []
    marker = ""
    for _ in range(10):
        query = {"uploads": "", "max-uploads": "1000"}
        if marker:
            query["key-marker"] = marker
        elapsed, response = timed_request(server, "GET", "uploads", query=query)
        timings.append(elapsed)
        if b"<IsTruncated>true</IsTruncated>" not in response.body:
            break
        marker = re.search(rb"<NextKeyMarker>([^<]*)</NextKeyMarker>", response.body).group(1).decode()
    rows.append((f"ListMultipartUploads page of 1000 (of {uploads:,})", f"{median(timings) * 1000:,.1f} ms",
                 "median; target ≤ 30 ms"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the big object (default 1024)")
    parser.add_argument("--parts", type=int, default=10_000, help="parts for the Complete/ListParts runs")
    parser.add_argument("--uploads", type=int, default=100_000, help="uploads for the ListMultipartUploads run")
    parser.add_argument("--metadata-url", default=None, help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved PUT/GET rounds (default 4)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, help="run only these sections")
    args = parser.parse_args()
    size = args.size_mib * MIB
    rows: Rows = []

    with tempfile.TemporaryDirectory(prefix="tessera-bench-", dir=os.environ.get("BENCH_DIR")) as scratch:
        work = Path(scratch)
        fsync_rate = fsync_write_rate(work, min(size, 1024 * MIB))
        md5 = md5_rate(min(size, 1024 * MIB))
        rows.append(("limit: fsync'd file write", f"{fsync_rate / MIB:,.0f} MiB/s", ""))
        rows.append(("limit: MD5, one core", f"{md5 / MIB:,.0f} MiB/s", ""))
        floor = min(fsync_rate, md5)

        source = work / "source.bin"
        with open(source, "wb") as f:
            for _ in range(size // (4 * MIB)):
                f.write(os.urandom(4 * MIB))

        queue: multiprocessing.Queue = multiprocessing.Queue()
        reference = multiprocessing.Process(target=_reference_server, args=(queue, scratch), daemon=True)
        reference.start()
        ref_port = queue.get(timeout=30)
        server = TesseraServer(work / "data", metadata_url=args.metadata_url, extra_args=("--log-level", "warning"))
        server.start()
        try:
            assert raw.request(server, "PUT", "bench").status == 200
            if "streaming" in args.only:
                floor = min(floor, bench_streaming(server, ref_port, source, args.rounds, rows))
            reference.terminate()
            if "parallel" in args.only:
                bench_parallel(server, source, floor, rows)
            if "complete" in args.only:
                bench_complete(server, args.parts, rows)
            if "lists" in args.only:
                bench_lists(server, args.parts, args.uploads, rows)
        finally:
            server.stop()
            reference.terminate()

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'value':>14}  note")
    print(f"{'-' * width}  {'-' * 14}  {'-' * 40}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>14}  {note}")


if __name__ == "__main__":
    main()
