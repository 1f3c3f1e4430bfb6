"""The ``file://DIR`` blob backend: one write-once file per blob, streamed to disk while hashed,
made durable, then renamed into place (docs/scale-out.md says what a filesystem shared by
several gateways must guarantee).

A write never holds a body in memory: incoming chunks are gathered into batches of about
1 MiB and handed to a worker thread that updates MD5 and CRC-64 and writes them, while the
event loop already receives the next batch. A failed write leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator, TypeVar

from tessera.blobs.backend import BlobBackend, BlobSlice, OpenedBlobs, StoredBlob, WrittenBlob
from tessera.blobs.bodies import check_announced, checked_chunks
from tessera.blobs.digests import Digests
from tessera.blobs.segments import OpenedSegments, Segment, open_segments, raise_open_file_limit
from tessera.blobs.writeback import WRITEBACK_EVERY, start_writeback
from tessera.core.errors import BlobDamaged, InvalidDigest

T = TypeVar("T")

BATCH_BYTES = 1024 * 1024
COPY_CHUNK = 4 * 1024 * 1024
OPEN_ON_LOOP = 8  # segments opened on the event loop; more are opened in the I/O threads

# Hashing and writing release the GIL; a few threads keep every core busy with uploads.
_io_threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="tessera-blob-io")


class _Sink:
    """A temporary file and the running digests of what went into it.

    The file is created by the first write (or the seal of an empty body), in an I/O thread:
    creating a file is a journalled metadata change that takes ~0.2 ms on the machines Tessera is
    measured on (docs/performance.md), too long to hold the event loop for.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1
        self.digests = Digests()
        self.written_back = 0

    def _open(self) -> None:
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)

    def consume(self, chunks: list[bytes]) -> None:
        self._open()
        self.digests.update(chunks)
        written = os.writev(self.fd, chunks)
        total = sum(len(c) for c in chunks)
        while written < total:  # short writes are rare, but possible
            rest = b"".join(chunks)[written:]
            written += os.write(self.fd, rest)
        size = self.digests.size
        if size - self.written_back >= WRITEBACK_EVERY:
            start_writeback(self.fd, self.written_back, size - self.written_back)
            self.written_back = size

    def seal(self) -> None:
        self._open()
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1

    def discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self.path.unlink(missing_ok=True)

    def result(self) -> WrittenBlob:
        return self.digests.result()


class FileBlobs(BlobBackend):
    """Blob files under ``root/blobs``, temporary files under ``root/tmp`` (same filesystem)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blob_dir = root / "blobs"
        self.tmp_dir = root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        raise_open_file_limit()

    def describe(self) -> str:
        return f"file://{self.root}"

    def path(self, blob_id: str) -> Path:
        return self.blob_dir / blob_id[:2] / blob_id[2:4] / blob_id

    async def write(self, blob_id: str, body: AsyncIterator[bytes], *, expected_size: int | None,
                    expected_md5: bytes | None = None, max_size: int | None = None) -> WrittenBlob:
        """Stream ``body`` into the blob ``blob_id`` (see BlobBackend.write); on success the file is
        durable at ``path(blob_id)``, on failure there is no such file."""
        check_announced(expected_size, max_size)
        loop = asyncio.get_running_loop()
        sink = self._open_sink(blob_id)
        in_flight: asyncio.Future[None] | None = None
        try:
            batch: list[bytes] = []
            batched = 0
            async for chunk in checked_chunks(body, expected_size=expected_size, max_size=max_size):
                batch.append(chunk)
                batched += len(chunk)
                if batched >= BATCH_BYTES:
                    if in_flight is not None:
                        await in_flight
                    in_flight = loop.run_in_executor(_io_threads, sink.consume, batch)
                    batch, batched = [], 0
            if in_flight is not None:
                await in_flight
                in_flight = None
            # The last batch (for a small body, the only one), the digest check and the install
            # in one trip to the I/O threads.
            await loop.run_in_executor(_io_threads, self._finish, sink, batch, expected_md5, blob_id)
            return sink.result()
        except BaseException:
            if in_flight is not None:  # never close the file under a thread still writing it
                await asyncio.gather(in_flight, return_exceptions=True)
            sink.discard()
            raise

    async def open(self, slices: list[BlobSlice]) -> OpenedSegments:
        """Open the files of ``slices`` for reading (see ``tessera.blobs.segments``)."""
        segments = [Segment(self.path(s.blob_id), s.offset, s.length) for s in slices]
        if len(segments) <= OPEN_ON_LOOP:
            return open_segments(segments)
        return await self.off_loop(lambda: open_segments(segments))

    async def write_from(self, blob_id: str, source: OpenedBlobs) -> WrittenBlob:
        """A new blob holding the bytes of the opened ``source`` (server-side copy)."""
        if not isinstance(source, OpenedSegments):
            raise TypeError(f"file blobs are copied from opened files, not from {type(source).__name__}")
        loop = asyncio.get_running_loop()
        sink = self._open_sink(blob_id)
        try:
            await loop.run_in_executor(_io_threads, self._copy_into, sink, source)
            await loop.run_in_executor(_io_threads, self._install, sink, blob_id)
            return sink.result()
        except BaseException:
            sink.discard()
            raise

    async def exists(self, blob_id: str) -> bool:
        return self.path(blob_id).exists()

    async def delete_many(self, blob_ids: list[str]) -> None:
        def unlink_all() -> None:
            for blob_id in blob_ids:
                self.path(blob_id).unlink(missing_ok=True)

        await self.off_loop(unlink_all)

    @staticmethod
    async def off_loop(function: Callable[[], T]) -> T:
        """Run blocking filesystem work (unlinks, directory walks) in the blob I/O threads."""
        return await asyncio.get_running_loop().run_in_executor(_io_threads, function)

    async def stored(self) -> list[StoredBlob]:
        return await self.off_loop(lambda: list(self.blob_files()))

    def blob_files(self) -> Iterator[StoredBlob]:
        """Every blob file (blocking: a directory walk)."""
        for first in self.blob_dir.iterdir():
            for second in first.iterdir():
                for entry in os.scandir(second):
                    try:
                        status = entry.stat()
                    except FileNotFoundError:  # freed since it was listed
                        continue
                    yield StoredBlob(entry.name, status.st_size, status.st_mtime)

    async def sweep_temporary(self, older_than_seconds: float) -> int:
        return await self.off_loop(lambda: self._sweep_tmp(older_than_seconds))

    def _sweep_tmp(self, older_than_seconds: float) -> int:
        """Remove temporary files older than the grace period (left by a crashed process)."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for entry in os.scandir(self.tmp_dir):
            try:
                if entry.stat().st_mtime <= cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    # --- inside the worker threads -------------------------------------------------------

    def _open_sink(self, blob_id: str) -> _Sink:
        return _Sink(self.tmp_dir / f"{blob_id}.{secrets.token_hex(4)}.tmp")

    def _finish(self, sink: _Sink, batch: list[bytes], expected_md5: bytes | None, blob_id: str) -> None:
        if batch:
            sink.consume(batch)
        if expected_md5 is not None and sink.digests.md5.digest() != expected_md5:
            raise InvalidDigest()
        self._install(sink, blob_id)

    def _install(self, sink: _Sink, blob_id: str) -> None:
        """fsync the data, rename it into place, fsync the directory: durable before visible."""
        sink.seal()
        final = self.path(blob_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rename(sink.path, final)
        try:
            directory = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except BaseException:  # not durable: not kept either (a failed write leaves nothing)
            final.unlink(missing_ok=True)
            raise

    @staticmethod
    def _copy_into(sink: _Sink, source: OpenedSegments) -> None:
        for segment in source.segments:
            offset, remaining = segment.offset, segment.length
            while remaining > 0:
                chunk = os.pread(segment.file.fileno(), min(COPY_CHUNK, remaining), offset)
                if not chunk:
                    raise BlobDamaged(f"Blob {segment.file.name} ended before its metadata says.")
                sink.consume([chunk])
                offset += len(chunk)
                remaining -= len(chunk)
