"""Metering benchmark: what the usage counters and the usage ledger cost small-object PUTs.

The same server is run "with" metering (as shipped) and "without" it: a launcher replaces
``tessera.meta.usage.record`` and ``tessera.meta.usage.flush`` with no-ops before it runs the
normal ``tessera`` command, so no counter is upserted and no ledger row is appended (a
benchmark-only patch; nothing in src/ changes). Both modes go through that launcher.

Each round starts a fresh server (its own data directory, or its own PostgreSQL database) and
sends, as real V1-signed OSS requests over keep-alive connections, four workloads:

* N PutObject of 1 KiB to new keys, one client; then N more with 8 concurrent clients;
* overwrites of half of the keys of each of those two rows (N/2 with one client, N/2 with 8),
  with 1.5 KiB bodies: an overwrite takes the old object out of the counters and puts the new
  one in, and the change of size is what makes it write a counter and a ledger row (a same-size
  overwrite nets to zero and writes neither).

Rounds run ABBA (with, without, without, with, ...); the table gives medians of requests/s, the
ratio without/with, the server's (and PostgreSQL's) CPU time per PUT, which the machine's other
load hardly moves, and the cores kept busy by the clients, the server, PostgreSQL and the whole
machine (the client must not be the bottleneck: its busiest process is printed). After every
round the ledger and GetBucketStat are checked: with metering, one ledger row per PUT; without,
none.

    .venv/bin/python bench/bench_metering.py [--objects N] [--postgresql] [--rounds 4]

--postgresql runs on a throwaway PostgreSQL cluster (as the tests do) instead of SQLite. With
the defaults (6 000 PUTs a round, 4 rounds) a run takes about 4 minutes at ~120 PUT/s; less
with a smaller --objects. Everything talks to 127.0.0.1 only and stops by itself; BENCH_DIR
picks the scratch filesystem.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera.meta.database import sqlite_url  # noqa: E402
from tests.support import raw  # noqa: E402
from tests.support.server import TesseraServer  # noqa: E402

if TYPE_CHECKING:
    from tests.support.postgres import PostgresCluster

BUCKET = "metering-bench"
NEW_SIZE = 1024
OVERWRITE_SIZE = 1536
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Run as ``python -c LAUNCHER on|off serve …``: "off" makes the metering hooks no-ops first.
LAUNCHER = """
import sys
if sys.argv.pop(1) == "off":
    from tessera.meta import usage

    async def _no_flush(conn, now_ms):
        return None

    usage.record = lambda *args, **kwargs: None
    usage.flush = _no_flush
    print("bench: metering disabled (tessera.meta.usage.record and flush are no-ops)", flush=True)
from tessera.cli.main import main
main()
"""


class LaunchedServer(TesseraServer):
    """The usual test server, started through the launcher with metering on or off."""

    def __init__(self, data_dir: Path, metadata_url: str | None, *, metered: bool) -> None:
        super().__init__(data_dir, metadata_url, extra_args=("--log-level", "warning"))
        self.metered = metered

    def command(self) -> list[str]:
        command = super().command()
        assert command[1:3] == ["-m", "tessera"], command
        return [command[0], "-c", LAUNCHER, "on" if self.metered else "off", *command[3:]]


# --- the client ----------------------------------------------------------------------------

def _put_all(server: TesseraServer, keys: list[str], body: bytes, barrier: Barrier, results: Queue) -> None:
    """One client process: PUT every key in turn on one keep-alive connection, V1-signed."""
    try:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        host = f"Host: 127.0.0.1:{server.port}\r\nContent-Length: {len(body)}\r\n"
        barrier.wait()
        cpu, started = time.process_time(), time.monotonic()
        for key in keys:
            headers = raw.sign_headers(server, "PUT", BUCKET, key, {}, {})
            head = f"PUT {raw.path_of(BUCKET, key, {})} HTTP/1.1\r\n{host}"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            sock.sendall(head.encode() + body)
            status, answer = _read_response(sock)
            if status != 200:
                raise RuntimeError(f"PUT {key}: {status} {answer[:300]!r}")
        ended = time.monotonic()
        results.put((started, ended, time.process_time() - cpu, None))
    except BaseException as error:  # reported to the parent, which fails the run
        results.put((0.0, 0.0, 0.0, repr(error)))


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    found = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    length = int(found.group(1)) if found else 0
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ", 2)[1]), body


# --- CPU accounting ----------------------------------------------------------------------

def _process_ticks(pid: int) -> int:
    """utime + stime of one process (all its threads), in clock ticks; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12])


def _cluster_ticks(postmaster: int) -> int:
    """CPU ticks of the PostgreSQL cluster: the postmaster, its live children (the backends; each
    is a session of its own, so its process group would miss them) and its reaped ones (a pool
    closes its overflow connections, whose backends then exit)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(entry.name) == postmaster:
            total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
        elif int(fields[1]) == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs; waiting for I/O counts as idle."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Sample:
    rate: float  # requests per second
    client_cores: float
    server_cores: float
    database_cores: float
    server_ms: float  # server CPU per PUT, in ms: hardly moved by the machine's other load
    database_ms: float
    machine_cores: float
    busiest_client: float  # the most CPU one client process used, in cores


def run_clients(server: TesseraServer, keys: list[str], body: bytes, concurrency: int,
                database_pid: int | None) -> Sample:
    """PUT ``keys`` from ``concurrency`` client processes (each its share, one connection)."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(concurrency), context.Queue()
    shares = [keys[i::concurrency] for i in range(concurrency)]
    os.sync()
    clients = [context.Process(target=_put_all, args=(server, share, body, barrier, results), daemon=True)
               for share in shares]
    server_before = _process_ticks(server.pid)
    database_before = _cluster_ticks(database_pid) if database_pid else 0
    machine_before = _machine_ticks()
    for client in clients:
        client.start()
    reports = [results.get(timeout=900) for _ in clients]
    server_after = _process_ticks(server.pid)
    database_after = _cluster_ticks(database_pid) if database_pid else 0
    machine_after = _machine_ticks()
    for client in clients:
        client.join()
    errors = [error for *_, error in reports if error]
    if errors:
        raise RuntimeError(f"a client failed: {errors[0]}")
    wall = max(r[1] for r in reports) - min(r[0] for r in reports)
    client_cpu = sum(r[2] for r in reports)
    cpus = os.cpu_count() or 1
    machine = (machine_after[0] - machine_before[0]) / max(machine_after[1] - machine_before[1], 1) * cpus
    # The ticks are read around the whole step (fork, connect, barrier), a few ms beyond ``wall``.
    server_cpu = (server_after - server_before) / CLOCK_TICKS
    database_cpu = (database_after - database_before) / CLOCK_TICKS
    return Sample(
        rate=len(keys) / wall,
        client_cores=client_cpu / wall,
        server_cores=server_cpu / wall,
        database_cores=database_cpu / wall,
        server_ms=server_cpu * 1000 / len(keys),
        database_ms=database_cpu * 1000 / len(keys),
        machine_cores=machine,
        busiest_client=max(r[2] for r in reports) / wall,
    )


# --- one round -----------------------------------------------------------------------------

WORKLOADS = (
    ("PUT new key, 1 KiB", 1, "new"),
    ("PUT new key, 1 KiB", 8, "new"),
    ("overwrite, 1 KiB → 1.5 KiB", 1, "overwrite"),
    ("overwrite, 1 KiB → 1.5 KiB", 8, "overwrite"),
)


@dataclass
class Check:
    metered: bool
    ledger_rows: int
    ledger_objects: int
    stat_objects: int
    stat_storage: int
    disabled_in_log: bool


@dataclass
class Results:
    samples: dict[tuple[int, bool], list[Sample]] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)


async def _ledger(url: str) -> tuple[int, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            query = "SELECT count(*), coalesce(sum(count_delta), 0) FROM usage_ledger WHERE kind = 'object'"
            row = (await conn.execute(sa.text(query))).one()
            return int(row[0]), int(row[1])
    finally:
        await engine.dispose()


def run_round(scratch: Path, number: int, metered: bool, objects: int, cluster: PostgresCluster | None,
              results: Results) -> None:
    """A fresh server (metered or not) and database; the four workloads; the metering check."""
    data_dir = scratch / f"round-{number}"
    url = cluster.create_database(f"metering_{number}") if cluster else None
    server = LaunchedServer(data_dir, url, metered=metered)
    server.start()
    try:
        assert raw.request(server, "PUT", BUCKET).status == 200
        first = [f"objects/{i:07d}" for i in range(objects)]
        second = [f"objects/{i:07d}" for i in range(objects, 2 * objects)]
        new_body, overwrite_body = os.urandom(NEW_SIZE), os.urandom(OVERWRITE_SIZE)
        postmaster = cluster.process.pid if cluster else None
        for index, (_, concurrency, kind) in enumerate(WORKLOADS):
            keys = first if concurrency == 1 else second
            keys = keys if kind == "new" else keys[: objects // 2]
            body = new_body if kind == "new" else overwrite_body
            sample = run_clients(server, keys, body, concurrency, postmaster)
            results.samples.setdefault((index, metered), []).append(sample)
        stat = raw.request(server, "GET", BUCKET, query={"stat": ""})
        assert stat.status == 200, stat.body
        stat_objects = int(re.search(rb"<ObjectCount>(\d+)</ObjectCount>", stat.body).group(1))
        stat_storage = int(re.search(rb"<Storage>(\d+)</Storage>", stat.body).group(1))
        rows, counted = asyncio.run(_ledger(url or sqlite_url(data_dir)))
        results.checks.append(Check(metered, rows, counted, stat_objects, stat_storage,
                                    "metering disabled" in server.log_text()))
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


# --- the report ----------------------------------------------------------------------------

def report(results: Results, args: argparse.Namespace) -> None:
    n = args.objects
    print()
    store = "PostgreSQL (throwaway cluster, fsync=off)" if args.postgresql else "SQLite (WAL, synchronous=FULL)"
    print(f"metadata: {store}"
          f"; per round {n:,} PUTs per new-key row and {n // 2:,} per overwrite row, {args.rounds} rounds ABBA;"
          f" {os.cpu_count()} CPUs")
    print()
    pg = args.postgresql
    header = (f"{'workload':<27} {'clients':>7} {'with req/s':>10} {'without':>8} {'without/with':>12}"
              f" {'+µs/PUT':>7}   {'server CPU ms/PUT':>17}" + (f"   {'pg CPU ms/PUT':>13}" if pg else "")
              + f"   {'cores: client':>13} {'server':>6}" + (f" {'pg':>4}" if pg else "") + f" {'machine':>7}")
    print(header)
    print(f"{'':<27} {'':>7} {'':>10} {'':>8} {'':>12} {'':>7}   {'with  without':>17}"
          + (f"   {'with  without':>13}" if pg else ""))
    print("-" * len(header))
    for index, (name, concurrency, _) in enumerate(WORKLOADS):
        metered, bare = results.samples[(index, True)], results.samples[(index, False)]
        with_rate, without_rate = median(s.rate for s in metered), median(s.rate for s in bare)
        both = metered + bare
        line = (f"{name:<27} {concurrency:>7} {with_rate:>10,.0f} {without_rate:>8,.0f}"
                f" {without_rate / with_rate:>12.3f} {1e6 / with_rate - 1e6 / without_rate:>+7.0f}"
                f"   {median(s.server_ms for s in metered):>9.2f} {median(s.server_ms for s in bare):>7.2f}")
        if pg:
            line += f"   {median(s.database_ms for s in metered):>5.2f} {median(s.database_ms for s in bare):>7.2f}"
        line += f"   {max(s.client_cores for s in both):>13.2f} {median(s.server_cores for s in both):>6.2f}"
        if pg:
            line += f" {median(s.database_cores for s in both):>4.2f}"
        line += f" {median(s.machine_cores for s in both):>7.2f}"
        print(line)
    print()
    print("with/without req/s per round:")
    for index, (name, concurrency, _) in enumerate(WORKLOADS):
        metered = " ".join(f"{s.rate:,.0f}" for s in results.samples[(index, True)])
        bare = " ".join(f"{s.rate:,.0f}" for s in results.samples[(index, False)])
        print(f"  {name}, {concurrency} client(s): with {metered} | without {bare}")
    print()
    print("+µs/PUT: what metering adds to each PUT's time (1/with − 1/without req/s). CPU ms/PUT: medians of")
    print("the server's (and PostgreSQL's) CPU time per PUT. cores: CPUs kept busy during the timed rows by all")
    print("client processes (the maximum over rounds), the server, PostgreSQL, and the whole machine (medians;")
    print("the machine's figure includes the kernel's I/O work and anything else running).")
    busiest = max(s.busiest_client for samples in results.samples.values() for s in samples)
    print(f"busiest single client process: {busiest:.2f} of a core"
          + ("  (the client may be the bottleneck!)" if busiest > 0.7 else "  (not the bottleneck)"))
    print()
    print("metering check (after each round):")
    overwrites = 2 * (n // 2)
    expected_rows = 2 * n + overwrites  # one row per PUT: each overwrite here changes the size
    expected_storage = 2 * n * NEW_SIZE + overwrites * (OVERWRITE_SIZE - NEW_SIZE)
    ok = True
    for check in results.checks:
        if check.metered:
            good = (check.ledger_rows == expected_rows and check.ledger_objects == 2 * n
                    and check.stat_objects == 2 * n and check.stat_storage == expected_storage
                    and not check.disabled_in_log)
        else:
            good = check.ledger_rows == 0 and check.stat_objects == 0 and check.disabled_in_log
        ok &= good
        print(f"  {'with   ' if check.metered else 'without'}: ledger rows {check.ledger_rows:,} "
              f"(expected {expected_rows if check.metered else 0:,}), ledger object count {check.ledger_objects:,}, "
              f"GetBucketStat ObjectCount {check.stat_objects:,} Storage {check.stat_storage:,}, "
              f"launcher disabled metering: {'yes' if check.disabled_in_log else 'no'}  "
              f"{'OK' if good else 'UNEXPECTED'}")
    if not ok:
        sys.exit("the metering check failed: the with/without comparison is not what it claims")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=2000,
                        help="PUTs per new-key row per round; each overwrite row does half as many (default 2000)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, in ABBA order (default 4)")
    parser.add_argument("--postgresql", action="store_true", help="a throwaway PostgreSQL cluster, not SQLite")
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (one with, one without)")
    results = Results()
    with tempfile.TemporaryDirectory(prefix="tessera-metering-bench-", dir=os.environ.get("BENCH_DIR")) as scratch:
        cluster = None
        if args.postgresql:
            from tests.support.postgres import PostgresCluster

            cluster = PostgresCluster()
            cluster.start()
        try:
            for number in range(args.rounds):
                metered = number % 4 in (0, 3)  # with, without, without, with, ...
                started = time.monotonic()
                run_round(Path(scratch), number, metered, args.objects, cluster, results)
                print(f"round {number + 1}/{args.rounds} ({'with' if metered else 'without'} metering): "
                      f"{time.monotonic() - started:.0f} s", flush=True)
        finally:
            if cluster:
                cluster.stop()
    report(results, args)


if __name__ == "__main__":
    main()
