"""The garbage collector: reclaims blobs nothing owns, never bytes something does.

Ownership is data (the ``blobs`` rows), so the rules are simple:
- garbage rows: the owner let go; unlink the file, forget the row;
- pending rows older than the grace period: a writer died; a conditional update turns them
  into garbage, and a writer claiming its blob at the same moment wins or loses atomically;
- files with no row at all, older than the grace period: left by a crash between a blob's
  rename into place and the commit that owns it, or between unlink and forgetting the row. A
  young file is left alone; an old one is claimed by inserting its row as garbage, so a writer
  committing its row at that moment either wins (the blob stays) or finds its claim refused;
- what interrupted writes left: stale temporary files, or incomplete upstream multipart uploads;
- rows of blobs nobody ever owned, kept (freed) for a day after their blob was deleted so that a
  writer finishing one too late is refused (``Storage.own``): forgotten after that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tessera.core.storage import Storage
from tessera.core.tuning import FREED_ROWS_KEPT_MS, GC_GRACE_MS
from tessera.meta import blobs as blob_rows

log = logging.getLogger(__name__)

DEFAULT_GRACE_MS = GC_GRACE_MS
BATCH = 1000


@dataclass(frozen=True)
class CollectReport:
    stale_pending: int
    garbage_freed: int
    orphan_files: int
    interrupted_writes: int  # temporary files, or the s3:// backend's upstream multipart uploads


async def collect(storage: Storage, *, grace_ms: int = DEFAULT_GRACE_MS,
                  release_delay_ms: int | None = None) -> CollectReport:
    """``release_delay_ms``: how long released blobs are kept before they are deleted (default:
    the backend's own delay; 0 for files, which readers keep open)."""
    now = storage.clock()
    cutoff = now - grace_ms
    delay = int(storage.blobs.release_delay_seconds * 1000) if release_delay_ms is None else release_delay_ms
    async with storage.db.write() as conn:
        stale = await blob_rows.reclaim_stale_pending(conn, cutoff)
        if storage.blobs.release_delay_seconds > 0:  # released by a process that died before stamping
            await blob_rows.stamp_released(conn, None, now)
        await blob_rows.prune_freed(conn, now - FREED_ROWS_KEPT_MS)
    freed = 0
    while True:
        async with storage.db.read(offloaded=True) as conn:
            ids = await blob_rows.garbage(conn, BATCH, released_before_ms=now - delay + 1 if delay else None)
        if not ids:
            break
        await storage.free(ids, ever_visible=False)  # past the delay: nobody can be reading them
        freed += len(ids)
    orphans = await _orphan_files(storage, cutoff)
    interrupted = await storage.blobs.sweep_temporary(grace_ms / 1000)
    report = CollectReport(len(stale), freed, orphans, interrupted)
    if freed or orphans or interrupted:
        log.info("collector: %s", report)
    return report


async def _orphan_files(storage: Storage, cutoff_ms: int) -> int:
    old = [blob.blob_id for blob in await storage.blobs.stored() if blob.modified_s * 1000 < cutoff_ms]
    removed = 0
    for start in range(0, len(old), BATCH):
        batch = old[start : start + BATCH]
        async with storage.db.read(offloaded=True) as conn:
            known = await blob_rows.known(conn, batch)
        unowned = [blob_id for blob_id in batch if blob_id not in known]
        if not unowned:
            continue
        async with storage.db.write() as conn:
            orphans = await blob_rows.claim_unowned(conn, unowned, storage.clock())
        await storage.free(orphans, ever_visible=False)
        removed += len(orphans)
    return removed
