"""Soak: the mixed load from 8 clients (``TESSERA_SOAK_CLIENTS``) for a while, on every
configuration. No request may fail, the server's memory must stay flat, and at the end the
server holds exactly what the clients were told (the crash loop's checks). The p50 and p99
latencies of every operation are recorded."""

from __future__ import annotations

import random
import threading
import time
from typing import Callable

import psutil

from tests.reliability.knobs import knob
from tests.reliability.load import Client, percentile, run_clients, stop_clients, verify_clients
from tests.support.clients import Clients
from tests.support.server import TesseraServer

SECONDS = knob("SOAK_SECONDS", ci=30, long=1800)  # per configuration: CI 2 minutes in all
CLIENTS = knob("SOAK_CLIENTS", ci=8, long=16)
WARM_UP = min(5.0, SECONDS / 4)
BUCKET = "soak"
MiB = 1024 * 1024


def server_rss(server: TesseraServer) -> int:
    """Resident memory of the server and its workers."""
    process = psutil.Process(server.pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


def test_soak(configured_server: TesseraServer, summary: Callable[[str], None]) -> None:
    server = configured_server
    seed = random.randrange(1 << 30)
    Clients(server).oss2_bucket(BUCKET).create_bucket()
    clients = [Client(f"c{i}", Clients(server).oss2_bucket(BUCKET), seed + i) for i in range(CLIENTS)]
    stop = threading.Event()
    threads = run_clients(clients, stop, on_connection_error="fail")
    time.sleep(WARM_UP)
    samples: list[int] = []
    deadline = time.monotonic() + SECONDS - WARM_UP
    while time.monotonic() < deadline and all(t.is_alive() for t in threads):
        samples.append(server_rss(server))
        time.sleep(1.0)
    failures = stop_clients(clients, threads, stop)
    assert not failures, f"seed {seed}: {len(failures)} failed requests, e.g. {failures[:5]}"

    # Memory rises while the allocator's arenas reach the high-water mark of the 1–8 MiB bodies
    # (about a minute), then stays: the second half of a run may not outgrow the first by much.
    half, tenth = max(1, len(samples) // 2), max(1, len(samples) // 10)
    start_rss, end_rss = max(samples[:half]), max(samples[-tenth:])
    assert end_rss <= start_rss * 1.2 + 24 * MiB, f"RSS grew from {start_rss / MiB:.0f} to {end_rss / MiB:.0f} MiB"

    verify_clients(server, Clients(server).oss2_bucket(BUCKET), clients)
    assert "unexpected error" not in server.log_text()

    latencies: dict[str, list[float]] = {}
    for client in clients:
        for operation, values in client.latencies.items():
            latencies.setdefault(operation, []).extend(values)
    every = [v for values in latencies.values() for v in values]
    per_operation = ", ".join(f"{op} {percentile(v, 0.5) * 1000:.0f}/{percentile(v, 0.99) * 1000:.0f}"
                              for op, v in sorted(latencies.items()))
    curve = " ".join(f"{samples[min(len(samples) - 1, i * len(samples) // 10)] / MiB:.0f}" for i in range(11))
    summary(f"{CLIENTS} clients, {SECONDS} s: {len(every)} requests ({len(every) / SECONDS:.0f}/s), 0 failed; "
            f"RSS {start_rss / MiB:.0f} → {end_rss / MiB:.0f} MiB (each tenth: {curve}); latency p50/p99 ms: all "
            f"{percentile(every, 0.5) * 1000:.0f}/{percentile(every, 0.99) * 1000:.0f}, {per_operation}; seed {seed}")
