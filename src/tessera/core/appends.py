"""AppendObject: objects that grow by appends, each append costing only the bytes it adds.

An Appendable object is the ordered list of its segments, one blob each (``append_segments``),
read back across them like a completed upload across its parts. An append streams its body to
a new blob, then one transaction decides it: the object row grows only if its length is still
the position the client gave (a conditional update), and the segment is recorded with it — so
of concurrent appends at one position exactly one wins and the others get
PositionNotEqualToLength. The whole object's CRC-64 is combined from the previous CRC and the
appended bytes' CRC, never by reading stored data.

So that reads do not open ever more files, an append then merges trailing segments into one new
blob when the segment list breaks the rule of ``merge_start`` (docs/compatibility.md,
AppendObject): at most 33 segments for any object of up to 5 GB, each byte copied O(log size)
times over the object's life. The merged blob is fsynced and committed in place of the old
segments before their blobs are released; a merge that loses a race with a delete, an overwrite
or another merge is simply dropped.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.blobs.checksums import combine_crcs, crc64_combine
from tessera.blobs.backend import BlobSlice, WrittenBlob
from tessera.core.buckets import get_bucket
from tessera.core.errors import (
    DataUnavailable,
    InternalError,
    InvalidDigest,
    ObjectNotAppendable,
    PositionNotEqualToLength,
)
from tessera.core.models import (
    APPENDABLE,
    MAX_APPENDABLE_SIZE,
    AppendSegment,
    Bucket,
    ObjectAttributes,
    ObjectInfo,
)
from tessera.core.names import check_key
from tessera.core.objects import resolve_attributes
from tessera.core.storage import Storage
from tessera.meta import appends as append_rows
from tessera.meta import blobs as blob_rows
from tessera.meta import buckets as bucket_rows
from tessera.meta import objects as object_rows
from tessera.meta import records

log = logging.getLogger(__name__)


def appendable_etag(crc64: int, last_modified_ms: int) -> str:
    """The ETag OSS gives an Appendable object: not an MD5, but its CRC-64 and last-modified
    second, little-endian, then four zero bytes (docs/compatibility.md, AppendObject)."""
    seconds = (last_modified_ms // 1000) & 0xFFFFFFFF
    return (crc64.to_bytes(8, "little") + seconds.to_bytes(4, "little") + bytes(4)).hex().upper()


def merge_start(sizes: list[int]) -> int | None:
    """Where the trailing segments to merge into one begin, or None when none need merging.

    The rule kept after every append: each segment is larger than all the segments after it
    together. Then each segment is more than twice the total after it, so an object of N bytes
    has at most floor(log2 N) + 1 segments. When an append breaks the rule, the earliest
    segment that is not larger than everything after it, and everything after it, become one:
    that restores the rule for the whole list, and every old segment merged lands in one at
    least twice its size, so a byte is copied at most log2 N times (once more when it was the
    append itself).
    """
    after = 0
    totals_after = []
    for size in reversed(sizes):
        totals_after.append(after)
        after += size
    totals_after.reverse()
    for index, size in enumerate(sizes[:-1]):
        if size <= totals_after[index]:
            return index
    return None


@dataclass(frozen=True)
class Appended:
    info: ObjectInfo  # the whole object after the append


async def append_object(storage: Storage, bucket_name: str, key: str, position: int, body: AsyncIterator[bytes], *,
                        size: int | None, content_md5: bytes | None, attrs: ObjectAttributes,
                        expected_crc64: int | None = None) -> Appended:
    """Append ``body`` to the Appendable object at ``key``, which must be ``position`` bytes long
    (0 creates it, with ``attrs``; later appends keep the attributes of the first).
    ``expected_crc64``, when given, is the CRC-64 the client expects of the whole result."""
    check_key(key)
    bucket = await get_bucket(storage, bucket_name)
    resolve_attributes(bucket, attrs)  # a bad storage class is refused before the body is read
    async with storage.db.read() as conn:
        _check_position(await object_rows.find(conn, bucket.bucket_id, bucket.name, key), key, position)
    blob_id = storage.blobs.new_blob_id()
    written = await storage.blobs.write(blob_id, body, expected_size=size, expected_md5=content_md5,
                                        max_size=MAX_APPENDABLE_SIZE - position)
    try:
        async with storage.db.write() as conn:
            bucket = await bucket_rows.get(conn, bucket_name, lock="share")
            info = await _grow(conn, storage, bucket, key, position, written, attrs)
            if expected_crc64 is not None and int(info.crc64) != expected_crc64:
                raise InvalidDigest("The CRC-64 of the object after this append is not the one given in "
                                    "x-oss-hash-crc64ecma.", **{"x-oss-hash-crc64ecma": str(expected_crc64)})
            if written.size:
                await append_rows.add_segment(conn, bucket.bucket_id, key,
                                              AppendSegment(position, blob_id, written.size, str(written.crc64)))
                await storage.own(conn, blob_id, written)
    except BaseException:
        await storage.discard(blob_id)
        raise
    if not written.size:
        await storage.discard(blob_id)  # an empty append adds no segment
    try:
        await _merge_tail(storage, bucket_name, key)
    except Exception:  # the append stands; the next one merges again
        log.exception("object %s/%s: merging its segments failed", bucket_name, key)
    return Appended(info)


def _check_position(current: ObjectInfo | None, key: str, position: int) -> None:
    if current is None:
        if position != 0:
            raise PositionNotEqualToLength(next_position=0, Key=key)
        return
    if current.object_type != APPENDABLE:
        raise ObjectNotAppendable(Key=key)
    if current.size != position:
        raise PositionNotEqualToLength(next_position=current.size, Key=key)


async def _grow(conn: AsyncConnection, storage: Storage, bucket: Bucket, key: str, position: int,
                written: WrittenBlob, attrs: ObjectAttributes) -> ObjectInfo:
    """The object row after the append, written: created at position 0, else grown if it is
    still ``position`` bytes long."""
    now = storage.clock()
    for _ in range(2):  # on PostgreSQL a concurrent first append may win the insert: look again
        current = await object_rows.find(conn, bucket.bucket_id, bucket.name, key, lock=True)
        _check_position(current, key, position)
        if current is None:
            info = ObjectInfo(
                bucket=bucket.name, key=key, size=written.size, etag=appendable_etag(written.crc64, now),
                crc64=str(written.crc64), content_md5=None, attributes=resolve_attributes(bucket, attrs),
                object_type=APPENDABLE, last_modified_ms=now, blob_id=None, upload_id=None,
            )
            values = {"bucket_id": bucket.bucket_id, "key": key, **records.object_columns(info)}
            if await object_rows.insert_if_absent(conn, values):
                return info
            continue
        crc = crc64_combine(int(current.crc64), written.crc64, written.size)
        info = dataclasses.replace(current, size=position + written.size, crc64=str(crc),
                                   etag=appendable_etag(crc, now), last_modified_ms=now)
        values = {"size": info.size, "crc64": info.crc64, "etag": info.etag, "last_modified_ms": now}
        if not await append_rows.grow(conn, bucket.bucket_id, key, position=position, values=values):
            raise PositionNotEqualToLength(next_position=current.size, Key=key)
        return info
    raise InternalError("The object was being created by too many concurrent appends; retry.")


class _Superseded(Exception):
    """The segments being merged are no longer the object's."""


async def _merge_tail(storage: Storage, bucket_name: str, key: str) -> None:
    """Merge the trailing segments ``merge_start`` names into one blob, if any."""
    async with storage.db.read() as conn:
        bucket = await bucket_rows.get(conn, bucket_name)
        segments = await append_rows.segments_of(conn, bucket.bucket_id, key)
    start = merge_start([s.size for s in segments])
    if start is None:
        return
    chosen = segments[start:]
    try:
        source = await storage.blobs.open([BlobSlice(s.blob_id, 0, s.size) for s in chosen])
    except DataUnavailable:  # merged, replaced or deleted since they were listed (or damaged: fsck says)
        return
    released = [s.blob_id for s in chosen]
    with source:
        blob_id = storage.blobs.new_blob_id()
        written = await storage.blobs.write_from(blob_id, source)
        try:
            if written.crc64 != combine_crcs((int(s.crc64), s.size) for s in chosen):
                raise DataUnavailable(f"The segments of {key} do not have the bytes their CRC-64 says.")
            merged = AppendSegment(chosen[0].position, blob_id, written.size, str(written.crc64))
            async with storage.db.write() as conn:
                bucket = await bucket_rows.get(conn, bucket_name, lock="share")
                # The object row's lock orders this merge with appends, overwrites, deletes and
                # other merges of the same object (PostgreSQL; SQLite has one writer anyway).
                await object_rows.find(conn, bucket.bucket_id, bucket.name, key, lock=True)
                if not await append_rows.replace_segments(conn, bucket.bucket_id, key, chosen, merged):
                    raise _Superseded()
                await storage.own(conn, blob_id, written)
                await blob_rows.release(conn, released)
        except _Superseded:
            await storage.discard(blob_id)
            return
        except BaseException:
            await storage.discard(blob_id)
            raise
    storage.free_soon(released)
