"""Multipart uploads: initiate, upload parts, complete, abort, list.

Parts are blobs of their own. Completing is metadata-only: the object becomes the ordered list
of the chosen parts' blobs (its ``upload_id`` points at them), so its cost grows with the number
of parts, never with bytes. Every step that changes an upload locks its row first, so part
uploads, Complete and Abort of one upload are serialised: whichever commits first wins, and
the others see the upload as it left it (a part landing after Abort is discarded with
``NoSuchUpload``; Abort after Complete gets ``NoSuchUpload``; Complete after Abort too).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, AsyncIterator

from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.blobs.checksums import combine_crcs, multipart_etag
from tessera.blobs.backend import WrittenBlob
from tessera.core import conditions
from tessera.core.acl import check_object_acl
from tessera.core.clock import new_upload_id
from tessera.core.errors import (
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    NoSuchUpload,
)
from tessera.core.listing import list_page
from tessera.core.models import (
    MAX_PART_NUMBER,
    MAX_PART_SIZE,
    MIN_PART_SIZE,
    Bucket,
    CompletedUpload,
    ObjectAttributes,
    ObjectInfo,
    Page,
    Part,
    PartChoice,
    Upload,
)
from tessera.core.names import check_key
from tessera.core.objects import install_object, read_object, resolve_attributes
from tessera.core.storage import Storage
from tessera.meta import blobs as blob_rows
from tessera.meta import buckets as bucket_rows
from tessera.meta import records
from tessera.meta import uploads as upload_rows
from tessera.meta.ranges import Bound


async def initiate_upload(storage: Storage, bucket_name: str, key: str, attrs: ObjectAttributes, *,
                          initiator: str) -> Upload:
    check_key(key)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        attrs = resolve_attributes(bucket, attrs)
        now = storage.clock()
        upload = Upload(new_upload_id(now), bucket.name, key, now, initiator, attrs)
        await upload_rows.insert(
            conn,
            {
                "upload_id": upload.upload_id,
                "bucket_id": bucket.bucket_id,
                "key": key,
                "initiated_ms": now,
                "initiator": initiator,
                **records.attribute_columns(attrs),
            },
        )
    return upload


async def _locked_upload(conn: AsyncConnection, bucket_name: str, key: str, upload_id: str, *,
                         lock: bool = True, completed_ok: bool = False) -> tuple[Bucket, Any]:
    """The upload row, locked, after checking it belongs to this bucket and key and is active."""
    bucket = await bucket_rows.get(conn, bucket_name)
    row = await upload_rows.find(conn, upload_id, lock=lock)
    if (
        row is None
        or row.bucket_id != bucket.bucket_id
        or row.key != key
        or (row.state != upload_rows.ACTIVE and not (completed_ok and row.state == upload_rows.COMPLETED))
    ):
        raise NoSuchUpload(UploadId=upload_id)
    return bucket, row


async def check_upload(storage: Storage, bucket_name: str, key: str, upload_id: str) -> None:
    """Raise NoSuchUpload unless the upload exists, is in progress, and belongs to this key."""
    check_key(key)
    async with storage.db.read() as conn:
        await _locked_upload(conn, bucket_name, key, upload_id, lock=False, completed_ok=True)


def check_part_number(part_number: int) -> None:
    if not 1 <= part_number <= MAX_PART_NUMBER:
        raise InvalidArgument(
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive.",
            name="partNumber", value=str(part_number),
        )


async def upload_part(storage: Storage, bucket_name: str, key: str, upload_id: str, part_number: int,
                      body: AsyncIterator[bytes], *, size: int | None, content_md5: bytes | None) -> Part:
    check_key(key)
    check_part_number(part_number)
    blob_id = await _new_part_blob(storage, bucket_name, key, upload_id)
    written = await storage.blobs.write(
        blob_id, body, expected_size=size, expected_md5=content_md5, max_size=MAX_PART_SIZE
    )
    return await _commit_part(storage, bucket_name, key, upload_id, part_number, blob_id, written)


async def upload_part_copy(storage: Storage, bucket_name: str, key: str, upload_id: str, part_number: int, *,
                           source_bucket: str, source_key: str, source_range: tuple[int, int | None] | None,
                           source_conditions: conditions.Preconditions) -> Part:
    """A part made of (a range of) an existing object."""
    check_key(key)
    check_part_number(part_number)

    def choose(info: ObjectInfo) -> tuple[int, int]:
        conditions.check(info, source_conditions, for_copy=True)
        start, end = 0, info.size - 1
        if source_range is not None:
            start, last = source_range
            end = info.size - 1 if last is None else last
            if start > end or end >= info.size:
                raise InvalidArgument(
                    f"The range is not valid for a source object of {info.size} bytes.",
                    name="x-oss-copy-source-range", value=f"bytes={start}-{'' if last is None else last}",
                )
        if end - start + 1 > MAX_PART_SIZE:
            raise InvalidArgument("A part may be at most 5 GB.", name="x-oss-copy-source-range",
                                  value=f"bytes={start}-{end}")
        return start, end

    source = await read_object(storage, source_bucket, source_key, choose)
    with source.body:
        blob_id = await _new_part_blob(storage, bucket_name, key, upload_id)
        written = await storage.blobs.write_from(blob_id, source.body)
    return await _commit_part(storage, bucket_name, key, upload_id, part_number, blob_id, written)


async def _new_part_blob(storage: Storage, bucket_name: str, key: str, upload_id: str) -> str:
    """Check the upload is active (before reading any body), and name the part's blob."""
    async with storage.db.read() as conn:
        await _locked_upload(conn, bucket_name, key, upload_id, lock=False)
    return storage.blobs.new_blob_id()


async def _commit_part(storage: Storage, bucket_name: str, key: str, upload_id: str, part_number: int,
                       blob_id: str, written: WrittenBlob) -> Part:
    """Make the blob the upload's part ``part_number``, freeing the part it replaces at once."""
    released: list[str] = []
    try:
        async with storage.db.write() as conn:
            await _locked_upload(conn, bucket_name, key, upload_id)
            now = storage.clock()
            part = Part(part_number, written.size, written.md5.hex().upper(), str(written.crc64), blob_id, now)
            old = await upload_rows.find_part(conn, upload_id, part_number)
            if old is not None:
                released.append(old.blob_id)
                await blob_rows.release(conn, released)
            await upload_rows.put_part(conn, upload_id, part)
            await storage.own(conn, blob_id, written)
            await upload_rows.touch(conn, upload_id, now)
    except BaseException:
        await storage.discard(blob_id)
        raise
    storage.free_soon(released)
    return part


@dataclass(frozen=True)
class _Selection:
    parts: list[Part]
    unused: list[Part]

    @property
    def signature(self) -> str:
        return ",".join(f"{p.part_number}:{p.etag}" for p in self.parts)


def _select_parts(uploaded: list[Part], choices: list[PartChoice] | None) -> _Selection:
    """Validate a Complete request's part list (None: every uploaded part, x-oss-complete-all)."""
    if choices is None:
        if not uploaded:
            raise InvalidArgument("The upload has no parts to complete.", name="x-oss-complete-all", value="yes")
        chosen = uploaded
    else:
        for previous, current in zip(choices, choices[1:]):
            if current.part_number <= previous.part_number:
                raise InvalidPartOrder(PartNumber=str(current.part_number))
        by_number = {p.part_number: p for p in uploaded}
        chosen = []
        for choice in choices:
            part = by_number.get(choice.part_number)
            if part is None or choice.etag.strip().strip('"').upper() != part.etag:
                raise InvalidPart(PartNumber=str(choice.part_number), ETag=choice.etag)
            chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_SIZE:
            raise EntityTooSmall(
                f"Part {part.part_number} is {part.size} bytes; every part but the last must be at least "
                f"{MIN_PART_SIZE} bytes.",
                PartNumber=str(part.part_number), MinSizeAllowed=str(MIN_PART_SIZE), ProposedSize=str(part.size),
            )
    chosen_numbers = {p.part_number for p in chosen}
    return _Selection(chosen, [p for p in uploaded if p.part_number not in chosen_numbers])


async def complete_upload(storage: Storage, bucket_name: str, key: str, upload_id: str,
                          choices: list[PartChoice] | None, *, forbid_overwrite: bool = False,
                          acl: str | None = None) -> CompletedUpload:
    """Assemble the object from its parts, in one transaction and without touching any bytes.

    A retried Complete of an upload that already completed with the same parts returns the
    same result, so a client whose first answer was lost is not told the upload vanished.
    ``acl`` replaces the object ACL chosen at initiation.
    """
    check_key(key)
    released: list[str] = []
    async with storage.db.write() as conn:
        bucket, row = await _locked_upload(conn, bucket_name, key, upload_id, completed_ok=True)
        if row.state == upload_rows.COMPLETED:
            return _repeat_completion(bucket.name, row, choices)
        selection = _select_parts(await upload_rows.parts_page(conn, upload_id, after_number=0,
                                                               limit=MAX_PART_NUMBER), choices)
        info = ObjectInfo(
            bucket=bucket.name,
            key=key,
            size=sum(p.size for p in selection.parts),
            etag=multipart_etag([bytes.fromhex(p.etag) for p in selection.parts]),
            crc64=str(combine_crcs((int(p.crc64), p.size) for p in selection.parts)),
            content_md5=None,
            attributes=_with_acl(records.attributes(row), acl),
            object_type="Multipart",
            last_modified_ms=storage.clock(),
            blob_id=None,
            upload_id=upload_id,
        )
        released = await install_object(conn, storage, bucket, info, forbid_overwrite=forbid_overwrite)
        unused = [p.blob_id for p in selection.unused]
        await upload_rows.drop_parts(conn, upload_id, [p.part_number for p in selection.unused])
        await blob_rows.release(conn, unused)
        released.extend(unused)
        await upload_rows.mark_completed(
            conn, upload_id,
            {"completed_parts": selection.signature, "etag": info.etag, "crc64": info.crc64, "size": info.size},
        )
    storage.free_soon(released)
    return CompletedUpload(bucket.name, key, upload_id, info.etag, info.crc64, info.size)


def _with_acl(attrs: ObjectAttributes, acl: str | None) -> ObjectAttributes:
    return attrs if acl is None else dataclasses.replace(attrs, acl=check_object_acl(acl))


def _repeat_completion(bucket_name: str, row: Any, choices: list[PartChoice] | None) -> CompletedUpload:
    if choices is not None:
        requested = ",".join(f"{c.part_number}:{c.etag.strip().strip(chr(34)).upper()}" for c in choices)
        if requested != row.completed_parts:
            raise NoSuchUpload(
                "The upload was already completed with a different list of parts.", UploadId=row.upload_id
            )
    return CompletedUpload(bucket_name, row.key, row.upload_id, row.etag, row.crc64, row.size)


async def abort_upload(storage: Storage, bucket_name: str, key: str, upload_id: str) -> int:
    """Abort an upload and free every part; returns how many parts were freed."""
    check_key(key)
    async with storage.db.write() as conn:
        await _locked_upload(conn, bucket_name, key, upload_id)
        released = await abort_locked(conn, [upload_id])
    storage.free_soon(released)
    return len(released)


async def abort_locked(conn: AsyncConnection, upload_ids: list[str]) -> list[str]:
    """Abort active uploads the caller's transaction has locked: drop them and their parts out
    of the counters and the tables and release the parts' blobs. Returns the blob IDs to free
    once the transaction has committed. Every way of aborting (AbortMultipartUpload, lifecycle
    rules, Part Management) goes through here."""
    released = await upload_rows.delete_many(conn, upload_ids) if upload_ids else []
    await blob_rows.release(conn, released)
    return released


async def abort_stale_uploads(storage: Storage, upload_ids: list[str], *, updated_at_or_before_ms: int) -> set[str]:
    """Abort uploads for a lifecycle rule, in one transaction; returns the IDs aborted.

    Each upload is re-checked under its row lock: one completed, aborted or given a new part
    since the cutoff is left alone. Part uploads landing afterwards get NoSuchUpload.
    """
    async with storage.db.write() as conn:
        aborted = await upload_rows.lock_stale(conn, upload_ids, updated_at_or_before_ms=updated_at_or_before_ms)
        released = await abort_locked(conn, aborted)
    await storage.free(released)
    return set(aborted)


async def list_uploads(storage: Storage, bucket_name: str, *, prefix: str, delimiter: str, key_marker: str,
                       upload_id_marker: str, max_uploads: int) -> Page[Upload]:
    async with storage.db.read() as conn:
        bucket = await bucket_rows.get(conn, bucket_name)

        async def fetch(bound: Bound, limit: int) -> list[Upload]:
            return await upload_rows.page(conn, bucket.bucket_id, bucket.name, prefix=prefix, start=bound,
                                          limit=limit)

        # An upload-id-marker only means something together with a key-marker (OSS/S3 rule).
        start = Bound(key_marker, upload_id_marker or None) if key_marker else Bound("")
        return await list_page(fetch, lambda u: u.key, prefix=prefix, delimiter=delimiter, start=start,
                               max_items=max_uploads, upload_id_of=lambda u: u.upload_id)


@dataclass(frozen=True)
class PartsPage:
    upload: Upload
    parts: list[Part]
    is_truncated: bool


async def list_parts(storage: Storage, bucket_name: str, key: str, upload_id: str, *, part_number_marker: int,
                     max_parts: int) -> PartsPage:
    check_key(key)
    async with storage.db.read() as conn:
        bucket, row = await _locked_upload(conn, bucket_name, key, upload_id, lock=False)
        found = await upload_rows.parts_page(conn, upload_id, after_number=part_number_marker, limit=max_parts + 1)
    return PartsPage(records.upload(bucket.name, row), found[:max_parts], len(found) > max_parts)

