"""Reading blob files: byte ranges of them as file segments, opened before a single byte is
promised.

A reader opens every file it will read *before* it answers. From then on the bytes stay
readable to the end, whatever writers do: a blob released by an overwrite, a delete or the
collector is unlinked, and POSIX keeps an unlinked file's data until its last descriptor is
closed. A file that is already gone when the reader opens it raises BlobMissing (the object
changed since its metadata was read: the reader looks again); one shorter than its metadata
says raises BlobDamaged — never a short body or a hang.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, BinaryIO

from tessera.blobs.backend import OpenedBlobs
from tessera.core.errors import BlobDamaged, BlobMissing


READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Segment:
    path: Path
    offset: int
    length: int


@dataclass(frozen=True)
class OpenSegment:
    file: BinaryIO
    offset: int
    length: int


class OpenedSegments(OpenedBlobs):
    """Segments whose files are open, in order; close() (or ``with``) releases them."""

    def __init__(self, segments: list[OpenSegment]) -> None:
        self.segments = segments

    @property
    def length(self) -> int:
        return sum(s.length for s in self.segments)

    def close(self) -> None:
        for segment in self.segments:
            segment.file.close()
        self.segments = []

    async def chunks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        for segment in self.segments:
            offset, remaining = segment.offset, segment.length
            while remaining > 0:
                chunk = await loop.run_in_executor(None, os.pread, segment.file.fileno(),
                                                   min(READ_CHUNK, remaining), offset)
                if not chunk:
                    raise BlobDamaged(f"Blob {segment.file.name} ended before its metadata says.")
                yield chunk
                offset += len(chunk)
                remaining -= len(chunk)


def open_segments(segments: list[Segment]) -> OpenedSegments:
    """Open every segment's file (blocking: call it off the event loop when there are many)."""
    opened: list[OpenSegment] = []
    try:
        for segment in segments:
            try:
                file = open(segment.path, "rb")
            except FileNotFoundError:
                raise BlobMissing(f"Blob {segment.path.name} is missing.") from None
            opened.append(OpenSegment(file, segment.offset, segment.length))
            size = os.fstat(file.fileno()).st_size
            if size < segment.offset + segment.length:
                raise BlobDamaged(f"Blob {segment.path.name} has {size} bytes; its metadata needs "
                                  f"{segment.offset + segment.length}.")
    except BaseException:
        OpenedSegments(opened).close()
        raise
    return OpenedSegments(opened)


def raise_open_file_limit() -> None:
    """Let this process open as many files as its hard limit allows: a reader holds every part
    of a 10 000-part object open while it streams."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(soft, 1 << 20) if hard == resource.RLIM_INFINITY else hard
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            pass
