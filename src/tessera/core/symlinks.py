"""Symlinks: objects that name another key of their bucket instead of holding data.

A symlink owns no blob. Its size is the length of its target's name in bytes and its ETag that
name's MD5, as OSS lists them; GET and HEAD through it serve the target (core.objects)
(docs/compatibility.md, Symlinks).
"""

from __future__ import annotations

import hashlib

from tessera.blobs.checksums import crc64
from tessera.core.buckets import get_bucket
from tessera.core.errors import FileAlreadyExists, NotSymlink
from tessera.core.models import SYMLINK, ObjectAttributes, ObjectInfo
from tessera.core.names import check_key
from tessera.core.objects import install_object, object_info, resolve_attributes
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import objects as object_rows


async def put_symlink(storage: Storage, bucket_name: str, key: str, target: str, attrs: ObjectAttributes, *,
                      forbid_overwrite: bool = False) -> ObjectInfo:
    """Make ``key`` a symlink to ``target``, replacing whatever was there. The target need not
    exist (OSS checks it only when the link is read)."""
    check_key(key)
    check_key(target)
    resolve_attributes(await get_bucket(storage, bucket_name), attrs)  # a bad class or ACL first
    name = target.encode("utf-8")
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        if forbid_overwrite and await object_rows.find(conn, bucket.bucket_id, bucket.name, key):
            raise FileAlreadyExists(Key=key)
        info = ObjectInfo(
            bucket=bucket.name,
            key=key,
            size=len(name),
            etag=hashlib.md5(name).hexdigest().upper(),
            crc64=str(crc64(name)),
            content_md5=None,
            attributes=resolve_attributes(bucket, attrs),
            object_type=SYMLINK,
            last_modified_ms=storage.clock(),
            blob_id=None,
            upload_id=None,
            symlink_target=target,
        )
        released = await install_object(conn, storage, bucket, info, forbid_overwrite=forbid_overwrite)
    storage.free_soon(released)
    return info


async def get_symlink(storage: Storage, bucket_name: str, key: str) -> ObjectInfo:
    """The symlink itself (its target in ``symlink_target``); NotSymlink for any other object."""
    info = await object_info(storage, bucket_name, key)
    if info.object_type != SYMLINK or info.symlink_target is None:
        raise NotSymlink(Key=key)
    return info
