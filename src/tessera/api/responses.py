"""HTTP responses every dialect sends: an object's bytes, from blob files opened beforehand."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from aiohttp import web

from tessera.blobs.segments import OpenedSegments, OpenSegment

SENDFILE_FALLBACK_CHUNK = 1024 * 1024
SMALL_BODY = 64 * 1024  # bodies up to this size are read and sent with the headers
log = logging.getLogger(__name__)


class SegmentsResponse(web.StreamResponse):
    """A response whose body is a list of opened file segments, sent with ``sendfile`` where
    possible. It owns the files and closes them when the body is sent or the send fails.

    The files were opened and their sizes checked before this answer was made (see
    ``tessera.blobs.segments``), so the body is whole. Should a file still come up short
    (truncated behind Tessera's back), the connection is aborted: the client sees a short body
    against its Content-Length, never wrong bytes and never a hang.
    """

    def __init__(self, body: OpenedSegments, *, status: int = 200, headers: Any = None) -> None:
        super().__init__(status=status, headers=headers)
        self._body = body
        self.content_length = body.length

    async def prepare(self, request: web.BaseRequest) -> Any:
        if self.prepared:
            return self._payload_writer
        try:
            writer = await super().prepare(request)
            if request.method == "HEAD" or not self._body.segments:
                return writer
            transport = request.transport
            if transport is None:
                raise ConnectionResetError("Connection lost")
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
