"""Console jobs: Delete All in Part Management, run on the server in batches, not by the browser.

A job is a row (``meta.jobs``) holding its scope (bucket, key prefix, and a cutoff: only uploads
initiated at or before the moment it was asked for — one a user starts while it runs is theirs to
keep), its totals at the start and its progress. Every gateway process runs ``run_claimable``
in a loop (``tessera.cli.serving``): it claims a job nobody holds, one whose holder on this host
died, or one whose heartbeat stopped, and works through it. Each batch locks the next uploads in
key order after where the previous batch ended, aborts them through ``multipart.abort_locked``,
and records the progress and the new position in the same transaction — so a job killed anywhere
is resumed by another process (or the restarted one) without redoing or missing a batch, and the
progress any worker reports is what was really freed.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from tessera.core.clock import new_upload_id
from tessera.core.errors import NoSuchBucket, NoSuchJob
from tessera.core.multipart import abort_locked
from tessera.core.part_management import PartTotals
from tessera.core.processes import process_exists
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import jobs as job_rows
from tessera.meta import part_management as upload_listing

log = logging.getLogger(__name__)

DELETE_UPLOADS = "delete-uploads"
# Uploads per transaction. TESSERA_JOB_BATCH sets another: smaller batches hold row locks for
# less time (and let a test see a job mid-way).
BATCH = max(1, int(os.environ.get("TESSERA_JOB_BATCH") or 200))
STALE_MS = 30_000  # a holder that has not advanced its job for this long is taken for dead


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    bucket: str
    prefix: str
    requested_by: str
    state: str  # running, done, failed
    created_ms: int
    finished_ms: int | None
    total: PartTotals  # in scope when it started
    freed: PartTotals  # so far
    error: str | None


def _job(row: Any) -> Job:
    return Job(row.job_id, row.kind, row.bucket, row.prefix, row.requested_by, row.state, row.created_ms,
               row.finished_ms, PartTotals(row.total_uploads, row.total_parts, row.total_bytes),
               PartTotals(row.done_uploads, row.done_parts, row.done_bytes), row.error)


async def start_delete_all(storage: Storage, bucket_name: str, prefix: str, requested_by: str) -> Job:
    """Ask for every incomplete upload of the bucket under ``prefix`` to be deleted; the job
    starts within a second in some gateway process."""
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        now = storage.clock()
        total = await upload_listing.counts(conn, bucket.bucket_id, prefix=prefix, initiated_at_or_before_ms=now)
        job_id = new_upload_id(now)  # time-ordered and unguessable, like upload IDs
        await job_rows.insert(conn, {
            "job_id": job_id, "kind": DELETE_UPLOADS, "bucket": bucket.name, "prefix": prefix,
            "requested_by": requested_by, "created_ms": now, "cutoff_ms": now, "total_uploads": total.uploads,
            "total_parts": total.parts, "total_bytes": total.bytes,
        })
        row = await job_rows.get(conn, job_id)
    return _job(row)


async def job(storage: Storage, job_id: str) -> Job:
    async with storage.db.read() as conn:
        row = await job_rows.get(conn, job_id)
    if row is None:
        raise NoSuchJob(JobId=job_id)
    return _job(row)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _abandoned(holder: str | None, heartbeat_ms: int | None, *, me: str, now_ms: int) -> bool:
    """Whether a running job's holder is gone: none yet, this very process (which runs jobs only
    from the loop that is asking, so it is not running it: a previous life with the same process
    ID), a process on this host that died, or one that stopped beating."""
    if holder is None or holder == me:
        return True
    host, _, pid = holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not process_exists(int(pid)):
        return True
    return heartbeat_ms is None or now_ms - heartbeat_ms > STALE_MS


async def run_claimable(storage: Storage, holder: str) -> int:
    """Claim and run, one after the other, the running jobs that nobody is working on; returns
    how many this call ran to their end."""
    finished = 0
    async with storage.db.read() as conn:
        candidates = await job_rows.running(conn)
    for candidate in candidates:
        if not _abandoned(candidate.holder, candidate.heartbeat_ms, me=holder, now_ms=storage.clock()):
            continue
        async with storage.db.write() as conn:
            claimed = await job_rows.claim(conn, candidate.job_id, holder, from_holder=candidate.holder,
                                           now_ms=storage.clock())
        if claimed:
            if candidate.holder is not None:
                log.info("job %s: resuming it (its holder %s is gone)", candidate.job_id, candidate.holder)
            await run(storage, candidate.job_id, holder)
            finished += 1
    return finished


async def run(storage: Storage, job_id: str, holder: str) -> None:
    """Work through a job this process holds until it ends (or another process took it)."""
    try:
        while await _batch(storage, job_id, holder):
            pass
    except Exception as error:
        log.exception("job %s failed", job_id)
        async with storage.db.write() as conn:
            await job_rows.finish(conn, job_id, holder, state=job_rows.FAILED, now_ms=storage.clock(),
                                  error=str(getattr(error, "message", error))[:1000])


async def _batch(storage: Storage, job_id: str, holder: str) -> bool:
    """One batch in one transaction; False when the job is over (or no longer ours)."""
    async with storage.db.write() as conn:
        row = await job_rows.get(conn, job_id, lock=True)
        if row is None or row.state != job_rows.RUNNING or row.holder != holder:
            return False
        try:
            bucket = await bucket_rows.get(conn, row.bucket, lock="share")
        except NoSuchBucket:  # deleted meanwhile: nothing of it is left to delete
            batch = []
        else:
            after = (row.after_key, row.after_upload_id) if row.after_key is not None else None
            batch = await upload_listing.lock_next_batch(conn, bucket.bucket_id, prefix=row.prefix,
                                                         initiated_at_or_before_ms=row.cutoff_ms, after=after,
                                                         limit=BATCH)
        if not batch:
            await job_rows.finish(conn, job_id, holder, state=job_rows.DONE, now_ms=storage.clock())
            return False
        released = await abort_locked(conn, [u.upload_id for u in batch])
        await job_rows.advance(conn, job_id, holder, now_ms=storage.clock(), uploads=len(batch),
                               parts=sum(u.part_count for u in batch), size=sum(u.part_bytes for u in batch),
                               after=(batch[-1].key, batch[-1].upload_id))
    await storage.free(released)
    return True
