"""Object operations: put, read, copy, delete, list.

Every write follows one path: stream the blob to disk (durable in place) → one transaction that
installs the object, owns the blob and releases whatever it replaced → unlink the released
blobs. A write that fails after its blob is on disk gives the blob up (``Storage.discard``).
Every read (GET, and the source of a copy) opens the files it will read before anything is
promised, so the unlinks of a concurrent overwrite or delete cannot cut it short
(``read_object``).
"""

from __future__ import annotations

import base64
import dataclasses
import logging
from dataclasses import dataclass
from typing import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.blobs.backend import BlobSlice, OpenedBlobs, WrittenBlob, slice_blobs
from tessera.core import conditions
from tessera.core.acl import Access, Requester, allowed, check_object_acl, effective_acl
from tessera.core.buckets import get_bucket, recent_bucket
from tessera.core.errors import (
    AccessDenied,
    BlobMissing,
    DataUnavailable,
    EntityTooSmall,
    FileAlreadyExists,
    InternalError,
    InvalidArgument,
    InvalidTargetType,
    NoSuchKey,
)
from tessera.core.listing import list_page
from tessera.core.models import APPENDABLE, MAX_PUT_SIZE, SYMLINK, Bucket, ObjectAttributes, ObjectInfo, Page
from tessera.core.names import check_key, check_storage_class
from tessera.core.restore_policy import check_readable
from tessera.core.storage import Storage
from tessera.meta import appends as append_rows
from tessera.meta import blobs as blob_rows
from tessera.meta import buckets as bucket_rows
from tessera.meta import objects as object_rows
from tessera.meta import records
from tessera.meta import uploads as upload_rows
from tessera.meta.ranges import Bound

log = logging.getLogger(__name__)

# How often a read looks again at an object that changed between reading its metadata and
# opening its files; each look sees a newer version, so this only runs out under a storm of
# overwrites of one key.
READ_ATTEMPTS = 8


@dataclass(frozen=True)
class ObjectLayout:
    """An object and the files that hold its bytes, in order (nothing opened yet). ``data`` is
    the object those bytes belong to: ``info`` itself, or a symlink's target."""

    info: ObjectInfo
    pieces: list[tuple[str, int]]  # (blob_id, size)
    data: ObjectInfo

    def slices(self, start: int, end: int) -> list[BlobSlice]:
        """The bytes [start, end] (inclusive) as slices of blobs; none when end < start."""
        return slice_blobs(self.pieces, start, end) if end >= start else []


def resolve_attributes(bucket: Bucket, attrs: ObjectAttributes) -> ObjectAttributes:
    check_object_acl(attrs.acl)
    storage_class = check_storage_class(attrs.storage_class) if attrs.storage_class else bucket.storage_class
    return dataclasses.replace(attrs, storage_class=storage_class)


async def install_object(conn: AsyncConnection, storage: Storage, bucket: Bucket, info: ObjectInfo, *,
                         forbid_overwrite: bool = False) -> list[str]:
    """Make ``info`` the object at its key; returns the blob IDs the old object owned.

    Runs inside the caller's write transaction. On PostgreSQL two writers may both find no
    row; the loser of the insert retries and then finds (and waits for) the winner's row.
    """
    key, values = info.key, records.object_columns(info)
    for _ in range(8):
        old = await object_rows.find(conn, bucket.bucket_id, bucket.name, key, lock=True)
        if old is not None:
            if forbid_overwrite:
                raise FileAlreadyExists(Key=key)
            await object_rows.replace(conn, bucket.bucket_id, key, values)
            return await _release_data(conn, bucket, old)
        if await object_rows.insert_if_absent(conn, {"bucket_id": bucket.bucket_id, "key": key, **values}):
            return []
    raise InternalError("The object was being replaced by too many concurrent writers; retry.")


async def _release_data(conn: AsyncConnection, bucket: Bucket, info: ObjectInfo) -> list[str]:
    """Disown the blobs of an object that is being replaced or deleted."""
    released: list[str] = []
    if info.blob_id:
        released.append(info.blob_id)
    if info.upload_id:
        released.extend(await upload_rows.delete(conn, info.upload_id))
    if info.object_type == APPENDABLE:
        released.extend(await append_rows.delete_segments(conn, bucket.bucket_id, info.key))
    await blob_rows.release(conn, released)
    return released


async def _commit_single_blob(storage: Storage, bucket_name: str, key: str, blob_id: str, written: WrittenBlob,
                              attrs: ObjectAttributes, *, forbid_overwrite: bool) -> ObjectInfo:
    """Install a freshly written blob as the whole object, in one transaction."""
    released: list[str] = []
    try:
        async with storage.db.write() as conn:
            bucket = await bucket_rows.get(conn, bucket_name, lock="share")
            info = ObjectInfo(
                bucket=bucket.name,
                key=key,
                size=written.size,
                etag=written.md5.hex().upper(),
                crc64=str(written.crc64),
                content_md5=base64.b64encode(written.md5).decode(),
                attributes=resolve_attributes(bucket, attrs),
                object_type="Normal",
                last_modified_ms=storage.clock(),
                blob_id=blob_id,
                upload_id=None,
            )
            released = await install_object(conn, storage, bucket, info, forbid_overwrite=forbid_overwrite)
            await storage.own(conn, blob_id, written)
    except BaseException:
        await storage.discard(blob_id)
        raise
    storage.free_soon(released)
    return info


async def put_object(storage: Storage, bucket_name: str, key: str, body: AsyncIterator[bytes], *,
                     size: int | None, content_md5: bytes | None, attrs: ObjectAttributes,
                     forbid_overwrite: bool = False, min_size: int = 0, max_size: int = MAX_PUT_SIZE) -> ObjectInfo:
    """``min_size``/``max_size`` bound the body (PostObject's content-length-range); past them
    the write is EntityTooSmall/EntityTooLarge and nothing is stored."""
    check_key(key)
    bucket = await recent_bucket(storage, bucket_name)
    resolve_attributes(bucket, attrs)  # reject a bad storage class before reading the body
    if forbid_overwrite:
        async with storage.db.read() as conn:
            if await object_rows.find(conn, bucket.bucket_id, bucket.name, key):
                raise FileAlreadyExists(Key=key)
    blob_id = storage.blobs.new_blob_id()
    written = await storage.blobs.write(
        blob_id, body, expected_size=size, expected_md5=content_md5, max_size=min(max_size, MAX_PUT_SIZE)
    )
    if written.size < min_size:
        await storage.discard(blob_id)
        raise EntityTooSmall(f"The body is {written.size} bytes; at least {min_size} are required.")
    return await _commit_single_blob(storage, bucket_name, key, blob_id, written, attrs,
                                     forbid_overwrite=forbid_overwrite)


async def object_info(storage: Storage, bucket_name: str, key: str) -> ObjectInfo:
    """An object's metadata (HEAD, GetObjectMeta, tags); NoSuchKey if there is none."""
    check_key(key)
    async with storage.db.read() as conn:
        return await _find(conn, bucket_name, key)


async def _find(conn: AsyncConnection, bucket_name: str, key: str) -> ObjectInfo:
    bucket = await bucket_rows.get(conn, bucket_name)
    info = await object_rows.find(conn, bucket.bucket_id, bucket.name, key)
    if info is None:
        raise NoSuchKey(Key=key)
    return info


async def resolved_info(storage: Storage, bucket_name: str, key: str) -> ObjectInfo:
    """What GET and HEAD of ``key`` see: the object, or, through a symlink, its target's data."""
    check_key(key)
    async with storage.db.read() as conn:
        return await _find_through(conn, bucket_name, key)


async def _find_through(conn: AsyncConnection, bucket_name: str, key: str) -> ObjectInfo:
    return (await _find_data(conn, bucket_name, key))[0]


async def _find_data(conn: AsyncConnection, bucket_name: str, key: str) -> tuple[ObjectInfo, ObjectInfo]:
    """The object as GET and HEAD show it, and the object whose data they serve: the same one,
    or for a symlink its target."""
    info = await _find(conn, bucket_name, key)
    if info.object_type != SYMLINK or info.symlink_target is None:
        return info, info
    bucket = await bucket_rows.get(conn, bucket_name)
    target = await object_rows.find(conn, bucket.bucket_id, bucket.name, info.symlink_target)
    if target is None:  # a dangling link (docs/compatibility.md, Symlinks)
        raise NoSuchKey("The symlink's target object does not exist.", Key=key)
    if target.object_type == SYMLINK:
        raise InvalidTargetType(Key=key, SymlinkTarget=info.symlink_target)
    return _through(info, target), target


def _through(link: ObjectInfo, target: ObjectInfo) -> ObjectInfo:
    """A symlink as GET and HEAD show it: the target's data (size, ETag, CRC, Content-MD5), the
    later of the two Last-Modified, and the link's own type and metadata."""
    return dataclasses.replace(
        link, size=target.size, etag=target.etag, crc64=target.crc64, content_md5=target.content_md5,
        last_modified_ms=max(link.last_modified_ms, target.last_modified_ms),
        blob_id=target.blob_id, upload_id=target.upload_id,
    )


@dataclass
class ObjectRead:
    """An object being read: its metadata, the byte range chosen (None: all of it), and those
    bytes, opened. The reader must close ``body`` (it is a context manager)."""

    info: ObjectInfo
    byte_range: tuple[int, int] | None
    body: OpenedBlobs


# Given the object found, raises if it must not be read (preconditions) and returns the
# inclusive byte range wanted, or None for the whole object.
RangeChooser = Callable[[ObjectInfo], "tuple[int, int] | None"]


async def read_object(storage: Storage, bucket_name: str, key: str, choose: RangeChooser) -> ObjectRead:
    """Open the bytes of the object at ``key`` that ``choose`` asks for.

    Between reading the metadata and opening the files, a writer may replace or delete the
    object and unlink its blobs: then the files are missing and the metadata, read again, shows
    the newer version (or NoSuchKey), which is what is read. The same version with a file
    missing is data loss, reported as DataUnavailable and logged for the operator.
    """
    previous: ObjectLayout | None = None
    for _ in range(READ_ATTEMPTS):
        layout = await _layout(storage, bucket_name, key)
        if previous is not None and layout == previous:
            log.error("object %s/%s: a blob file is missing (run tessera admin fsck)", bucket_name, key)
            raise DataUnavailable(Key=key)
        check_readable(layout.data, storage.clock())  # a cold object only once restored (a link's target)
        chosen = choose(layout.info)
        start, end = chosen if chosen is not None else (0, layout.info.size - 1)
        try:
            body = await storage.blobs.open(layout.slices(start, end))
        except BlobMissing:
            previous = layout
            continue
        except DataUnavailable:
            log.error("object %s/%s: a blob file is shorter than its metadata (run tessera admin fsck)",
                      bucket_name, key)
            raise
        return ObjectRead(layout.info, chosen, body)
    raise InternalError("The object kept changing while it was being read; retry.", Key=key)


async def _layout(storage: Storage, bucket_name: str, key: str) -> ObjectLayout:
    check_key(key)
    async with storage.db.read() as conn:
        info, data = await _find_data(conn, bucket_name, key)
        if data.upload_id:
            parts = await object_rows.parts_of(conn, data.upload_id)
            pieces = [(p.blob_id, p.size) for p in parts]
        elif data.object_type == APPENDABLE:
            bucket = await bucket_rows.get(conn, bucket_name)
            segments = await append_rows.segments_of(conn, bucket.bucket_id, data.key)
            pieces = [(s.blob_id, s.size) for s in segments]
        else:
            assert data.blob_id is not None
            pieces = [(data.blob_id, data.size)]
    if sum(size for _, size in pieces) != info.size:  # never sent short: the answer says info.size
        log.error("object %s/%s: its parts hold %d bytes, its metadata says %d", bucket_name, key,
                  sum(size for _, size in pieces), info.size)
        raise DataUnavailable(Key=key)
    return ObjectLayout(info, pieces, data)


async def copy_object(storage: Storage, source_bucket: str, source_key: str, bucket_name: str, key: str, *,
                      source_conditions: conditions.Preconditions, replace_attrs: ObjectAttributes | None,
                      replace_tags: dict[str, str] | None = None, forbid_overwrite: bool = False,
                      acl: str = "default") -> ObjectInfo:
    """Copy an object; ``replace_attrs`` None keeps the source's metadata (COPY directive), and
    ``replace_tags`` None its tags (x-oss-tagging-directive COPY). The copy's ACL is ``acl``
    (x-oss-object-acl), never the source's."""
    check_key(key)
    check_object_acl(acl)
    await get_bucket(storage, bucket_name)
    source = await read_object(storage, source_bucket, source_key,
                               lambda info: conditions.check(info, source_conditions, for_copy=True))
    with source.body:
        return await _copy_opened(storage, source, source_bucket, source_key, bucket_name, key,
                                  replace_attrs=replace_attrs, replace_tags=replace_tags,
                                  forbid_overwrite=forbid_overwrite, acl=acl)


async def _copy_opened(storage: Storage, source: ObjectRead, source_bucket: str, source_key: str,
                       bucket_name: str, key: str, *, replace_attrs: ObjectAttributes | None,
                       replace_tags: dict[str, str] | None, forbid_overwrite: bool, acl: str) -> ObjectInfo:
    # A symlink copied onto itself becomes a copy of its target's data, not a link.
    same_object = (source_bucket, source_key) == (bucket_name, key) and source.info.object_type != SYMLINK
    if same_object and replace_attrs is None and replace_tags is None:
        raise InvalidArgument(
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata.",
            name="x-oss-metadata-directive", value="COPY",
        )
    attrs = replace_attrs if replace_attrs is not None else source.info.attributes
    attrs = dataclasses.replace(attrs, tags=replace_tags if replace_tags is not None else source.info.attributes.tags,
                                acl=acl)
    if same_object:
        return await _replace_metadata(storage, bucket_name, key, source.info, attrs)
    blob_id = storage.blobs.new_blob_id()
    written = await storage.blobs.write_from(blob_id, source.body)
    return await _commit_single_blob(storage, bucket_name, key, blob_id, written, attrs,
                                     forbid_overwrite=forbid_overwrite)


async def _replace_metadata(storage: Storage, bucket_name: str, key: str, expected: ObjectInfo,
                            attrs: ObjectAttributes) -> ObjectInfo:
    """Self-copy with REPLACE: the bytes stay where they are, only metadata changes."""
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        current = await object_rows.find(conn, bucket.bucket_id, bucket.name, key, lock=True)
        if current is None or current.etag != expected.etag:
            raise NoSuchKey("The object changed while it was being copied; retry.", Key=key)
        attrs = resolve_attributes(bucket, attrs)
        values = {**records.attribute_columns(attrs), "last_modified_ms": storage.clock()}
        await object_rows.replace(conn, bucket.bucket_id, key, values)
        updated = await object_rows.find(conn, bucket.bucket_id, bucket.name, key)
    assert updated is not None
    return updated


async def set_object_tags(storage: Storage, bucket_name: str, key: str, tags: dict[str, str]) -> None:
    """Replace an object's tags (an empty mapping removes them); its data and Last-Modified stay."""
    check_key(key)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        if not await object_rows.set_tags(conn, bucket.bucket_id, key, tags):
            raise NoSuchKey(Key=key)


async def delete_object(storage: Storage, bucket_name: str, key: str) -> bool:
    """Delete an object; True when it existed. A missing key is not an error."""
    check_key(key)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        info = await object_rows.find(conn, bucket.bucket_id, bucket.name, key, lock=True)
        if info is None:
            return False
        await object_rows.delete(conn, bucket.bucket_id, key)
        released = await _release_data(conn, bucket, info)
    storage.free_soon(released)
    return True


async def _unchanged(conn: AsyncConnection, bucket: Bucket,
                     versions: list[tuple[str, int]]) -> AsyncIterator[ObjectInfo]:
    """Of ``versions`` (key, last modified) as a lifecycle rule saw them, the objects still
    unchanged, each locked: one overwritten or deleted since is left alone."""
    for key, last_modified_ms in versions:
        info = await object_rows.find(conn, bucket.bucket_id, bucket.name, key, lock=True)
        if info is not None and info.last_modified_ms == last_modified_ms:
            yield info


async def expire_objects(storage: Storage, bucket_name: str, versions: list[tuple[str, int]]) -> set[str]:
    """Delete objects for a lifecycle rule, in one transaction; returns the keys deleted."""
    deleted: set[str] = set()
    released: list[str] = []
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        async for info in _unchanged(conn, bucket, versions):
            await object_rows.delete(conn, bucket.bucket_id, info.key)
            released.extend(await _release_data(conn, bucket, info))
            deleted.add(info.key)
    await storage.free(released)
    return deleted


async def transition_objects(storage: Storage, bucket_name: str, versions: list[tuple[str, int]], *,
                             storage_class: str, from_classes: tuple[str, ...]) -> set[str]:
    """Move objects to a colder ``storage_class`` (metadata only: the bytes stay where they are),
    those still in one of ``from_classes``; returns the keys moved."""
    moved: set[str] = set()
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        async for info in _unchanged(conn, bucket, versions):
            if info.attributes.storage_class in from_classes:
                await object_rows.transition(conn, bucket.bucket_id, info.key, storage_class, at_ms=storage.clock())
                moved.add(info.key)
    return moved


async def delete_objects(storage: Storage, bucket_name: str, keys: list[str], *,
                         requester: Requester | None = None) -> list[str]:
    """Delete many objects in one transaction; returns the keys (all of them, as OSS does).

    A ``requester`` that does not own the bucket must be allowed to write every object named
    (its ACL, or the bucket's): otherwise AccessDenied, and nothing is deleted."""
    for key in keys:
        check_key(key)
    released: list[str] = []
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        for key in keys:
            info = await object_rows.find(conn, bucket.bucket_id, bucket.name, key, lock=True)
            if requester is not None and not allowed(requester, bucket.owner, Access.WRITE, [
                    effective_acl(bucket.acl, info.attributes.acl if info else None)]):
                raise AccessDenied(f"You have no right to delete {key!r}.", Key=key)
            if info is not None:
                await object_rows.delete(conn, bucket.bucket_id, key)
                released.extend(await _release_data(conn, bucket, info))
    storage.free_soon(released)
    return keys


async def list_objects(storage: Storage, bucket_name: str, *, prefix: str, delimiter: str, after: str,
                       max_keys: int) -> Page[ObjectInfo]:
    async with storage.db.read() as conn:
        bucket = await bucket_rows.get(conn, bucket_name)

        async def fetch(bound: Bound, limit: int) -> list[ObjectInfo]:
            return await object_rows.page(conn, bucket.bucket_id, bucket.name, prefix=prefix, start=bound,
                                          limit=limit)

        return await list_page(fetch, lambda o: o.key, prefix=prefix, delimiter=delimiter,
                               start=Bound(after), max_items=max_keys)
