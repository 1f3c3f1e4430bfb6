"""Shutdown under load: clients PUT objects in a loop against a real ``tessera serve`` (SQLite),
SIGTERM arrives mid-load; how long until the server exits, what happened to the requests in
flight, and whether every acknowledged write reads back after a restart.

    .venv/bin/python bench/bench_shutdown.py [--workers 1 2] [--clients 16] [--size 1048576]
                                             [--load-seconds 3]

A request is "in flight" if it started before the signal and ended after it: each one must end
answered (200), or refused or closed unanswered if the server had not accepted it yet. "Later"
requests started after the signal: they must be refused.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import raw  # noqa: E402
from tests.support.server import TesseraServer  # noqa: E402


def load(server: TesseraServer, client: int, size: int, results: list[tuple]) -> None:
    body = os.urandom(size)
    for n in range(1_000_000):
        key = f"c{client}-{n}"
        started = time.monotonic()
        try:
            outcome = raw.request(server, "PUT", "load", key, body=body).status
        except ConnectionRefusedError:
            outcome = "refused"
        except (http.client.HTTPException, ConnectionError):
            outcome = "closed"
        except TimeoutError:  # no answer in raw.request's 30 s
            outcome = "timed out"
        results.append((key, body, started, time.monotonic(), outcome))
        if outcome in ("refused", "timed out"):
            return


def run(workers: int, clients: int, size: int, load_seconds: float) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="tessera-bench-shutdown-"))
    server = TesseraServer(root / "data", workers=workers).start()
    assert raw.request(server, "PUT", "load").status == 200
    results: list[tuple] = []
    threads = [threading.Thread(target=load, args=(server, i, size, results)) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(load_seconds)
    at = time.monotonic()
    os.kill(server.pid, signal.SIGTERM)
    assert server.process is not None
    server.process.wait(timeout=120)
    exit_seconds = time.monotonic() - at
    code = server.process.returncode
    for thread in threads:
        thread.join()
    in_flight = [r for r in results if r[2] < at < r[3]]
    later = [r for r in results if r[2] >= at]
    acked = [r for r in results if r[4] == 200]
    server.start()
    intact = sum(raw.request(server, "GET", "load", key).body == body for key, body, *_ in acked)
    server.stop()
    return {
        "workers": workers, "acknowledged": len(acked), "in flight": len(in_flight),
        "answered 200": sum(r[4] == 200 for r in in_flight),
        "refused": sum(r[4] == "refused" for r in in_flight),
        "closed": sum(r[4] == "closed" for r in in_flight),
        "timed out": sum(r[4] == "timed out" for r in in_flight),
        "later: refused/closed/200": "/".join(str(sum(r[4] == o for r in later)) for o in ("refused", "closed", 200)),
        "exit (s)": f"{exit_seconds:.2f}", "exit code": code, "read back": f"{intact}/{len(acked)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--size", type=int, default=1024 * 1024)
    parser.add_argument("--load-seconds", type=float, default=3.0)
    args = parser.parse_args()
    rows = [run(w, args.clients, args.size, args.load_seconds) for w in args.workers]
    columns = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    print(" | ".join(c.ljust(w) for c, w in zip(columns, widths)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths)))


if __name__ == "__main__":
    main()
