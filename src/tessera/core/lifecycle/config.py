"""Putting, getting and deleting a bucket's lifecycle configuration."""

from __future__ import annotations

from typing import Callable, Iterable

from tessera.core.errors import NoSuchLifecycle
from tessera.core.lifecycle.rules import Configuration, Rule, normalize
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import lifecycle as lifecycle_rows
from tessera.meta import locks


async def put_lifecycle(storage: Storage, bucket_name: str, rules: Iterable[Rule], *,
                        allow_same_action_overlap: bool = False) -> Configuration:
    """Validate and store ``rules``, replacing the bucket's configuration; returns it normalized."""
    config = normalize(rules, allow_same_action_overlap=allow_same_action_overlap)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        await lifecycle_rows.store(conn, bucket.bucket_id, config, storage.clock())
    return config


async def change_lifecycle(storage: Storage, bucket_name: str, change: Callable[[list[Rule]], Iterable[Rule] | None],
                           *, allow_same_action_overlap: bool = False) -> Configuration | None:
    """Read the bucket's rules ([] when it has none), apply ``change`` and store the rules it
    returns (None or none at all: remove the configuration, which OSS keeps no empty one of) —
    in one transaction holding the bucket's lifecycle lock, so that changes made at the same
    moment through any gateways all take effect, none computed from rules another replaced.
    ``change`` may raise to change nothing. Returns what was stored, normalized."""
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        await locks.hold_until_commit(conn, f"lifecycle:{bucket.bucket_id}")
        saved = await lifecycle_rows.find(conn, bucket.bucket_id)
        rules = list(change(list(saved.rules) if saved else []) or [])
        if not rules:
            await lifecycle_rows.delete(conn, bucket.bucket_id)
            return None
        config = normalize(rules, allow_same_action_overlap=allow_same_action_overlap)
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
