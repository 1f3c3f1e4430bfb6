"""Putting, getting and deleting a bucket's lifecycle configuration."""

from __future__ import annotations

from typing import Iterable

from tessera.core.errors import NoSuchLifecycle
from tessera.core.lifecycle.rules import Configuration, Rule, normalize
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import lifecycle as lifecycle_rows


async def put_lifecycle(storage: Storage, bucket_name: str, rules: Iterable[Rule], *,
                        allow_same_action_overlap: bool = False) -> Configuration:
    """Validate and store ``rules``, replacing the bucket's configuration; returns it normalized."""
    config = normalize(rules, allow_same_action_overlap=allow_same_action_overlap)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        await lifecycle_rows.store(conn, bucket.bucket_id, config, storage.clock())
    return config


async def get_lifecycle(storage: Storage, bucket_name: str) -> Configuration:
    async with storage.db.read() as conn:
        bucket = await bucket_rows.get(conn, bucket_name)
        config = await lifecycle_rows.find(conn, bucket.bucket_id)
    if config is None:
        raise NoSuchLifecycle(BucketName=bucket_name)
    return config


async def delete_lifecycle(storage: Storage, bucket_name: str) -> None:
    """Remove the configuration; deleting one that is not there is not an error (as in OSS)."""
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        await lifecycle_rows.delete(conn, bucket.bucket_id)
