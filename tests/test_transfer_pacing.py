"""--max-speed paces a copy (tessera.client.transfer.progress): after a stall the bytes that
follow still go out at the limit, not in a burst that brings the average back up to it."""

from __future__ import annotations

import time

from tessera.client.transfer.progress import Progress

RATE = 10 * 1024 * 1024  # bytes a second
CHUNK = 100 * 1024  # about 10 ms at RATE


def test_bytes_after_a_stall_are_paced_not_burst() -> None:
    progress = Progress(20 * CHUNK, 1, bar_to=None, max_rate=RATE)
    progress.advance(CHUNK)
    time.sleep(0.3)  # a stall worth 30 chunks at the limit
    started = time.monotonic()
    for _ in range(10):
        progress.advance(CHUNK)
    assert time.monotonic() - started >= 0.9 * 10 * CHUNK / RATE


def test_without_a_limit_nothing_waits() -> None:
    progress = Progress(10 * CHUNK, 1, bar_to=None)
    started = time.monotonic()
    for _ in range(100):
        progress.advance(CHUNK)
    assert time.monotonic() - started < 0.05
