"""Object ACLs in storage: reading and changing them, and the facts an authorization needs."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.core.acl import check_object_acl, effective_acl
from tessera.core.errors import NoSuchKey
from tessera.core.models import Bucket
from tessera.core.names import check_key
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import objects as object_rows


async def get_object_acl(storage: Storage, bucket_name: str, key: str) -> tuple[Bucket, str]:
    """The object's bucket and its own ACL (``default`` when it inherits the bucket's)."""
    check_key(key)
    async with storage.db.read() as conn:
        bucket = await bucket_rows.get(conn, bucket_name)
        found = await object_rows.acl_of(conn, bucket.bucket_id, key)
    if found is None:
        raise NoSuchKey(Key=key)
    return bucket, found[0]


async def set_object_acl(storage: Storage, bucket_name: str, key: str, acl: str) -> None:
    """Change an object's ACL; its data, metadata and Last-Modified stay as they are."""
    check_key(key)
    check_object_acl(acl)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        if not await object_rows.set_acl(conn, bucket.bucket_id, key, acl):
            raise NoSuchKey(Key=key)


@dataclass(frozen=True)
class Grants:
    """What decides access to a bucket, or to one key of it: the bucket's owner, and the
    effective ACLs that apply (the key's, or the bucket's when it has none of its own; through a
    symlink, the target's too)."""

    owner: str
    acls: list[str]


async def grants(storage: Storage, bucket_name: str, key: str | None = None, *,
                 through_symlink: bool = False) -> Grants:
    """NoSuchBucket if there is no such bucket; a key that does not exist (yet) has its bucket's ACL."""
    if key:
        check_key(key)
    async with storage.db.read() as conn:
        bucket = await bucket_rows.get(conn, bucket_name)
        if not key:
            return Grants(bucket.owner, [bucket.acl])
        found = await object_rows.acl_of(conn, bucket.bucket_id, key)
        acls = [effective_acl(bucket.acl, found[0] if found else None)]
        if through_symlink and found is not None and found[1] is not None:
            target = await object_rows.acl_of(conn, bucket.bucket_id, found[1])
            if target is not None:
                acls.append(effective_acl(bucket.acl, target[0]))
    return Grants(bucket.owner, acls)
