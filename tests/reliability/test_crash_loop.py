"""Crash loop: a mixed load from several clients, SIGKILL at a random moment, restart, check,
repeat — on every configuration.

After each restart: every acknowledged write reads back byte-identical and nothing else is
there (see tests/reliability/load.py: a request cut off by the kill may have happened or not,
never half), listed parts are the ones sent, ``tessera admin fsck`` is clean once the collector
ran, the blob bytes on disk are exactly the bytes metadata owns, and GetBucketStat equals a
count made from the listings.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Callable

from tests.reliability.knobs import knob
from tests.reliability.load import Client, run_clients, stop_clients, verify_clients
from tests.support.clients import Clients
from tests.support.server import TesseraServer

KILLS = knob("CRASH_KILLS", ci=10, long=250)  # per configuration: CI 40 in all, long 1 000
CLIENTS = 4
BUCKET = "crash-loop"


def test_crash_loop(configured_server: TesseraServer, summary: Callable[[str], None]) -> None:
    server = configured_server
    seed = random.randrange(1 << 30)
    chance = random.Random(seed)
    Clients(server).oss2_bucket(BUCKET).create_bucket()
    clients: list[Client] = []
    started = time.monotonic()
    files = stored = 0
    for kill in range(KILLS):
        bucket = Clients(server).oss2_bucket(BUCKET)
        if not clients:
            clients = [Client(f"c{i}", bucket, seed + i) for i in range(CLIENTS)]
        for client in clients:
            client.bucket = Clients(server).oss2_bucket(BUCKET)
        stop = threading.Event()
        threads = run_clients(clients, stop)
        time.sleep(chance.uniform(0.2, 1.5))
        server.kill()
        failures = stop_clients(clients, threads, stop)
        assert not failures, f"seed {seed}, kill {kill}: {failures[:5]}"
        server.start()
        files, stored = verify_clients(server, Clients(server).oss2_bucket(BUCKET), clients)
    acknowledged = sum((c.acknowledged for c in clients), Counter())
    elapsed = time.monotonic() - started
    summary(f"{KILLS} kills in {elapsed:.0f} s, {sum(acknowledged.values())} acknowledged requests "
            f"({', '.join(f'{k} {v}' for k, v in sorted(acknowledged.items()))}), "
            f"{sum(c.uncertain for c in clients)} cut off, 0 lost; last check {files} blob files, "
            f"{stored} bytes, all owned; seed {seed}")
