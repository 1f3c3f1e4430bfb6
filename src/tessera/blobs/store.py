"""Blob files: streamed to disk while hashed, made durable, then renamed into place.

A write never holds a body in memory: incoming chunks are gathered into batches of about
1 MiB and handed to a worker thread that updates MD5 and CRC-64 and writes them, while the
event loop already receives the next batch. A failed write leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator, TypeVar

from tessera.blobs.checksums import crc64
from tessera.blobs.segments import OpenedSegments, Segment, open_segments, raise_open_file_limit
from tessera.blobs.writeback import WRITEBACK_EVERY, start_writeback
from tessera.core.errors import BlobDamaged, EntityTooLarge, IncompleteBody, InvalidDigest, TesseraError

T = TypeVar("T")

BATCH_BYTES = 1024 * 1024
COPY_CHUNK = 4 * 1024 * 1024
OPEN_ON_LOOP = 8  # segments opened on the event loop; more are opened in the I/O threads

# Hashing and writing release the GIL; a few threads keep every core busy with uploads.
_io_threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="tessera-blob-io")


@dataclass(frozen=True)
class WrittenBlob:
    size: int
    md5: bytes
    crc64: int


class _Sink:
    """A temporary file and the running digests of what went into it.

    The file is created by the first write (or the seal of an empty body), in an I/O thread:
    creating a file is a journalled metadata change that takes ~0.2 ms on the machines Tessera is
    measured on (docs/performance.md), too long to hold the event loop for.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1
        self.md5 = hashlib.md5()
        self.crc = 0
        self.size = 0
        self.written_back = 0

    def _open(self) -> None:
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)

    def consume(self, chunks: list[bytes]) -> None:
        self._open()
        for chunk in chunks:
            self.md5.update(chunk)
            self.crc = crc64(chunk, self.crc)
        written = os.writev(self.fd, chunks)
        total = sum(len(c) for c in chunks)
        while written < total:  # short writes are rare, but possible
            rest = b"".join(chunks)[written:]
            written += os.write(self.fd, rest)
        self.size += total
        if self.size - self.written_back >= WRITEBACK_EVERY:
            start_writeback(self.fd, self.written_back, self.size - self.written_back)
            self.written_back = self.size

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
        return WrittenBlob(self.size, self.md5.digest(), self.crc)


class BlobStore:
    """Blob files under ``root/blobs``, temporary files under ``root/tmp`` (same filesystem)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blob_dir = root / "blobs"
        self.tmp_dir = root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        raise_open_file_limit()

    @staticmethod
    def new_blob_id() -> str:
        return secrets.token_hex(16)

    def path(self, blob_id: str) -> Path:
        return self.blob_dir / blob_id[:2] / blob_id[2:4] / blob_id

    async def write(self, blob_id: str, body: AsyncIterator[bytes], *, expected_size: int | None,
                    expected_md5: bytes | None = None, max_size: int | None = None) -> WrittenBlob:
        """Stream ``body`` into the blob ``blob_id``.

        Raises IncompleteBody when the body is shorter or longer than ``expected_size`` (or the
        client went away), EntityTooLarge past ``max_size``, InvalidDigest when the MD5 differs.
        On success the file is durable at ``path(blob_id)``; on failure there is no such file.
        """
        if max_size is not None and expected_size is not None and expected_size > max_size:
            raise EntityTooLarge(f"The body is {expected_size} bytes; at most {max_size} are allowed.")
        loop = asyncio.get_running_loop()
        sink = self._open_sink(blob_id)
        in_flight: asyncio.Future[None] | None = None
        try:
            batch: list[bytes] = []
            batched = received = 0
            async for chunk in _guarded(body):
                received += len(chunk)
                if max_size is not None and received > max_size:
                    raise EntityTooLarge(f"The body is larger than {max_size} bytes.")
                if expected_size is not None and received > expected_size:
                    raise IncompleteBody(f"The body is longer than the Content-Length of {expected_size}.")
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
            if expected_size is not None and received < expected_size:
                raise IncompleteBody(
                    f"The body ended after {received} of the {expected_size} bytes its Content-Length announced."
                )
            # The last batch (for a small body, the only one), the digest check and the install
            # in one trip to the I/O threads.
            await loop.run_in_executor(_io_threads, self._finish, sink, batch, expected_md5, blob_id)
            return sink.result()
        except BaseException:
            if in_flight is not None:  # never close the file under a thread still writing it
                await asyncio.gather(in_flight, return_exceptions=True)
            sink.discard()
            raise

    async def open_segments(self, segments: list[Segment]) -> OpenedSegments:
        """Open the files of ``segments`` for reading (see ``tessera.blobs.segments``)."""
        if len(segments) <= OPEN_ON_LOOP:
            return open_segments(segments)
        return await self.off_loop(lambda: open_segments(segments))

    async def write_from(self, blob_id: str, source: OpenedSegments) -> WrittenBlob:
        """A new blob holding the bytes of the opened ``source`` (server-side copy)."""
        loop = asyncio.get_running_loop()
        sink = self._open_sink(blob_id)
        try:
            await loop.run_in_executor(_io_threads, self._copy_into, sink, source)
            await loop.run_in_executor(_io_threads, self._install, sink, blob_id)
            return sink.result()
        except BaseException:
            sink.discard()
            raise

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)

    async def delete_many(self, blob_ids: list[str]) -> None:
        def unlink_all() -> None:
            for blob_id in blob_ids:
                self.delete(blob_id)

        await self.off_loop(unlink_all)

    @staticmethod
    async def off_loop(function: Callable[[], T]) -> T:
        """Run blocking filesystem work (unlinks, directory walks) in the blob I/O threads."""
        return await asyncio.get_running_loop().run_in_executor(_io_threads, function)

    def blob_files(self) -> Iterator[tuple[str, float]]:
        """(blob_id, mtime) of every blob file, for the collector and fsck."""
        for first in self.blob_dir.iterdir():
            for second in first.iterdir():
                for entry in os.scandir(second):
                    try:
                        yield entry.name, entry.stat().st_mtime
                    except FileNotFoundError:
                        continue

    def sweep_tmp(self, older_than_seconds: float) -> int:
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
        if expected_md5 is not None and sink.md5.digest() != expected_md5:
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


async def _guarded(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body's chunks; a connection that breaks mid-body becomes IncompleteBody."""
    iterator = body.__aiter__()
    while True:
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        except TesseraError:
            raise
        except Exception as error:  # the client hung up, or sent a broken chunked encoding
            raise IncompleteBody(f"The request body could not be read to its end ({error}).") from error
        if chunk:
            yield chunk
