"""The storage context every operation works in: metadata, blobs, a clock, and what storage costs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable

from tessera.blobs.store import BlobStore
from tessera.core.clock import now_ms
from tessera.core.prices import DEFAULT_PRICES, Prices
from tessera.core.restore_policy import DEFAULT_TIMING, RestoreTiming
from tessera.meta import blobs as blob_rows
from tessera.meta.database import Database

log = logging.getLogger(__name__)


@dataclass
class Storage:
    db: Database
    blobs: BlobStore
    region: str = "cn-hangzhou"
    clock: Callable[[], int] = field(default=now_ms)
    prices: Prices = DEFAULT_PRICES
    restore: RestoreTiming = DEFAULT_TIMING  # how long restores of cold objects take (--restore-delay)

    async def pending_blob(self) -> str:
        """Record a blob about to be written; the row exists before the file does."""
        blob_id = self.blobs.new_blob_id()
        async with self.db.write() as conn:
            await blob_rows.add_pending(conn, blob_id, self.clock())
        return blob_id

    _freeing: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)

    async def free(self, blob_ids: Iterable[str]) -> None:
        """Unlink released blobs, then forget their rows.

        Called after the transaction that released them committed. If this process dies in
        between, the rows stay 'garbage' and the collector finishes the job.
        """
        ids = list(blob_ids)
        if not ids:
            return
        await self.blobs.delete_many(ids)  # off the event loop: unlinking 1 GiB takes ~0.2 s
        async with self.db.write() as conn:
            await blob_rows.forget(conn, ids)

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
        """Give up a pending blob whose write failed or lost its owner."""
        try:
            async with self.db.write() as conn:
                await blob_rows.release(conn, [blob_id])
            await self.free([blob_id])
        except Exception:  # the collector will find the pending row later
            log.exception("could not discard blob %s; the collector will reclaim it", blob_id)
