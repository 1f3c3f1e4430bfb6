"""Scale-out: one gateway against three, on ``file://`` and on ``s3://``, and the ``s3://``
backend's cost over its upstream store used directly (issue 13; docs/scale-out.md).

Every configuration runs over one durable PostgreSQL (a database of its own) and, for
``s3://``, one SeaweedFS (``tests/support/seaweedfs.py``), all started and stopped by this script:

* file w1 / file w3: one or three ``tessera serve`` with ``--blobs file://`` on one directory;
* s3 w1 / s3 w3: the same with ``--blobs s3://`` on one SeaweedFS bucket;
* SeaweedFS: its S3 API used directly, by the same raw client (S3 SigV4 presigned URLs).

Rows, with clients spread evenly over the gateways (client i talks to gateway i mod N, as a
load balancer would send them):

* PUT 1 KiB, ``--clients`` clients, for ``--seconds``: ops/s (keep-alive raw HTTP client,
  every request presigned before timing: bench/loopback.py);
* PUT of a ``--big-mib`` object, one client per gateway at once (the body sent with
  sendfile): MB/s of all of them together; then GET of those objects, spliced to /dev/null;
* multipart, 4 clients each uploading ``--parts`` parts of 8 MiB and completing (oss2, CRC
  checks off so that the client's hashing does not count): MB/s together. Not run on
  SeaweedFS directly (oss2 speaks OSS only).

Printed: a table of one run, Tessera w3 ÷ w1 for each backend, and s3 ÷ SeaweedFS.

    .venv/bin/python bench/bench_gateways.py [--seconds 5] [--clients 12] [--big-mib 256] [--parts 8]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import peers  # noqa: E402
from bench.loopback import KeepAlive, get_to_null, put_file  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402
from tests.support.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS  # noqa: E402
from tests.support.server import TesseraServer  # noqa: E402

BUCKET = "bench"
UPSTREAM = "tessera-blobs"
PART = 8 * 1024 * 1024
MULTIPART_CLIENTS = 4


class Deployment:
    """What a row runs against: ports and a signer for each of them."""

    def __init__(self, name: str, ports: list[int], signers: list, oss: list | None) -> None:
        self.name, self.ports, self.signers, self.oss = name, ports, signers, oss


def start_gateways(name: str, count: int, blobs_url: str, env: dict[str, str], cluster: PostgresCluster,
                   scratch: Path) -> tuple[Deployment, list[TesseraServer]]:
    database = name.replace(" ", "_")
    url = cluster.create_database(database)
    (scratch / database).mkdir()
    servers = [TesseraServer(scratch / database / f"gateway-{n}", metadata_url=url, blobs_url=blobs_url, env=env)
               for n in range(count)]
    for server in servers:
        server.start()
    signers = [peers.OssSigner(s.endpoint, s.access_key_id, s.access_key_secret, "v4", s.region) for s in servers]
    import oss2

    oss = [oss2.Bucket(oss2.AuthV4(s.access_key_id, s.access_key_secret), s.endpoint, BUCKET, region=s.region,
                       enable_crc=False) for s in servers]
    oss[0].create_bucket()
    return Deployment(name, [s.port for s in servers], signers, oss), servers


def small_puts(target: Deployment, clients: int, seconds: float) -> float:
    """ops/s of 1 KiB PUTs of new keys (signed here, before timing: oss2's signer is not
    thread-safe)."""
    body = os.urandom(1024)
    per_client = int(seconds * 3000 / clients) + 50
    prepared = []
    for number in range(clients):
        gateway = number % len(target.ports)
        builder = KeepAlive(target.ports[gateway])
        prepared.append([builder.prepare("PUT", *target.signers[gateway].sign("PUT", BUCKET, f"small-{number}-{i}",
                                                                              body=body), body)
                         for i in range(per_client)])
    stop = time.monotonic() + seconds
    done = [0] * clients

    def client(number: int) -> None:
        connection = KeepAlive(target.ports[number % len(target.ports)])
        try:
            for request in prepared[number]:
                if time.monotonic() > stop:
                    return
                status, answer = connection.send(request)
                assert status == 200, (status, answer[:300])
                done[number] += 1
        finally:
            connection.close()

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return sum(done) / (time.monotonic() - started)


def big_transfers(target: Deployment, source: Path, gateways: int) -> tuple[float, float]:
    """MB/s of one PUT per gateway at once, then of one GET per gateway at once."""
    size = source.stat().st_size

    puts = [target.signers[n].sign("PUT", BUCKET, f"big-{n}") for n in range(gateways)]
    gets = [target.signers[n].sign("GET", BUCKET, f"big-{(n + 1) % gateways}") for n in range(gateways)]

    def put(n: int) -> None:
        status, _ = put_file(target.ports[n], *puts[n], source)
        assert status == 200, status

    def get(n: int) -> None:
        status, length, _ = get_to_null(target.ports[n], *gets[n])
        assert status == 200 and length == size, (status, length)

    return _megabytes_per_second(put, gateways, size), _megabytes_per_second(get, gateways, size)


def multipart(target: Deployment, parts: int) -> float:
    """MB/s of MULTIPART_CLIENTS uploads of ``parts`` parts each, completed."""
    import oss2

    body = os.urandom(PART)

    def upload(n: int) -> None:
        bucket = target.oss[n % len(target.oss)]
        key = f"multipart-{n}"
        upload_id = bucket.init_multipart_upload(key).upload_id
        infos = [oss2.models.PartInfo(p, bucket.upload_part(key, upload_id, p, body).etag) for p in range(1, parts + 1)]
        bucket.complete_multipart_upload(key, upload_id, infos)

    return _megabytes_per_second(upload, MULTIPART_CLIENTS, parts * PART)


def _megabytes_per_second(work: Callable[[int], None], count: int, each: int) -> float:
    start = threading.Barrier(count)

    def run(n: int) -> None:
        start.wait()
        work(n)

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        list(pool.map(run, range(count)))
    return count * each / (time.perf_counter() - started) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of small PUTs per configuration")
    parser.add_argument("--clients", type=int, default=12, help="clients of the small PUTs (default 12)")
    parser.add_argument("--big-mib", type=int, default=256, help="size of the large object (default 256 MiB)")
    parser.add_argument("--parts", type=int, default=8, help="8 MiB parts per multipart upload (default 8)")
    options = parser.parse_args()

    results: dict[str, dict[str, float | None]] = {}
    with tempfile.TemporaryDirectory(prefix="tessera-bench-gateways-") as scratch_name, \
            PostgresCluster(durable=True) as cluster, SeaweedFS() as store:
        scratch = Path(scratch_name)
        source = scratch / "big.bin"
        with open(source, "wb") as out:
            for _ in range(options.big_mib):
                out.write(os.urandom(1024 * 1024))
        store.create_bucket(UPSTREAM)
        store.create_bucket(BUCKET)
        configurations = [("file", 1), ("file", 3), ("s3", 1), ("s3", 3)]
        for backend, count in configurations:
            name = f"{backend} w{count}"
            url = (f"file://{scratch / (backend + str(count)) / 'blobs'}" if backend == "file"
                   else f"s3://{UPSTREAM}/{name.replace(' ', '-')}?endpoint={store.endpoint}")
            print(f"-- {name}: starting", file=sys.stderr, flush=True)
            target, servers = start_gateways(name, count, url, store.env(), cluster, scratch)
            try:
                row = results[name] = {}
                row["small"] = small_puts(target, options.clients, options.seconds)
                row["big put"], row["big get"] = big_transfers(target, source, count)
                row["multipart"] = multipart(target, options.parts)
                print(f"   {row}", file=sys.stderr, flush=True)
            finally:
                for server in servers:
                    server.stop()
        print("-- SeaweedFS directly", file=sys.stderr, flush=True)
        direct = Deployment("SeaweedFS", [int(store.endpoint.rsplit(":", 1)[1])],
                            [peers.S3QuerySigner(store.endpoint, ACCESS_KEY, SECRET_KEY)], None)
        row = results["SeaweedFS"] = {"multipart": None}
        row["small"] = small_puts(direct, options.clients, options.seconds)
        row["big put"], row["big get"] = big_transfers(direct, source, 1)
    report(results, options)


ROWS = [("small", "PUT 1 KiB, ops/s"), ("big put", "PUT {big} MiB, one per gateway, MB/s"),
        ("big get", "GET {big} MiB, one per gateway, MB/s"), ("multipart", "multipart 4 × {parts} × 8 MiB, MB/s")]


def report(results: dict[str, dict[str, float | None]], options: argparse.Namespace) -> None:
    names = list(results)
    print(f"\nmachine: {os.cpu_count()} cores; {options.clients} small-PUT clients for {options.seconds:g} s")
    header = ["row", *names, "file w3÷w1", "s3 w3÷w1", "s3 w1÷SeaweedFS"]
    lines = [header]
    for key, title in ROWS:
        values = [results[n].get(key) for n in names]
        cells = [f"{v:,.1f}" if v is not None else "—" for v in values]

        def ratio(a: str, b: str) -> str:
            x, y = results[a].get(key), results[b].get(key)
            return f"{x / y:.2f}×" if x and y else "—"

        lines.append([title.format(big=options.big_mib, parts=options.parts), *cells,
                      ratio("file w3", "file w1"), ratio("s3 w3", "s3 w1"), ratio("s3 w1", "SeaweedFS")])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for number, line in enumerate(lines):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if number == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
