"""A clock the test moves by hand, for Storage and Database (``clock=``), and a request body of
one chunk, for scripted histories of uploads and objects."""

from __future__ import annotations

from typing import AsyncIterator

from tessera.core.metering import HOUR_MS


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms

    def advance(self, hours: float) -> None:
        self.ms += int(hours * HOUR_MS)


async def body(data: bytes) -> AsyncIterator[bytes]:
    yield data
