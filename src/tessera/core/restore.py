"""Restoring cold objects: RestoreObject, CleanRestoredObject, and ending the restores that
expired (for lifecycle runs). The rules are in ``core.restore_policy``; here they meet storage."""

from __future__ import annotations

from typing import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.errors import ArchiveRestoreFileStale, ArchiveRestoreNotFinished, NoSuchKey, OperationNotSupported
from tessera.core.models import ObjectInfo
from tessera.core.names import check_key
from tessera.core.restore_policy import Planned, RestoreState, is_cold, plan_restore, state
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import objects as object_rows
from tessera.meta import restores as restore_rows
from tessera.meta.restores import ExpiredRestore, Position


async def restore_object(storage: Storage, bucket_name: str, key: str, *, days: int | None,
                         tier: str | None) -> Planned:
    """Start, speed up or extend the restore of a cold object (``core.restore_policy.plan_restore``)."""
    check_key(key)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        info = await _locked(conn, bucket.bucket_id, bucket.name, key)
        planned = plan_restore(info.attributes.storage_class, info.restore, storage.clock(), days=days, tier=tier,
                               timing=storage.restore)
        await restore_rows.store(conn, bucket.bucket_id, key, planned.restore)
    return planned


async def clean_restored_object(storage: Storage, bucket_name: str, key: str) -> None:
    """Freeze a restored object again before its copy expires."""
    check_key(key)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        info = await _locked(conn, bucket.bucket_id, bucket.name, key)
        if not is_cold(info.attributes.storage_class):
            raise OperationNotSupported(f"Only Archive, ColdArchive and DeepColdArchive objects can be restored; "
                                        f"this one is {info.attributes.storage_class}.")
        now_state = state(info.restore, storage.clock())
        if now_state is RestoreState.FROZEN:
            raise ArchiveRestoreFileStale()
        if now_state is RestoreState.RESTORING:
            raise ArchiveRestoreNotFinished()
        await restore_rows.store(conn, bucket.bucket_id, key, None)


async def _locked(conn: AsyncConnection, bucket_id: int, bucket_name: str, key: str) -> ObjectInfo:
    info = await object_rows.find(conn, bucket_id, bucket_name, key, lock=True)
    if info is None:
        raise NoSuchKey(Key=key)
    return info


async def end_expired(storage: Storage, *, now_ms: int, bucket_name: str | None, dry_run: bool,
                      batch: int) -> AsyncIterator[list[ExpiredRestore]]:
    """Clear, a batch per transaction, the restores whose copy expired at or before ``now_ms``
    (of every bucket, or of ``bucket_name``); yields those cleared (in a dry run, those found).
    Reads are refused after the expiry either way: this only tidies the rows, so HEAD and
    listings need no clock comparison to say an object is frozen. A restore asked for again
    since it was found is left alone."""
    after: Position | None = None
    while True:
        async with storage.db.read() as conn:
            found = await restore_rows.expired(conn, now_ms=now_ms, bucket_name=bucket_name, after=after,
                                               limit=batch)
        ended = found
        if found and not dry_run:
            async with storage.db.write() as conn:
                ended = [r for r in found if await restore_rows.clear_expired(conn, r)]
        if ended:
            yield ended
        if len(found) < batch:
            return
        after = (found[-1].expires_ms, found[-1].bucket_id, found[-1].key)
