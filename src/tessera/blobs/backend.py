"""What every blob backend does, whatever holds the bytes (docs/scale-out.md).

A blob is write-once bytes under a unique ID. The metadata database decides who owns it
(``tessera.meta.blobs``); a backend only stores, opens, lists and deletes. Nothing here knows
paths, buckets or requests: the domain (``tessera.core``) speaks to blobs through this
interface alone, and ``tessera.blobs.locations`` picks the backend from ``--blobs URL``.
"""

from __future__ import annotations

import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import AsyncIterator, Iterable


@dataclass(frozen=True)
class WrittenBlob:
    size: int
    md5: bytes
    crc64: int
    # time.monotonic() as the write returned: moments after the blob could first be listed
    written_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class BlobSlice:
    """``length`` bytes of the blob ``blob_id`` from ``offset`` on."""

    blob_id: str
    offset: int
    length: int


@dataclass(frozen=True)
class StoredBlob:
    """A blob the backend holds, as its listing shows it (for the collector and fsck)."""

    blob_id: str
    size: int
    modified_s: float


def slice_blobs(pieces: Iterable[tuple[str, int]], start: int, end: int) -> list[BlobSlice]:
    """The inclusive byte range [start, end] of the concatenation of ``pieces`` (blob_id, size)."""
    slices: list[BlobSlice] = []
    position = 0
    for blob_id, size in pieces:
        piece_start, piece_end = position, position + size - 1
        position += size
        if size == 0 or piece_end < start:
            continue
        if piece_start > end:
            break
        first = max(start, piece_start) - piece_start
        last = min(end, piece_end) - piece_start
        slices.append(BlobSlice(blob_id, first, last - first + 1))
    return slices


class OpenedBlobs(ABC):
    """Slices of blobs, opened for reading before a single byte is promised: once opened they
    stay readable to the end, whatever writers and collectors do meanwhile. close() (or
    ``with``) releases them."""

    @property
    @abstractmethod
    def length(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def chunks(self) -> AsyncIterator[bytes]:
        """The bytes, in order, as they come (a copy reads them this way, and so does a response
        that cannot send files directly). Raises BlobDamaged should a blob end early."""

    def __enter__(self) -> "OpenedBlobs":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BlobBackend(ABC):
    """Where blob bytes live. Every method may be called from the event loop: blocking work
    happens in threads or on the network, never on the loop."""

    # How long a released blob must stay readable: 0 where an opened blob stays readable after
    # it is deleted (POSIX files); else readers that started before the release finish within it.
    release_delay_seconds: float = 0

    @staticmethod
    def new_blob_id() -> str:
        return secrets.token_hex(16)

    @abstractmethod
    def describe(self) -> str:
        """Where the bytes are, for the server's start-up line (no secrets)."""

    @abstractmethod
    async def write(self, blob_id: str, body: AsyncIterator[bytes], *, expected_size: int | None,
                    expected_md5: bytes | None = None, max_size: int | None = None) -> WrittenBlob:
        """Stream ``body`` into the new blob ``blob_id``, durable before this returns.

        Raises IncompleteBody when the body is shorter or longer than ``expected_size`` (or the
        client went away), EntityTooLarge past ``max_size``, InvalidDigest when the MD5 differs;
        on any failure the blob does not exist."""

    @abstractmethod
    async def write_from(self, blob_id: str, source: OpenedBlobs) -> WrittenBlob:
        """A new blob holding the bytes of the opened ``source`` (server-side copy, merges)."""

    @abstractmethod
    async def open(self, slices: list[BlobSlice]) -> OpenedBlobs:
        """Open ``slices`` for reading. Raises BlobMissing when a blob is gone (the object
        changed since its metadata was read: the reader looks again), BlobDamaged when one is
        shorter than its slice needs."""

    @abstractmethod
    async def exists(self, blob_id: str) -> bool: ...

    @abstractmethod
    async def delete_many(self, blob_ids: list[str]) -> None:
        """Delete these blobs; ones already gone are no error."""

    @abstractmethod
    async def stored(self) -> list[StoredBlob]:
        """Every blob the backend holds."""

    @abstractmethod
    async def sweep_temporary(self, older_than_seconds: float) -> int:
        """Remove what interrupted writes left behind, once older than the grace period; how
        many were removed."""

    async def close(self) -> None:
        """Release connections and threads (at shutdown)."""
