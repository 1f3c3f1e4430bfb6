"""The storage context every operation works in: metadata, blobs, a clock, and what storage costs."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.blobs.backend import BlobBackend, WrittenBlob
from tessera.core.clock import now_ms
from tessera.core.errors import InternalError
from tessera.core.models import Bucket
from tessera.core.prices import DEFAULT_PRICES, Prices
from tessera.core.restore_policy import DEFAULT_TIMING, RestoreTiming
from tessera.core.tuning import FREED_ROWS_KEPT_MS
from tessera.meta import blobs as blob_rows
from tessera.meta.database import Database

log = logging.getLogger(__name__)


@dataclass
class Storage:
    db: Database
    blobs: BlobBackend
    region: str = "cn-hangzhou"
    clock: Callable[[], int] = field(default=now_ms)
    prices: Prices = DEFAULT_PRICES
    restore: RestoreTiming = DEFAULT_TIMING  # how long restores of cold objects take (--restore-delay)

    async def own(self, conn: AsyncConnection, blob_id: str, written: WrittenBlob) -> None:
        """Make the freshly written blob owned, in the transaction that gives it its owner.

        Refused when a collector claimed the blob first: the insert conflicts with the row of
        its claim, which stays (garbage, then freed) for ``FREED_ROWS_KEPT_MS`` after the claim.
        A collector can only claim a blob it listed, so (within moments) after ``written_at``; a
        claim made before this insert is thus younger than the time since ``written_at``, and
        its row is still there unless that time is longer than half the rows' life — only then
        is the blob looked for (after the insert, when no collector can claim it any more),
        which on s3:// is one request to the store that every other write is spared."""
        refused = not await blob_rows.own(conn, blob_id, written.size, self.clock())
        if not refused and time.monotonic() - written.written_at > FREED_ROWS_KEPT_MS / 2000:
            refused = not await self.blobs.exists(blob_id)
        if refused:
            raise InternalError("The write took too long and its data was reclaimed; retry.")

    _freeing: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)
    # name → (bucket, until when, monotonic): see tessera.core.buckets.recent_bucket
    recent_buckets: dict[str, tuple[Bucket, float]] = field(default_factory=dict, init=False, repr=False)

    async def free(self, blob_ids: Iterable[str], *, ever_visible: bool = True) -> None:
        """Delete released blobs, then forget their rows.

        Called after the transaction that released them committed. If this process dies in
        between, the rows stay 'garbage' and the collector finishes the job. A backend with a
        release delay (s3://) keeps a blob that readers may still be streaming: it is stamped
        with its release time and the collector deletes it once the delay has passed;
        ``ever_visible`` False (a blob no commit ever referred to) skips the delay, and the row
        of a blob nobody ever owned stays, freed, for ``own`` to refuse.
        """
        ids = list(blob_ids)
        if not ids:
            return
        if ever_visible and self.blobs.release_delay_seconds > 0:
            async with self.db.write() as conn:
                await blob_rows.stamp_released(conn, ids, self.clock())
            return
        await self.blobs.delete_many(ids)  # off the event loop: unlinking 1 GiB takes ~0.2 s
        async with self.db.write() as conn:
            await blob_rows.forget(conn, ids, keep_unowned=not ever_visible)

    def free_soon(self, blob_ids: Iterable[str]) -> None:
        """Free released blobs right after the answer goes out, so that replacing a large
        object or aborting a 10 000-part upload does not wait for the unlinks."""
        ids = list(blob_ids)
        if not ids:
            return
        task = asyncio.create_task(self._free_logged(ids))
        self._freeing.add(task)
        task.add_done_callback(self._freeing.discard)

    async def _free_logged(self, ids: list[str]) -> None:
        try:
            await self.free(ids)
        except Exception:
            log.exception("could not free %d blobs; the collector will reclaim them", len(ids))

    async def drain(self) -> None:
        """Wait for the frees still in flight (at shutdown)."""
        while self._freeing:
            await asyncio.gather(*self._freeing, return_exceptions=True)

    async def discard(self, blob_id: str) -> None:
        """Give up a blob written for a write that then failed: freed, unless a row owns it (the
        commit that failed to answer did commit, or a collector claimed it and frees it)."""
        try:
            async with self.db.write() as conn:
                claimed = await blob_rows.claim_unowned(conn, [blob_id], self.clock())
            if claimed:  # its only writer gave it up: no claim can come later, its row goes too
                await self.blobs.delete_many(claimed)
                async with self.db.write() as conn:
                    await blob_rows.forget(conn, claimed)
        except Exception:  # its file has no row: the collector reclaims it after the grace period
            log.exception("could not discard blob %s; the collector will reclaim it", blob_id)
