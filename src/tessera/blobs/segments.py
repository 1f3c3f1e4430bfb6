"""Reading objects made of several blob files: byte ranges as file segments, sent zero-copy."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

SENDFILE_FALLBACK_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Segment:
    path: Path
    offset: int
    length: int


def slice_segments(pieces: list[tuple[Path, int]], start: int, end: int) -> list[Segment]:
    """The inclusive byte range [start, end] of the concatenation of ``pieces`` (path, size)."""
    segments: list[Segment] = []
    position = 0
    for path, size in pieces:
        piece_start, piece_end = position, position + size - 1
        position += size
        if size == 0 or piece_end < start:
            continue
        if piece_start > end:
            break
        first = max(start, piece_start) - piece_start
        last = min(end, piece_end) - piece_start
        segments.append(Segment(path, first, last - first + 1))
    return segments


class SegmentsResponse(web.StreamResponse):
    """A response whose body is a list of file segments, sent with ``sendfile`` where possible.

    Part files are opened one at a time, so a 10 000-part object needs one descriptor. A file
    that vanished mid-stream (the object was overwritten) aborts the connection: the client
    sees a short body, never wrong bytes.
    """

    def __init__(self, segments: list[Segment], *, status: int = 200, headers: Any = None) -> None:
        super().__init__(status=status, headers=headers)
        self._segments = segments
        self.content_length = sum(s.length for s in segments)

    async def prepare(self, request: web.BaseRequest) -> Any:
        if self.prepared:
            return self._payload_writer
        writer = await super().prepare(request)
        if request.method == "HEAD" or not self._segments:
            return writer
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("Connection lost")
        loop = asyncio.get_running_loop()
        try:
            for segment in self._segments:
                with open(segment.path, "rb") as file:
                    if self.compression:
                        await self._copy(writer, file, segment)
                        continue
                    # Zero-copy where the OS allows; asyncio falls back to read-and-write itself.
                    await loop.sendfile(transport, file, segment.offset, segment.length)
        except (FileNotFoundError, ConnectionError):
            transport.abort()
            raise
        await super().write_eof()
        return writer

    @staticmethod
    async def _copy(writer: Any, file: Any, segment: Segment) -> None:
        loop = asyncio.get_running_loop()
        remaining, offset = segment.length, segment.offset
        while remaining > 0:
            chunk = await loop.run_in_executor(None, os.pread, file.fileno(),
                                               min(SENDFILE_FALLBACK_CHUNK, remaining), offset)
            if not chunk:
                raise FileNotFoundError(f"{segment.path} ended early")
            await writer.write(chunk)
            remaining -= len(chunk)
            offset += len(chunk)
