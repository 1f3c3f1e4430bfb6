"""HTTP responses every dialect sends: an object's bytes, from blobs opened beforehand — files
sent with ``sendfile``, other backends' bodies streamed as they come."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from aiohttp import web

from tessera.blobs.backend import OpenedBlobs
from tessera.blobs.segments import OpenedSegments, OpenSegment

SENDFILE_FALLBACK_CHUNK = 1024 * 1024
SMALL_BODY = 64 * 1024  # bodies up to this size are read and sent with the headers
log = logging.getLogger(__name__)


class BlobResponse(web.StreamResponse):
    """A response whose body is opened blobs: file segments are sent with ``sendfile`` where
    possible, any other backend's body is streamed as it comes. It owns the opened blobs and
    closes them when the body is sent or the send fails.

    The blobs were opened (files: their sizes checked) before this answer was made (see
    ``tessera.blobs.backend.OpenedBlobs``). Should one still come up short (a file truncated
    behind Tessera's back, an upstream store failing mid-body), the connection is aborted: the
    client sees a short body against its Content-Length, never wrong bytes and never a hang.
    """

    def __init__(self, body: OpenedBlobs, *, status: int = 200, headers: Any = None) -> None:
        super().__init__(status=status, headers=headers)
        self._body = body
        self.content_length = body.length

    async def prepare(self, request: web.BaseRequest) -> Any:
        if self.prepared:
            return self._payload_writer
        try:
            writer = await super().prepare(request)
            if request.method == "HEAD" or not self._body.length:
                return writer
            transport = request.transport
            if transport is None:
                raise ConnectionResetError("Connection lost")
            if not isinstance(self._body, OpenedSegments):
                await self._stream(writer, transport)
                return writer
            try:
                if self._body.length <= SMALL_BODY:
                    await writer.write(self._read_small())  # with the headers, in one send
                else:
                    for segment in self._body.segments:
                        await self._send(writer, transport, segment)
            except (OSError, ConnectionError):
                transport.abort()
                raise
            await super().write_eof()
            return writer
        finally:
            self._body.close()

    async def _stream(self, writer: Any, transport: asyncio.Transport) -> None:
        try:
            async for chunk in self._body.chunks():
                await writer.write(chunk)
        except Exception as error:
            if not isinstance(error, (OSError, ConnectionError)):
                log.error("the body of a %d-byte answer ended early: %s", self._body.length, error)
            transport.abort()
            raise ConnectionAbortedError("a blob ended early") from error
        await super().write_eof()

    def _read_small(self) -> bytes:
        """A small body, read here: a page-cache read of a few KiB costs less than the rounds of
        the event loop that ``sendfile`` takes (it waits for the headers to drain first)."""
        chunks = []
        for segment in self._body.segments:
            chunk = os.pread(segment.file.fileno(), segment.length, segment.offset)
            if len(chunk) != segment.length:
                raise _ended_early(segment)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _send(self, writer: Any, transport: asyncio.Transport, segment: OpenSegment) -> None:
        if self.compression:
            await self._copy(writer, segment)
            return
        # Zero-copy where the OS allows; asyncio falls back to read-and-write itself.
        sent = await asyncio.get_running_loop().sendfile(transport, segment.file, segment.offset, segment.length)
        if sent != segment.length:
            raise _ended_early(segment)

    @staticmethod
    async def _copy(writer: Any, segment: OpenSegment) -> None:
        loop = asyncio.get_running_loop()
        remaining, offset = segment.length, segment.offset
        while remaining > 0:
            chunk = await loop.run_in_executor(None, os.pread, segment.file.fileno(),
                                               min(SENDFILE_FALLBACK_CHUNK, remaining), offset)
            if not chunk:
                raise _ended_early(segment)
            await writer.write(chunk)
            remaining -= len(chunk)
            offset += len(chunk)


def _ended_early(segment: OpenSegment) -> ConnectionError:
    """Logged for the operator (the file was damaged while being sent); the connection is then
    aborted, which aiohttp takes quietly as a connection error."""
    log.error("blob file %s ended before byte %d while being sent (run tessera admin fsck)",
              segment.file.name, segment.offset + segment.length)
    return ConnectionAbortedError("a blob file ended early")
