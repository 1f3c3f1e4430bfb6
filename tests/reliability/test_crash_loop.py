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

from xml.etree import ElementTree

from tests.reliability.knobs import knob
from tests.reliability.load import Client, run_clients
from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

KILLS = knob("CRASH_KILLS", ci=13, long=250)  # per configuration: CI 52 in all, long 1 000
CLIENTS = 4
BUCKET = "crash-loop"


def check_storage(server: TesseraServer) -> tuple[int, int]:
    """Collect what nothing owns, then fsck must be clean and disk bytes equal owned bytes.
    Returns (blob files, bytes)."""
    collected = server.admin("gc", "--grace-seconds", "0")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    checked = server.admin("fsck")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    figures = dict(line.split(": ", 1) for line in checked.stdout.splitlines() if ": " in line)
    assert figures["unreferenced files"] == "0", checked.stdout
    assert figures["blob bytes on disk"] == figures["blob bytes owned"], checked.stdout
    assert not list((server.data_dir / "tmp").iterdir())
    return int(figures["blob files"]), int(figures["blob bytes on disk"])


def check_bucket_stat(server: TesseraServer, bucket: str, found: Counter) -> None:
    """GetBucketStat (its XML: oss2's model lacks the part counters) against the listings."""
    answer = raw.request(server, "GET", bucket, query={"stat": ""})
    assert answer.status == 200, answer.body
    stat = {child.tag: child.text for child in ElementTree.fromstring(answer.body)}
    expected = {
        "ObjectCount": found["objects"],
        "Storage": found["object_bytes"] + found["part_bytes"],
        "MultipartUploadCount": found["uploads"],
        "MultipartPartCount": found["parts"],
        "MultipartPartStorage": found["part_bytes"],
    }
    assert {name: int(stat[name]) for name in expected} == expected


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
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a client hung after the kill"
        failures = [f for c in clients for f in c.failures]
        assert not failures, f"seed {seed}, kill {kill}: {failures[:5]}"
        server.start()
        bucket = Clients(server).oss2_bucket(BUCKET)
        found: Counter = Counter()
        for client in clients:
            found.update(client.verify(bucket))
        check_bucket_stat(server, BUCKET, found)
        files, stored = check_storage(server)
    acknowledged = sum((c.acknowledged for c in clients), Counter())
    elapsed = time.monotonic() - started
    summary(f"{KILLS} kills in {elapsed:.0f} s, {sum(acknowledged.values())} acknowledged requests "
            f"({', '.join(f'{k} {v}' for k, v in sorted(acknowledged.items()))}), "
            f"{sum(c.uncertain for c in clients)} cut off, 0 lost; last check {files} blob files, "
            f"{stored} bytes, all owned; seed {seed}")
