"""A span of a local file as a request body, checksummed and counted as it is sent."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from tessera.blobs.checksums import crc64
from tessera.client.transfer.parallel import Cancelled


class SourceChanged(Exception):
    """The local file changed while it was being copied."""


class SpanReader:
    """``size`` bytes of an open file from ``offset``, read by the HTTP library in its own blocks.

    The SDK seeks back to the start when it retries a request; bytes read a second time are not
    added to the CRC-64 again nor reported again, so ``crc`` is the CRC of the span once it has
    been read to the end, and ``on_progress`` adds up to ``size``. Once ``cancelled`` is set the
    next read raises ``Cancelled``, which ends the request.
    """

    def __init__(self, descriptor: int, offset: int, size: int,
                 on_progress: Callable[[int], None] | None = None,
                 cancelled: threading.Event | None = None) -> None:
        self.descriptor = descriptor
        self.offset = offset
        self.size = size
        self.on_progress = on_progress
        self.cancelled = cancelled
        self.position = 0
        self.read_to = 0  # bytes already checksummed and reported
        self.crc = 0

    @property
    def complete(self) -> bool:
        return self.read_to == self.size

    def __len__(self) -> int:  # the whole span: requests subtracts tell() itself
        return self.size

    def read(self, size: int | None = -1) -> bytes:
        remaining = self.size - self.position
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        if wanted == 0:
            return b""
        if self.cancelled is not None and self.cancelled.is_set():
            raise Cancelled()
        data = os.pread(self.descriptor, wanted, self.offset + self.position)
        if len(data) != wanted:
            raise SourceChanged(f"the file became shorter while it was being read ({self.offset + self.position})")
        end = self.position + len(data)
        if end > self.read_to:
            fresh = memoryview(data)[self.read_to - self.position:] if self.read_to > self.position else data
            self.crc = crc64(fresh, self.crc)
            if self.on_progress is not None:
                self.on_progress(len(fresh))
            self.read_to = end
        self.position = end
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.size}[whence]
        self.position = max(0, min(self.size, base + offset))
        return self.position

    def tell(self) -> int:
        return self.position

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True
