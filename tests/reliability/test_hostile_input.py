"""No request, however malformed, gets a 5xx, a hang or a crash, or leaves anything behind.

Several threads send seeded hostile requests (tests/support/hostile.py) — signed so they reach
the handlers, unsigned, tampered with, expired; over keep-alive connections and, for abuses of
HTTP itself, connections of their own. Between them, valid writes go to a bucket the hostile
requests only ever read, and must read back byte for byte at the end. Then: every answer below
500, none late, the same workers alive, no traceback in the log, and every file on disk owned
by the metadata (nothing left in tmp/, nothing for the collector to reclaim, fsck clean).

Reproduce a run with the seed its summary prints: ``TESSERA_HOSTILE_SEED=<seed>``.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import oss2

from tests.reliability.knobs import knob
from tests.support import hostile
from tests.support.clients import Clients
from tests.support.server import TesseraServer

REQUESTS = knob("HOSTILE_REQUESTS", ci=5_000, long=25_000)  # per configuration
THREADS = knob("HOSTILE_THREADS", ci=4, long=8)
SEED = knob("HOSTILE_SEED", ci=0, long=0) or random.SystemRandom().randrange(1, 2**31)
VALID_EVERY = 25  # one request in this many is a valid write whose data must survive
# aiohttp logs a traceback for every request it cannot parse (answered 400): those are not crashes.
LOG_TRACEBACKS = ("unexpected error", "Unhandled exception")


@dataclass
class Tally:
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    server_errors: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    written: dict[str, bytes] = field(default_factory=dict)  # ledger key -> bytes last acknowledged
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, req: hostile.Hostile, outcome: hostile.Outcome) -> None:
        with self.lock:
            self.statuses["closed" if outcome.status is None else str(outcome.status)] += 1
            if outcome.hang:
                self.hangs.append(req.describe())
            elif outcome.status is not None and outcome.status >= 500:
                self.server_errors.append(f"{outcome.status} {req.describe()} -> {outcome.body[:200]!r}")


def _valid_write(rng: random.Random, conn: hostile.Connection, creds: hostile.Credentials, thread: int, n: int,
                 tally: Tally) -> None:
    """A PutObject that must succeed, to a key this thread alone writes; sometimes overwritten."""
    key = f"ledger/{thread}/{rng.randrange(max(1, n // 10) + 1)}"
    data = rng.randbytes(rng.choice([0, 1, 1000, 20_000]))
    req = hostile.Hostile("PUT", LEDGER, key, body=data, name="valid-put")
    (hostile.sign_v1 if rng.random() < 0.5 else hostile.sign_v4)(req, creds)
    outcome = conn.send(req)
    assert outcome.status == 200, f"a valid PutObject got {outcome.status}: {outcome.body[:300]!r}"
    with tally.lock:
        tally.written[key] = data


def _initiate(conn: hostile.Connection, creds: hostile.Credentials, ctx: hostile.Context) -> None:
    req = hostile.Hostile("POST", ctx.bucket, "mp", query=[("uploads", "")])
    hostile.sign_v1(req, creds)
    outcome = conn.send(req)
    assert outcome.status == 200, outcome.body
    ctx.upload_ids.append(outcome.body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode())


def _worker(server: TesseraServer, ctx: hostile.Context, creds: hostile.Credentials, thread: int, count: int,
            tally: Tally) -> None:
    rng = random.Random(SEED * 1000 + thread)
    conn = hostile.Connection(server.port)
    try:
        _initiate(conn, creds, ctx)
        for n in range(count):
            if n % VALID_EVERY == 0:
                _valid_write(rng, conn, creds, thread, n, tally)
                continue
            req = hostile.draw(rng, ctx, creds, server.port)
            tally.record(req, conn.send(req))
    finally:
        conn.close()


LEDGER = "hostile-ledger"
TARGET = "hostile-target"


def _seed_data(clients: Clients) -> list[str]:
    """The bucket hostile requests abuse, and the ledger bucket they may only read from."""
    target, ledger = clients.oss2_bucket(TARGET), clients.oss2_bucket(LEDGER)
    # Anonymous hostile requests reach the handlers too (until a hostile PutBucketAcl changes it).
    target.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    ledger.create_bucket()
    keys = ["src/small", "src/dir/é 文件", "src/ctl\x01key"]
    for key in keys:
        ledger.put_object(key, key.encode() * 100)
    upload_id = ledger.init_multipart_upload("src/multipart").upload_id
    parts = [oss2.models.PartInfo(n, ledger.upload_part("src/multipart", upload_id, n, bytes([n]) * 102_400).etag)
             for n in (1, 2)]
    ledger.complete_multipart_upload("src/multipart", upload_id, parts)
    return keys + ["src/multipart"]


def _assert_nothing_left_behind(server: TesseraServer) -> None:
    deadline = time.monotonic() + 15
    while list((server.data_dir / "tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)  # a handler still unwinding from a client that hung up
    assert not list((server.data_dir / "tmp").iterdir()), "temporary files left behind"
    collected = server.admin("gc", "--grace-seconds", "0")
    assert collected.returncode == 0, collected.stderr
    for leak in ("stale pending blobs", "orphan files removed", "interrupted writes removed"):
        assert f"{leak}: 0" in collected.stdout, collected.stdout
    checked = server.admin("fsck")
    assert checked.returncode == 0 and "unreferenced files: 0" in checked.stdout, checked.stdout + checked.stderr


def test_hostile_requests_get_4xx_and_leave_nothing_behind(configured_server: TesseraServer, summary) -> None:
    server = configured_server
    clients = Clients(server)
    readonly = _seed_data(clients)
    workers = server.worker_pids() if server.workers > 1 else {server.pid}
    creds = hostile.Credentials(server.access_key_id, server.access_key_secret)
    tally = Tally()
    ctx = hostile.Context(TARGET, LEDGER, readonly)
    started = time.monotonic()
    share, extra = divmod(REQUESTS, THREADS)
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(_worker, server, ctx, creds, i, share + (i < extra), tally) for i in range(THREADS)]:
            future.result()
    seconds = time.monotonic() - started

    summary(f"seed {SEED}: {REQUESTS} requests in {seconds:.1f} s with {THREADS} threads; "
            f"5xx {len(tally.server_errors)}, hangs {len(tally.hangs)}; statuses "
            + ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items())))
    assert not tally.server_errors, f"seed {SEED}: " + "\n".join(tally.server_errors[:20])
    assert not tally.hangs, f"seed {SEED}: " + "\n".join(tally.hangs[:20])

    # No crash: the same workers serve, and nothing went wrong behind an answer.
    assert clients.oss2_service().list_buckets().buckets
    assert (server.worker_pids() if server.workers > 1 else {server.pid}) == workers
    log = server.log_text()
    for trace in LOG_TRACEBACKS:
        assert trace not in log, f"seed {SEED}: {trace!r} in the server log:\n" + _around(log, trace)

    # Data written by valid requests in between reads back identically, and so does the ledger.
    ledger = clients.oss2_bucket(LEDGER)
    for key, data in tally.written.items():
        assert ledger.get_object(key).read() == data, key
    for key in readonly[:-1]:
        assert ledger.get_object(key).read() == key.encode() * 100
    assert ledger.get_object("src/multipart").read() == b"\x01" * 102_400 + b"\x02" * 102_400
    _assert_nothing_left_behind(server)


def _around(log: str, needle: str, lines: int = 30) -> str:
    at = log.index(needle)
    return "\n".join(log[max(0, at - 2000):].splitlines()[:lines])

